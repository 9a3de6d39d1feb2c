"""The translator's memory and table instructions beyond plain loads and stores: memory.size,
memory.grow, memory.init/copy/fill and table.size/grow/fill/copy/init, for any memory or table
(multi-memory) and for 32- and 64-bit address types (memory64); and the bounds check of an access
to a 64-bit memory (`address64`).

`MEMORY_DISPATCH` maps each opcode to its handler `(translator, op, imm)`, merged into the
translator's dispatch table as the SIMD one is. The runtime helpers (`runtime.py`) take the
MemoryDef or TableDef they work on and i64 addresses, sizes and lengths; here the i32 operands of
32-bit memories and tables are zero-extended and their i64 results truncated. A 32-bit memory 0
uses helpers with i32 operands instead, so its call sites stay as they were before.
`memories_used(instrs)` gives the memories a function body accesses, whose MemoryDefs the
function's entry block loads.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract import abi
from ..contract import opcodes as ops
from ..contract.types import I32
from . import refs
from .irtypes import I1, I8, I32T, I64T, PTR, VOID, get_function

_U64_MAX = (1 << 64) - 1


def memories_used(instrs) -> list[int]:
    """The memory indices that instructions `instrs` name, in increasing order (memory 0 always:
    the translator loads its MemoryDef whenever the module has a memory)."""
    used = {0}
    imm_kinds = ops.IMMEDIATES
    for op, imm, _offset in instrs:
        kind = imm_kinds.get(op)
        if kind == ops.IMM_MEMARG:
            used.add(imm[2])
        elif kind == ops.IMM_MEMARG_LANE:
            used.add(imm[0][2])
        elif kind == ops.IMM_MEMORY:
            used.add(imm)
        elif kind == ops.IMM_MEMORY2:
            used.update(imm)
        elif kind == ops.IMM_DATA_MEMORY:
            used.add(imm[1])
    return sorted(used)


def address64(t, memdef, addr, offset: int, size: int):
    """Native address of `size` bytes at `addr + offset` (u64 + u64) of a 64-bit memory, which
    traps unless the whole access lies below the memory's current size S: `S >= offset + size` and
    `addr <= S - (offset + size)`, so nothing can wrap around. The base is loaded here, at the
    access: a 64-bit memory may move when it grows (any call may grow it)."""
    b = t.b
    mem_size = t.vmfield(memdef, abi.MEM_SIZE, I64T)
    reach = offset + size
    if reach > _U64_MAX:
        out = ir.Constant(I1, 1)
    else:
        k = ir.Constant(I64T, reach)
        out = b.or_(b.icmp_unsigned("<", mem_size, k), b.icmp_unsigned(">", addr, b.sub(mem_size, k)))
    t.trap_if(out, abi.TRAP_MEMORY_OOB)
    ea = b.add(addr, ir.Constant(I64T, offset)) if offset else addr
    base = t.vmfield(memdef, abi.MEM_BASE, PTR)
    return b.gep(base, [ea], source_etype=I8)


def _helper(t, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
    return get_function(t.m, name, ir.FunctionType(ret, args))


def _narrow(t, value, is32: bool):
    """An i64 size or old size as the memory's or table's address type has it."""
    return t.b.trunc(value, I32T) if is32 else value


def _memory0(t, index: int) -> bool:
    """Whether memory `index` is a 32-bit memory 0, which has helpers with i32 operands (abi.py)."""
    return index == 0 and t.info.memories[0].addr == I32


def _memory_size(t, op, index) -> None:
    size = t.vmfield(t.memdefs[index], abi.MEM_SIZE, I64T)
    pages = t.b.lshr(size, ir.Constant(I64T, 16))
    t.push(_narrow(t, pages, t.info.memories[index].addr == I32))


def _memory_grow(t, op, index) -> None:
    if _memory0(t, index):
        helper = _helper(t, abi.SYM_MEMORY_GROW, I32T, [PTR, I32T])
        t.push(t.b.call(helper, [t.vmctx, t.pop()]))
        return
    helper = _helper(t, abi.SYM_MEMORY_GROW_ANY, I64T, [PTR, PTR, I64T])
    old = t.b.call(helper, [t.vmctx, t.memdefs[index], t.index64(t.pop())])
    t.push(_narrow(t, old, t.info.memories[index].addr == I32))


def _memory_init(t, op, imm) -> None:
    data_index, index = imm
    n, src, dst = t.pop(), t.pop(), t.pop()
    if _memory0(t, index):
        helper = _helper(t, abi.SYM_MEMORY_INIT, VOID, [PTR, PTR, I32T, I32T, I32T])
        t.b.call(helper, [t.vmctx, t.segment_slot(refs.DATA, data_index), dst, src, n])
        return
    helper = _helper(t, abi.SYM_MEMORY_INIT_ANY, VOID, [PTR, PTR, PTR, I64T, I32T, I32T])
    t.b.call(helper, [t.vmctx, t.memdefs[index], t.segment_slot(refs.DATA, data_index), t.index64(dst), src, n])


def _memory_copy(t, op, imm) -> None:
    dst_index, src_index = imm
    n, src, dst = t.pop(), t.pop(), t.pop()
    if _memory0(t, dst_index) and src_index == 0:
        helper = _helper(t, abi.SYM_MEMORY_COPY, VOID, [PTR, I32T, I32T, I32T])
        t.b.call(helper, [t.vmctx, dst, src, n])
        return
    helper = _helper(t, abi.SYM_MEMORY_COPY_ANY, VOID, [PTR, PTR, PTR, I64T, I64T, I64T])
    t.b.call(helper, [t.vmctx, t.memdefs[dst_index], t.memdefs[src_index], t.index64(dst), t.index64(src),
                      t.index64(n)])


def _memory_fill(t, op, index) -> None:
    n, value, dst = t.pop(), t.pop(), t.pop()
    if _memory0(t, index):
        helper = _helper(t, abi.SYM_MEMORY_FILL, VOID, [PTR, I32T, I32T, I32T])
        t.b.call(helper, [t.vmctx, dst, value, n])
        return
    helper = _helper(t, abi.SYM_MEMORY_FILL_ANY, VOID, [PTR, PTR, I64T, I32T, I64T])
    t.b.call(helper, [t.vmctx, t.memdefs[index], t.index64(dst), value, t.index64(n)])


def _table_size(t, op, table_index) -> None:
    size = t.vmfield(t.table_def(table_index), abi.TAB_SIZE, I64T)
    t.push(_narrow(t, size, t.info.tables[table_index].addr == I32))


def _table_grow(t, op, table_index) -> None:
    delta = t.pop()
    init = t.pop()
    helper = _helper(t, abi.SYM_TABLE_GROW, I64T, [PTR, PTR, I64T, PTR])
    old = t.b.call(helper, [t.vmctx, t.table_def(table_index), t.index64(delta), init])
    t.push(_narrow(t, old, t.info.tables[table_index].addr == I32))


def _table_fill(t, op, table_index) -> None:
    n, value, dst = t.pop(), t.pop(), t.pop()
    helper = _helper(t, abi.SYM_TABLE_FILL, VOID, [PTR, PTR, I64T, PTR, I64T])
    t.b.call(helper, [t.vmctx, t.table_def(table_index), t.index64(dst), value, t.index64(n)])


def _table_copy(t, op, imm) -> None:
    dst_table, src_table = imm
    n, src, dst = t.pop(), t.pop(), t.pop()
    helper = _helper(t, abi.SYM_TABLE_COPY, VOID, [PTR, PTR, PTR, I64T, I64T, I64T])
    t.b.call(helper, [t.vmctx, t.table_def(dst_table), t.table_def(src_table), t.index64(dst), t.index64(src),
                      t.index64(n)])


def _table_init(t, op, imm) -> None:
    elem_index, table_index = imm
    n, src, dst = t.pop(), t.pop(), t.pop()
    helper = _helper(t, abi.SYM_TABLE_INIT, VOID, [PTR, PTR, PTR, I64T, I32T, I32T])
    t.b.call(helper, [t.vmctx, t.table_def(table_index), t.segment_slot(refs.ELEM, elem_index), t.index64(dst),
                      src, n])


MEMORY_DISPATCH = {
    ops.MEMORY_SIZE: _memory_size, ops.MEMORY_GROW: _memory_grow, ops.MEMORY_INIT: _memory_init,
    ops.MEMORY_COPY: _memory_copy, ops.MEMORY_FILL: _memory_fill,
    ops.TABLE_SIZE: _table_size, ops.TABLE_GROW: _table_grow, ops.TABLE_FILL: _table_fill,
    ops.TABLE_COPY: _table_copy, ops.TABLE_INIT: _table_init,
}
