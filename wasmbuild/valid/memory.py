"""Validation rules of memories and tables that depend on their address types (memory64) and on
several memories (multi-memory).

`opcodes.SIGNATURES` types memory and table instructions for i32 addresses. `memory_signature`
gives the signature of one such instruction as its memory (or table) has it: with an i64 address
type, the address, size and length operands and results become i64 (for a copy between two
memories or tables, the length is i64 only when both are 64-bit). It also checks what the
immediate names: that the memory exists ("unknown memory N") and, for a memarg, its alignment
(exactly the natural one for atomics) and that its offset fits the address type ("offset out of
range").

`check_memory_type` / `check_table_type` check a memory or table type's limits against the bounds
of its address type (and that a shared memory has a maximum).
"""

from __future__ import annotations

from ..contract import opcodes as ops
from ..contract.types import I32, I64, MAX_PAGES, MAX_PAGES_64, Limits, MemoryType, TableType

MEMORY_KINDS = frozenset((ops.IMM_MEMARG, ops.IMM_MEMARG_LANE, ops.IMM_MEMORY, ops.IMM_MEMORY2,
                          ops.IMM_DATA_MEMORY))
_MAX_TABLE_32 = 0xFFFF_FFFF
_MAX_TABLE_64 = 0xFFFF_FFFF_FFFF_FFFF
_ALIGN = ops.MEMARG_ALIGN
_ATOMICS = ops.ATOMICS
_SIG = ops.SIGNATURES


def check_limits(ctx, lim: Limits, bound: int, what: str, offset: int | None) -> None:
    if lim.min > bound or (lim.max is not None and lim.max > bound):
        raise ctx.error(f"{what} must be at most {bound}", offset)
    if lim.max is not None and lim.min > lim.max:
        raise ctx.error("size minimum must not be greater than maximum", offset)


def check_memory_type(ctx, mt: MemoryType, offset: int | None) -> None:
    lim = mt.limits
    if mt.addr == I64:
        bound, reason = MAX_PAGES_64, "memory size must be at most 2^48 pages (16 EiB)"
    else:
        bound, reason = MAX_PAGES, "memory size must be at most 65536 pages (4GiB)"
    if lim.min > bound or (lim.max is not None and lim.max > bound):
        raise ctx.error(reason, offset)
    if lim.max is not None and lim.min > lim.max:
        raise ctx.error("size minimum must not be greater than maximum", offset)
    if mt.shared and lim.max is None:
        # A shared memory is reserved at its maximum up front, and must have one (threads).
        raise ctx.error("shared memory must have maximum", offset)


def check_table_type(ctx, tt: TableType, offset: int | None) -> None:
    check_limits(ctx, tt.limits, _MAX_TABLE_64 if tt.addr == I64 else _MAX_TABLE_32, "table size", offset)


def _memory(ctx, index: int, offset: int) -> MemoryType:
    if index >= len(ctx.memories):
        raise ctx.error(f"unknown memory {index}", offset)
    return ctx.memories[index]


def _memarg(ctx, op: int, memarg, offset: int) -> int:
    """Check a memarg; the address type of its memory."""
    align, mem_offset, index = memarg
    mt = _memory(ctx, index, offset)
    if align > _ALIGN[op]:
        raise ctx.error("alignment must not be larger than natural", offset)
    if align != _ALIGN[op] and op in _ATOMICS:
        # An atomic access must be naturally aligned, and says so (threads).
        raise ctx.error("atomic alignment must be natural", offset)
    if mt.addr == I32 and mem_offset > 0xFFFF_FFFF:
        raise ctx.error("offset out of range", offset)
    return mt.addr


def _with_address(sig, addr: int):
    """`sig` of an access whose first operand is the address, for address type `addr`."""
    if addr == I32:
        return sig
    params, results = sig
    return (addr,) + params[1:], results


def memory_signature(ctx, op: int, kind: str, imm, offset: int):
    """The signature of memory instruction `op` (immediate kind `kind` in MEMORY_KINDS) with its
    memories' address types; raises InvalidError for what its immediate names."""
    sig = _SIG[op]
    if kind == ops.IMM_MEMARG:
        return _with_address(sig, _memarg(ctx, op, imm, offset))
    if kind == ops.IMM_MEMARG_LANE:
        return _with_address(sig, _memarg(ctx, op, imm[0], offset))
    if kind == ops.IMM_MEMORY:
        at = _memory(ctx, imm, offset).addr
        if at == I32:
            return sig
        if op == ops.MEMORY_SIZE:
            return (), (at,)
        if op == ops.MEMORY_GROW:
            return (at,), (at,)
        return (at, I32, at), ()  # memory.fill: address, byte, length
    if kind == ops.IMM_MEMORY2:  # memory.copy dst src
        dst = _memory(ctx, imm[0], offset).addr
        src = _memory(ctx, imm[1], offset).addr
        return (dst, src, I32 if I32 in (dst, src) else I64), ()
    # memory.init: the data segment's operands stay i32
    data, index = imm
    at = _memory(ctx, index, offset).addr
    if data >= ctx.num_datas:
        raise ctx.error(f"unknown data segment {data}", offset)
    return (at, I32, I32), ()


def table_copy_signature(dst: TableType, src: TableType):
    return (dst.addr, src.addr, I32 if I32 in (dst.addr, src.addr) else I64), ()


def table_init_signature(tt: TableType):
    return (tt.addr, I32, I32), ()
