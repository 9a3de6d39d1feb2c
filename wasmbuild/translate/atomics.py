"""Translation of the atomic instructions (the 0xFE-prefixed instructions of the threads proposal).

Takes: the translator of `function.py` (its operand stack, builder, `address`, `trap_if`, `tagged`,
`memdefs`) and one atomic instruction with its decoded immediate. Gives: the LLVM IR of the
instruction, added at the builder's position, with its result pushed on the operand stack.

`ATOMICS_DISPATCH` maps every 0xFE opcode to a handler `handler(translator, op, imm)`; `function.py`
merges it into `_Translator.dispatch`.

- Every access is sequentially consistent, as wasm's atomics are: `load atomic`/`store atomic`,
  `atomicrmw` and `cmpxchg` with `seq_cst`, and `atomic.fence` is `fence seq_cst`. With guard-page
  memories they are also `volatile` (as `heap_load`/`heap_store` are), so that LLVM keeps each
  access, whose fault is the bounds check, where wasm has it.
- The effective address (address + offset) must be a multiple of the access size, else the
  instruction traps "unaligned atomic"; that is checked before the bounds (an access both misaligned
  and out of bounds traps "unaligned atomic"). Since linear memory starts on a page, an aligned wasm address is an aligned
  native address, and the LLVM accesses say so.
- Narrow accesses (8, 16, 32 of 64 bits) work on the narrow integer (operands wrapped, a narrow
  `cmpxchg_u` compares the wrapped expected value as the proposal's overview says and wasmtime
  does) and zero-extend the old value.
- `memory.atomic.wait32/64` and `memory.atomic.notify` call the Runtime's hooks RT_WAIT and
  RT_NOTIFY (Python, `loader/runtime.py`: a wait queue per native address, shared by every Store of
  the process) with the MemoryDef and the effective address; a hook answers a result >= 0, or the
  negated trap code (out of bounds, "expected shared memory" for a wait on an unshared memory).
- Big-endian targets would need byte-swapped read-modify-write operations: not supported yet.
"""

from __future__ import annotations

from llvmlite import ir
from llvmlite.ir import instructions

from ..contract import abi
from ..contract import opcodes as ops
from .irtypes import I32T, I64T, PTR, VOID, FunctionPointer, get_function

_SEQ_CST = "seq_cst"


def _volatile(instr, keyword: str):
    """Make `instr` print as `keyword volatile ...` (llvmlite's builder has no volatile atomics)."""
    plain = instr.descr

    def descr(buf):
        start = len(buf)
        plain(buf)
        buf[start] = buf[start].replace(keyword + " ", keyword + " volatile ", 1)

    instr.descr = descr
    return instr


def _insert(t, instr, keyword: str, memory: int):
    if t.info.guarded(memory):
        _volatile(instr, keyword)
    t.b._insert(instr)
    return t.tagged(instr, "heap")


def _check_aligned(t, addr, offset: int, size: int) -> None:
    """Trap "unaligned atomic" unless `addr + offset` is a multiple of `size` (a power of two);
    `addr` is an i32, or an i64 for a 64-bit memory (the low bits are the same modulo 2^32/2^64)."""
    if size == 1:
        return
    b = t.b
    typ = addr.type
    if offset & (size - 1):
        addr = b.add(addr, ir.Constant(typ, offset & (size - 1)))
    low = b.and_(addr, ir.Constant(typ, size - 1))
    t.trap_if(b.icmp_unsigned("!=", low, ir.Constant(typ, 0)), abi.TRAP_UNALIGNED_ATOMIC)


def _pointer(t, memarg, size: int):
    """Pop the address; the native address of the `size`-byte atomic access (traps checked)."""
    addr = t.pop()
    _check_aligned(t, addr, memarg[1], size)
    return t.address(addr, memarg, size)


def _narrow(t, value, bits: ir.IntType):
    return value if value.type == bits else t.b.trunc(value, bits)


def _widen(t, value, result: ir.IntType):
    return value if value.type == result else t.b.zext(value, result)


def _load(t, op, memarg) -> None:
    size, result = _WIDTH[op]
    ptr = _pointer(t, memarg, size)
    bits = ir.IntType(8 * size)
    instr = instructions.LoadAtomicInstr(t.b.block, ptr, _SEQ_CST, size, typ=bits)
    t.push(_widen(t, _insert(t, instr, "load atomic", memarg[2]), result))


def _store(t, op, memarg) -> None:
    size, _result = _WIDTH[op]
    value = t.pop()
    ptr = _pointer(t, memarg, size)
    instr = instructions.StoreAtomicInstr(t.b.block, _narrow(t, value, ir.IntType(8 * size)), ptr, _SEQ_CST, size)
    _insert(t, instr, "store atomic", memarg[2])


def _rmw(t, op, memarg) -> None:
    size, result = _WIDTH[op]
    value = t.pop()
    ptr = _pointer(t, memarg, size)
    instr = instructions.AtomicRMW(t.b.block, ops.ATOMIC_RMW[op], ptr, _narrow(t, value, ir.IntType(8 * size)),
                                   _SEQ_CST, name="")
    t.push(_widen(t, _insert(t, instr, "atomicrmw", memarg[2]), result))


def _cmpxchg(t, op, memarg) -> None:
    size, result = _WIDTH[op]
    replacement = t.pop()
    expected = t.pop()
    ptr = _pointer(t, memarg, size)
    bits = ir.IntType(8 * size)
    instr = instructions.CmpXchg(t.b.block, ptr, _narrow(t, expected, bits), _narrow(t, replacement, bits),
                                 _SEQ_CST, _SEQ_CST, name="")
    pair = _insert(t, instr, "cmpxchg", memarg[2])
    t.push(_widen(t, t.b.extract_value(pair, 0), result))


def _fence(t, op, imm) -> None:
    t.b.fence(_SEQ_CST)


def _hook_call(t, hook_offset: int, params: list, args: list):
    """Call a Runtime hook; it answers a result >= 0, or the negated code of the trap to raise."""
    b = t.b
    runtime = t.vmfield(t.vmctx, abi.VM_RUNTIME, PTR)
    hook = t.vmfield(runtime, hook_offset, PTR)
    status = b.call(FunctionPointer(hook, ir.FunctionType(I32T, params)), args)
    failed = b.icmp_signed("<", status, ir.Constant(I32T, 0))
    cont = t.fn.append_basic_block()
    trap = t.fn.append_basic_block("trap.hook")
    br = b.cbranch(failed, trap, cont)
    br.set_weights([1, 1 << 20])
    b.position_at_end(trap)
    trap_fn = get_function(t.m, abi.SYM_TRAP, ir.FunctionType(VOID, [PTR, I32T]))
    b.call(trap_fn, [t.vmctx, b.neg(status)])
    b.unreachable()
    b.position_at_end(cont)
    return status


def _effective(t, addr, offset: int):
    """The effective address as an i64; for a 64-bit memory, all ones if `addr + offset` wraps
    around (then certainly out of bounds)."""
    b = t.b
    if addr.type == I32T:
        ea = b.zext(addr, I64T)
        return b.add(ea, ir.Constant(I64T, offset)) if offset else ea
    if not offset:
        return addr
    ea = b.add(addr, ir.Constant(I64T, offset))
    return b.select(b.icmp_unsigned("<", ea, addr), ir.Constant(I64T, (1 << 64) - 1), ea)


def _wait(t, op, memarg) -> None:
    size = 4 if op == ops.MEMORY_ATOMIC_WAIT32 else 8
    timeout = t.pop()
    expected = t.pop()
    addr = t.pop()
    _check_aligned(t, addr, memarg[1], size)
    expected = t.b.zext(expected, I64T) if size == 4 else expected
    t.push(_hook_call(t, abi.RT_WAIT, [PTR, I64T, I64T, I64T, I32T],
                      [t.memdefs[memarg[2]], _effective(t, addr, memarg[1]), expected, timeout,
                       ir.Constant(I32T, size)]))


def _notify(t, op, memarg) -> None:
    count = t.pop()
    addr = t.pop()
    _check_aligned(t, addr, memarg[1], 4)
    t.push(_hook_call(t, abi.RT_NOTIFY, [PTR, I64T, I32T],
                      [t.memdefs[memarg[2]], _effective(t, addr, memarg[1]), count]))


def _widths() -> dict:
    """op -> (bytes accessed, LLVM type of the wasm value) for every atomic load, store and RMW."""
    out = {}
    for op in ops.ATOMICS:
        name = ops.name(op)
        if name.startswith("memory."):
            continue
        result = I32T if name.startswith("i32") else I64T
        out[op] = (1 << ops.MEMARG_ALIGN[op], result)
    return out


_WIDTH = _widths()


def _build() -> dict:
    d = {ops.ATOMIC_FENCE: _fence, ops.MEMORY_ATOMIC_WAIT32: _wait, ops.MEMORY_ATOMIC_WAIT64: _wait,
         ops.MEMORY_ATOMIC_NOTIFY: _notify}
    for op in _WIDTH:
        name = ops.name(op)
        rmw = ops.ATOMIC_RMW.get(op)
        d[op] = _cmpxchg if rmw == "cmpxchg" else _rmw if rmw else _load if ".atomic.load" in name else _store
    missing = [ops.name(op) for op in ops.NAMES if op >= ops.FE and op not in d]
    assert not missing, missing
    return d


ATOMICS_DISPATCH = _build()
