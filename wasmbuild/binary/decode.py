"""Decode a WebAssembly 2.0 binary into a `Module`, and function bodies into instruction lists.

`decode_module(data, filename)` reads every section but leaves function bodies undecoded: each
`FunctionBody` records where its bytes lie. `decode_function(module, i)` decodes one body (locals and
instructions) on demand, so later stages can work per function. `check_bodies(module)` decodes all
bodies, for callers that want every decoding error before validation starts.

Errors raise `MalformedError` with the file, byte offset and the reason worded as the spec tests
word it. Reads follow the reference interpreter: section contents are read up to the end of the file
and the section's size is checked afterwards ("section size mismatch").
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import InvalidError, MalformedError
from ..contract import features as F
from ..contract import opcodes as ops
from ..contract.opcodes import CATCH, CATCH_ALL, DELEGATE, ELSE, END, FE, IF, PREFIX_FD, PREFIXES, TRY
from .reader import Reader
from ..contract.types import (ABSTRACT_HEAP_TYPES, HT_EXN, HT_FUNC, HT_NOEXN, HT_NOEXTERN, HT_NOFUNC, REF_TYPES,
                              VAL_TYPES, EXNREF, RefType, ref_type, type_name)
from ..contract.types import (EMPTY_BLOCK_TYPE, EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, EXTERN_TAG, FUNCREF, I32, I64, FuncType, GlobalType, Limits, MemoryType, TableType)
from .types import (ACTIVE, DECLARATIVE, PASSIVE, ConstExpr, CustomSection, DataSegment, ElemSegment, Export, FunctionBody, Global, Import, Module)

MAGIC = b"\0asm"
REF_NULLABLE, REF_NON_NULL = 0x63, 0x64  # (ref null ht), (ref ht)
TABLE_WITH_INIT = 0x40  # a table type with an initialiser follows (then 0x00)
# The nullable shorthands beyond 2.0 (nullfuncref, nullexternref, exnref, nullexnref), by proposal.
_SHORTHAND_FEATURES = {HT_NOFUNC: F.FUNCTION_REFERENCES, HT_NOEXTERN: F.FUNCTION_REFERENCES,
                       HT_EXN: F.EXCEPTIONS, HT_NOEXN: F.EXCEPTIONS}
# The heap types of GC: any, eq, i31, struct, array, none.
_GC_HEAP_TYPES = frozenset((0x6E, 0x6D, 0x6C, 0x6B, 0x6A, 0x71))
VERSION = b"\x01\0\0\0"
FUNC_TYPE_FORM = 0x60  # the byte that starts a function type
ELEM_KIND_FUNCREF = 0x00  # the one element kind of segments given as function indices

SECTION_CUSTOM, SECTION_TYPE, SECTION_IMPORT, SECTION_FUNCTION = 0, 1, 2, 3
SECTION_TABLE, SECTION_MEMORY, SECTION_GLOBAL, SECTION_EXPORT = 4, 5, 6, 7
SECTION_START, SECTION_ELEM, SECTION_CODE, SECTION_DATA, SECTION_DATACOUNT = 8, 9, 10, 11, 12
SECTION_TAG = 13  # exception handling
TAG_ATTRIBUTE_EXCEPTION = 0  # the one attribute a tag type has
# Position of each non-custom section in the required order (data count comes before code, tags
# between memories and globals).
_SECTION_RANK = {sid: rank for rank, sid in enumerate(
    (SECTION_TYPE, SECTION_IMPORT, SECTION_FUNCTION, SECTION_TABLE, SECTION_MEMORY, SECTION_TAG, SECTION_GLOBAL,
     SECTION_EXPORT,
     SECTION_START, SECTION_ELEM, SECTION_DATACOUNT, SECTION_CODE, SECTION_DATA), 1)}

_IN_SECTION = "unexpected end of section or function"
# A function type naming other function types contains them (contract.types), so its size is that
# of all of them: bounded, so that hashing, comparing and naming a type stays cheap and shallow.
MAX_TYPE_SIZE = 256
MAX_LOCALS = 0xFFFF_FFFF  # the total count must fit in a u32


class FunctionCode(NamedTuple):
    """A decoded function body: local declarations as (count, type) runs, and its instructions as
    `(op, immediate, offset)` tuples, the final `end` included."""

    locals: tuple[tuple[int, int], ...]
    num_locals: int
    instrs: list[tuple]


# ---------------------------------------------------------------------------------------------
# Module structure
# ---------------------------------------------------------------------------------------------

def decode_module(data: bytes, filename: str | None = None,
                  features: frozenset[str] | None = None) -> Module:
    """Decode the module structure of `data` accepting the proposals in `features` (default:
    `contract.features.DEFAULT`); raises MalformedError."""
    data = bytes(data)
    features = F.DEFAULT if features is None else frozenset(features)
    r = Reader(data, filename=filename, features=features)
    if len(data) < 4:
        raise r.error("unexpected end", len(data))
    if data[:4] != MAGIC:
        raise r.error("magic header not detected", 0)
    if len(data) < 8:
        raise r.error("unexpected end", len(data))
    if data[4:8] != VERSION:
        raise r.error("unknown binary version", 4)
    r.pos = 8
    m = Module(data=data, filename=filename, features=features)
    try:
        _decode_sections(r, m)
    except MalformedError:
        # Bodies are decoded lazily, but an error inside one comes earlier in the file than an
        # error found after the code section: report the first, as a streaming decoder would.
        if m.bodies:
            check_bodies(m)
        raise
    return m


def _decode_sections(r: Reader, m: Module) -> None:
    data = r.data
    filename = r.filename
    last_rank = 0
    while not r.at_end():
        id_offset = r.pos
        sid = r.byte()
        if sid > SECTION_TAG:
            raise r.error("malformed section id", id_offset)
        if sid == SECTION_TAG:
            r.require(F.EXCEPTIONS, "the tag section", "malformed section id", id_offset)
        size = r.length()
        start = r.pos
        end = start + size
        if sid != SECTION_CUSTOM:
            rank = _SECTION_RANK[sid]
            if rank <= last_rank:
                raise r.error("unexpected content after last section", id_offset)
            last_rank = rank
        s = Reader(data, start, len(data), filename, eof_reason=_IN_SECTION, features=r.features)
        if sid == SECTION_CUSTOM:
            name = s.name()
            if s.pos > end:
                raise s.error("unexpected end", end)
            if end > len(data):
                raise s.eof_error()
            m.customs.append(CustomSection(name, s.pos, end))
            s.pos = end
        elif sid == SECTION_TYPE:
            m.types = []
            sizes: dict[int, int] = {}  # id of a FuncType of m.types -> its size with the types it names
            for _ in range(s.length()):
                pos = s.pos
                ft = _functype(s, m)  # (it may refer to the types before it)
                size = 1 + sum(sizes.get(id(t.heap), 0) for t in ft.params + ft.results if type(t) is RefType)
                if size > MAX_TYPE_SIZE:
                    raise InvalidError(f"type too large: {len(m.types)} names function types {size} deep or "
                                       f"wide with those they name, at most {MAX_TYPE_SIZE}", file=filename,
                                       offset=pos)
                sizes[id(ft)] = size
                m.types.append(ft)
        elif sid == SECTION_IMPORT:
            m.imports = [_import(s, m) for _ in range(s.length())]
        elif sid == SECTION_FUNCTION:
            for _ in range(s.length()):
                m.func_type_offsets.append(s.pos)
                m.func_type_indices.append(s.u32())
        elif sid == SECTION_TABLE:
            for _ in range(s.length()):
                m.table_offsets.append(s.pos)
                table, init = _table(s, m)
                m.tables.append(table)
                m.table_inits.append(init)
        elif sid == SECTION_MEMORY:
            for _ in range(s.length()):
                m.memory_offsets.append(s.pos)
                m.memories.append(_memtype(s, m))
        elif sid == SECTION_TAG:
            for _ in range(s.length()):
                m.tag_offsets.append(s.pos)
                m.tags.append(_tagtype(s))
        elif sid == SECTION_GLOBAL:
            m.globals = [Global(_globaltype(s, m), _const_expr(s, m)) for _ in range(s.length())]
        elif sid == SECTION_EXPORT:
            m.exports = [_export(s) for _ in range(s.length())]
        elif sid == SECTION_START:
            m.start_offset = s.pos
            m.start = s.u32()
        elif sid == SECTION_ELEM:
            m.elems = [_elem(s, m) for _ in range(s.length())]
        elif sid == SECTION_DATACOUNT:
            m.data_count = s.u32()
        elif sid == SECTION_CODE:
            m.code_section = (id_offset, end)
            bodies = []
            for _ in range(s.length()):
                n = s.length()
                if s.pos + n > s.end:
                    s.pos = s.end
                    raise s.eof_error()
                bodies.append(FunctionBody(s.pos, s.pos + n))
                s.pos += n
            m.bodies = bodies
        elif sid == SECTION_DATA:
            m.datas = [_data(s, m) for _ in range(s.length())]
        if s.pos != end:
            raise s.error("section size mismatch", start)
        r.pos = end
    if len(m.func_type_indices) != len(m.bodies):
        raise r.error("function and code section have inconsistent lengths", len(data))
    if m.data_count is not None and m.data_count != len(m.datas):
        raise r.error("data count and data section have inconsistent lengths", len(data))


def _functype(s: Reader, m: Module) -> FuncType:
    pos = s.pos
    form = s.byte()
    if form & 0x80:
        raise s.error("integer representation too long", pos)
    if form != FUNC_TYPE_FORM:
        raise s.error("malformed function type", pos)
    params = tuple(_valtype(s, m) for _ in range(s.length()))
    results = tuple(_valtype(s, m) for _ in range(s.length()))
    return FuncType(params, results)


def _valtype(s: Reader, m: Module):
    pos = s.pos
    t = s.byte()
    if t & 0x80:
        raise s.error("integer representation too long", pos)
    if t in VAL_TYPES:
        s.pos = pos
        return s.valtype()  # (which gates exnref)
    return _new_reftype(s, m, t, pos, "malformed value type")


def _reftype(s: Reader, m: Module):
    pos = s.pos
    t = s.byte()
    if t in REF_TYPES:
        s.pos = pos
        return s.reftype()  # (which gates exnref)
    return _new_reftype(s, m, t, pos, "malformed reference type")


def _new_reftype(s: Reader, m: Module, t: int, pos: int, reason: str):
    """A reference type beyond 2.0 whose first byte `t` (at `pos`) has been read: `(ref null? ht)`
    (0x63/0x64 and a heap type) or a shorthand; `reason` is what a 2.0 decoder says of it."""
    if t == REF_NULLABLE or t == REF_NON_NULL:
        F.require(m.features, F.FUNCTION_REFERENCES, "a (ref ...) type", reason=reason, file=s.filename,
                      offset=pos)
        return ref_type(t == REF_NULLABLE, _heaptype(s, m))
    feature = _SHORTHAND_FEATURES.get(t)
    if feature is not None:
        F.require(m.features, feature, f"the reference type {type_name(ref_type(True, t))}", reason=reason,
                      file=s.filename, offset=pos)
        return ref_type(True, t)
    if t in _GC_HEAP_TYPES:
        F.require(m.features, F.GC, "a GC reference type", reason=reason, file=s.filename, offset=pos)
    raise s.error(reason, pos)


def _heaptype(s: Reader, m: Module):
    """An abstract heap type (HT_*), or the function type a type index names."""
    pos = s.pos
    b = s.peek()
    if b is not None and b in ABSTRACT_HEAP_TYPES:
        s.pos += 1
        if b == HT_EXN or b == HT_NOEXN:
            F.require(m.features, F.EXCEPTIONS, "an exn heap type", reason="malformed heap type",
                          file=s.filename, offset=pos)
        return b
    if b is not None and b in _GC_HEAP_TYPES:
        F.require(m.features, F.GC, "a GC heap type", reason="malformed heap type", file=s.filename,
                      offset=pos)
    index = s.sleb(33)
    if index < 0:
        raise s.error("malformed heap type", pos)
    if index >= len(m.types):
        # Checked when decoded: the type is substituted (contract.types). A reference to the type
        # being defined (in the type section) would be a recursive type, which needs GC.
        raise InvalidError(f"unknown type {index}", file=s.filename, offset=pos)
    return m.types[index]


_LIMITS_64 = 0x04  # limits flag of a 64-bit address type (memory64), with 0x01 for a maximum


def _limits(s: Reader, m: Module, what: str) -> tuple[Limits, int]:
    """Limits and the address type (I32, or I64 with memory64) of a memory or table type."""
    pos = s.pos
    flags = s.peek()
    if flags is not None and flags & ~0x01 == _LIMITS_64:
        # A 2.0 decoder reads the flags as a one-bit LEB128, which 0x04 overflows.
        F.require(m.features, F.MEMORY64, f"a 64-bit {what}", reason="integer too large", file=s.filename,
                  offset=pos)
        s.pos += 1
        lo = s.u64()
        return Limits(lo, s.u64() if flags & 1 else None), I64
    if F.MEMORY64 in m.features and flags is not None and flags & ~0x03:
        raise s.error("malformed limits flags", pos)  # the 3.0 decoder reads the flags as a byte
    flag = s._uleb(1)  # a one-bit LEB128: 0 = min only, 1 = min and max
    if F.MEMORY64 in m.features:
        # 3.0 reads the sizes as u64 whatever the address type; the validator checks that they
        # fit it ("memory size", "table size").
        lo = s.u64()
        return Limits(lo, s.u64() if flag else None), I32
    lo = s.u32()
    hi = s.u32() if flag else None
    return Limits(lo, hi), I32


def _tabletype(s: Reader, m: Module) -> TableType:
    elem = _reftype(s, m)
    limits, addr = _limits(s, m, "table")
    return TableType(elem, limits, addr)


_LIMITS_SHARED = 0x02  # limits flag of a shared memory (threads), with 0x01 and 0x04 as for any memory


def _memtype(s: Reader, m: Module) -> MemoryType:
    pos = s.pos
    flags = s.peek()
    if flags is None or flags & ~(0x01 | _LIMITS_64) != _LIMITS_SHARED:
        limits, addr = _limits(s, m, "memory")
        return MemoryType(limits, addr)
    # A 2.0 decoder reads the flags as a one-bit LEB128, which 0x02 overflows. Flags 0x02 (no
    # maximum) decode, and validation refuses them ("shared memory must have maximum").
    F.require(m.features, F.THREADS, "a shared memory", reason="integer too large", file=s.filename, offset=pos)
    s.pos += 1
    addr = I32
    if flags & _LIMITS_64:
        F.require(m.features, F.MEMORY64, "a 64-bit memory", reason="integer too large", file=s.filename,
                  offset=pos)
        addr = I64
    size = s.u64 if addr == I64 or F.MEMORY64 in m.features else s.u32  # as `_limits` reads them
    lo = size()
    return MemoryType(Limits(lo, size() if flags & 1 else None), addr, shared=True)


def _table(s: Reader, m: Module) -> tuple[TableType, ConstExpr | None]:
    """A table of the table section, and its initialiser expression (None: null)."""
    pos = s.pos
    if s.peek() != TABLE_WITH_INIT:
        return _tabletype(s, m), None
    F.require(m.features, F.FUNCTION_REFERENCES, "a table initialiser", reason="malformed reference type",
                  file=s.filename, offset=pos)
    s.pos += 1
    _zero(s)
    table = _tabletype(s, m)
    return table, _const_expr(s, m)


def _globaltype(s: Reader, m: Module) -> GlobalType:
    t = _valtype(s, m)
    pos = s.pos
    mut = s.byte()
    if mut > 1:
        raise s.error("malformed mutability", pos)
    return GlobalType(t, bool(mut))


def _tagtype(s: Reader) -> int:
    """A tag type: its attribute (exception, the only one) and its function type index."""
    pos = s.pos
    if s.byte() != TAG_ATTRIBUTE_EXCEPTION:
        raise s.error("malformed tag attribute", pos)
    return s.u32()


def _import(s: Reader, m: Module) -> Import:
    offset = s.pos
    module = s.name()
    name = s.name()
    pos = s.pos
    kind = s.byte()
    if kind == EXTERN_FUNC:
        desc = s.u32()
    elif kind == EXTERN_TABLE:
        desc = _tabletype(s, m)
    elif kind == EXTERN_MEMORY:
        desc = _memtype(s, m)
    elif kind == EXTERN_GLOBAL:
        desc = _globaltype(s, m)
    elif kind == EXTERN_TAG:
        s.require(F.EXCEPTIONS, "a tag import", "malformed import kind", pos)
        desc = _tagtype(s)
    else:
        raise s.error("malformed import kind", pos)
    return Import(module, name, kind, desc, offset)


def _export(s: Reader) -> Export:
    offset = s.pos
    name = s.name()
    pos = s.pos
    kind = s.byte()
    if kind > EXTERN_TAG:
        raise s.error("malformed export kind", pos)
    if kind == EXTERN_TAG:
        s.require(F.EXCEPTIONS, "a tag export", "malformed export kind", pos)
    return Export(name, kind, s.u32(), offset)


def _elem_kind(s: Reader) -> int:
    pos = s.pos
    if s.byte() != ELEM_KIND_FUNCREF:
        raise s.error("malformed element kind", pos)
    return FUNCREF


def _elem(s: Reader, m: Module) -> ElemSegment:
    offset = s.pos
    flags = s.u32()
    if flags > 7:
        raise s.error("malformed elements segment kind", offset)
    table = 0
    offset_expr = None
    if flags & 1:
        mode = DECLARATIVE if flags & 2 else PASSIVE
    else:
        mode = ACTIVE
        if flags & 2:
            table = s.u32()
        offset_expr = _const_expr(s, m)
    uses_exprs = bool(flags & 4)
    if flags & 3:
        elem_type = _reftype(s, m) if uses_exprs else _elem_kind(s)
    else:
        elem_type = FUNCREF
    if not uses_exprs and F.FUNCTION_REFERENCES in m.features:
        # Function indices are never null: 3.0 types these segments (ref func), so that they can
        # initialise tables of non-nullable references (2.0 says funcref, its supertype).
        elem_type = ref_type(False, HT_FUNC)
    if uses_exprs:
        init = tuple(_const_expr(s, m) for _ in range(s.length()))
    else:
        init = tuple(s.u32() for _ in range(s.length()))
    return ElemSegment(mode, table, offset_expr, elem_type, init, uses_exprs, offset)


def _data(s: Reader, m: Module) -> DataSegment:
    offset = s.pos
    flags = s.u32()
    memory = 0
    offset_expr = None
    if flags == 1:
        mode = PASSIVE
    elif flags in (0, 2):
        mode = ACTIVE
        if flags == 2:
            memory = s.u32()
        offset_expr = _const_expr(s, m)
    else:
        raise s.error("malformed data segment kind", offset)
    n = s.length()
    start = s.pos
    s.bytes(n)
    return DataSegment(mode, memory, offset_expr, start, start + n, offset)


def _const_expr(s: Reader, m: Module) -> ConstExpr:
    offset = s.pos
    instrs = decode_instructions(s, features=m.features, module=m)
    return ConstExpr(tuple(instrs[:-1]), offset)  # drop the final `end`


# ---------------------------------------------------------------------------------------------
# Function bodies and instructions
# ---------------------------------------------------------------------------------------------

def decode_function(m: Module, defined_index: int) -> FunctionCode:
    """Decode the body of defined function `defined_index` (not counting imports)."""
    body = m.bodies[defined_index]
    s = Reader(m.data, body.offset, len(m.data), m.filename, eof_reason=_IN_SECTION, features=m.features)
    pos = s.pos
    runs = []
    total = 0
    for _ in range(s.length()):
        n = s.u32()
        t = _valtype(s, m)
        total += n
        runs.append((n, t))
    if total > MAX_LOCALS:
        raise s.error("too many locals", pos)
    # Without a data count section, memory.init and data.drop are malformed. When the module has no
    # data segments at all we let them through, so that the validator reports the more useful
    # "unknown data segment" (which is also what the spec tests expect of such modules).
    instrs = decode_instructions(s, m.data_count is not None or not m.datas, m.features, m)
    if s.pos != body.end:
        raise s.error("section size mismatch", body.offset)
    return FunctionCode(tuple(runs), total, instrs)


def check_bodies(m: Module) -> None:
    """Decode every function body, raising the first MalformedError."""
    for i in range(len(m.bodies)):
        try:
            decode_function(m, i)
        except MalformedError as e:
            raise e.located(func=m.num_imported_funcs + i)


_IMM = ops.IMMEDIATES


def decode_instructions(s: Reader, has_data_count: bool = True,
                        features: frozenset[str] = F.DEFAULT, module: Module | None = None) -> list[tuple]:
    """Decode instructions up to and including the `end` that closes the sequence, accepting the
    instructions of the proposals in `features`.

    `module` gives the types that reference types name (and the features, which it overrides).
    Returns `(op, immediate, offset)` tuples. Only the binary grammar is checked here (opcodes,
    immediates, `else` placement, nesting); typing is the validator's job. A memarg is
    `(align, offset, memory index)`.
    """
    multi_memory = F.MULTI_MEMORY in features
    data = s.data
    if module is None:
        module = Module(data=b"", features=features)
    out = []
    append = out.append
    # One entry per open block: True while it is an `if` that has not seen its `else`, TRY for a
    # legacy `try` (which `catch`, `catch_all` and `delegate` continue or close), else False.
    open_blocks: list = []
    imm_kind = _IMM
    gated = ops.FEATURES
    while True:
        offset = s.pos
        if offset >= s.end:
            raise s.eof_error()
        op = data[offset]
        s.pos = offset + 1
        kind = imm_kind.get(op)
        if kind is None:  # a prefix byte (not an opcode itself), or no instruction at all
            group = PREFIXES.get(op)
            if group is None:
                raise s.error(f"illegal opcode {op:02x}", offset)
            if group == FE:
                F.require(features, F.THREADS, "an atomic instruction (0xFE prefix)",
                          reason=f"illegal opcode {op:02x}", file=s.filename, offset=offset)
            sub = s.u32()
            full = group | sub
            if sub > 0xFFF or full not in imm_kind:  # a sub-opcode has 12 bits of the opcode number
                raise s.error(f"illegal opcode {op:02x} {sub:02x}", offset)
            op = full
            if op in ops.RELAXED_SIMD:
                F.require(features, F.RELAXED_SIMD, ops.name(op), reason=f"illegal opcode {PREFIX_FD:02x} {sub:02x}",
                          file=s.filename, offset=offset)
            if op in ops.NEEDS_DATA_COUNT and not has_data_count:
                raise s.error("data count section required", offset)
            kind = imm_kind[op]
        elif op in gated and gated[op] not in features:
            s.require(gated[op], f"instruction {ops.name(op)}", f"illegal opcode {op:02x}", offset)
        if not kind:
            imm = None
            if op == END:
                if not open_blocks:
                    append((op, None, offset))
                    return out
                open_blocks.pop()
            elif op == ELSE:
                if not open_blocks or open_blocks[-1] is not True:
                    # The reference decoder ends the enclosing block here and then wants its `end`.
                    raise s.error("END opcode expected", offset)
                open_blocks[-1] = False
            elif op == CATCH_ALL:
                if not open_blocks or open_blocks[-1] != TRY:
                    raise s.error("END opcode expected", offset)
        elif kind == "local" or kind == "global" or kind == "label" or kind == "func" or kind == "table" \
                or kind == "data" or kind == "elem" or kind == "tag" or kind == "type":
            imm = s.u32()
            if op == CATCH and (not open_blocks or open_blocks[-1] != TRY):
                raise s.error("END opcode expected", offset)
            if op == DELEGATE:  # closes a legacy `try`, as `end` does
                if not open_blocks or open_blocks[-1] != TRY:
                    raise s.error("END opcode expected", offset)
                open_blocks.pop()
        elif kind == "i32":
            imm = s.s32()
        elif kind == "memarg":
            imm = _memarg(s, features)
        elif kind == "block":
            imm = _blocktype(s, module)
            open_blocks.append(True if op == IF else TRY if op == TRY else False)
        elif kind == "try_table":
            bt = _blocktype(s, module)
            imm = (bt, tuple(_catch_clause(s) for _ in range(s.length())))
            open_blocks.append(False)
        elif kind == "i64":
            imm = s.s64()
        elif kind == "f32":
            imm = s.f32_bits()
        elif kind == "f64":
            imm = s.f64_bits()
        elif kind == "br_table":
            labels = tuple(s.u32() for _ in range(s.length()))
            imm = (labels, s.u32())
        elif kind == "call_indirect":
            t = s.u32()
            imm = (t, s.u32())
        elif kind == "zero" or kind == "fence":
            _zero(s)
            imm = 0
        elif kind == "memory":
            imm = s.u32() if multi_memory else _zero(s)
        elif kind == "memory2":
            imm = (s.u32(), s.u32()) if multi_memory else (_zero(s), _zero(s))
        elif kind == "data_memory":
            imm = (s.u32(), s.u32() if multi_memory else _zero(s))
        elif kind == "elem_table" or kind == "table_table":
            a = s.u32()
            imm = (a, s.u32())
        elif kind == "select_t":
            imm = tuple(_valtype(s, module) for _ in range(s.length()))
        elif kind == "reftype":
            imm = ref_type(True, _ref_null_heap(s, module))
        elif kind == "v128":
            imm = s.bytes(16)
        elif kind == "shuffle":
            imm = s.bytes(16)
        elif kind == "lane":
            imm = s.byte()
        elif kind == "memarg_lane":
            ma = _memarg(s, features)
            imm = (ma, s.byte())
        else:  # pragma: no cover - every kind in opcodes.py is handled above
            raise AssertionError(kind)
        append((op, imm, offset))


def _catch_clause(s: Reader) -> tuple:
    """(clause kind, tag index or None, label) of one try_table catch clause."""
    pos = s.pos
    kind = s.byte()
    if kind > ops.CLAUSE_CATCH_ALL_REF:
        raise s.error("malformed catch clause", pos)
    tag = s.u32() if kind <= ops.CLAUSE_CATCH_REF else None
    return kind, tag, s.u32()


def _ref_null_heap(s: Reader, m: Module):
    """The heap type of `ref.null` (in 2.0 a reference type byte, which encodes the same heap type)."""
    pos = s.pos
    b = s.peek()
    if b is not None and b in REF_TYPES:
        s.pos += 1
        if b == EXNREF:
            s.require(F.EXCEPTIONS, "the exnref type", "malformed reference type", pos)
        return b
    F.require(m.features, F.FUNCTION_REFERENCES, "ref.null of this heap type",
              reason="malformed reference type", file=s.filename, offset=pos)
    return _heaptype(s, m)


def _zero(s: Reader) -> int:
    """A reserved zero byte (a memory index of Wasm 2.0, which has one memory); 0."""
    pos = s.pos
    if s.byte() != 0:
        raise s.error("zero byte expected", pos)
    return 0


_MEMARG_MEMORY = 0x40  # memarg flag: a memory index follows (multi-memory)


def _memarg(s: Reader, features: frozenset[str]) -> tuple[int, int, int]:
    """(align, offset, memory index). Offsets are u64 with memory64 (the validator checks that
    they fit the memory's address type), u32 without."""
    pos = s.pos
    flags = s.u32()
    memory = 0
    if flags >= 32:
        # Wasm 2.0 has 5 bits of alignment and refuses any other flag. 3.0 (multi-memory) has 6
        # bits of alignment (the validator refuses more than natural) and bit 6 for a memory index.
        F.require(features, F.MULTI_MEMORY, "a memory index or a 6-bit alignment in a memarg",
                  reason="malformed memop flags", file=s.filename, offset=pos)
        if flags >= 0x80:
            raise s.error("malformed memop flags", pos)
        if flags & _MEMARG_MEMORY:
            memory = s.u32()
            flags &= ~_MEMARG_MEMORY
    offset = s.u64() if F.MEMORY64 in features else s.u32()
    return flags, offset, memory


def _blocktype(s: Reader, module: Module):
    """None (empty), a value type, or ("type", index) for a type-indexed block."""
    b = s.peek()
    if b == EMPTY_BLOCK_TYPE:
        s.pos += 1
        return None
    if b is not None and b & 0xC0 == 0x40:  # one byte, and negative as an s33: a value type
        return _valtype(s, module)
    pos = s.pos
    idx = s.sleb(33)
    if idx < 0:
        raise s.error("malformed block type", pos)
    return ("type", idx)
