"""Translation of the SIMD instructions (the 0xFD-prefixed vector instructions of Wasm 2.0).

Takes: the translator of `function.py` (its operand stack, builder, `address`, `tagged`, `intrinsic`)
and one vector instruction with its decoded immediate. Gives: the LLVM IR of the instruction, added
at the builder's position, with its results pushed on the operand stack.

`SIMD_DISPATCH` maps every FD opcode to a handler `handler(translator, op, imm)`; `function.py`
merges it into `_Translator.dispatch`.

Every v128 value on the operand stack (and in locals, globals, phis, arguments and results) is an
LLVM `<2 x i64>`. Each operation bitcasts its operands to the lane vector type it works on
(`<16 x i8>`, `<8 x i16>`, `<4 x i32>`, `<2 x i64>`, `<4 x float>`, `<2 x double>`) and its result
back, so LLVM sees plain vector IR and selects SSE/AVX (or NEON...) instructions; the bitcasts cost
nothing.

Semantics that need care, all bit-exact as the spec tests check:
  - shifts take the count modulo the lane width; swizzle gives 0 for indices >= 16;
  - saturating arithmetic, narrowing, q15mulr_sat_s and trunc_sat clamp (llvm.*.sat, smin/smax);
  - float min/max propagate NaN and order -0 < +0 (llvm.minimum/maximum), and quiet a signalling NaN
    operand (as the scalar min/max of `function.py` do); pmin/pmax are plain selects that return an
    operand unchanged;
  - LLVM folds arithmetic identities (x*1, x/1, x+(-0), x-0, -0-x) that must quiet a signalling NaN,
    and demote(promote(x)): with a literal operand that has such a lane, the other operand is
    passed through llvm.canonicalize first.
"""

from __future__ import annotations

import struct

from llvmlite import ir

from ..contract import opcodes as ops
from .irtypes import F32T, F64T, I1, I8, I16, I32T, I64T, V128T

FD = ops.FD

V8x16 = ir.VectorType(I8, 16)
V16x8 = ir.VectorType(I16, 8)
V32x4 = ir.VectorType(I32T, 4)
V64x2 = V128T
VF32x4 = ir.VectorType(F32T, 4)
VF64x2 = ir.VectorType(F64T, 2)

_ELEM_NAMES = {I1: "i1", I8: "i8", I16: "i16", I32T: "i32", I64T: "i64", F32T: "f32", F64T: "f64"}


def _suffix(vt: ir.VectorType) -> str:
    """LLVM's overload suffix of a vector type: <4 x float> -> v4f32."""
    return f"v{vt.count}{_ELEM_NAMES[vt.element]}"


def _vec(element: ir.Type, count: int) -> ir.VectorType:
    return ir.VectorType(element, count)


def _mask(indices) -> ir.Constant:
    indices = list(indices)
    return ir.Constant(_vec(I32T, len(indices)), indices)


def _splat_const(vt: ir.VectorType, value) -> ir.Constant:
    return ir.Constant(vt, [value] * vt.count)


def _zero(vt: ir.VectorType) -> ir.Constant:
    return _splat_const(vt, 0.0 if vt.element in (F32T, F64T) else 0)


def _undef(vt: ir.VectorType) -> ir.Constant:
    return ir.Constant(vt, ir.Undefined)


# --- helpers on the translator --------------------------------------------------------------------

def _pop(t, vt: ir.VectorType):
    """Pop a v128 and view it as `vt`."""
    v = t.pop()
    return v if vt == V128T else t.b.bitcast(v, vt)


def _push(t, v) -> None:
    """Push a vector of any 128-bit lane type as a v128."""
    t.push(v if v.type == V128T else t.b.bitcast(v, V128T))


def _call(t, name: str, ret: ir.Type, args: list):
    return t.b.call(t.intrinsic(name, ret, [a.type for a in args]), args)


def _splat(t, scalar, vt: ir.VectorType):
    b = t.b
    one = b.insert_element(_undef(vt), scalar, ir.Constant(I32T, 0))
    return b.shuffle_vector(one, _undef(vt), _mask([0] * vt.count))


def _half(t, v, high: bool):
    """The low or high half of the lanes of `v`, as a vector of half the lanes."""
    n = v.type.count // 2
    start = n if high else 0
    return t.b.shuffle_vector(v, _undef(v.type), _mask(range(start, start + n)))


def _widen(t, v, signed: bool, vt: ir.VectorType):
    return t.b.sext(v, vt) if signed else t.b.zext(v, vt)


def _literals(t) -> dict:
    """id -> (constant, 16 bytes) of the v128.const values of the function being translated (kept on
    the translator, made on first use, like its `float_literals` of scalar constants)."""
    lits = t.__dict__.get("_v128_literals")
    if lits is None:
        lits = t._v128_literals = {}
    return lits


def _literal_bytes(t, value) -> bytes | None:
    """The 16 bytes of `value` if it is a v128.const of this function's code, else None."""
    entry = t.__dict__.get("_v128_literals", {}).get(id(value))
    return entry[1] if entry is not None and entry[0] is value else None


def _canonicalize(t, v):
    """`v` (a float vector) with signalling NaN lanes quieted."""
    return _call(t, f"llvm.canonicalize.{_suffix(v.type)}", v.type, [v])


# --- memory -----------------------------------------------------------------------------------

def _load(t, op, memarg) -> None:
    b = t.b
    ptr = t.address(t.pop(), memarg[1], 16)
    _push(t, t.tagged(b.load(ptr, typ=V128T, align=1), "heap"))


def _store(t, op, memarg) -> None:
    value = t.pop()
    ptr = t.address(t.pop(), memarg[1], 16)
    t.tagged(t.b.store(value, ptr, align=1), "heap")


# op: (narrow lane type, lane count, signed, wide lane type)
_LOAD_EXTEND = {
    0x01: (I8, 8, True, I16), 0x02: (I8, 8, False, I16), 0x03: (I16, 4, True, I32T),
    0x04: (I16, 4, False, I32T), 0x05: (I32T, 2, True, I64T), 0x06: (I32T, 2, False, I64T),
}


def _load_extend(t, op, memarg) -> None:
    narrow, count, signed, wide = _LOAD_EXTEND[op & 0xFF]
    ptr = t.address(t.pop(), memarg[1], 8)
    v = t.tagged(t.b.load(ptr, typ=_vec(narrow, count), align=1), "heap")
    _push(t, _widen(t, v, signed, _vec(wide, count)))


_SCALAR_OF_SIZE = {1: I8, 2: I16, 4: I32T, 8: I64T}
_LOAD_SPLAT = {0x07: 1, 0x08: 2, 0x09: 4, 0x0A: 8}


def _load_splat(t, op, memarg) -> None:
    size = _LOAD_SPLAT[op & 0xFF]
    lane = _SCALAR_OF_SIZE[size]
    ptr = t.address(t.pop(), memarg[1], size)
    v = t.tagged(t.b.load(ptr, typ=lane, align=1), "heap")
    _push(t, _splat(t, v, _vec(lane, 16 // size)))


def _load_zero(t, op, memarg) -> None:
    size = 4 if op & 0xFF == 0x5C else 8
    lane = _SCALAR_OF_SIZE[size]
    ptr = t.address(t.pop(), memarg[1], size)
    v = t.tagged(t.b.load(ptr, typ=lane, align=1), "heap")
    vt = _vec(lane, 16 // size)
    _push(t, t.b.insert_element(_zero(vt), v, ir.Constant(I32T, 0)))


_LANE_ACCESS = {0x54: 1, 0x55: 2, 0x56: 4, 0x57: 8, 0x58: 1, 0x59: 2, 0x5A: 4, 0x5B: 8}


def _load_lane(t, op, imm) -> None:
    memarg, lane = imm
    size = _LANE_ACCESS[op & 0xFF]
    scalar = _SCALAR_OF_SIZE[size]
    vt = _vec(scalar, 16 // size)
    v = _pop(t, vt)
    ptr = t.address(t.pop(), memarg[1], size)
    x = t.tagged(t.b.load(ptr, typ=scalar, align=1), "heap")
    _push(t, t.b.insert_element(v, x, ir.Constant(I32T, lane)))


def _store_lane(t, op, imm) -> None:
    memarg, lane = imm
    size = _LANE_ACCESS[op & 0xFF]
    scalar = _SCALAR_OF_SIZE[size]
    v = _pop(t, _vec(scalar, 16 // size))
    ptr = t.address(t.pop(), memarg[1], size)
    x = t.b.extract_element(v, ir.Constant(I32T, lane))
    t.tagged(t.b.store(x, ptr, align=1), "heap")


# --- constants, shuffles, lanes ------------------------------------------------------------------

def _const(t, op, data) -> None:
    data = bytes(data)
    lo, hi = struct.unpack("<QQ", data)
    value = ir.Constant(V128T, [ir.Constant(I64T, lo), ir.Constant(I64T, hi)])
    _literals(t)[id(value)] = (value, data)
    t.push(value)


def _shuffle(t, op, lanes) -> None:
    rhs = _pop(t, V8x16)
    lhs = _pop(t, V8x16)
    _push(t, t.b.shuffle_vector(lhs, rhs, _mask(lanes)))


def _swizzle(t, op, imm) -> None:
    b = t.b
    idx = _pop(t, V8x16)
    v = _pop(t, V8x16)
    # A vector built of variably indexed lanes: LLVM's x86 back end makes it one pshufb.
    masked = b.and_(idx, _splat_const(V8x16, 15))
    r = _undef(V8x16)
    for i in range(16):
        k = ir.Constant(I32T, i)
        r = b.insert_element(r, b.extract_element(v, b.extract_element(masked, k)), k)
    in_range = b.icmp_unsigned("<", idx, _splat_const(V8x16, 16))
    _push(t, b.select(in_range, r, _zero(V8x16)))


# op: (lane vector type, lane count)
_SPLAT = {0x0F: V8x16, 0x10: V16x8, 0x11: V32x4, 0x12: V64x2, 0x13: VF32x4, 0x14: VF64x2}


def _splat_op(t, op, imm) -> None:
    vt = _SPLAT[op & 0xFF]
    x = t.pop()
    if x.type != vt.element:
        x = t.b.trunc(x, vt.element)
    _push(t, _splat(t, x, vt))


# op: (lane vector type, None = no extension / True sign / False zero)
_EXTRACT = {0x15: (V8x16, True), 0x16: (V8x16, False), 0x18: (V16x8, True), 0x19: (V16x8, False),
            0x1B: (V32x4, None), 0x1D: (V64x2, None), 0x1F: (VF32x4, None), 0x21: (VF64x2, None)}
_REPLACE = {0x17: V8x16, 0x1A: V16x8, 0x1C: V32x4, 0x1E: V64x2, 0x20: VF32x4, 0x22: VF64x2}


def _extract_lane(t, op, lane) -> None:
    vt, signed = _EXTRACT[op & 0xFF]
    x = t.b.extract_element(_pop(t, vt), ir.Constant(I32T, lane))
    if signed is not None:
        x = t.b.sext(x, I32T) if signed else t.b.zext(x, I32T)
    t.push(x)


def _replace_lane(t, op, lane) -> None:
    vt = _REPLACE[op & 0xFF]
    x = t.pop()
    if x.type != vt.element:
        x = t.b.trunc(x, vt.element)
    v = _pop(t, vt)
    _push(t, t.b.insert_element(v, x, ir.Constant(I32T, lane)))


# --- comparisons ---------------------------------------------------------------------------------

_ICMP_RELS = (("==", None), ("!=", None), ("<", True), ("<", False), (">", True), (">", False),
              ("<=", True), ("<=", False), (">=", True), (">=", False))


def _int_compare(t, vt, lhs, rhs, rel) -> None:
    pred, signed = rel
    b = t.b
    cmp = b.icmp_signed(pred, lhs, rhs) if signed else b.icmp_unsigned(pred, lhs, rhs)
    _push(t, b.sext(cmp, vt))


def _icmp(t, op, imm) -> None:
    sub = op & 0xFF
    if sub >= 0xD6:  # i64x2: eq ne lt_s gt_s le_s ge_s
        vt = V64x2
        rel = (("==", None), ("!=", None), ("<", True), (">", True), ("<=", True), (">=", True))[sub - 0xD6]
    else:
        base, vt = (0x23, V8x16) if sub < 0x2D else (0x2D, V16x8) if sub < 0x37 else (0x37, V32x4)
        rel = _ICMP_RELS[sub - base]
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    _int_compare(t, vt, lhs, rhs, rel)


_FCMP_RELS = (("==", True), ("!=", False), ("<", True), (">", True), ("<=", True), (">=", True))


def _fcmp(t, op, imm) -> None:
    sub = op & 0xFF
    vt, ivt, base = (VF32x4, V32x4, 0x41) if sub < 0x47 else (VF64x2, V64x2, 0x47)
    pred, ordered = _FCMP_RELS[sub - base]
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    b = t.b
    cmp = b.fcmp_ordered(pred, lhs, rhs) if ordered else b.fcmp_unordered(pred, lhs, rhs)
    _push(t, b.sext(cmp, ivt))


# --- bitwise -------------------------------------------------------------------------------------

_ONES = ir.Constant(V128T, [ir.Constant(I64T, -1), ir.Constant(I64T, -1)])


def _not(t, op, imm) -> None:
    _push(t, t.b.xor(t.pop(), _ONES))


def _bitwise(t, op, imm) -> None:
    b = t.b
    rhs = t.pop()
    lhs = t.pop()
    sub = op & 0xFF
    if sub == 0x4E:
        r = b.and_(lhs, rhs)
    elif sub == 0x4F:
        r = b.and_(lhs, b.xor(rhs, _ONES))
    elif sub == 0x50:
        r = b.or_(lhs, rhs)
    else:
        r = b.xor(lhs, rhs)
    t.push(r)


def _bitselect(t, op, imm) -> None:
    b = t.b
    c = t.pop()
    v2 = t.pop()
    v1 = t.pop()
    t.push(b.or_(b.and_(v1, c), b.and_(v2, b.xor(c, _ONES))))


def _any_true(t, op, imm) -> None:
    b = t.b
    v = b.bitcast(t.pop(), ir.IntType(128))
    t.push(b.zext(b.icmp_unsigned("!=", v, ir.Constant(ir.IntType(128), 0)), I32T))


# --- integer lane operations ----------------------------------------------------------------------

_INT_VT = {8: V8x16, 16: V16x8, 32: V32x4, 64: V64x2}


def _all_true(t, op, vt) -> None:
    b = t.b
    v = _pop(t, vt)
    nonzero = b.icmp_unsigned("!=", v, _zero(vt))
    mask = b.bitcast(nonzero, ir.IntType(vt.count))
    all_set = b.icmp_unsigned("==", mask, ir.Constant(ir.IntType(vt.count), (1 << vt.count) - 1))
    t.push(b.zext(all_set, I32T))


def _bitmask(t, op, vt) -> None:
    b = t.b
    v = _pop(t, vt)
    negative = b.icmp_signed("<", v, _zero(vt))
    mask = b.bitcast(negative, ir.IntType(vt.count))
    t.push(b.zext(mask, I32T) if vt.count < 32 else mask)


def _abs(t, op, vt) -> None:
    v = _pop(t, vt)
    _push(t, _call(t, f"llvm.abs.{_suffix(vt)}", vt, [v, ir.Constant(I1, 0)]))


def _neg(t, op, vt) -> None:
    v = _pop(t, vt)
    _push(t, t.b.sub(_zero(vt), v))


def _popcnt(t, op, vt) -> None:
    v = _pop(t, vt)
    _push(t, _call(t, f"llvm.ctpop.{_suffix(vt)}", vt, [v]))


def _shift(t, op, vt, kind) -> None:
    b = t.b
    count = t.pop()
    v = _pop(t, vt)
    bits = vt.element.width
    count = b.and_(count, ir.Constant(I32T, bits - 1))
    if bits < 32:
        count = b.trunc(count, vt.element)
    elif bits > 32:
        count = b.zext(count, vt.element)
    amount = _splat(t, count, vt)
    _push(t, (b.shl, b.ashr, b.lshr)[kind](v, amount))


def _binary(t, op, vt, kind) -> None:
    b = t.b
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    if kind == "add":
        r = b.add(lhs, rhs)
    elif kind == "sub":
        r = b.sub(lhs, rhs)
    elif kind == "mul":
        r = b.mul(lhs, rhs)
    else:  # an intrinsic: sadd.sat, umin, ...
        r = _call(t, f"llvm.{kind}.{_suffix(vt)}", vt, [lhs, rhs])
    _push(t, r)


def _avgr_u(t, op, vt) -> None:
    b = t.b
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    wide = _vec(ir.IntType(vt.element.width * 2), vt.count)
    s = b.add(b.add(b.zext(lhs, wide), b.zext(rhs, wide)), _splat_const(wide, 1))
    _push(t, b.trunc(b.lshr(s, _splat_const(wide, 1)), vt))


def _narrow(t, op, vt, signed) -> None:
    """i8x16.narrow_i16x8 (vt = <8 x i16>) and i16x8.narrow_i32x4 (vt = <4 x i32>)."""
    b = t.b
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    both = b.shuffle_vector(lhs, rhs, _mask(range(2 * vt.count)))
    wide = both.type
    bits = vt.element.width // 2
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    clamped = _call(t, f"llvm.smax.{_suffix(wide)}", wide, [both, _splat_const(wide, lo)])
    clamped = _call(t, f"llvm.smin.{_suffix(wide)}", wide, [clamped, _splat_const(wide, hi)])
    _push(t, b.trunc(clamped, _vec(ir.IntType(bits), 2 * vt.count)))


def _extend(t, op, vt, high, signed) -> None:
    """extend_low/high: vt is the source lane vector type."""
    v = _pop(t, vt)
    wide = _vec(ir.IntType(vt.element.width * 2), vt.count // 2)
    _push(t, _widen(t, _half(t, v, high), signed, wide))


def _extmul(t, op, vt, high, signed) -> None:
    b = t.b
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    wide = _vec(ir.IntType(vt.element.width * 2), vt.count // 2)
    a = _widen(t, _half(t, lhs, high), signed, wide)
    c = _widen(t, _half(t, rhs, high), signed, wide)
    _push(t, b.mul(a, c))


def _extadd_pairwise(t, op, vt, signed) -> None:
    b = t.b
    v = _pop(t, vt)
    n = vt.count // 2
    wide = _vec(ir.IntType(vt.element.width * 2), n)
    even = b.shuffle_vector(v, _undef(vt), _mask(range(0, vt.count, 2)))
    odd = b.shuffle_vector(v, _undef(vt), _mask(range(1, vt.count, 2)))
    _push(t, b.add(_widen(t, even, signed, wide), _widen(t, odd, signed, wide)))


def _dot(t, op, imm) -> None:
    b = t.b
    rhs = _pop(t, V16x8)
    lhs = _pop(t, V16x8)
    wide = _vec(I32T, 8)
    prod = b.mul(b.sext(lhs, wide), b.sext(rhs, wide))
    even = b.shuffle_vector(prod, _undef(wide), _mask(range(0, 8, 2)))
    odd = b.shuffle_vector(prod, _undef(wide), _mask(range(1, 8, 2)))
    _push(t, b.add(even, odd))


def _q15mulr_sat(t, op, imm) -> None:
    b = t.b
    rhs = _pop(t, V16x8)
    lhs = _pop(t, V16x8)
    wide = _vec(I32T, 8)
    prod = b.mul(b.sext(lhs, wide), b.sext(rhs, wide))
    r = b.ashr(b.add(prod, _splat_const(wide, 0x4000)), _splat_const(wide, 15))
    # Only -32768 * -32768 overflows (to 32768).
    r = _call(t, "llvm.smin.v8i32", wide, [r, _splat_const(wide, 0x7FFF)])
    _push(t, b.trunc(r, V16x8))


# --- float lane operations ------------------------------------------------------------------------

def _float_unary(t, op, vt, name) -> None:
    v = _pop(t, vt)
    if name == "neg":
        _push(t, t.b.fneg(v))
    else:
        _push(t, _call(t, f"llvm.{name}.{_suffix(vt)}", vt, [v]))


def _identity_lanes(data: bytes | None, vt: ir.VectorType) -> set:
    """Which arithmetic identities lanes of the literal `data` are: "-0", "+0", "1" (+-1)."""
    if data is None:
        return set()
    if vt.element == F32T:
        lanes = struct.unpack("<4I", data)
        neg_zero, one = 1 << 31, 0x3F800000
    else:
        lanes = struct.unpack("<2Q", data)
        neg_zero, one = 1 << 63, 0x3FF0000000000000
    kinds = set()
    for lane in lanes:
        if lane == neg_zero:
            kinds.add("-0")
        elif lane == 0:
            kinds.add("+0")
        elif lane & ~neg_zero == one:
            kinds.add("1")
    return kinds


def _float_arith(t, op, vt, kind) -> None:
    b = t.b
    rhs_v = t.pop()
    lhs_v = t.pop()
    lhs = lhs_v if vt == V128T else b.bitcast(lhs_v, vt)
    rhs = rhs_v if vt == V128T else b.bitcast(rhs_v, vt)
    if t.__dict__.get("_v128_literals"):
        # LLVM folds x*1, x/1, x+(-0), x-0, -0-x (lane-wise too) to x or -x, which would let a
        # signalling NaN through; quieting the other operand first makes the folded form exact.
        lk = _identity_lanes(_literal_bytes(t, lhs_v), vt)
        rk = _identity_lanes(_literal_bytes(t, rhs_v), vt)
        if (kind == "fadd" and "-0" in rk) or (kind == "fsub" and "+0" in rk) \
                or (kind in ("fmul", "fdiv") and "1" in rk):
            lhs = _canonicalize(t, lhs)
        if (kind in ("fadd", "fsub") and "-0" in lk) or (kind == "fmul" and "1" in lk):
            rhs = _canonicalize(t, rhs)
    _push(t, getattr(b, kind)(lhs, rhs))


def _float_minmax(t, op, vt, name) -> None:
    b = t.b
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    r = _call(t, f"llvm.{name}.{_suffix(vt)}", vt, [lhs, rhs])
    # llvm.minimum/maximum may pass a signalling NaN lane through unchanged; wasm wants a quiet
    # NaN, which an addition of the operands produces.
    either_nan = b.fcmp_unordered("uno", lhs, rhs)
    _push(t, b.select(either_nan, b.fadd(lhs, rhs), r))


def _pminmax(t, op, vt, is_max) -> None:
    b = t.b
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    if is_max:
        _push(t, b.select(b.fcmp_ordered("<", lhs, rhs), rhs, lhs))
    else:
        _push(t, b.select(b.fcmp_ordered("<", rhs, lhs), rhs, lhs))


# --- conversions ----------------------------------------------------------------------------------

# op: (source vector type, signed, lowest and highest source values that convert in range, or None
# for the highest when every value up to the integer maximum is exact in the source type)
_TRUNC_SAT = {
    0xF8: (VF32x4, True, -2147483648.0, 2147483520.0), 0xF9: (VF32x4, False, 0.0, 4294967040.0),
    0xFC: (VF64x2, True, -2147483648.0, 2147483647.0), 0xFD: (VF64x2, False, 0.0, 4294967295.0),
}


def _trunc_sat(t, op, imm) -> None:
    """trunc_sat as fpto[su]i of the operand clamped to the range (so LLVM keeps it in vector
    registers; llvm.fpto[su]i.sat vectors are scalarised on x86), then the lanes at or above the
    integer maximum set to it and NaN lanes to 0."""
    b = t.b
    vt, signed, lo, hi = _TRUNC_SAT[op & 0xFF]
    v = _pop(t, vt)
    ivt = _vec(I32T, vt.count)
    clamped = _call(t, f"llvm.maxnum.{_suffix(vt)}", vt, [v, _splat_const(vt, lo)])
    clamped = _call(t, f"llvm.minnum.{_suffix(vt)}", vt, [clamped, _splat_const(vt, hi)])
    r = b.fptosi(clamped, ivt) if signed else b.fptoui(clamped, ivt)
    if vt == VF32x4:
        limit = 2147483648.0 if signed else 4294967296.0
        big = b.fcmp_ordered(">=", v, _splat_const(vt, limit))
        r = b.select(big, _splat_const(ivt, 0x7FFFFFFF if signed else 0xFFFFFFFF), r)
    r = b.select(b.fcmp_unordered("uno", v, v), _zero(ivt), r)
    if vt == VF64x2:
        r = b.shuffle_vector(r, _zero(ivt), _mask([0, 1, 2, 3]))
    _push(t, r)


def _convert(t, op, imm) -> None:
    b = t.b
    sub = op & 0xFF
    if sub in (0xFA, 0xFB):
        v = _pop(t, V32x4)
        _push(t, b.sitofp(v, VF32x4) if sub == 0xFA else b.uitofp(v, VF32x4))
    else:
        v = _half(t, _pop(t, V32x4), False)
        _push(t, b.sitofp(v, VF64x2) if sub == 0xFE else b.uitofp(v, VF64x2))


def _demote(t, op, imm) -> None:
    b = t.b
    raw = t.pop()
    v = b.bitcast(raw, VF64x2)
    if isinstance(raw, ir.CastInstr) and raw.opname == "bitcast" \
            and isinstance(raw.operands[0], ir.CastInstr) and raw.operands[0].opname == "fpext":
        # LLVM folds demote(promote(x)) to x, which would let a signalling NaN through.
        v = _canonicalize(t, v)
    r = b.fptrunc(v, _vec(F32T, 2))
    _push(t, b.shuffle_vector(r, _zero(r.type), _mask([0, 1, 2, 3])))


def _promote(t, op, imm) -> None:
    v = _half(t, _pop(t, VF32x4), False)
    _push(t, t.b.fpext(v, VF64x2))


# --- the dispatch table ----------------------------------------------------------------------------

def _bind(fn, *args):
    def handler(t, op, imm):
        fn(t, op, *args) if args else fn(t, op, imm)
    handler.__name__ = fn.__name__
    return handler


def _build() -> dict:
    d = {}

    def at(sub, handler):
        assert FD | sub in ops.NAMES, hex(sub)
        assert FD | sub not in d, hex(sub)
        d[FD | sub] = handler

    # memory
    at(0x00, _load)
    at(0x0B, _store)
    for sub in _LOAD_EXTEND:
        at(sub, _load_extend)
    for sub in _LOAD_SPLAT:
        at(sub, _load_splat)
    at(0x5C, _load_zero)
    at(0x5D, _load_zero)
    for sub in (0x54, 0x55, 0x56, 0x57):
        at(sub, _load_lane)
    for sub in (0x58, 0x59, 0x5A, 0x5B):
        at(sub, _store_lane)
    # constants, shuffles, lanes
    at(0x0C, _const)
    at(0x0D, _shuffle)
    at(0x0E, _swizzle)
    for sub in _SPLAT:
        at(sub, _splat_op)
    for sub in _EXTRACT:
        at(sub, _extract_lane)
    for sub in _REPLACE:
        at(sub, _replace_lane)
    # comparisons
    for sub in list(range(0x23, 0x41)) + list(range(0xD6, 0xDC)):
        at(sub, _icmp)
    for sub in range(0x41, 0x4D):
        at(sub, _fcmp)
    # bitwise
    at(0x4D, _not)
    for sub in range(0x4E, 0x52):
        at(sub, _bitwise)
    at(0x52, _bitselect)
    at(0x53, _any_true)
    # integer lanes: one block per lane shape (first sub-opcode of abs and of the shifts/arith)
    for vt, abs_, all_true, bitmask, shl, add in ((V8x16, 0x60, 0x63, 0x64, 0x6B, 0x6E),
                                                  (V16x8, 0x80, 0x83, 0x84, 0x8B, 0x8E),
                                                  (V32x4, 0xA0, 0xA3, 0xA4, 0xAB, 0xAE),
                                                  (V64x2, 0xC0, 0xC3, 0xC4, 0xCB, 0xCE)):
        at(abs_, _bind(_abs, vt))
        at(abs_ + 1, _bind(_neg, vt))
        at(all_true, _bind(_all_true, vt))
        at(bitmask, _bind(_bitmask, vt))
        for k in range(3):
            at(shl + k, _bind(_shift, vt, k))
        at(add, _bind(_binary, vt, "add"))
        at(add + 3, _bind(_binary, vt, "sub"))
        if vt.element.width <= 16:
            at(add + 1, _bind(_binary, vt, "sadd.sat"))
            at(add + 2, _bind(_binary, vt, "uadd.sat"))
            at(add + 4, _bind(_binary, vt, "ssub.sat"))
            at(add + 5, _bind(_binary, vt, "usub.sat"))
        if vt.element.width >= 16:
            at(add + 7, _bind(_binary, vt, "mul"))
        if vt.element.width <= 32:
            at(add + 8, _bind(_binary, vt, "smin"))
            at(add + 9, _bind(_binary, vt, "umin"))
            at(add + 10, _bind(_binary, vt, "smax"))
            at(add + 11, _bind(_binary, vt, "umax"))
    at(0x62, _bind(_popcnt, V8x16))
    at(0x7B, _bind(_avgr_u, V8x16))
    at(0x9B, _bind(_avgr_u, V16x8))
    at(0x65, _bind(_narrow, V16x8, True))
    at(0x66, _bind(_narrow, V16x8, False))
    at(0x85, _bind(_narrow, V32x4, True))
    at(0x86, _bind(_narrow, V32x4, False))
    at(0x7C, _bind(_extadd_pairwise, V8x16, True))
    at(0x7D, _bind(_extadd_pairwise, V8x16, False))
    at(0x7E, _bind(_extadd_pairwise, V16x8, True))
    at(0x7F, _bind(_extadd_pairwise, V16x8, False))
    at(0x82, _q15mulr_sat)
    at(0xBA, _dot)
    for vt, extend, extmul in ((V8x16, 0x87, 0x9C), (V16x8, 0xA7, 0xBC), (V32x4, 0xC7, 0xDC)):
        # low_s, high_s, low_u, high_u
        for k, (high, signed) in enumerate(((False, True), (True, True), (False, False), (True, False))):
            at(extend + k, _bind(_extend, vt, high, signed))
            at(extmul + k, _bind(_extmul, vt, high, signed))
    # float lanes
    for vt, ceil, floor, trunc, nearest, abs_ in ((VF32x4, 0x67, 0x68, 0x69, 0x6A, 0xE0),
                                                  (VF64x2, 0x74, 0x75, 0x7A, 0x94, 0xEC)):
        at(ceil, _bind(_float_unary, vt, "ceil"))
        at(floor, _bind(_float_unary, vt, "floor"))
        at(trunc, _bind(_float_unary, vt, "trunc"))
        at(nearest, _bind(_float_unary, vt, "roundeven"))
        at(abs_, _bind(_float_unary, vt, "fabs"))
        at(abs_ + 1, _bind(_float_unary, vt, "neg"))
        at(abs_ + 3, _bind(_float_unary, vt, "sqrt"))
        add = abs_ + 4
        for k, kind in enumerate(("fadd", "fsub", "fmul", "fdiv")):
            at(add + k, _bind(_float_arith, vt, kind))
        at(add + 4, _bind(_float_minmax, vt, "minimum"))
        at(add + 5, _bind(_float_minmax, vt, "maximum"))
        at(add + 6, _bind(_pminmax, vt, False))
        at(add + 7, _bind(_pminmax, vt, True))
    # conversions
    for sub in (0xF8, 0xF9, 0xFC, 0xFD):
        at(sub, _trunc_sat)
    for sub in (0xFA, 0xFB, 0xFE, 0xFF):
        at(sub, _convert)
    at(0x5E, _demote)
    at(0x5F, _promote)
    missing = [ops.name(op) for op in ops.NAMES if op & ~0xFF == FD and op not in d]
    assert not missing, missing
    return d


SIMD_DISPATCH = _build()
