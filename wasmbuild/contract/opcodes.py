"""Every WebAssembly 2.0 instruction, and those of the later proposals wasmbuild implements: its opcode number, name, immediate kind and, for the plain
numeric and vector instructions, its operand and result types.

Opcode numbers: one-byte opcodes are their byte; prefixed ones are `prefix << 12 | sub-opcode`
(`0xFC000 | n` for the 0xFC group, `0xFD000 | n` for SIMD, `0xFE000 | n` for atomics), so every instruction has one small int.

Tables given here:
  NAMES[op]        -> mnemonic
  IMMEDIATES[op]   -> immediate kind (one of the IMM_* strings), for the decoder
  SIGNATURES[op]   -> (param types, result types) for instructions whose typing is fixed
  MEMARG_ALIGN[op] -> natural alignment (log2 bytes) of a memory access
  ATOMIC_RMW[op]   -> the read-modify-write operation ("add", ..., "xchg", "cmpxchg") of an atomic
                      instruction; ATOMICS is the set of 0xFE memory accesses (whose alignment must be
                      exactly the natural one); RELAXED_SIMD is the set of relaxed SIMD instructions
  LANES[op]        -> number of lanes addressed by a lane-index immediate
  INDEXES[op]      -> ((part, index space), ...): the indices of things outside the function that
                      the immediate holds (see below)
  FEATURES[op]     -> the feature (contract/features.py) an instruction beyond 2.0 needs, for the
                      decoder's gate (exception handling: throw, throw_ref, try_table; the legacy
                      try, catch, catch_all, rethrow, delegate; tail calls; typed function
                      references)
  OPCODES[name]    -> op, by the name of its opcode constant

Opcode constants: every instruction is also a module-level int named after its mnemonic, upper-case
with `.` as `_` (`I32_ADD`, `LOCAL_GET`, `MEMORY_INIT`, `I8X16_SHUFFLE`); the one mnemonic that two
opcodes share is told apart by its immediate (`SELECT`, and `SELECT_T` for `select t*`). They are
made from the definitions below, so the table stays the one list of instructions. By mnemonic:
`opcode("i32.add")`, and `by_opcode(prefixes, {operation: value})` for a table of one operation of
several value types or lane shapes.

INDEXES: for each instruction whose immediate is or contains an index of a function, type, table,
global, data or element segment, one `(part, space)` pair per index, where `part` is the index's
position in a tuple immediate (None when the immediate is the index itself; CATCH_TAGS for the tag
of each catch clause of a try_table, which has any number of them) and `space` one of the *_INDEX
strings. Pairs are listed in the order in which `translate/refs.py` numbers the references
(call_indirect: its table before its type), an order compiled objects depend on.
"""

from __future__ import annotations

from . import features as _features
from .features import EXCEPTIONS, LEGACY_EXCEPTIONS
from .types import F32, F64, I32, I64, V128

# Prefix bytes, and the numbers of their opcode groups.
PREFIX_FC = 0xFC
PREFIX_FD = 0xFD
PREFIX_FE = 0xFE
FC = PREFIX_FC << 12
FD = PREFIX_FD << 12
FE = PREFIX_FE << 12
PREFIXES = {PREFIX_FC: FC, PREFIX_FD: FD, PREFIX_FE: FE}  # prefix byte -> its opcode group

# Immediate kinds.
IMM_NONE = ""
IMM_BLOCK = "block"            # block type: None, a value type, or ("type", index)
IMM_LABEL = "label"            # u32
IMM_BR_TABLE = "br_table"      # (labels tuple, default)
IMM_FUNC = "func"              # u32 function index
IMM_TYPE = "type"              # u32 type index (call_ref)
IMM_CALL_INDIRECT = "call_indirect"  # (type index, table index)
IMM_LOCAL = "local"
IMM_GLOBAL = "global"
IMM_TABLE = "table"
IMM_MEMARG = "memarg"          # (align, offset, memory index)
IMM_I32 = "i32"                # signed value
IMM_I64 = "i64"
IMM_F32 = "f32"                # raw bits as unsigned int
IMM_F64 = "f64"
IMM_SELECT_T = "select_t"      # tuple of value types
IMM_REFTYPE = "reftype"
IMM_ZERO = "zero"              # one reserved 0x00 byte (memory index in Wasm 2.0)
IMM_DATA = "data"
IMM_ELEM_TABLE = "elem_table"  # (elem index, table index) for table.init
IMM_ELEM = "elem"
IMM_TABLE_TABLE = "table_table"  # (dst, src) for table.copy
IMM_V128 = "v128"              # 16 bytes
IMM_SHUFFLE = "shuffle"        # 16 lane indices
IMM_LANE = "lane"              # one lane index byte
IMM_MEMARG_LANE = "memarg_lane"  # ((align, offset, memory index), lane)
IMM_MEMORY = "memory"          # memory index (a reserved 0x00 byte without multi-memory)
IMM_MEMORY2 = "memory2"        # (dst, src) memory indices for memory.copy
IMM_DATA_MEMORY = "data_memory"  # (data index, memory index) for memory.init
IMM_TAG = "tag"                # u32 tag index (throw, legacy catch)
IMM_TRY_TABLE = "try_table"    # (block type, ((clause kind, tag index or None, label), ...))

# The clause kinds of try_table, by their binary encoding.
CLAUSE_CATCH, CLAUSE_CATCH_REF, CLAUSE_CATCH_ALL, CLAUSE_CATCH_ALL_REF = 0, 1, 2, 3
CLAUSE_NAMES = ("catch", "catch_ref", "catch_all", "catch_all_ref")
IMM_FENCE = "fence"            # one reserved 0x00 byte (atomic.fence's ordering flags)

# Index spaces outside a function that an immediate can index (INDEXES).
FUNC_INDEX = "func"
TYPE_INDEX = "type"
TABLE_INDEX = "table"
GLOBAL_INDEX = "global"
DATA_INDEX = "data"
ELEM_INDEX = "elem"
TAG_INDEX = "tag"
# The `part` of INDEXES that stands for the tag of each catch clause of a try_table that has one (the
# immediate holds any number of them).
CATCH_TAGS = "catches"

NAMES: dict[int, str] = {}
IMMEDIATES: dict[int, str] = {}
SIGNATURES: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
MEMARG_ALIGN: dict[int, int] = {}
LANES: dict[int, int] = {}
ATOMIC_RMW: dict[int, str] = {}
INDEXES: dict[int, tuple[tuple[int | None, str], ...]] = {}
OPCODES: dict[str, int] = {}
FEATURES: dict[int, str] = {}  # op -> the feature (contract/features.py) an instruction beyond 2.0 needs

_LETTER = {"i": I32, "I": I64, "f": F32, "F": F64, "v": V128}


def _sig(spec: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    params, results = spec.split(":")
    return tuple(_LETTER[c] for c in params), tuple(_LETTER[c] for c in results)


def _constant_name(mnemonic: str) -> str:
    return mnemonic.upper().replace(".", "_")


def _def(op: int, name: str, imm: str = IMM_NONE, sig: str | None = None, align: int | None = None,
         lanes: int | None = None, indexes: tuple[tuple[int | None, str], ...] | None = None,
         constant: str | None = None, feature: str | None = None) -> None:
    """Define instruction `op`; `constant` names its opcode constant when the mnemonic's upper-case
    form is taken; `feature` the proposal beyond 2.0 it belongs to."""
    assert op not in NAMES, hex(op)
    constant = constant or _constant_name(name)
    assert constant not in OPCODES, constant
    NAMES[op] = name
    OPCODES[constant] = op
    IMMEDIATES[op] = imm
    if sig is not None:
        SIGNATURES[op] = _sig(sig)
    if align is not None:
        MEMARG_ALIGN[op] = align
    if lanes is not None:
        LANES[op] = lanes
    if indexes is not None:
        INDEXES[op] = indexes
    if feature is not None:
        FEATURES[op] = feature


def _run(first: int, names: str, sig: str, prefix: str = "") -> None:
    """Define consecutive opcodes sharing one signature; names are space separated."""
    for i, name in enumerate(names.split()):
        _def(first + i, prefix + name, sig=sig)


# --- control and parametric ---
_def(0x00, "unreachable")
_def(0x01, "nop")
_def(0x02, "block", IMM_BLOCK)
_def(0x03, "loop", IMM_BLOCK)
_def(0x04, "if", IMM_BLOCK)
_def(0x05, "else")
_def(0x0B, "end")
_def(0x0C, "br", IMM_LABEL)
_def(0x0D, "br_if", IMM_LABEL)
_def(0x0E, "br_table", IMM_BR_TABLE)
_def(0x0F, "return")
_def(0x10, "call", IMM_FUNC, indexes=((None, FUNC_INDEX),))
_def(0x11, "call_indirect", IMM_CALL_INDIRECT, indexes=((1, TABLE_INDEX), (0, TYPE_INDEX)))
_def(0x12, "return_call", IMM_FUNC, indexes=((None, FUNC_INDEX),), feature=_features.TAIL_CALL)
_def(0x13, "return_call_indirect", IMM_CALL_INDIRECT, indexes=((1, TABLE_INDEX), (0, TYPE_INDEX)),
     feature=_features.TAIL_CALL)
_def(0x14, "call_ref", IMM_TYPE, indexes=((None, TYPE_INDEX),), feature=_features.FUNCTION_REFERENCES)
_def(0x15, "return_call_ref", IMM_TYPE, indexes=((None, TYPE_INDEX),), feature=_features.TAIL_CALL)
_def(0x1A, "drop")
_def(0x1B, "select")
_def(0x1C, "select", IMM_SELECT_T, constant="SELECT_T")

# --- exception handling: the standard encoding, then the legacy one (try, catch, ... end/delegate) ---
_def(0x08, "throw", IMM_TAG, indexes=((None, TAG_INDEX),), feature=EXCEPTIONS)
_def(0x0A, "throw_ref", feature=EXCEPTIONS)
_def(0x1F, "try_table", IMM_TRY_TABLE, indexes=((CATCH_TAGS, TAG_INDEX),), feature=EXCEPTIONS)
_def(0x06, "try", IMM_BLOCK, feature=LEGACY_EXCEPTIONS)
_def(0x07, "catch", IMM_TAG, indexes=((None, TAG_INDEX),), feature=LEGACY_EXCEPTIONS)
_def(0x19, "catch_all", feature=LEGACY_EXCEPTIONS)
_def(0x09, "rethrow", IMM_LABEL, feature=LEGACY_EXCEPTIONS)
_def(0x18, "delegate", IMM_LABEL, feature=LEGACY_EXCEPTIONS)

# --- variables and tables ---
_def(0x20, "local.get", IMM_LOCAL)
_def(0x21, "local.set", IMM_LOCAL)
_def(0x22, "local.tee", IMM_LOCAL)
_def(0x23, "global.get", IMM_GLOBAL, indexes=((None, GLOBAL_INDEX),))
_def(0x24, "global.set", IMM_GLOBAL, indexes=((None, GLOBAL_INDEX),))
_def(0x25, "table.get", IMM_TABLE, indexes=((None, TABLE_INDEX),))
_def(0x26, "table.set", IMM_TABLE, indexes=((None, TABLE_INDEX),))

# --- memory ---
for _op, _name, _align, _sig_ in (
        (0x28, "i32.load", 2, "i:i"), (0x29, "i64.load", 3, "i:I"), (0x2A, "f32.load", 2, "i:f"),
        (0x2B, "f64.load", 3, "i:F"), (0x2C, "i32.load8_s", 0, "i:i"), (0x2D, "i32.load8_u", 0, "i:i"),
        (0x2E, "i32.load16_s", 1, "i:i"), (0x2F, "i32.load16_u", 1, "i:i"),
        (0x30, "i64.load8_s", 0, "i:I"), (0x31, "i64.load8_u", 0, "i:I"),
        (0x32, "i64.load16_s", 1, "i:I"), (0x33, "i64.load16_u", 1, "i:I"),
        (0x34, "i64.load32_s", 2, "i:I"), (0x35, "i64.load32_u", 2, "i:I"),
        (0x36, "i32.store", 2, "ii:"), (0x37, "i64.store", 3, "iI:"), (0x38, "f32.store", 2, "if:"),
        (0x39, "f64.store", 3, "iF:"), (0x3A, "i32.store8", 0, "ii:"), (0x3B, "i32.store16", 1, "ii:"),
        (0x3C, "i64.store8", 0, "iI:"), (0x3D, "i64.store16", 1, "iI:"), (0x3E, "i64.store32", 2, "iI:")):
    _def(_op, _name, IMM_MEMARG, _sig_, align=_align)
# Memory instructions take i32 addresses here; on a 64-bit memory (memory64) the validator and the
# translator use i64 for them instead (`valid/memory.py`).
_def(0x3F, "memory.size", IMM_MEMORY, ":i")
_def(0x40, "memory.grow", IMM_MEMORY, "i:i")

# --- numeric ---
_def(0x41, "i32.const", IMM_I32, ":i")
_def(0x42, "i64.const", IMM_I64, ":I")
_def(0x43, "f32.const", IMM_F32, ":f")
_def(0x44, "f64.const", IMM_F64, ":F")
_def(0x45, "i32.eqz", sig="i:i")
_run(0x46, "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "ii:i", "i32.")
_def(0x50, "i64.eqz", sig="I:i")
_run(0x51, "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "II:i", "i64.")
_run(0x5B, "eq ne lt gt le ge", "ff:i", "f32.")
_run(0x61, "eq ne lt gt le ge", "FF:i", "f64.")
_run(0x67, "clz ctz popcnt", "i:i", "i32.")
_run(0x6A, "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", "ii:i", "i32.")
_run(0x79, "clz ctz popcnt", "I:I", "i64.")
_run(0x7C, "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", "II:I", "i64.")
_run(0x8B, "abs neg ceil floor trunc nearest sqrt", "f:f", "f32.")
_run(0x92, "add sub mul div min max copysign", "ff:f", "f32.")
_run(0x99, "abs neg ceil floor trunc nearest sqrt", "F:F", "f64.")
_run(0xA0, "add sub mul div min max copysign", "FF:F", "f64.")
for _op, _name, _sig_ in (
        (0xA7, "i32.wrap_i64", "I:i"), (0xA8, "i32.trunc_f32_s", "f:i"), (0xA9, "i32.trunc_f32_u", "f:i"),
        (0xAA, "i32.trunc_f64_s", "F:i"), (0xAB, "i32.trunc_f64_u", "F:i"),
        (0xAC, "i64.extend_i32_s", "i:I"), (0xAD, "i64.extend_i32_u", "i:I"),
        (0xAE, "i64.trunc_f32_s", "f:I"), (0xAF, "i64.trunc_f32_u", "f:I"),
        (0xB0, "i64.trunc_f64_s", "F:I"), (0xB1, "i64.trunc_f64_u", "F:I"),
        (0xB2, "f32.convert_i32_s", "i:f"), (0xB3, "f32.convert_i32_u", "i:f"),
        (0xB4, "f32.convert_i64_s", "I:f"), (0xB5, "f32.convert_i64_u", "I:f"),
        (0xB6, "f32.demote_f64", "F:f"),
        (0xB7, "f64.convert_i32_s", "i:F"), (0xB8, "f64.convert_i32_u", "i:F"),
        (0xB9, "f64.convert_i64_s", "I:F"), (0xBA, "f64.convert_i64_u", "I:F"),
        (0xBB, "f64.promote_f32", "f:F"),
        (0xBC, "i32.reinterpret_f32", "f:i"), (0xBD, "i64.reinterpret_f64", "F:I"),
        (0xBE, "f32.reinterpret_i32", "i:f"), (0xBF, "f64.reinterpret_i64", "I:F"),
        (0xC0, "i32.extend8_s", "i:i"), (0xC1, "i32.extend16_s", "i:i"),
        (0xC2, "i64.extend8_s", "I:I"), (0xC3, "i64.extend16_s", "I:I"), (0xC4, "i64.extend32_s", "I:I")):
    _def(_op, _name, sig=_sig_)

# --- reference ---
_def(0xD0, "ref.null", IMM_REFTYPE)
_def(0xD1, "ref.is_null")
_def(0xD2, "ref.func", IMM_FUNC, indexes=((None, FUNC_INDEX),))
_def(0xD4, "ref.as_non_null", feature=_features.FUNCTION_REFERENCES)
_def(0xD5, "br_on_null", IMM_LABEL, feature=_features.FUNCTION_REFERENCES)
_def(0xD6, "br_on_non_null", IMM_LABEL, feature=_features.FUNCTION_REFERENCES)

# --- 0xFC prefix: saturating truncation, bulk memory, tables ---
_run(FC | 0, "i32.trunc_sat_f32_s i32.trunc_sat_f32_u", "f:i")
_run(FC | 2, "i32.trunc_sat_f64_s i32.trunc_sat_f64_u", "F:i")
_run(FC | 4, "i64.trunc_sat_f32_s i64.trunc_sat_f32_u", "f:I")
_run(FC | 6, "i64.trunc_sat_f64_s i64.trunc_sat_f64_u", "F:I")
_def(FC | 8, "memory.init", IMM_DATA_MEMORY, "iii:", indexes=((0, DATA_INDEX),))
_def(FC | 9, "data.drop", IMM_DATA, ":", indexes=((None, DATA_INDEX),))
_def(FC | 10, "memory.copy", IMM_MEMORY2, "iii:")
_def(FC | 11, "memory.fill", IMM_MEMORY, "iii:")
_def(FC | 12, "table.init", IMM_ELEM_TABLE, "iii:", indexes=((0, ELEM_INDEX), (1, TABLE_INDEX)))
_def(FC | 13, "elem.drop", IMM_ELEM, ":", indexes=((None, ELEM_INDEX),))
_def(FC | 14, "table.copy", IMM_TABLE_TABLE, "iii:", indexes=((0, TABLE_INDEX), (1, TABLE_INDEX)))
_def(FC | 15, "table.grow", IMM_TABLE, indexes=((None, TABLE_INDEX),))
_def(FC | 16, "table.size", IMM_TABLE, ":i", indexes=((None, TABLE_INDEX),))
_def(FC | 17, "table.fill", IMM_TABLE, indexes=((None, TABLE_INDEX),))

# --- 0xFD prefix: SIMD ---
for _sub, _name, _align in ((0x00, "v128.load", 4), (0x01, "v128.load8x8_s", 3), (0x02, "v128.load8x8_u", 3),
                            (0x03, "v128.load16x4_s", 3), (0x04, "v128.load16x4_u", 3),
                            (0x05, "v128.load32x2_s", 3), (0x06, "v128.load32x2_u", 3),
                            (0x07, "v128.load8_splat", 0), (0x08, "v128.load16_splat", 1),
                            (0x09, "v128.load32_splat", 2), (0x0A, "v128.load64_splat", 3),
                            (0x5C, "v128.load32_zero", 2), (0x5D, "v128.load64_zero", 3)):
    _def(FD | _sub, _name, IMM_MEMARG, "i:v", align=_align)
_def(FD | 0x0B, "v128.store", IMM_MEMARG, "iv:", align=4)
_def(FD | 0x0C, "v128.const", IMM_V128, ":v")
_def(FD | 0x0D, "i8x16.shuffle", IMM_SHUFFLE, "vv:v")
_def(FD | 0x0E, "i8x16.swizzle", sig="vv:v")
_run(FD | 0x0F, "i8x16.splat i16x8.splat i32x4.splat", "i:v")
_def(FD | 0x12, "i64x2.splat", sig="I:v")
_def(FD | 0x13, "f32x4.splat", sig="f:v")
_def(FD | 0x14, "f64x2.splat", sig="F:v")
for _sub, _name, _lanes, _sig_ in (
        (0x15, "i8x16.extract_lane_s", 16, "v:i"), (0x16, "i8x16.extract_lane_u", 16, "v:i"),
        (0x17, "i8x16.replace_lane", 16, "vi:v"),
        (0x18, "i16x8.extract_lane_s", 8, "v:i"), (0x19, "i16x8.extract_lane_u", 8, "v:i"),
        (0x1A, "i16x8.replace_lane", 8, "vi:v"),
        (0x1B, "i32x4.extract_lane", 4, "v:i"), (0x1C, "i32x4.replace_lane", 4, "vi:v"),
        (0x1D, "i64x2.extract_lane", 2, "v:I"), (0x1E, "i64x2.replace_lane", 2, "vI:v"),
        (0x1F, "f32x4.extract_lane", 4, "v:f"), (0x20, "f32x4.replace_lane", 4, "vf:v"),
        (0x21, "f64x2.extract_lane", 2, "v:F"), (0x22, "f64x2.replace_lane", 2, "vF:v")):
    _def(FD | _sub, _name, IMM_LANE, _sig_, lanes=_lanes)
_CMP_INT = "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u"
_run(FD | 0x23, _CMP_INT, "vv:v", "i8x16.")
_run(FD | 0x2D, _CMP_INT, "vv:v", "i16x8.")
_run(FD | 0x37, _CMP_INT, "vv:v", "i32x4.")
_run(FD | 0x41, "eq ne lt gt le ge", "vv:v", "f32x4.")
_run(FD | 0x47, "eq ne lt gt le ge", "vv:v", "f64x2.")
_def(FD | 0x4D, "v128.not", sig="v:v")
_run(FD | 0x4E, "and andnot or xor", "vv:v", "v128.")
_def(FD | 0x52, "v128.bitselect", sig="vvv:v")
_def(FD | 0x53, "v128.any_true", sig="v:i")
for _sub, _name, _align, _lanes in ((0x54, "v128.load8_lane", 0, 16), (0x55, "v128.load16_lane", 1, 8),
                                    (0x56, "v128.load32_lane", 2, 4), (0x57, "v128.load64_lane", 3, 2)):
    _def(FD | _sub, _name, IMM_MEMARG_LANE, "iv:v", align=_align, lanes=_lanes)
for _sub, _name, _align, _lanes in ((0x58, "v128.store8_lane", 0, 16), (0x59, "v128.store16_lane", 1, 8),
                                    (0x5A, "v128.store32_lane", 2, 4), (0x5B, "v128.store64_lane", 3, 2)):
    _def(FD | _sub, _name, IMM_MEMARG_LANE, "iv:", align=_align, lanes=_lanes)
_def(FD | 0x5E, "f32x4.demote_f64x2_zero", sig="v:v")
_def(FD | 0x5F, "f64x2.promote_low_f32x4", sig="v:v")
_V_V, _VV_V, _V_I, _VI_V = "v:v", "vv:v", "v:i", "vi:v"
for _sub, _name, _sig_ in (
        (0x60, "i8x16.abs", _V_V), (0x61, "i8x16.neg", _V_V), (0x62, "i8x16.popcnt", _V_V),
        (0x63, "i8x16.all_true", _V_I), (0x64, "i8x16.bitmask", _V_I),
        (0x65, "i8x16.narrow_i16x8_s", _VV_V), (0x66, "i8x16.narrow_i16x8_u", _VV_V),
        (0x67, "f32x4.ceil", _V_V), (0x68, "f32x4.floor", _V_V), (0x69, "f32x4.trunc", _V_V),
        (0x6A, "f32x4.nearest", _V_V),
        (0x6B, "i8x16.shl", _VI_V), (0x6C, "i8x16.shr_s", _VI_V), (0x6D, "i8x16.shr_u", _VI_V),
        (0x6E, "i8x16.add", _VV_V), (0x6F, "i8x16.add_sat_s", _VV_V), (0x70, "i8x16.add_sat_u", _VV_V),
        (0x71, "i8x16.sub", _VV_V), (0x72, "i8x16.sub_sat_s", _VV_V), (0x73, "i8x16.sub_sat_u", _VV_V),
        (0x74, "f64x2.ceil", _V_V), (0x75, "f64x2.floor", _V_V),
        (0x76, "i8x16.min_s", _VV_V), (0x77, "i8x16.min_u", _VV_V), (0x78, "i8x16.max_s", _VV_V),
        (0x79, "i8x16.max_u", _VV_V), (0x7A, "f64x2.trunc", _V_V), (0x7B, "i8x16.avgr_u", _VV_V),
        (0x7C, "i16x8.extadd_pairwise_i8x16_s", _V_V), (0x7D, "i16x8.extadd_pairwise_i8x16_u", _V_V),
        (0x7E, "i32x4.extadd_pairwise_i16x8_s", _V_V), (0x7F, "i32x4.extadd_pairwise_i16x8_u", _V_V),
        (0x80, "i16x8.abs", _V_V), (0x81, "i16x8.neg", _V_V), (0x82, "i16x8.q15mulr_sat_s", _VV_V),
        (0x83, "i16x8.all_true", _V_I), (0x84, "i16x8.bitmask", _V_I),
        (0x85, "i16x8.narrow_i32x4_s", _VV_V), (0x86, "i16x8.narrow_i32x4_u", _VV_V),
        (0x87, "i16x8.extend_low_i8x16_s", _V_V), (0x88, "i16x8.extend_high_i8x16_s", _V_V),
        (0x89, "i16x8.extend_low_i8x16_u", _V_V), (0x8A, "i16x8.extend_high_i8x16_u", _V_V),
        (0x8B, "i16x8.shl", _VI_V), (0x8C, "i16x8.shr_s", _VI_V), (0x8D, "i16x8.shr_u", _VI_V),
        (0x8E, "i16x8.add", _VV_V), (0x8F, "i16x8.add_sat_s", _VV_V), (0x90, "i16x8.add_sat_u", _VV_V),
        (0x91, "i16x8.sub", _VV_V), (0x92, "i16x8.sub_sat_s", _VV_V), (0x93, "i16x8.sub_sat_u", _VV_V),
        (0x94, "f64x2.nearest", _V_V), (0x95, "i16x8.mul", _VV_V),
        (0x96, "i16x8.min_s", _VV_V), (0x97, "i16x8.min_u", _VV_V), (0x98, "i16x8.max_s", _VV_V),
        (0x99, "i16x8.max_u", _VV_V), (0x9B, "i16x8.avgr_u", _VV_V),
        (0x9C, "i16x8.extmul_low_i8x16_s", _VV_V), (0x9D, "i16x8.extmul_high_i8x16_s", _VV_V),
        (0x9E, "i16x8.extmul_low_i8x16_u", _VV_V), (0x9F, "i16x8.extmul_high_i8x16_u", _VV_V),
        (0xA0, "i32x4.abs", _V_V), (0xA1, "i32x4.neg", _V_V),
        (0xA3, "i32x4.all_true", _V_I), (0xA4, "i32x4.bitmask", _V_I),
        (0xA7, "i32x4.extend_low_i16x8_s", _V_V), (0xA8, "i32x4.extend_high_i16x8_s", _V_V),
        (0xA9, "i32x4.extend_low_i16x8_u", _V_V), (0xAA, "i32x4.extend_high_i16x8_u", _V_V),
        (0xAB, "i32x4.shl", _VI_V), (0xAC, "i32x4.shr_s", _VI_V), (0xAD, "i32x4.shr_u", _VI_V),
        (0xAE, "i32x4.add", _VV_V), (0xB1, "i32x4.sub", _VV_V), (0xB5, "i32x4.mul", _VV_V),
        (0xB6, "i32x4.min_s", _VV_V), (0xB7, "i32x4.min_u", _VV_V), (0xB8, "i32x4.max_s", _VV_V),
        (0xB9, "i32x4.max_u", _VV_V), (0xBA, "i32x4.dot_i16x8_s", _VV_V),
        (0xBC, "i32x4.extmul_low_i16x8_s", _VV_V), (0xBD, "i32x4.extmul_high_i16x8_s", _VV_V),
        (0xBE, "i32x4.extmul_low_i16x8_u", _VV_V), (0xBF, "i32x4.extmul_high_i16x8_u", _VV_V),
        (0xC0, "i64x2.abs", _V_V), (0xC1, "i64x2.neg", _V_V),
        (0xC3, "i64x2.all_true", _V_I), (0xC4, "i64x2.bitmask", _V_I),
        (0xC7, "i64x2.extend_low_i32x4_s", _V_V), (0xC8, "i64x2.extend_high_i32x4_s", _V_V),
        (0xC9, "i64x2.extend_low_i32x4_u", _V_V), (0xCA, "i64x2.extend_high_i32x4_u", _V_V),
        (0xCB, "i64x2.shl", _VI_V), (0xCC, "i64x2.shr_s", _VI_V), (0xCD, "i64x2.shr_u", _VI_V),
        (0xCE, "i64x2.add", _VV_V), (0xD1, "i64x2.sub", _VV_V), (0xD5, "i64x2.mul", _VV_V),
        (0xD6, "i64x2.eq", _VV_V), (0xD7, "i64x2.ne", _VV_V), (0xD8, "i64x2.lt_s", _VV_V),
        (0xD9, "i64x2.gt_s", _VV_V), (0xDA, "i64x2.le_s", _VV_V), (0xDB, "i64x2.ge_s", _VV_V),
        (0xDC, "i64x2.extmul_low_i32x4_s", _VV_V), (0xDD, "i64x2.extmul_high_i32x4_s", _VV_V),
        (0xDE, "i64x2.extmul_low_i32x4_u", _VV_V), (0xDF, "i64x2.extmul_high_i32x4_u", _VV_V),
        (0xE0, "f32x4.abs", _V_V), (0xE1, "f32x4.neg", _V_V), (0xE3, "f32x4.sqrt", _V_V),
        (0xEC, "f64x2.abs", _V_V), (0xED, "f64x2.neg", _V_V), (0xEF, "f64x2.sqrt", _V_V),
        (0xF8, "i32x4.trunc_sat_f32x4_s", _V_V), (0xF9, "i32x4.trunc_sat_f32x4_u", _V_V),
        (0xFA, "f32x4.convert_i32x4_s", _V_V), (0xFB, "f32x4.convert_i32x4_u", _V_V),
        (0xFC, "i32x4.trunc_sat_f64x2_s_zero", _V_V), (0xFD, "i32x4.trunc_sat_f64x2_u_zero", _V_V),
        (0xFE, "f64x2.convert_low_i32x4_s", _V_V), (0xFF, "f64x2.convert_low_i32x4_u", _V_V)):
    _def(FD | _sub, _name, sig=_sig_)
_run(FD | 0xE4, "add sub mul div min max pmin pmax", _VV_V, "f32x4.")
_run(FD | 0xF0, "add sub mul div min max pmin pmax", _VV_V, "f64x2.")

# --- 0xFD prefix, sub-opcodes 0x100-0x113: relaxed SIMD ---
for _sub, _name, _sig_ in (
        (0x100, "i8x16.relaxed_swizzle", "vv:v"),
        (0x101, "i32x4.relaxed_trunc_f32x4_s", "v:v"), (0x102, "i32x4.relaxed_trunc_f32x4_u", "v:v"),
        (0x103, "i32x4.relaxed_trunc_f64x2_s_zero", "v:v"), (0x104, "i32x4.relaxed_trunc_f64x2_u_zero", "v:v"),
        (0x105, "f32x4.relaxed_madd", "vvv:v"), (0x106, "f32x4.relaxed_nmadd", "vvv:v"),
        (0x107, "f64x2.relaxed_madd", "vvv:v"), (0x108, "f64x2.relaxed_nmadd", "vvv:v"),
        (0x109, "i8x16.relaxed_laneselect", "vvv:v"), (0x10A, "i16x8.relaxed_laneselect", "vvv:v"),
        (0x10B, "i32x4.relaxed_laneselect", "vvv:v"), (0x10C, "i64x2.relaxed_laneselect", "vvv:v"),
        (0x10D, "f32x4.relaxed_min", "vv:v"), (0x10E, "f32x4.relaxed_max", "vv:v"),
        (0x10F, "f64x2.relaxed_min", "vv:v"), (0x110, "f64x2.relaxed_max", "vv:v"),
        (0x111, "i16x8.relaxed_q15mulr_s", "vv:v"), (0x112, "i16x8.relaxed_dot_i8x16_i7x16_s", "vv:v"),
        (0x113, "i32x4.relaxed_dot_i8x16_i7x16_add_s", "vvv:v")):
    _def(FD | _sub, _name, sig=_sig_)
RELAXED_SIMD = frozenset(FD | sub for sub in range(0x100, 0x114))

# --- 0xFE prefix: atomics (threads proposal) ---
_def(FE | 0x00, "memory.atomic.notify", IMM_MEMARG, "ii:i", align=2)
_def(FE | 0x01, "memory.atomic.wait32", IMM_MEMARG, "iiI:i", align=2)
_def(FE | 0x02, "memory.atomic.wait64", IMM_MEMARG, "iII:i", align=3)
_def(FE | 0x03, "atomic.fence", IMM_FENCE, ":")
# Loads, stores and each read-modify-write operation come in the same seven widths, in this order.
_ATOMIC_WIDTHS = (("i32", "", 2), ("i64", "", 3), ("i32", "8", 0), ("i32", "16", 1),
                  ("i64", "8", 0), ("i64", "16", 1), ("i64", "32", 2))
for _i, (_t, _w, _align) in enumerate(_ATOMIC_WIDTHS):
    _v = "i" if _t == "i32" else "I"
    _def(FE | 0x10 + _i, f"{_t}.atomic.load{_w}{'_u' if _w else ''}", IMM_MEMARG, f"i:{_v}", align=_align)
    _def(FE | 0x17 + _i, f"{_t}.atomic.store{_w}", IMM_MEMARG, f"i{_v}:", align=_align)
    for _k, _rmw in enumerate(("add", "sub", "and", "or", "xor", "xchg", "cmpxchg")):
        _op = FE | 0x1E + 7 * _k + _i
        _sig_ = f"i{_v}{_v}:{_v}" if _rmw == "cmpxchg" else f"i{_v}:{_v}"
        _def(_op, f"{_t}.atomic.rmw{_w}.{_rmw}{'_u' if _w else ''}", IMM_MEMARG, _sig_, align=_align)
        ATOMIC_RMW[_op] = _rmw
ATOMICS = frozenset(op for op in NAMES if op >= FE and IMMEDIATES[op] == IMM_MEMARG)

# The opcode constants (I32_ADD, ...), made from the definitions above.
assert not OPCODES.keys() & globals().keys()
globals().update(OPCODES)

# Opcodes that need an active data count section (a decoding rule, not a validation one).
NEEDS_DATA_COUNT = frozenset((OPCODES["MEMORY_INIT"], OPCODES["DATA_DROP"]))


def name(op: int) -> str:
    return NAMES.get(op, f"<op {op:#x}>")


def opcode(mnemonic: str) -> int:
    """The opcode of `mnemonic` ("i32.add"; "select" is the one without a type immediate)."""
    return OPCODES[_constant_name(mnemonic)]


def by_opcode(prefixes, by_operation: dict) -> dict:
    """`by_operation` keyed by the opcode of `prefix.operation`, for each of `prefixes`: a table of an
    operation that several value types or lane shapes have, e.g. `by_opcode(("i32", "i64"), {"eq": x})`
    is `{I32_EQ: x, I64_EQ: x}`."""
    return {opcode(f"{prefix}.{operation}"): value for prefix in prefixes for operation, value in by_operation.items()}
