"""The contract between compiler and runtime, imported by both and importing no llvmlite.

  types.py    value, function, limit and extern types; the one codec of their names
  opcodes.py  the one table of instructions, named opcode constants, what each immediate indexes
  abi.py      runtime ABI: structure layouts shared by compiled code and loader, trap codes, symbols
  matching.py whether an extern (an export, a host item) satisfies an import's type
  records.py  typed records of everything an image holds, each with its one JSON codec
  targets.py  one record per target architecture
"""
