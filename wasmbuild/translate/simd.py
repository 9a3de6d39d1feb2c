"""Translation of the SIMD instructions (the 0xFD-prefixed vector instructions of Wasm 2.0, and the
relaxed SIMD instructions of 3.0).

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

Relaxed SIMD: the spec lets each relaxed instruction give one of several results; wasmbuild gives one
fixed choice, the same on every target and at every optimisation level (docs/architecture.md,
"Relaxed SIMD"): swizzle, trunc_sat, bitselect, min/max and q15mulr_sat_s of the non-relaxed
instructions; madd/nmadd unfused (the product rounded, then the sum); the dot products with both
operands signed and the pairwise i16 sums wrapping.
"""

from __future__ import annotations

import struct

from llvmlite import ir

from ..contract import opcodes as ops
from .irtypes import F32T, F64T, FLOAT_PREDICATES, I1, I8, I16, I32T, I64T, INT_PREDICATES, V128T

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
    ptr = t.address(t.pop(), memarg, 16)
    _push(t, t.heap_load(ptr, V128T, memarg[2]))


def _store(t, op, memarg) -> None:
    value = t.pop()
    ptr = t.address(t.pop(), memarg, 16)
    t.heap_store(value, ptr, memarg[2])


# op: (narrow lane type, lane count, signed, wide lane type)
_LOAD_EXTEND = {
    ops.V128_LOAD8X8_S: (I8, 8, True, I16), ops.V128_LOAD8X8_U: (I8, 8, False, I16),
    ops.V128_LOAD16X4_S: (I16, 4, True, I32T), ops.V128_LOAD16X4_U: (I16, 4, False, I32T),
    ops.V128_LOAD32X2_S: (I32T, 2, True, I64T), ops.V128_LOAD32X2_U: (I32T, 2, False, I64T),
}


def _load_extend(t, op, memarg) -> None:
    narrow, count, signed, wide = _LOAD_EXTEND[op]
    ptr = t.address(t.pop(), memarg, 8)
    v = t.heap_load(ptr, _vec(narrow, count), memarg[2])
    _push(t, _widen(t, v, signed, _vec(wide, count)))


_SCALAR_OF_SIZE = {1: I8, 2: I16, 4: I32T, 8: I64T}
# op: bytes accessed, for splat, zero-extending and lane loads and for lane stores
_LOAD_SPLAT = {ops.V128_LOAD8_SPLAT: 1, ops.V128_LOAD16_SPLAT: 2, ops.V128_LOAD32_SPLAT: 4, ops.V128_LOAD64_SPLAT: 8}
_LOAD_ZERO = {ops.V128_LOAD32_ZERO: 4, ops.V128_LOAD64_ZERO: 8}
_LOAD_LANE = {ops.V128_LOAD8_LANE: 1, ops.V128_LOAD16_LANE: 2, ops.V128_LOAD32_LANE: 4, ops.V128_LOAD64_LANE: 8}
_STORE_LANE = {ops.V128_STORE8_LANE: 1, ops.V128_STORE16_LANE: 2, ops.V128_STORE32_LANE: 4,
               ops.V128_STORE64_LANE: 8}


def _load_splat(t, op, memarg) -> None:
    size = _LOAD_SPLAT[op]
    lane = _SCALAR_OF_SIZE[size]
    ptr = t.address(t.pop(), memarg, size)
    v = t.heap_load(ptr, lane, memarg[2])
    _push(t, _splat(t, v, _vec(lane, 16 // size)))


def _load_zero(t, op, memarg) -> None:
    size = _LOAD_ZERO[op]
    lane = _SCALAR_OF_SIZE[size]
    ptr = t.address(t.pop(), memarg, size)
    v = t.heap_load(ptr, lane, memarg[2])
    vt = _vec(lane, 16 // size)
    _push(t, t.b.insert_element(_zero(vt), v, ir.Constant(I32T, 0)))


def _load_lane(t, op, imm) -> None:
    memarg, lane = imm
    size = _LOAD_LANE[op]
    scalar = _SCALAR_OF_SIZE[size]
    vt = _vec(scalar, 16 // size)
    v = _pop(t, vt)
    ptr = t.address(t.pop(), memarg, size)
    x = t.heap_load(ptr, scalar, memarg[2])
    _push(t, t.b.insert_element(v, x, ir.Constant(I32T, lane)))


def _store_lane(t, op, imm) -> None:
    memarg, lane = imm
    size = _STORE_LANE[op]
    scalar = _SCALAR_OF_SIZE[size]
    v = _pop(t, _vec(scalar, 16 // size))
    ptr = t.address(t.pop(), memarg, size)
    x = t.b.extract_element(v, ir.Constant(I32T, lane))
    t.heap_store(x, ptr, memarg[2])


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


# op: lane vector type
_SPLAT = {ops.I8X16_SPLAT: V8x16, ops.I16X8_SPLAT: V16x8, ops.I32X4_SPLAT: V32x4, ops.I64X2_SPLAT: V64x2,
          ops.F32X4_SPLAT: VF32x4, ops.F64X2_SPLAT: VF64x2}


def _splat_op(t, op, imm) -> None:
    vt = _SPLAT[op]
    x = t.pop()
    if x.type != vt.element:
        x = t.b.trunc(x, vt.element)
    _push(t, _splat(t, x, vt))


# op: (lane vector type, None = no extension / True sign / False zero)
_EXTRACT = {ops.I8X16_EXTRACT_LANE_S: (V8x16, True), ops.I8X16_EXTRACT_LANE_U: (V8x16, False),
            ops.I16X8_EXTRACT_LANE_S: (V16x8, True), ops.I16X8_EXTRACT_LANE_U: (V16x8, False),
            ops.I32X4_EXTRACT_LANE: (V32x4, None), ops.I64X2_EXTRACT_LANE: (V64x2, None),
            ops.F32X4_EXTRACT_LANE: (VF32x4, None), ops.F64X2_EXTRACT_LANE: (VF64x2, None)}
# op: lane vector type
_REPLACE = {ops.I8X16_REPLACE_LANE: V8x16, ops.I16X8_REPLACE_LANE: V16x8, ops.I32X4_REPLACE_LANE: V32x4,
            ops.I64X2_REPLACE_LANE: V64x2, ops.F32X4_REPLACE_LANE: VF32x4, ops.F64X2_REPLACE_LANE: VF64x2}


def _extract_lane(t, op, lane) -> None:
    vt, signed = _EXTRACT[op]
    x = t.b.extract_element(_pop(t, vt), ir.Constant(I32T, lane))
    if signed is not None:
        x = t.b.sext(x, I32T) if signed else t.b.zext(x, I32T)
    t.push(x)


def _replace_lane(t, op, lane) -> None:
    vt = _REPLACE[op]
    x = t.pop()
    if x.type != vt.element:
        x = t.b.trunc(x, vt.element)
    v = _pop(t, vt)
    _push(t, t.b.insert_element(v, x, ir.Constant(I32T, lane)))


# --- comparisons ---------------------------------------------------------------------------------

def _icmp(t, op, vt, predicate) -> None:
    pred, signed = predicate
    rhs = _pop(t, vt)
    lhs = _pop(t, vt)
    b = t.b
    cmp = b.icmp_signed(pred, lhs, rhs) if signed else b.icmp_unsigned(pred, lhs, rhs)
    _push(t, b.sext(cmp, vt))


def _fcmp(t, op, vt, ivt, predicate) -> None:
    """A comparison of the float lanes of `vt`, giving integer lanes of `ivt`."""
    pred, ordered = predicate
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
    if op == ops.V128_AND:
        r = b.and_(lhs, rhs)
    elif op == ops.V128_ANDNOT:
        r = b.and_(lhs, b.xor(rhs, _ONES))
    elif op == ops.V128_OR:
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
    ops.I32X4_TRUNC_SAT_F32X4_S: (VF32x4, True, -2147483648.0, 2147483520.0),
    ops.I32X4_TRUNC_SAT_F32X4_U: (VF32x4, False, 0.0, 4294967040.0),
    ops.I32X4_TRUNC_SAT_F64X2_S_ZERO: (VF64x2, True, -2147483648.0, 2147483647.0),
    ops.I32X4_TRUNC_SAT_F64X2_U_ZERO: (VF64x2, False, 0.0, 4294967295.0),
}
# Relaxed truncation is trunc_sat (see the module docstring).
_TRUNC_SAT.update({ops.I32X4_RELAXED_TRUNC_F32X4_S: _TRUNC_SAT[ops.I32X4_TRUNC_SAT_F32X4_S],
                   ops.I32X4_RELAXED_TRUNC_F32X4_U: _TRUNC_SAT[ops.I32X4_TRUNC_SAT_F32X4_U],
                   ops.I32X4_RELAXED_TRUNC_F64X2_S_ZERO: _TRUNC_SAT[ops.I32X4_TRUNC_SAT_F64X2_S_ZERO],
                   ops.I32X4_RELAXED_TRUNC_F64X2_U_ZERO: _TRUNC_SAT[ops.I32X4_TRUNC_SAT_F64X2_U_ZERO]})


def _trunc_sat(t, op, imm) -> None:
    """trunc_sat as fpto[su]i of the operand clamped to the range (so LLVM keeps it in vector
    registers; llvm.fpto[su]i.sat vectors are scalarised on x86), then the lanes at or above the
    integer maximum set to it and NaN lanes to 0."""
    b = t.b
    vt, signed, lo, hi = _TRUNC_SAT[op]
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


# op: (float lane vector type, signed?); f64x2 converts the low two lanes
_CONVERT = {ops.F32X4_CONVERT_I32X4_S: (VF32x4, True), ops.F32X4_CONVERT_I32X4_U: (VF32x4, False),
            ops.F64X2_CONVERT_LOW_I32X4_S: (VF64x2, True), ops.F64X2_CONVERT_LOW_I32X4_U: (VF64x2, False)}


def _convert(t, op, imm) -> None:
    b = t.b
    vt, signed = _CONVERT[op]
    v = _pop(t, V32x4)
    if vt == VF64x2:
        v = _half(t, v, False)
    _push(t, b.sitofp(v, vt) if signed else b.uitofp(v, vt))


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


# --- relaxed SIMD ---------------------------------------------------------------------------------

def _madd(t, op, vt, negate: bool) -> None:
    """relaxed_madd a*b+c and relaxed_nmadd -(a*b)+c, unfused: the product rounded, then the sum,
    through the same code as f32x4.mul and f32x4.add (so literal identities quiet NaNs as there)."""
    c = t.pop()
    _float_arith(t, op, vt, "fmul")
    if negate:
        _push(t, t.b.fneg(_pop(t, vt)))
    t.push(c)
    _float_arith(t, op, vt, "fadd")


def _relaxed_dot_i16(t):
    """Pop b and a (i8x16, both signed); the i16x8 sums of adjacent products, wrapping."""
    b = t.b
    rhs = _pop(t, V8x16)
    lhs = _pop(t, V8x16)
    wide = _vec(I16, 16)
    prod = b.mul(b.sext(lhs, wide), b.sext(rhs, wide))  # exact: |a*b| <= 2^14
    even = b.shuffle_vector(prod, _undef(wide), _mask(range(0, 16, 2)))
    odd = b.shuffle_vector(prod, _undef(wide), _mask(range(1, 16, 2)))
    return b.add(even, odd)


def _relaxed_dot(t, op, imm) -> None:
    _push(t, _relaxed_dot_i16(t))


def _relaxed_dot_add(t, op, imm) -> None:
    b = t.b
    acc = _pop(t, V32x4)
    pairs = b.sext(_relaxed_dot_i16(t), _vec(I32T, 8))
    even = b.shuffle_vector(pairs, _undef(pairs.type), _mask(range(0, 8, 2)))
    odd = b.shuffle_vector(pairs, _undef(pairs.type), _mask(range(1, 8, 2)))
    _push(t, b.add(b.add(even, odd), acc))


def _relaxed(at) -> None:
    """The relaxed SIMD instructions, each with the one result of its non-relaxed counterpart (see
    the module docstring)."""
    at(ops.I8X16_RELAXED_SWIZZLE, _swizzle)
    for op in (ops.I8X16_RELAXED_LANESELECT, ops.I16X8_RELAXED_LANESELECT, ops.I32X4_RELAXED_LANESELECT,
               ops.I64X2_RELAXED_LANESELECT):
        at(op, _bitselect)
    at(ops.F32X4_RELAXED_MADD, _bind(_madd, VF32x4, False))
    at(ops.F32X4_RELAXED_NMADD, _bind(_madd, VF32x4, True))
    at(ops.F64X2_RELAXED_MADD, _bind(_madd, VF64x2, False))
    at(ops.F64X2_RELAXED_NMADD, _bind(_madd, VF64x2, True))
    at(ops.F32X4_RELAXED_MIN, _bind(_float_minmax, VF32x4, "minimum"))
    at(ops.F32X4_RELAXED_MAX, _bind(_float_minmax, VF32x4, "maximum"))
    at(ops.F64X2_RELAXED_MIN, _bind(_float_minmax, VF64x2, "minimum"))
    at(ops.F64X2_RELAXED_MAX, _bind(_float_minmax, VF64x2, "maximum"))
    at(ops.I16X8_RELAXED_Q15MULR_S, _q15mulr_sat)
    at(ops.I16X8_RELAXED_DOT_I8X16_I7X16_S, _relaxed_dot)
    at(ops.I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S, _relaxed_dot_add)


# --- the dispatch table ----------------------------------------------------------------------------

def _bind(fn, *args):
    def handler(t, op, imm):
        fn(t, op, *args) if args else fn(t, op, imm)
    handler.__name__ = fn.__name__
    return handler


def _build() -> dict:
    d = {}

    def at(op, handler):
        assert op in ops.NAMES and op >= ops.FD, hex(op)
        assert op not in d, ops.name(op)
        d[op] = handler

    def each(prefixes, handlers):
        """`at` for every `prefix.operation` of the `operation: handler` items of `handlers`."""
        for op, handler in ops.by_opcode(prefixes, handlers).items():
            at(op, handler)

    # memory
    at(ops.V128_LOAD, _load)
    at(ops.V128_STORE, _store)
    for table, handler in ((_LOAD_EXTEND, _load_extend), (_LOAD_SPLAT, _load_splat), (_LOAD_ZERO, _load_zero),
                           (_LOAD_LANE, _load_lane), (_STORE_LANE, _store_lane)):
        for op in table:
            at(op, handler)
    # constants, shuffles, lanes
    at(ops.V128_CONST, _const)
    at(ops.I8X16_SHUFFLE, _shuffle)
    at(ops.I8X16_SWIZZLE, _swizzle)
    for table, handler in ((_SPLAT, _splat_op), (_EXTRACT, _extract_lane), (_REPLACE, _replace_lane)):
        for op in table:
            at(op, handler)
    # comparisons
    for shape, vt in (("i8x16", V8x16), ("i16x8", V16x8), ("i32x4", V32x4)):
        each((shape,), {name: _bind(_icmp, vt, predicate) for name, predicate in INT_PREDICATES.items()})
    each(("i64x2",), {name: _bind(_icmp, V64x2, INT_PREDICATES[name])
                      for name in ("eq", "ne", "lt_s", "gt_s", "le_s", "ge_s")})
    for shape, vt, ivt in (("f32x4", VF32x4, V32x4), ("f64x2", VF64x2, V64x2)):
        each((shape,), {name: _bind(_fcmp, vt, ivt, predicate) for name, predicate in FLOAT_PREDICATES.items()})
    # bitwise
    at(ops.V128_NOT, _not)
    each(("v128",), {"and": _bitwise, "andnot": _bitwise, "or": _bitwise, "xor": _bitwise})
    at(ops.V128_BITSELECT, _bitselect)
    at(ops.V128_ANY_TRUE, _any_true)
    # integer lanes
    for shape, vt in (("i8x16", V8x16), ("i16x8", V16x8), ("i32x4", V32x4), ("i64x2", V64x2)):
        width = vt.element.width
        handlers = {"abs": _bind(_abs, vt), "neg": _bind(_neg, vt), "all_true": _bind(_all_true, vt),
                    "bitmask": _bind(_bitmask, vt), "shl": _bind(_shift, vt, 0), "shr_s": _bind(_shift, vt, 1),
                    "shr_u": _bind(_shift, vt, 2), "add": _bind(_binary, vt, "add"),
                    "sub": _bind(_binary, vt, "sub")}
        if width <= 16:
            handlers.update({"add_sat_s": _bind(_binary, vt, "sadd.sat"), "add_sat_u": _bind(_binary, vt, "uadd.sat"),
                             "sub_sat_s": _bind(_binary, vt, "ssub.sat"), "sub_sat_u": _bind(_binary, vt, "usub.sat"),
                             "avgr_u": _bind(_avgr_u, vt)})
        if width >= 16:
            handlers["mul"] = _bind(_binary, vt, "mul")
        if width <= 32:
            handlers.update({"min_s": _bind(_binary, vt, "smin"), "min_u": _bind(_binary, vt, "umin"),
                             "max_s": _bind(_binary, vt, "smax"), "max_u": _bind(_binary, vt, "umax")})
        each((shape,), handlers)
    at(ops.I8X16_POPCNT, _bind(_popcnt, V8x16))
    at(ops.I8X16_NARROW_I16X8_S, _bind(_narrow, V16x8, True))
    at(ops.I8X16_NARROW_I16X8_U, _bind(_narrow, V16x8, False))
    at(ops.I16X8_NARROW_I32X4_S, _bind(_narrow, V32x4, True))
    at(ops.I16X8_NARROW_I32X4_U, _bind(_narrow, V32x4, False))
    at(ops.I16X8_EXTADD_PAIRWISE_I8X16_S, _bind(_extadd_pairwise, V8x16, True))
    at(ops.I16X8_EXTADD_PAIRWISE_I8X16_U, _bind(_extadd_pairwise, V8x16, False))
    at(ops.I32X4_EXTADD_PAIRWISE_I16X8_S, _bind(_extadd_pairwise, V16x8, True))
    at(ops.I32X4_EXTADD_PAIRWISE_I16X8_U, _bind(_extadd_pairwise, V16x8, False))
    at(ops.I16X8_Q15MULR_SAT_S, _q15mulr_sat)
    at(ops.I32X4_DOT_I16X8_S, _dot)
    for shape, narrow, vt in (("i16x8", "i8x16", V8x16), ("i32x4", "i16x8", V16x8), ("i64x2", "i32x4", V32x4)):
        for half, high in (("low", False), ("high", True)):
            for sign, signed in (("s", True), ("u", False)):
                each((shape,), {f"extend_{half}_{narrow}_{sign}": _bind(_extend, vt, high, signed),
                                f"extmul_{half}_{narrow}_{sign}": _bind(_extmul, vt, high, signed)})
    # float lanes
    for shape, vt in (("f32x4", VF32x4), ("f64x2", VF64x2)):
        each((shape,), {"ceil": _bind(_float_unary, vt, "ceil"), "floor": _bind(_float_unary, vt, "floor"),
                        "trunc": _bind(_float_unary, vt, "trunc"), "nearest": _bind(_float_unary, vt, "roundeven"),
                        "abs": _bind(_float_unary, vt, "fabs"), "neg": _bind(_float_unary, vt, "neg"),
                        "sqrt": _bind(_float_unary, vt, "sqrt"), "add": _bind(_float_arith, vt, "fadd"),
                        "sub": _bind(_float_arith, vt, "fsub"), "mul": _bind(_float_arith, vt, "fmul"),
                        "div": _bind(_float_arith, vt, "fdiv"), "min": _bind(_float_minmax, vt, "minimum"),
                        "max": _bind(_float_minmax, vt, "maximum"), "pmin": _bind(_pminmax, vt, False),
                        "pmax": _bind(_pminmax, vt, True)})
    # conversions
    for table, handler in ((_TRUNC_SAT, _trunc_sat), (_CONVERT, _convert)):
        for op in table:
            at(op, handler)
    at(ops.F32X4_DEMOTE_F64X2_ZERO, _demote)
    at(ops.F64X2_PROMOTE_LOW_F32X4, _promote)
    _relaxed(at)
    missing = [ops.name(op) for op in ops.NAMES if ops.FD <= op < ops.FE and op not in d]
    assert not missing, missing
    return d


SIMD_DISPATCH = _build()
