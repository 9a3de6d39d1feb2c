"""Relaxed SIMD: one deterministic result per instruction.

Takes a module (WAT through wat2wasm) exporting each relaxed instruction beside the non-relaxed
expression wasmbuild documents as its meaning (docs/architecture.md, "Relaxed SIMD"), built at -O0
and -O2. Gives tests that, for random and special lane values (NaNs, signed zeros, infinities,
values that truncate out of range, indices >= 16, i8 lanes outside the i7 range),
- each relaxed instruction gives exactly what its documented counterpart gives (swizzle, trunc_sat,
  bitselect, min/max, q15mulr_sat_s, mul then add), bit for bit but for NaN lanes;
- the dot products give what a model in Python gives (both operands signed, i16 pair sums wrapping);
- -O0 and -O2 give the same bits (any NaN lane as any NaN: which NaN arithmetic gives is not
  deterministic in wasm, relaxed or not);
- with relaxed SIMD off, the instructions are malformed with the 2.0 reason first.
"""

from __future__ import annotations

import random
import struct

import pytest
from conftest import wat

import wasmbuild
from wasmbuild.binary import check_bodies, decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.errors import MalformedError

# name: (arity, the expression of its documented meaning over locals 0..arity-1)
PAIRS = {
    "i8x16.relaxed_swizzle": (2, "(i8x16.swizzle (local.get 0) (local.get 1))"),
    "i32x4.relaxed_trunc_f32x4_s": (1, "(i32x4.trunc_sat_f32x4_s (local.get 0))"),
    "i32x4.relaxed_trunc_f32x4_u": (1, "(i32x4.trunc_sat_f32x4_u (local.get 0))"),
    "i32x4.relaxed_trunc_f64x2_s_zero": (1, "(i32x4.trunc_sat_f64x2_s_zero (local.get 0))"),
    "i32x4.relaxed_trunc_f64x2_u_zero": (1, "(i32x4.trunc_sat_f64x2_u_zero (local.get 0))"),
    "f32x4.relaxed_madd": (3, "(f32x4.add (f32x4.mul (local.get 0) (local.get 1)) (local.get 2))"),
    "f32x4.relaxed_nmadd": (3, "(f32x4.add (f32x4.neg (f32x4.mul (local.get 0) (local.get 1))) (local.get 2))"),
    "f64x2.relaxed_madd": (3, "(f64x2.add (f64x2.mul (local.get 0) (local.get 1)) (local.get 2))"),
    "f64x2.relaxed_nmadd": (3, "(f64x2.add (f64x2.neg (f64x2.mul (local.get 0) (local.get 1))) (local.get 2))"),
    "i8x16.relaxed_laneselect": (3, "(v128.bitselect (local.get 0) (local.get 1) (local.get 2))"),
    "i16x8.relaxed_laneselect": (3, "(v128.bitselect (local.get 0) (local.get 1) (local.get 2))"),
    "i32x4.relaxed_laneselect": (3, "(v128.bitselect (local.get 0) (local.get 1) (local.get 2))"),
    "i64x2.relaxed_laneselect": (3, "(v128.bitselect (local.get 0) (local.get 1) (local.get 2))"),
    "f32x4.relaxed_min": (2, "(f32x4.min (local.get 0) (local.get 1))"),
    "f32x4.relaxed_max": (2, "(f32x4.max (local.get 0) (local.get 1))"),
    "f64x2.relaxed_min": (2, "(f64x2.min (local.get 0) (local.get 1))"),
    "f64x2.relaxed_max": (2, "(f64x2.max (local.get 0) (local.get 1))"),
    "i16x8.relaxed_q15mulr_s": (2, "(i16x8.q15mulr_sat_s (local.get 0) (local.get 1))"),
    "i16x8.relaxed_dot_i8x16_i7x16_s": (2, None),
    "i32x4.relaxed_dot_i8x16_i7x16_add_s": (3, None),
}


def _module() -> str:
    funcs = []
    for name, (arity, meaning) in PAIRS.items():
        params = " ".join(["v128"] * arity)
        args = " ".join(f"(local.get {i})" for i in range(arity))
        funcs.append(f'(func (export "{name}") (param {params}) (result v128) ({name} {args}))')
        if meaning:
            funcs.append(f'(func (export "ref:{name}") (param {params}) (result v128) {meaning})')
    return "(module " + "\n".join(funcs) + ")"


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    data = wat(_module(), check=False)
    out = {}
    for level in (0, 2):
        image, _ = build_image([ModuleInput("relaxed", data)], CompileSettings(opt_level=level))
        path = tmp_path_factory.mktemp("relaxed") / f"relaxed-O{level}.img"
        path.write_bytes(image)
        out[level] = wasmbuild.load(str(path))
    return out


_F32_SPECIAL = [0x7FC00000, 0xFFC00000, 0x7FA00000, 0x7F800000, 0xFF800000, 0x80000000, 0, 0x3F800000,
                0x4F000000, 0x4F800000, 0xCF000001, 0x7F7FFFFF, 0x00000001, 0xBF800000]
_F64_SPECIAL = [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF4000000000000, 0x7FF0000000000000,
                0x8000000000000000, 0, 0x3FF0000000000000, 0x41E0000000000000, 0x41F0000000000000,
                0xC1E0000000200000, 0x7FEFFFFFFFFFFFFF, 1]


def _random_v128(rng: random.Random) -> int:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.getrandbits(128)
    if kind == 1:
        lanes = [rng.choice(_F32_SPECIAL) if rng.random() < 0.7 else rng.getrandbits(32) for _ in range(4)]
        return int.from_bytes(struct.pack("<4I", *lanes), "little")
    if kind == 2:
        lanes = [rng.choice(_F64_SPECIAL) if rng.random() < 0.7 else rng.getrandbits(64) for _ in range(2)]
        return int.from_bytes(struct.pack("<2Q", *lanes), "little")
    return int.from_bytes(bytes(rng.choice([0, 1, 15, 16, 17, 127, 128, 129, 255]) for _ in range(16)), "little")


def _i8(v: int) -> list[int]:
    return [b - 256 if b > 127 else b for b in v.to_bytes(16, "little")]


def _dot_model(a: int, b: int) -> list[int]:
    """The i16x8 lanes (signed) of relaxed_dot_i8x16_i7x16_s as documented."""
    x, y = _i8(a), _i8(b)
    out = []
    for i in range(8):
        s = (x[2 * i] * y[2 * i] + x[2 * i + 1] * y[2 * i + 1]) & 0xFFFF
        out.append(s - 0x10000 if s & 0x8000 else s)
    return out


def _nan_blind(name: str, v: int) -> tuple:
    """The lanes of a result, every NaN lane as "nan" for float results: which NaN an arithmetic
    operation gives (sign, payload) is not deterministic in wasm, relaxed or not."""
    if name.startswith("f32x4"):
        return tuple("nan" if (x & 0x7FFFFFFF) > 0x7F800000 else x for x in struct.unpack("<4I", v.to_bytes(16, "little")))
    if name.startswith("f64x2"):
        return tuple("nan" if (x & ~(1 << 63)) > 0x7FF0000000000000 else x
                     for x in struct.unpack("<2Q", v.to_bytes(16, "little")))
    return (v,)


def _lanes_to_int(lanes: list[int], bits: int) -> int:
    mask = (1 << bits) - 1
    return sum((v & mask) << (bits * i) for i, v in enumerate(lanes))


@pytest.mark.parametrize("name", list(PAIRS))
def test_each_relaxed_instruction_has_its_documented_result(instances, name):
    rng = random.Random(name)
    arity, meaning = PAIRS[name]
    for _ in range(200):
        args = [_random_v128(rng) for _ in range(arity)]
        results = {level: _nan_blind(name, inst.exports[name](*args) & ((1 << 128) - 1))
                   for level, inst in instances.items()}
        assert results[0] == results[2], (name, [hex(a) for a in args])
        got = results[2]
        if meaning:
            want = _nan_blind(name, instances[2].exports[f"ref:{name}"](*args) & ((1 << 128) - 1))
        else:
            dots = _dot_model(args[0], args[1])
            if arity == 2:
                want = (_lanes_to_int(dots, 16),)
            else:
                acc = [int.from_bytes(args[2].to_bytes(16, "little")[4 * i:4 * i + 4], "little", signed=True)
                       for i in range(4)]
                want = (_lanes_to_int([dots[2 * i] + dots[2 * i + 1] + acc[i] for i in range(4)], 32),)
        assert got == want, (name, [hex(a) for a in args], got, want)


def test_relaxed_simd_off_keeps_the_2_0_reason():
    data = wat('(module (func (param v128) (result v128) (f32x4.relaxed_min (local.get 0) (local.get 0))))',
               check=False)
    module = decode_module(data, "r.wasm", features=frozenset())
    with pytest.raises(MalformedError, match=r"illegal opcode fd 10d: f32x4.relaxed_min needs relaxed SIMD "
                                             r"\(relaxed-simd\), which is off"):
        check_bodies(module)
    check_bodies(decode_module(data))
