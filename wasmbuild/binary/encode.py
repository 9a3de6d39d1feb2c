"""A small core wasm encoder for modules wasmbuild generates itself (the fused adapters of
component/adapters.py, the Wasmtime test host's core module of component/script.py).

`ModuleWriter` collects imports (functions, memories, globals), function types, functions (locals
and body bytes), memories, constant i32 globals and exports, and `to_bytes()` writes the module in the binary
format's section order. `Code` builds a function body from instructions (`op`, `i32_const`, `call`,
...). The output is a deterministic function of what was added, so two equal adapters are equal
bytes.
"""

from __future__ import annotations

import struct

from functools import lru_cache

from ..contract import opcodes
from ..contract.types import I32

VOID = 0x40  # the empty block type


@lru_cache(maxsize=None)
def op_bytes(mnemonic: str) -> bytes:
    """The encoding of instruction `mnemonic` ("i32.add", "memory.copy"), from the one opcode
    table (contract/opcodes.py): one byte, or a prefix byte and the LEB128 of the number in its group."""
    op = opcodes.opcode(mnemonic)
    if op < 0x100:
        return bytes([op])
    return bytes([op >> 12]) + uleb(op & 0xFFF)


def uleb(value: int) -> bytes:
    """Unsigned LEB128, shortest form (a negative value would never end the loop: refused)."""
    if value < 0:
        raise ValueError(f"uleb of a negative number ({value})")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(value: int) -> bytes:
    """Signed LEB128, shortest form."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def name(text: str) -> bytes:
    data = text.encode("utf-8")
    return uleb(len(data)) + data


def vec(items) -> bytes:
    items = list(items)
    return uleb(len(items)) + b"".join(items)


class Code:
    """The instructions of one function body, appended in order."""

    def __init__(self):
        self.out = bytearray()

    def op(self, mnemonic: str, *immediates: int) -> "Code":
        """An instruction whose immediates are unsigned LEB128 (indices, memory arguments)."""
        self.out += op_bytes(mnemonic)
        for imm in immediates:
            self.out += uleb(imm)
        return self

    def i32_const(self, value: int) -> "Code":
        value &= 0xFFFFFFFF
        self.out += op_bytes("i32.const") + sleb(value - (1 << 32) if value >> 31 else value)
        return self

    def i64_const(self, value: int) -> "Code":
        value &= (1 << 64) - 1
        self.out += op_bytes("i64.const") + sleb(value - (1 << 64) if value >> 63 else value)
        return self

    def f32_bits(self, bits: int) -> "Code":
        self.out += op_bytes("f32.const") + struct.pack("<I", bits)
        return self

    def f64_bits(self, bits: int) -> "Code":
        self.out += op_bytes("f64.const") + struct.pack("<Q", bits)
        return self

    def block(self, mnemonic: str, blocktype: int = VOID) -> "Code":
        self.out += op_bytes(mnemonic) + bytes([blocktype])
        return self

    def mem(self, mnemonic: str, align_log2: int, offset: int, memory: int) -> "Code":
        """A load or store with a memory index (multi-memory's form of the memory argument)."""
        self.out += op_bytes(mnemonic) + uleb(align_log2 | 0x40) + uleb(memory) + uleb(offset)
        return self


class ModuleWriter:
    def __init__(self):
        self.types: list[bytes] = []
        self.imports: list[bytes] = []
        self.functions: list[tuple[int, bytes, bytes]] = []  # type index, locals, body
        self.exports: list[bytes] = []
        self.globals: list[bytes] = []  # defined globals: type and constant initializer
        self.memories: list[bytes] = []  # defined memories: their limits
        self.func_imports = 0
        self.memory_imports = 0
        self.global_imports = 0

    def functype(self, params, results) -> int:
        encoded = b"\x60" + vec(bytes([p]) for p in params) + vec(bytes([r]) for r in results)
        if encoded not in self.types:
            self.types.append(encoded)
        return self.types.index(encoded)

    def import_func(self, module: str, item: str, params, results) -> int:
        self.imports.append(name(module) + name(item) + b"\x00" + uleb(self.functype(params, results)))
        self.func_imports += 1
        return self.func_imports - 1

    def import_memory(self, module: str, item: str) -> int:
        self.imports.append(name(module) + name(item) + b"\x02\x00\x00")  # limits: at least 0 pages
        self.memory_imports += 1
        return self.memory_imports - 1

    def import_global(self, module: str, item: str, valtype: int, mutable: bool) -> int:
        self.imports.append(name(module) + name(item) + b"\x03" + bytes([valtype, int(mutable)]))
        self.global_imports += 1
        return self.global_imports - 1

    def function(self, params, results, locals_: list[int], code: Code) -> int:
        """A defined function (its index: imports come first); the body gets its `end`."""
        groups = b"".join(b"\x01" + bytes([t]) for t in locals_)
        self.functions.append((self.functype(params, results), uleb(len(locals_)) + groups, bytes(code.out)))
        return self.func_imports + len(self.functions) - 1

    def memory(self, min_pages: int) -> int:
        """A defined 32-bit memory of at least `min_pages` pages and no maximum (its index: imports
        come first)."""
        self.memories.append(b"\x00" + uleb(min_pages))
        return self.memory_imports + len(self.memories) - 1

    def global_i32(self, value: int, mutable: bool = False) -> int:
        """A defined i32 global initialised to `value` (its index: imports come first)."""
        self.globals.append(bytes([I32, int(mutable)]) + op_bytes("i32.const") + sleb(value) + op_bytes("end"))
        return self.global_imports + len(self.globals) - 1

    def export_func(self, item: str, index: int) -> None:
        self.exports.append(name(item) + b"\x00" + uleb(index))

    def export_memory(self, item: str, index: int) -> None:
        self.exports.append(name(item) + b"\x02" + uleb(index))

    def export_global(self, item: str, index: int) -> None:
        self.exports.append(name(item) + b"\x03" + uleb(index))

    def to_bytes(self) -> bytes:
        def section(sid: int, body: bytes) -> bytes:
            return bytes([sid]) + uleb(len(body)) + body
        bodies = []
        for _, locals_, body in self.functions:
            entry = locals_ + body + op_bytes("end")
            bodies.append(uleb(len(entry)) + entry)
        return (b"\x00asm\x01\x00\x00\x00" + section(1, vec(self.types)) + section(2, vec(self.imports))
                + section(3, vec(uleb(t) for t, _, _ in self.functions))
                + (section(5, vec(self.memories)) if self.memories else b"")
                + (section(6, vec(self.globals)) if self.globals else b"") + section(7, vec(self.exports))
                + section(10, vec(bodies)))
