"""End-to-end tests of compiling WebAssembly into an image and running it.

Takes WebAssembly text (assembled by WABT's wat2wasm through conftest's `wat`) and modules written by
`wasmbuild.testing.gen`, builds them with `wasmbuild.build.build_image` into image files under
pytest's tmp directories, loads them with `wasmbuild.load` and calls their exports from Python.

Gives pass/fail on:
- numeric instructions (i32/i64 wrap-around, division, shifts, rotations, bit counts, sign
  extension; f32/f64 arithmetic, min/max, rounding, NaN bit patterns as the spec allows; every
  conversion, trapping and saturating) at O0 and O2, against values computed here in Python;
- multi-value returns, br_table, loops and recursion;
- a differential run against wasmtime of modules from `generate_module(200, seed)`, every function
  exported: results, traps, the log import's calls, globals and memory compared bit for bit;
- every trap kind (the spec's message), and that instances stay usable after a trap;
- host functions (plain callables, several results, exceptions, re-entrancy);
- memories, data segments, globals, tables shared between images, start functions;
- images: deterministic bytes (also across `jobs`), readable by pyelftools and `readelf`, and
  damaged or foreign images refused with `ImageError` (never a crash: those run in a subprocess).

Expected values never come from wasmbuild: integers follow the spec's definitions, floats use
numpy's IEEE float32/float64 and exact integer rounding written here, or wasmtime's results.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import platform
import random
import re
import struct
import subprocess
import sys
import textwrap

import pytest
from conftest import READELF_HINT, REPO_ROOT, need_command, need_module, wat

import wasmbuild
from wasmbuild.contract import abi
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.errors import WasmbuildError
from wasmbuild.image import ImageError
from wasmbuild.loader.runtime import Global, Store, Trap
from wasmbuild.testing import gen

np = need_module("numpy")

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

_counter = itertools.count()


def build_file(directory, data: bytes, opt_level: int = 2, jobs: int = 1, name: str = "m") -> str:
    """Build module bytes into an image file in `directory`; gives its path."""
    image, _report = build_image([ModuleInput(name, data)], CompileSettings(opt_level=opt_level), jobs=jobs)
    path = os.path.join(str(directory), f"{name}-{next(_counter)}.img")
    with open(path, "wb") as f:
        f.write(image)
    return path


def load_wat(directory, text: str, imports=None, opt_level: int = 2, store=None):
    return wasmbuild.load(build_file(directory, wat(text), opt_level), imports, store)


def signed(n: int, x: int) -> int:
    x &= (1 << n) - 1
    return x - (1 << n) if x >> (n - 1) else x


def trap_message(fn, *args) -> str:
    with pytest.raises(Trap) as info:
        fn(*args)
    return info.value.message


# ---------------------------------------------------------------------------------------------
# Numeric instructions against Python's own arithmetic
# ---------------------------------------------------------------------------------------------

INT_BINARY = ["add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl",
              "shr_s", "shr_u", "rotl", "rotr", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s",
              "le_u", "ge_s", "ge_u"]
INT_UNARY = {32: ["clz", "ctz", "popcnt", "eqz", "extend8_s", "extend16_s"],
             64: ["clz", "ctz", "popcnt", "eqz", "extend8_s", "extend16_s", "extend32_s"]}
FLOAT_BINARY = ["add", "sub", "mul", "div", "min", "max", "copysign", "eq", "ne", "lt", "gt", "le", "ge"]
FLOAT_UNARY = ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"]
CONVERSIONS = [
    ("i32.wrap_i64", "i64", "i32"), ("i64.extend_i32_s", "i32", "i64"), ("i64.extend_i32_u", "i32", "i64"),
    *[(f"{to}.trunc{sat}_{fr}_{s}", fr, to) for to in ("i32", "i64") for fr in ("f32", "f64")
      for s in "su" for sat in ("", "_sat")],
    *[(f"{to}.convert_{fr}_{s}", fr, to) for to in ("f32", "f64") for fr in ("i32", "i64") for s in "su"],
    ("f32.demote_f64", "f64", "f32"), ("f64.promote_f32", "f32", "f64"),
    ("i32.reinterpret_f32", "f32", "i32"), ("i64.reinterpret_f64", "f64", "i64"),
    ("f32.reinterpret_i32", "i32", "f32"), ("f64.reinterpret_i64", "i64", "f64"),
]
# Operations with a constant operand, which LLVM may fold or simplify at O2: the count of a shift
# is taken modulo the width even when it is a constant past it.
CONST_OPS = [("i32.shl", 33), ("i32.shr_s", 63), ("i32.shr_u", 32), ("i32.rotl", 36), ("i32.rotr", -1),
             ("i64.shl", 65), ("i64.shr_s", 127), ("i64.shr_u", 64), ("i64.rotl", 68), ("i64.rotr", -1)]

I32_VALUES = [0, 1, 2, 3, 7, 31, 32, 33, 0x8000, 0x00FF00FF, 0x12345678, 0x7FFFFFFF, 0x80000000,
              0x80000001, 0xDEADBEEF, 0xFFFFFFF9, 0xFFFFFFFE, 0xFFFFFFFF]
I64_VALUES = [0, 1, 2, 3, 7, 63, 64, 65, 0xFFFFFFFF, 0x100000000, 0x0123456789ABCDEF,
              0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0x8000000000000001, 0xDEADBEEFCAFEBABE,
              0xFFFFFFFFFFFFFFF9, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF,
              # integer -> float rounding that double rounding gets wrong
              0x20000000000001, 0x8000000000000401, 0x4000004000000001, 0x8000008000000001,
              0xBFFFFFBFFFFFFFFF]
F32_VALUES = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x3F000000, 0x3FC00000, 0x40200000,
              0xC0200000, 0x40600000, 0x3DCCCCCD, 0xC0F80000, 0x7F7FFFFF, 0xFF7FFFFF, 0x00000001,
              0x807FFFFF, 0x00800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC12345,
              0x7FA00000, 0xFFA00001,
              0x4F000000, 0xCF000000, 0x4EFFFFFF, 0xCF000001, 0x4F800000, 0x4F7FFFFF, 0x5F000000,
              0x5EFFFFFF, 0xDF000000, 0xDF000001, 0x5F800000, 0x5F7FFFFF, 0xBF666666, 0x501502F9,
              0x4B000001, 0x4A800001, 0x4B7FFFFF, 0x3EFFFFFF]
F64_VALUES = [0x0000000000000000, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000,
              0x3FE0000000000000, 0x3FF8000000000000, 0x4004000000000000, 0xC004000000000000,
              0x3FB999999999999A, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x0000000000000001,
              0x800FFFFFFFFFFFFF, 0x0010000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
              0x7FF8000000000000, 0xFFF8000000000000, 0x7FF8000000012345, 0x7FF4000000000000,
              0xFFF0000000000001,
              0x41DFFFFFFFFCCCCD, 0xC1E00000001CCCCD, 0x41EFFFFFFFFFE666, 0x41F0000000000000,
              0x41E0000000000000, 0xC1E0000000000000, 0xBFECCCCCCCCCCCCD, 0xBFF0000000000000,
              0x43E0000000000000, 0xC3E0000000000000, 0x43DFFFFFFFFFFFFF, 0x43F0000000000000,
              0x43EFFFFFFFFFFFFF, 0x47EFFFFFE0000000, 0x47EFFFFFF0000000, 0x36A0000000000000,
              0x4330000000000001, 0x4320000000000001, 0x3FDFFFFFFFFFFFFF, 0x3810000000000000]
INT_VALUES = {32: I32_VALUES, 64: I64_VALUES}
FLOAT_VALUES = {32: F32_VALUES, 64: F64_VALUES}
PAIR_VALUES = {32: F32_VALUES[:23], 64: F64_VALUES[:21]}  # the interesting classes; pairs get many

_NP = {32: (np.float32, np.uint32, 23), 64: (np.float64, np.uint64, 52)}
DIV_ZERO, OVERFLOW, BAD_CONV = "integer divide by zero", "integer overflow", "invalid conversion to integer"


class Expected:
    """What a numeric instruction must give: exact bits, a NaN (canonical or just arithmetic), or a trap."""

    def __init__(self, bits=None, nan=None, trap=None):
        self.bits, self.nan, self.trap = bits, nan, trap  # nan: "canonical" | "arithmetic"

    def __repr__(self):
        return (f"trap {self.trap!r}" if self.trap else f"{self.nan} NaN" if self.nan
                else f"{self.bits:#x}")


def fval(n: int, bits: int):
    ftype, utype, _ = _NP[n]
    return np.array([bits], dtype=utype).view(ftype)[0]


def fbits(n: int, value) -> int:
    ftype, utype, _ = _NP[n]
    return int(np.array([value], dtype=ftype).view(utype)[0])


def is_nan(n: int, bits: int) -> bool:
    mant = _NP[n][2]
    return (bits >> mant) & ((1 << (n - 1 - mant)) - 1) == (1 << (n - 1 - mant)) - 1 and bits & ((1 << mant) - 1) != 0


def nan_payload(n: int, bits: int) -> int:
    return bits & ((1 << _NP[n][2]) - 1)


def quiet_bit(n: int) -> int:
    return 1 << (_NP[n][2] - 1)


def float_result(n: int, value, inputs: list[tuple[int, int]]) -> Expected:
    """`value` (a numpy float of width n) as an expectation: a NaN result is canonical when every
    NaN input is canonical (or there is none), else arithmetic (spec 4.3.3)."""
    if np.isnan(value):
        canonical = all(nan_payload(w, b) == quiet_bit(w) for w, b in inputs if is_nan(w, b))
        return Expected(nan="canonical" if canonical else "arithmetic")
    return Expected(bits=fbits(n, value))


def int_binary(n: int, op: str, a: int, b: int) -> Expected:
    m = (1 << n) - 1
    sa, sb, k = signed(n, a), signed(n, b), b % n
    if op in ("div_s", "div_u", "rem_s", "rem_u") and b == 0:
        return Expected(trap=DIV_ZERO)
    if op == "div_s" and sa == -(1 << (n - 1)) and sb == -1:
        return Expected(trap=OVERFLOW)
    if op == "div_s":
        q = abs(sa) // abs(sb)
        r = -q if (sa < 0) != (sb < 0) else q
    elif op == "rem_s":
        r = abs(sa) % abs(sb)
        r = -r if sa < 0 else r
    else:
        r = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div_u": lambda: a // b,
             "rem_u": lambda: a % b, "and": lambda: a & b, "or": lambda: a | b, "xor": lambda: a ^ b,
             "shl": lambda: a << k, "shr_s": lambda: sa >> k, "shr_u": lambda: a >> k,
             "rotl": lambda: (a << k) | (a >> (n - k)), "rotr": lambda: (a >> k) | (a << (n - k)),
             "eq": lambda: a == b, "ne": lambda: a != b, "lt_s": lambda: sa < sb, "lt_u": lambda: a < b,
             "gt_s": lambda: sa > sb, "gt_u": lambda: a > b, "le_s": lambda: sa <= sb,
             "le_u": lambda: a <= b, "ge_s": lambda: sa >= sb, "ge_u": lambda: a >= b}[op]()
    return Expected(bits=int(r) & (m if op[:2] not in ("eq", "ne", "lt", "gt", "le", "ge") else 0xFFFFFFFF))


def int_unary(n: int, op: str, a: int) -> Expected:
    m = (1 << n) - 1
    r = {"clz": lambda: n - a.bit_length(), "ctz": lambda: n if a == 0 else (a & -a).bit_length() - 1,
         "popcnt": lambda: bin(a).count("1"), "eqz": lambda: int(a == 0),
         "extend8_s": lambda: signed(8, a), "extend16_s": lambda: signed(16, a),
         "extend32_s": lambda: signed(32, a)}[op]()
    return Expected(bits=r & (0xFFFFFFFF if op == "eqz" else m))


def float_binary(n: int, op: str, a: int, b: int) -> Expected:
    x, y = fval(n, a), fval(n, b)
    sign = 1 << (n - 1)
    if op == "copysign":
        return Expected(bits=(a & ~sign) | (b & sign))
    if op in ("eq", "ne", "lt", "gt", "le", "ge"):
        px, py = float(x), float(y)
        return Expected(bits=int({"eq": px == py, "ne": px != py, "lt": px < py, "gt": px > py,
                                  "le": px <= py, "ge": px >= py}[op]))
    with np.errstate(all="ignore"):
        if op in ("min", "max"):
            if np.isnan(x) or np.isnan(y):
                r = x + y  # a NaN
            elif x == y:  # equal, or zeros of either sign: -0 is the smaller
                neg = (a & sign) | (b & sign) if op == "min" else (a & sign) & (b & sign)
                r = fval(n, (a & ~sign) | neg)
            else:
                r = min(x, y) if op == "min" else max(x, y)
        else:
            r = {"add": x + y, "sub": x - y, "mul": x * y, "div": x / y}[op]
    return float_result(n, r, [(n, a), (n, b)])


def float_unary(n: int, op: str, a: int) -> Expected:
    sign = 1 << (n - 1)
    if op == "abs":
        return Expected(bits=a & ~sign)
    if op == "neg":
        return Expected(bits=a ^ sign)
    x = fval(n, a)
    with np.errstate(all="ignore"):
        r = {"sqrt": np.sqrt, "ceil": np.ceil, "floor": np.floor, "trunc": np.trunc, "nearest": np.rint}[op](x)
    return float_result(n, r, [(n, a)])


def round_int(value: int, precision: int) -> float:
    """The integer `value` rounded to `precision` significant bits, to nearest, ties to even, as one
    exact step (a Python float: every result here fits in a double)."""
    magnitude = abs(value)
    shift = magnitude.bit_length() - precision
    if shift > 0:
        q, r = divmod(magnitude, 1 << shift)
        half = 1 << (shift - 1)
        if r > half or (r == half and q & 1):
            q += 1
        magnitude = q << shift
    return math.copysign(float(magnitude), value) if value else 0.0


def conversion(op: str, fr: str, to: str, a: int) -> Expected:
    wf, wt = int(fr[1:]), int(to[1:])
    if op == "i32.wrap_i64":
        return Expected(bits=a & 0xFFFFFFFF)
    if op.startswith("i64.extend_i32"):
        return Expected(bits=(signed(32, a) if op.endswith("_s") else a) & (2**64 - 1))
    if "reinterpret" in op:
        return Expected(bits=a)
    if ".trunc" in op:
        x = float(fval(wf, a))
        unsigned = op.endswith("_u")
        lo, hi = (0, 2**wt - 1) if unsigned else (-(2 ** (wt - 1)), 2 ** (wt - 1) - 1)
        if "_sat" in op:
            if math.isnan(x):
                return Expected(bits=0)
            t = hi if x == math.inf else lo if x == -math.inf else min(max(math.trunc(x), lo), hi)
            return Expected(bits=t & (2**wt - 1))
        if math.isnan(x):
            return Expected(trap=BAD_CONV)
        if math.isinf(x) or not lo <= math.trunc(x) <= hi:
            return Expected(trap=OVERFLOW)
        return Expected(bits=math.trunc(x) & (2**wt - 1))
    if ".convert" in op:
        v = a if op.endswith("_u") else signed(wf, a)
        return Expected(bits=fbits(wt, _NP[wt][0](round_int(v, 24 if wt == 32 else 53))))
    with np.errstate(all="ignore"):
        r = _NP[wt][0](fval(wf, a))  # demote (round to nearest) / promote (exact)
    return float_result(wt, r, [(wf, a)])


def _arith_wat() -> str:
    funcs = []

    def add(name, params, result, body):
        ps = " ".join(params)
        funcs.append(f'(func (export "{name}") (param {ps}) (result {result}) {body})')

    for n in (32, 64):
        t = f"i{n}"
        for op in INT_BINARY:
            add(f"{t}.{op}", [t, t], "i32" if op[:2] in ("eq", "ne", "lt", "gt", "le", "ge") else t,
                f"local.get 0 local.get 1 {t}.{op}")
        for op in INT_UNARY[n]:
            add(f"{t}.{op}", [t], "i32" if op == "eqz" else t, f"local.get 0 {t}.{op}")
        t = f"f{n}"
        for op in FLOAT_BINARY:
            add(f"{t}.{op}", [t, t], "i32" if op in ("eq", "ne", "lt", "gt", "le", "ge") else t,
                f"local.get 0 local.get 1 {t}.{op}")
        for op in FLOAT_UNARY:
            add(f"{t}.{op}", [t], t, f"local.get 0 {t}.{op}")
    for op, fr, to in CONVERSIONS:
        add(op, [fr], to, f"local.get 0 {op}")
    for op, count in CONST_OPS:
        t = op[:3]
        add(f"{op}/{count}", [t], t, f"local.get 0 {t}.const {count} {op}")
    return "(module\n  " + "\n  ".join(funcs) + ")"


ARITH_CASES = (
    [(f"i{n}.{op}", "int2", n) for n in (32, 64) for op in INT_BINARY]
    + [(f"i{n}.{op}", "int1", n) for n in (32, 64) for op in INT_UNARY[n]]
    + [(f"f{n}.{op}", "float2", n) for n in (32, 64) for op in FLOAT_BINARY]
    + [(f"f{n}.{op}", "float1", n) for n in (32, 64) for op in FLOAT_UNARY]
    + [(op, "conv", None) for op, _, _ in CONVERSIONS]
    + [(f"{op}/{c}", "const", None) for op, c in CONST_OPS]
)


@pytest.fixture(scope="module", params=[0, 2], ids=["O0", "O2"])
def arith(request, tmp_path_factory):
    path = build_file(tmp_path_factory.mktemp("arith"), wat(_arith_wat()), opt_level=request.param, jobs=2)
    return wasmbuild.load(path).exports


def _cases(name: str, kind: str, n):
    """(arguments as bits, Expected) for one instruction."""
    if kind == "int2":
        op = name.split(".", 1)[1]
        return [((a, b), int_binary(n, op, a, b)) for a in INT_VALUES[n] for b in INT_VALUES[n]]
    if kind == "int1":
        op = name.split(".", 1)[1]
        return [((a,), int_unary(n, op, a)) for a in INT_VALUES[n]]
    if kind == "float2":
        op = name.split(".", 1)[1]
        return [((a, b), float_binary(n, op, a, b)) for a in PAIR_VALUES[n] for b in PAIR_VALUES[n]]
    if kind == "float1":
        op = name.split(".", 1)[1]
        return [((a,), float_unary(n, op, a)) for a in FLOAT_VALUES[n]]
    if kind == "conv":
        fr, to = next((f, t) for o, f, t in CONVERSIONS if o == name)
        values = INT_VALUES[int(fr[1:])] if fr[0] == "i" else FLOAT_VALUES[int(fr[1:])]
        return [((a,), conversion(name, fr, to, a)) for a in values]
    op, count = name.split("/")
    n = int(op[1:3])
    return [((a,), int_binary(n, op.split(".")[1], a, int(count) & ((1 << n) - 1))) for a in INT_VALUES[n]]


def _check(func, args, expected: Expected, width: int):
    """None if calling `func` with raw-bit `args` gives `expected`, else a description."""
    try:
        got = func.call_bits(list(args))
    except Trap as e:
        if expected.trap and e.message == expected.trap:
            return None
        return f"args {[hex(a) for a in args]}: trapped {e.message!r}, expected {expected}"
    if expected.trap:
        return f"args {[hex(a) for a in args]}: gave {got[0]:#x}, expected {expected}"
    bits = got[0]
    if expected.nan:
        ok = is_nan(width, bits) and (nan_payload(width, bits) == quiet_bit(width) if expected.nan == "canonical"
                                      else bool(bits & quiet_bit(width)))
    else:
        ok = bits == expected.bits
    return None if ok else f"args {[hex(a) for a in args]}: gave {bits:#x}, expected {expected}"


@pytest.mark.parametrize("name,kind,width", ARITH_CASES, ids=[c[0] for c in ARITH_CASES])
def test_numeric_instruction(arith, name, kind, width):
    func = arith[name]
    result = func.type.results[0]
    result_width = {0x7F: 32, 0x7E: 64, 0x7D: 32, 0x7C: 64}[result]
    failures = [f for args, exp in _cases(name, kind, width) if (f := _check(func, args, exp, result_width))]
    assert not failures, f"{name}: {len(failures)} wrong:\n" + "\n".join(failures[:12])


def test_python_values_are_converted_both_ways(arith):
    """The Python-number interface: signed results, floats in and out, unsigned ints accepted."""
    assert arith["i32.add"](0x7FFFFFFF, 1) == -(2**31)
    assert arith["i32.add"](0xFFFFFFFF, 0) == -1
    assert arith["i64.mul"](2**62, 4) == 0
    assert arith["i64.sub"](0, 1) == -1
    assert arith["f32.add"](1.5, 2.25) == 3.75
    assert arith["f32.add"](0.1, 0.0) == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert arith["f64.div"](1.0, 3.0) == 1.0 / 3.0
    assert math.isnan(arith["f64.sqrt"](-1.0))
    assert math.copysign(1.0, arith["f64.neg"](0.0)) == -1.0
    assert arith["f64.convert_i64_u"](-1) == 2.0**64


# ---------------------------------------------------------------------------------------------
# Control flow: multi-value, br_table, loops, recursion
# ---------------------------------------------------------------------------------------------

CONTROL_WAT = r"""
(module
  (func $quad (export "quad") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "swap_sum") (param i32 i32) (result i32 i32 i32)
    (local $a i32) (local $b i32)
    local.get 0 local.get 1
    (block (param i32 i32) (result i32 i32)
      local.set $b local.set $a local.get $b local.get $a)
    local.get 0 local.get 1 i32.add)
  (func $divmod (param i32 i32) (result i32 i32)
    local.get 0 local.get 1 i32.div_u local.get 0 local.get 1 i32.rem_u)
  (func (export "divmod_combined") (param i32 i32) (result i32)
    (local $r i32)
    local.get 0 local.get 1 call $divmod
    local.set $r i32.const 1000 i32.mul local.get $r i32.add)
  (func (export "quad_via_call") (result i32 i64)
    (local $f f64) (local $s f32) (local $i i64) (local $n i32)
    i32.const -7 i64.const 0x123456789 f32.const 2.5 f64.const -0.125 call $quad
    local.set $n local.set $i local.set $s local.set $f
    (i32.add (local.get $n) (i32.trunc_f32_s (local.get $s)))
    (i64.add (local.get $i) (i64.trunc_f64_s (f64.mul (local.get $f) (f64.const 8)))))
  (func (export "switch") (param i32) (result i32)
    (block $d (block $c (block $b (block $a
      (br_table $a $b $c $a $d (local.get 0)))
      (return (i32.const 100)))
      (return (i32.const 101)))
      (return (i32.const 102)))
    i32.const 103)
  (func (export "switch_value") (param i32) (result i32)
    (block $out (result i32)
      (block $two (result i32)
        (block $one (result i32)
          i32.const 77 local.get 0 br_table $one $two $out)
        i32.const 1 i32.add br $out)
      i32.const 2 i32.add))
  (func (export "sum_to") (param i32) (result i64)
    (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get 0))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    local.get $acc)
  (func (export "collatz") (param i64) (result i32)
    (local $steps i32)
    (loop $l
      (if (i64.ne (local.get 0) (i64.const 1))
        (then
          (if (i64.eqz (i64.and (local.get 0) (i64.const 1)))
            (then (local.set 0 (i64.shr_u (local.get 0) (i64.const 1))))
            (else (local.set 0 (i64.add (i64.mul (local.get 0) (i64.const 3)) (i64.const 1)))))
          (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
          (br $l))))
    local.get $steps)
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $fact (export "fact") (param i64) (result i64)
    (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fact (i64.sub (local.get 0) (i64.const 1)))))))
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1))))))
  (func $ack (export "ack") (param i32 i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.add (local.get 1) (i32.const 1)))
      (else (if (result i32) (i32.eqz (local.get 1))
        (then (call $ack (i32.sub (local.get 0) (i32.const 1)) (i32.const 1)))
        (else (call $ack (i32.sub (local.get 0) (i32.const 1))
                         (call $ack (local.get 0) (i32.sub (local.get 1) (i32.const 1)))))))))
)
"""


@pytest.fixture(scope="module", params=[0, 2], ids=["O0", "O2"])
def control(request, tmp_path_factory):
    return load_wat(tmp_path_factory.mktemp("control"), CONTROL_WAT, opt_level=request.param).exports


def test_multi_value_returns(control):
    assert control["quad"](-5, -(2**40), 1.5, 2.0**-30) == (2.0**-30, 1.5, -(2**40), -5)
    assert control["quad"].call_bits([0xFFFFFFFF, 2**64 - 1, 0x7FC12345, 0xFFF0000000000000]) == \
        [0xFFF0000000000000, 0x7FC12345, 2**64 - 1, 0xFFFFFFFF]
    assert control["swap_sum"](3, 4) == (4, 3, 7)
    assert control["swap_sum"](-1, 2**31 - 1) == (2**31 - 1, -1, 2**31 - 2)
    assert control["divmod_combined"](12345, 100) == 123 * 1000 + 45
    assert control["quad_via_call"]() == (-5, 0x123456788)


def test_br_table(control):
    expected = {0: 100, 1: 101, 2: 102, 3: 100, 4: 103, 5: 103, 1000: 103, -1: 103, -(2**31): 103}
    assert {i: control["switch"](i) for i in expected} == expected
    assert [control["switch_value"](i) for i in (0, 1, 2, 3, -1)] == [78, 79, 77, 77, 77]


def test_loops(control):
    for n in (0, 1, 10, 1000, 100000):
        assert control["sum_to"](n) == n * (n + 1) // 2

    def collatz(x):
        steps = 0
        while x != 1:
            x = x // 2 if x % 2 == 0 else 3 * x + 1
            steps += 1
        return steps
    for n in (1, 2, 27, 97, 871, 837799, 63728127):
        assert control["collatz"](n) == collatz(n)


def test_recursion(control):
    fib = [0, 1]
    while len(fib) < 26:
        fib.append(fib[-1] + fib[-2])
    assert [control["fib"](i) for i in range(26)] == fib
    assert control["fact"](20) == math.factorial(20)
    assert control["fact"](25) == signed(64, math.factorial(25))  # wraps modulo 2^64
    assert [control["even"](i) for i in (0, 1, 10, 7777, 10000)] == [1, 0, 1, 0, 1]
    assert control["ack"](2, 3) == 9 and control["ack"](3, 3) == 61


# ---------------------------------------------------------------------------------------------
# Differential test against wasmtime
# ---------------------------------------------------------------------------------------------

def _read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def export_everything(data: bytes, functions: int, first: int, globals_: int) -> bytes:
    """`data` with its export section extended: x<i> for every defined function i, g<i> for every
    global (a section walker of its own, sharing nothing with wasmbuild's decoder)."""
    out = bytearray(data[:8])
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, start = _read_uleb(data, pos + 1)
        payload = data[start:start + size]
        if sid == 7:
            count, body = _read_uleb(payload, 0)
            extra = [gen.name(f"x{first + j}") + b"\x00" + gen.uleb(first + j) for j in range(functions)]
            extra += [gen.name(f"g{i}") + b"\x03" + gen.uleb(i) for i in range(globals_)]
            payload = gen.uleb(count + len(extra)) + payload[body:] + b"".join(extra)
        out += bytes([sid]) + gen.uleb(len(payload)) + payload
        pos = start + size
    return bytes(out)


def _arg_sets(params, rng: random.Random) -> list[list]:
    """Three argument lists for a signature: small, edge and random values."""
    pools = {"i32": [0, 1, -1, 7, 2**31 - 1, -(2**31), 0xFFF0, 123456789],
             "i64": [0, 1, -1, 2**63 - 1, -(2**63), 1 << 40, -123456789012345],
             "f64": [0.0, -0.0, 1.5, -2.75, 1e300, -1e-300, 12345.678, math.inf]}
    sets = [[{"i32": 3, "i64": 3, "f64": 2.5}[p] for p in params]]
    for _ in range(2):
        sets.append([rng.choice(pools[p]) if rng.random() < 0.7 else
                     (rng.randint(-(2**31), 2**31 - 1) if p == "i32" else rng.randint(-(2**63), 2**63 - 1)
                      if p == "i64" else rng.uniform(-1e6, 1e6)) for p in params])
    return sets


def _to_bits(t: str, v) -> int:
    if t == "i32":
        return v & 0xFFFFFFFF
    if t == "i64":
        return v & (2**64 - 1)
    if t == "f32":
        return struct.unpack("<I", struct.pack("<f", v))[0]
    return struct.unpack("<Q", struct.pack("<d", v))[0]


GLOBAL_TYPES = ["i32", "i32", "i64", "f64", "i32"]  # the generator's five globals; g0 is the fuel


class _Wasmtime:
    """One wasmtime instance of the module, with its env.log calls recorded."""

    def __init__(self, wasmtime, data: bytes, nan_canonicalization: bool):
        config = wasmtime.Config()
        config.cranelift_nan_canonicalization = nan_canonicalization
        engine = wasmtime.Engine(config)
        self.store = wasmtime.Store(engine)
        self.module = wasmtime.Module(engine, data)
        self.log: list[int] = []
        log = wasmtime.Func(self.store, wasmtime.FuncType([wasmtime.ValType.i32()], []),
                            lambda x: self.log.append(x & 0xFFFFFFFF))
        self.exports = wasmtime.Instance(self.store, self.module, [log]).exports(self.store)
        self.trap = wasmtime.Trap

    def set_state(self, globals_bits: list[int], memory: bytes) -> None:
        for i, (t, bits) in enumerate(zip(GLOBAL_TYPES, globals_bits)):
            if i != 4:  # g4 is immutable
                value = signed(int(t[1:]), bits) if t[0] == "i" else struct.unpack("<d", struct.pack("<Q", bits))[0]
                self.exports[f"g{i}"].set_value(self.store, value)
        self.exports["memory"].write(self.store, memory, 0)
        self.log.clear()

    def call(self, name: str, args: list) -> tuple:
        func = self.exports[name]
        results = [str(r) for r in func.type(self.store).results]
        try:
            r = func(self.store, *args)
            r = [] if r is None else list(r) if isinstance(r, (list, tuple)) else [r]
            outcome = ("ok", [_to_bits(t, v) for t, v in zip(results, r)])
        except self.trap as e:
            outcome = ("trap", str(e).splitlines()[0])
        memory = bytes(self.exports["memory"].read(self.store, 0, self.exports["memory"].data_len(self.store)))
        globals_bits = [_to_bits(t, self.exports[f"g{i}"].value(self.store)) for i, t in enumerate(GLOBAL_TYPES)]
        return outcome, list(self.log), globals_bits, memory


def _difference(a: tuple, b: tuple) -> str:
    names = ("result", "env.log calls", "globals", "memory")
    for name, x, y in zip(names, a, b):
        if x != y:
            if name == "memory":
                first = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
                return f"memory differs from offset {first} (sizes {len(x)}/{len(y)})"
            if name == "result" and x[0] == y[0] == "ok":
                x, y = [hex(v) for v in x[1]], [hex(v) for v in y[1]]
            return f"{name}: wasmtime {x}, wasmbuild {y}"
    return ""


@pytest.mark.parametrize("seed,opt_level", [(1, 2), (2, 0), (3, 2)])
def test_generated_module_matches_wasmtime(tmp_path, seed, opt_level):
    """Every function of a generated module (all exported), three argument lists each, from the same
    state (memory, globals, fuel) in wasmtime and wasmbuild: the result or trap, the env.log calls,
    the globals and the whole memory must be equal bit for bit. The spec leaves the sign of a NaN
    result open, and generated code stores NaNs and branches on their bits; so wasmbuild's outcome
    must equal that of wasmtime as it is, or that of wasmtime with NaN canonicalisation on."""
    wasmtime = need_module("wasmtime")
    plain, stats = gen.generate_module(200, seed)
    data = export_everything(plain, stats.functions, first=1, globals_=5)
    fuel = 400  # set before every call, so that each call does real work
    references = [_Wasmtime(wasmtime, data, False), _Wasmtime(wasmtime, data, True)]
    wb_log: list[int] = []
    ours = wasmbuild.load(build_file(tmp_path, data, opt_level, jobs=2),
                          {"env": {"log": lambda x: wb_log.append(x & 0xFFFFFFFF)}}).exports
    rng = random.Random(seed)
    names = [e.name for e in references[0].module.exports if e.name.startswith(("x", "f"))]
    assert len(names) == stats.functions + 2  # x1..x200, and the generator's own f1 and f101
    calls = matched_canonical = logged = 0
    mismatches = []
    for name in names:
        ft = ours[name].type
        params = [{0x7F: "i32", 0x7E: "i64", 0x7C: "f64"}[p] for p in ft.params]
        for args in _arg_sets(params, rng):
            ours["g0"].bits = fuel
            state_globals = [ours[f"g{i}"].bits for i in range(5)]
            state_memory = ours["memory"].read(0, ours["memory"].size)
            outcomes = []
            for ref in references:
                ref.set_state(state_globals, state_memory)
                outcomes.append(ref.call(name, args))
            wb_log.clear()
            try:
                wb_outcome = ("ok", ours[name].call_bits([_to_bits(t, a) for t, a in zip(params, args)]))
            except Trap as e:
                wb_outcome = ("trap", e.message)
            mine = (wb_outcome, list(wb_log), [ours[f"g{i}"].bits for i in range(5)],
                    ours["memory"].read(0, ours["memory"].size))
            calls += 1
            logged += len(wb_log)
            if mine == outcomes[0]:
                continue
            if mine == outcomes[1]:
                matched_canonical += 1
                continue
            mismatches.append(f"{name}{tuple(args)}: {_difference(outcomes[0], mine)}")
            if len(mismatches) >= 15:
                break
    assert not mismatches, f"seed {seed} O{opt_level}:\n" + "\n".join(mismatches)
    assert calls == 3 * len(names)
    assert matched_canonical < calls // 4, "most calls only match modulo NaN signs: the test is too weak"


# ---------------------------------------------------------------------------------------------
# Traps
# ---------------------------------------------------------------------------------------------

TRAP_WAT = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (type $ii_again (func (param i32) (result i32)))
  (type $v (func))
  (table $t 4 funcref)
  (elem (i32.const 0) $inc $nothing)
  (memory (export "mem") 1 1)
  (global $count (mut i32) (i32.const 0))
  (func $inc (type $ii) local.get 0 i32.const 1 i32.add)
  (func $nothing (type $v))
  (func (export "ok") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  (func (export "bump") (result i32)
    global.get $count i32.const 1 i32.add global.set $count global.get $count)
  (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "div_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
  (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
  (func (export "rem_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_u)
  (func (export "i64.div_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)
  (func (export "i64.rem_u") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_u)
  (func (export "div_by_const_zero") (param i32) (result i32) local.get 0 i32.const 0 i32.div_u)
  (func (export "const_overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
  (func (export "trunc_f32_s") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
  (func (export "trunc_f64_u") (param f64) (result i64) local.get 0 i64.trunc_f64_u)
  (func (export "trunc_const_nan") (result i32) f32.const nan i32.trunc_f32_u)
  (func (export "trunc_const_big") (result i64) f64.const 1e30 i64.trunc_f64_s)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "load_offset") (param i32) (result i32) local.get 0 i32.load offset=0xffffffff)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "fill") (param i32 i32) local.get 0 i32.const 0x55 local.get 1 memory.fill)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
  (func (export "call_indirect") (param i32 i32) (result i32)
    local.get 1 local.get 0 call_indirect (type $ii))
  (func (export "call_indirect_same_sig") (param i32 i32) (result i32)
    local.get 1 local.get 0 call_indirect (type $ii_again))
  (func (export "table_get") (param i32) (result funcref) local.get 0 table.get $t)
  (func (export "table_set") (param i32) local.get 0 ref.null func table.set $t)
  (func (export "table_fill") (param i32 i32) local.get 0 ref.null func local.get 1 table.fill $t)
  (func (export "unreachable") (param i32) (result i32)
    (if (local.get 0) (then unreachable)) i32.const 5)
  (func $recurse (export "recurse") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $recurse (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
)
"""

NAN = float("nan")
TRAP_CASES = [
    ("div_s", (1, 0), DIV_ZERO), ("div_u", (1, 0), DIV_ZERO), ("rem_s", (5, 0), DIV_ZERO),
    ("rem_u", (5, 0), DIV_ZERO), ("i64.div_s", (1, 0), DIV_ZERO), ("i64.rem_u", (1, 0), DIV_ZERO),
    ("div_by_const_zero", (9,), DIV_ZERO),
    ("div_s", (-(2**31), -1), OVERFLOW), ("i64.div_s", (-(2**63), -1), OVERFLOW), ("const_overflow", (), OVERFLOW),
    ("trunc_f32_s", (NAN,), BAD_CONV), ("trunc_f32_s", (3e9,), OVERFLOW), ("trunc_f32_s", (-math.inf,), OVERFLOW),
    ("trunc_f64_u", (-1.0,), OVERFLOW), ("trunc_f64_u", (2.0**64,), OVERFLOW),
    ("trunc_const_nan", (), BAD_CONV), ("trunc_const_big", (), OVERFLOW),
    ("load", (65533,), "out of bounds memory access"), ("load", (-1,), "out of bounds memory access"),
    ("load", (65536,), "out of bounds memory access"), ("load_offset", (1,), "out of bounds memory access"),
    ("store", (65533, 0x01020304), "out of bounds memory access"),
    ("fill", (65530, 7), "out of bounds memory access"), ("fill", (65537, 0), "out of bounds memory access"),
    ("copy", (0, 65535, 2), "out of bounds memory access"),
    ("call_indirect", (1, 0), "indirect call type mismatch"),
    ("call_indirect", (4, 0), "undefined element"), ("call_indirect", (-1, 0), "undefined element"),
    ("call_indirect", (2, 0), "uninitialized element"), ("call_indirect", (3, 0), "uninitialized element"),
    ("table_get", (4,), "out of bounds table access"), ("table_set", (5,), "out of bounds table access"),
    ("table_fill", (3, 2), "out of bounds table access"),
    ("unreachable", (1,), "unreachable"),
    ("recurse", (10_000_000,), "call stack exhausted"),
]


@pytest.fixture(scope="module", params=[0, 2], ids=["O0", "O2"])
def trap_image(request, tmp_path_factory):
    return build_file(tmp_path_factory.mktemp("traps"), wat(TRAP_WAT), opt_level=request.param)


@pytest.mark.parametrize("name,args,message", TRAP_CASES,
                         ids=[f"{n}{a}" for n, a, _ in TRAP_CASES])
def test_trap_then_instances_stay_usable(trap_image, name, args, message):
    first = wasmbuild.load(trap_image)
    sibling = wasmbuild.load(trap_image, store=first.image.store)  # same store
    other = wasmbuild.load(trap_image)  # a store of its own
    assert first.exports["bump"]() == 1
    with pytest.raises(Trap) as info:
        first.exports[name](*args)
    assert info.value.message.startswith(message), info.value.message
    assert message in str(info.value)
    # The same instance goes on, with its state, and so do the others.
    assert first.exports["ok"](41) == 42
    assert first.exports["bump"]() == 2
    assert first.exports["call_indirect"](0, 9) == 10
    assert first.exports["recurse"](1000) == 1000
    assert sibling.exports["ok"](1) == 2 and sibling.exports["bump"]() == 1
    assert other.exports["ok"](-1) == 0 and other.exports["bump"]() == 1
    # ... and trap again the same way.
    assert trap_message(first.exports[name], *args).startswith(message)


def test_non_trapping_neighbours_of_traps(trap_image):
    e = wasmbuild.load(trap_image).exports
    assert e["div_s"](-7, 2) == -3 and e["rem_s"](-7, 2) == -1 and e["rem_s"](-(2**31), -1) == 0
    assert e["div_u"](0xFFFFFFFF, 2) == 2**31 - 1
    assert e["trunc_f32_s"](-2147483648.0) == -(2**31) and e["trunc_f32_s"](-0.99) == 0
    assert e["trunc_f64_u"](-0.99) == 0 and e["trunc_f64_u"](2.0**64 - 2048) == signed(64, 2**64 - 2048)
    e["store"](65532, 0x01020304)
    assert e["load"](65532) == 0x01020304
    assert e["call_indirect_same_sig"](0, 1) == 2  # types are compared structurally
    assert e["table_get"](0) is not None and e["table_get"](2) is None
    e["table_set"](3)
    e["fill"](65536, 0)  # zero bytes at the end is in bounds
    e["copy"](65536, 0, 0)
    assert e["unreachable"](0) == 5


def test_out_of_bounds_writes_write_nothing(trap_image):
    inst = wasmbuild.load(trap_image)
    e, mem = inst.exports, inst.exports["mem"]
    with pytest.raises(Trap):
        e["store"](65533, 0x01020304)
    with pytest.raises(Trap):
        e["fill"](65000, 600)
    with pytest.raises(Trap):
        e["copy"](65530, 0, 7)
    assert mem.read(64990, 546) == bytes(546)


# ---------------------------------------------------------------------------------------------
# Host functions
# ---------------------------------------------------------------------------------------------

HOST_WAT = r"""
(module
  (import "env" "inc" (func $inc (param i32) (result i32)))
  (import "env" "pair" (func $pair (param i64 f64) (result f64 i64)))
  (import "env" "check" (func $check (param i32)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (import "env" "f32id" (func $f32id (param f32) (result f32)))
  (func (export "call_inc") (param i32) (result i32) local.get 0 call $inc i32.const 10 i32.mul)
  (func (export "call_pair") (param i64 f64) (result i64 f64)
    (local $f f64) (local $i i64)
    local.get 0 local.get 1 call $pair local.set $i local.set $f
    local.get $i i64.const 1 i64.add local.get $f f64.const 2 f64.mul)
  (func (export "call_check") (param i32) (result i32)
    local.get 0 call $check local.get 0 i32.const 2 i32.mul)
  (func $fact (export "fact") (param i32) (result i32)
    (if (result i32) (i32.le_s (local.get 0) (i32.const 1))
      (then (i32.const 1))
      (else (i32.mul (local.get 0) (call $reenter (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "call_f32") (param f32) (result f32) local.get 0 call $f32id f32.const 1 f32.add)
)
"""


class HostError(Exception):
    pass


@pytest.fixture(scope="module")
def host_image(tmp_path_factory):
    return build_file(tmp_path_factory.mktemp("host"), wat(HOST_WAT))


def host_instance(path, **overrides):
    seen = {"check": [], "pair": []}
    holder = {}

    def check(x):
        seen["check"].append(x)
        if x < 0:
            raise HostError(f"negative: {x}")

    def pair(i, f):
        seen["pair"].append((i, f))
        return f + 0.5, i * 3

    env = {"inc": lambda x: x + 1, "pair": pair, "check": check,
           "reenter": lambda n: holder["inst"].exports["fact"](n), "f32id": lambda x: x}
    env.update(overrides)
    inst = wasmbuild.load(path, imports={"env": env})
    holder["inst"] = inst
    return inst, seen


def test_host_function_results(host_image):
    inst, seen = host_instance(host_image)
    e = inst.exports
    assert e["call_inc"](4) == 50
    assert e["call_inc"](2**31 - 1) == signed(32, -(2**31) * 10)  # host result wraps to i32
    assert e["call_pair"](-7, 1.25) == (-20, 3.5)
    assert e["call_pair"](2**62, -0.5) == (signed(64, 3 * 2**62) + 1, 0.0)
    assert seen["pair"] == [(-7, 1.25), (2**62, -0.5)]  # i64 arrives signed, f64 exact
    assert e["call_f32"](2.5) == 3.5
    assert e["call_check"](21) == 42 and seen["check"] == [21]


def test_host_exception_propagates_and_instance_survives(host_image):
    inst, seen = host_instance(host_image)
    e = inst.exports
    with pytest.raises(HostError) as info:
        e["call_check"](-3)
    assert str(info.value) == "negative: -3"
    assert seen["check"] == [-3]
    assert e["call_check"](5) == 10 and e["call_inc"](1) == 20
    exc = KeyError("the very object")
    inst2, _ = host_instance(host_image, inc=lambda x: (_ for _ in ()).throw(exc))
    with pytest.raises(KeyError) as info:
        inst2.exports["call_inc"](1)
    assert info.value is exc
    assert inst2.exports["div"](9, 3) == 3
    assert trap_message(inst2.exports["div"], 1, 0) == DIV_ZERO  # a trap after a host exception
    assert inst2.exports["call_check"](1) == 2


def test_host_returning_the_wrong_number_of_values_is_an_error_not_a_crash(host_image):
    inst, _ = host_instance(host_image, pair=lambda i, f: 1.0)
    with pytest.raises(Exception):
        inst.exports["call_pair"](1, 1.0)
    assert inst.exports["call_inc"](0) == 10


def test_reentrant_calls(host_image):
    inst, _ = host_instance(host_image)
    # fact(n) = n * reenter(n - 1), where the host calls fact of the same instance again.
    assert [inst.exports["fact"](n) for n in (1, 2, 5, 10, 12)] == [math.factorial(n) for n in (1, 2, 5, 10, 12)]
    depth = []

    def reenter(n):
        depth.append(n)
        if n == 3:
            raise HostError("deep")
        return holder_inst.exports["fact"](n)
    inst2, _ = host_instance(host_image, reenter=reenter)
    holder_inst = inst2
    with pytest.raises(HostError, match="deep"):
        inst2.exports["fact"](8)  # the exception crosses 4 wasm/host boundaries
    assert depth == [7, 6, 5, 4, 3]

    def trapping(n):
        return holder_inst.exports["div"](n, 0)
    inst3, _ = host_instance(host_image, reenter=trapping)
    holder_inst = inst3
    assert trap_message(inst3.exports["fact"], 4) == DIV_ZERO  # a trap in nested wasm reaches the top
    assert inst3.exports["fact"](1) == 1 and inst3.exports["call_inc"](2) == 30


def test_unbounded_reentrancy_does_not_crash(host_image):
    inst, _ = host_instance(host_image)
    # fact(100000) recurses wasm -> host -> wasm 100000 times: Python's recursion limit or the wasm
    # stack limit stops it (which exception depends on the stack; see the next test).
    try:
        inst.exports["fact"](100_000)
    except (RecursionError, Trap):
        pass
    assert inst.exports["fact"](6) == 720 and inst.exports["call_inc"](1) == 20


def _stack_depth() -> int:
    frame, n = sys._getframe(), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def test_host_call_failing_at_the_callback_boundary_is_not_ignored(host_image):
    inst, _ = host_instance(host_image)
    call_inc = inst.exports["call_inc"]

    def at_depth(k):
        return at_depth(k - 1) if k else call_inc(4)  # (4 + 1) * 10
    # Call from every Python stack depth near the recursion limit, so that the limit is hit at each
    # point of the way from Python into wasm and back into the host function.
    old = sys.getrecursionlimit()
    outcomes = {}
    try:
        sys.setrecursionlimit(_stack_depth() + 120)
        for k in range(60, 120):
            try:
                outcomes[k] = at_depth(k)
            except RecursionError:
                outcomes[k] = "RecursionError"
    finally:
        sys.setrecursionlimit(old)
    assert "RecursionError" in outcomes.values() and 50 in outcomes.values()  # the scan spans the limit
    wrong = {k: v for k, v in outcomes.items() if v not in (50, "RecursionError")}
    assert not wrong, f"call_inc(4) at these stack depths gave: {wrong}"
    assert call_inc(4) == 50


_THREAD_CHILD = textwrap.dedent("""
    import sys, threading
    sys.path.insert(0, sys.argv[2])
    import wasmbuild
    inst = wasmbuild.load(sys.argv[1])
    out = []
    def run():
        try:
            inst.exports["recurse"](10_000_000)
            out.append("no trap")
        except wasmbuild.loader.runtime.Trap as e:
            out.append(e.message)
        out.append(inst.exports["recurse"](1000))
    threading.stack_size(int(sys.argv[3]))
    t = threading.Thread(target=run)
    t.start()
    t.join()
    print(out)
""")


def _recurse_in_thread(trap_image, stack_size: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _THREAD_CHILD, trap_image, str(REPO_ROOT), str(stack_size)],
                          capture_output=True, text=True, timeout=60)


def test_stack_exhaustion_in_another_thread(trap_image):
    proc = _recurse_in_thread(trap_image, 8 << 20)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['call stack exhausted', 1000]"


def test_stack_exhaustion_on_a_small_thread_stack_traps(trap_image):
    proc = _recurse_in_thread(trap_image, 512 << 10)
    assert proc.returncode == 0, f"status {proc.returncode}: {proc.stderr[-500:]}"
    assert proc.stdout.strip() == "['call stack exhausted', 1000]"


# ---------------------------------------------------------------------------------------------
# Memories, data segments, globals, tables, start functions
# ---------------------------------------------------------------------------------------------

MEMORY_WAT = r"""
(module
  (memory (export "mem") 1 3)
  (data (i32.const 16) "hello")
  (data (i32.const 65534) "\01\02")
  (data $p "passive!")
  (func (export "size") (result i32) memory.size)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "load8") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "load32") (param i32) (result i32) local.get 0 i32.load)
  (func (export "store64") (param i32 i64) local.get 0 local.get 1 i64.store)
  (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.init $p)
  (func (export "drop") data.drop $p)
)
"""


def test_memory_data_segments_and_python_access(tmp_path):
    e = load_wat(tmp_path, MEMORY_WAT).exports
    mem = e["mem"]
    assert mem.size == 65536 and e["size"]() == 1
    assert mem.read(16, 5) == b"hello" and mem.read(65534, 2) == b"\x01\x02"
    assert mem.read(0, 16) == bytes(16)
    mem.write(100, b"\x78\x56\x34\x12")
    assert e["load32"](100) == 0x12345678
    e["store64"](200, -2)
    assert mem.read(200, 8) == b"\xfe" + b"\xff" * 7
    e["init"](300, 1, 6)
    assert mem.read(299, 8) == b"\0assive\0"
    e["drop"]()
    e["init"](300, 0, 0)  # empty init of a dropped segment is fine
    assert trap_message(e["init"], 300, 0, 1) == "out of bounds memory access"
    with pytest.raises(IndexError):
        mem.read(65535, 2)


def test_memory_grow_up_to_max(tmp_path):
    e = load_wat(tmp_path, MEMORY_WAT).exports
    mem = e["mem"]
    assert trap_message(e["load8"], 65536) == "out of bounds memory access"
    assert e["grow"](0) == 1
    assert e["grow"](1) == 1 and e["size"]() == 2 and mem.size == 2 * 65536
    assert e["load8"](65536) == 0 and e["load8"](65535) == 2  # new page zeroed, old kept
    mem.write(2 * 65536 - 1, b"\x7f")
    assert e["load8"](2 * 65536 - 1) == 0x7F
    assert e["grow"](2) == -1 and e["size"]() == 2  # past the maximum of 3
    assert e["grow"](1) == 2 and e["size"]() == 3
    assert e["grow"](1) == -1 and e["grow"](-1) == -1 and e["size"]() == 3
    assert e["grow"](0) == 3
    assert e["load8"](3 * 65536 - 1) == 0
    assert trap_message(e["load32"], 3 * 65536 - 3) == "out of bounds memory access"


def test_memory_without_maximum(tmp_path):
    e = load_wat(tmp_path, """(module (memory (export "mem") 0)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
        (func (export "size") (result i32) memory.size))""").exports
    assert e["size"]() == 0 and e["mem"].size == 0
    assert e["grow"](65537) == -1 and e["grow"](0x7FFFFFFF) == -1
    assert e["grow"](2) == 0 and e["grow"](3) == 2 and e["size"]() == 5
    e["mem"].write(5 * 65536 - 4, b"abcd")
    assert e["mem"].read(5 * 65536 - 4, 4) == b"abcd"


GLOBAL_WAT = r"""
(module
  (import "env" "imp" (global $imp (mut i32)))
  (import "env" "k" (global $k i32))
  (global $g (export "g") (mut i32) (i32.const 42))
  (global $h (export "h") (mut i64) (i64.const -5))
  (global $f (export "f") (mut f64) (f64.const 1.5))
  (global $c (export "c") i32 (i32.const 7))
  (global $d (export "d") i32 (global.get $k))
  (func (export "get_g") (result i32) global.get $g)
  (func (export "set_g") (param i32) local.get 0 global.set $g)
  (func (export "get_h") (result i64) global.get $h)
  (func (export "get_f") (result f64) global.get $f)
  (func (export "add_f") (param f64) global.get $f local.get 0 f64.add global.set $f)
  (func (export "bump_imp") (result i32) global.get $imp i32.const 1 i32.add global.set $imp global.get $imp)
)
"""


def test_globals_shared_with_python(tmp_path):
    store = Store()
    imp = Global(store, 0x7F, True, 10)  # i32, mutable
    k = Global(store, 0x7F, False, 10)  # i32, immutable
    e = load_wat(tmp_path, GLOBAL_WAT, imports={"env": {"imp": imp, "k": k}}, store=store).exports
    g, h, f, c = e["g"], e["h"], e["f"], e["c"]
    assert (g.value, h.value, f.value, c.value) == (42, -5, 1.5, 7)
    assert e["d"].value == 10  # initialised from an imported global
    assert g.mutable and not c.mutable
    g.bits = 100
    assert e["get_g"]() == 100
    e["set_g"](-3)
    assert g.value == -3 and g.bits == 0xFFFFFFFD
    h.bits = 2**64 - 9
    assert e["get_h"]() == -9
    f.bits = struct.unpack("<Q", struct.pack("<d", 2.25))[0]
    e["add_f"](0.5)
    assert e["get_f"]() == 2.75 and f.value == 2.75
    assert e["bump_imp"]() == 11 and imp.value == 11 and e["d"].value == 10
    imp.bits = 41
    assert e["bump_imp"]() == 42


TABLE_A_WAT = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (table $t (export "tab") 3 10 funcref)
  (elem (i32.const 0) $double $square)
  (func $double (export "double") (type $ii) local.get 0 i32.const 2 i32.mul)
  (func $square (type $ii) local.get 0 local.get 0 i32.mul)
  (func (export "call") (param i32 i32) (result i32) local.get 1 local.get 0 call_indirect (type $ii))
  (func (export "size") (result i32) table.size $t)
  (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow $t)
)
"""
TABLE_B_WAT = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (import "a" "tab" (table 3 funcref))
  (func $neg (type $ii) i32.const 0 local.get 0 i32.sub)
  (elem (i32.const 2) $neg)
  (func (export "call") (param i32 i32) (result i32) local.get 1 local.get 0 call_indirect (type $ii))
)
"""


def test_tables_shared_between_images(tmp_path):
    a = load_wat(tmp_path, TABLE_A_WAT)
    tab = a.exports["tab"]
    assert tab.size == 3
    assert a.exports["call"](0, 5) == 10 and a.exports["call"](1, 5) == 25
    assert trap_message(a.exports["call"], 2, 5).startswith("uninitialized element")
    b = load_wat(tmp_path, TABLE_B_WAT, imports={"a": {"tab": tab}}, store=a.image.store)
    assert b.exports["call"](0, 6) == 12 and b.exports["call"](1, 6) == 36
    assert b.exports["call"](2, 6) == -6
    assert a.exports["call"](2, 7) == -7  # b's element segment wrote into a's table
    tab.set_raw(2, tab.get_raw(1))  # Python rewires slot 2 to $square
    assert a.exports["call"](2, 9) == 81 and b.exports["call"](2, 9) == 81
    assert a.exports["grow"](2) == 3 and tab.size == 5 and a.exports["size"]() == 5
    assert trap_message(b.exports["call"], 4, 1).startswith("uninitialized element")
    assert trap_message(b.exports["call"], 5, 1) == "undefined element"
    assert a.exports["grow"](6) == -1 and a.exports["grow"](5) == 5 and tab.size == 10


START_WAT = r"""
(module
  (import "env" "log" (func $log (param i32)))
  (global $g (export "g") (mut i32) (i32.const 1))
  (memory (export "mem") 1)
  (func $start
    (global.set $g (i32.add (global.get $g) (i32.const 41)))
    (i32.store8 (i32.const 7) (i32.const 0xAB))
    (call $log (i32.const 99)))
  (start $start)
  (func (export "get") (result i32) global.get $g)
)
"""


def test_start_function_runs_on_instantiation(tmp_path):
    path = build_file(tmp_path, wat(START_WAT))
    logged = []
    one = wasmbuild.load(path, {"env": {"log": logged.append}})
    assert logged == [99]
    assert one.exports["g"].value == 42 and one.exports["get"]() == 42
    assert one.exports["mem"].read(7, 1) == b"\xab"
    two = wasmbuild.load(path, {"env": {"log": logged.append}})
    assert logged == [99, 99] and two.exports["g"].value == 42
    trapping = path.replace(".img", "-trap.img")
    with open(trapping, "wb") as f:
        f.write(build_image([ModuleInput("m", wat(START_WAT.replace("(call $log (i32.const 99))",
                                                                     "unreachable")))])[0])
    with pytest.raises(Trap, match="unreachable"):
        wasmbuild.load(trapping, {"env": {"log": logged.append}})
    assert one.exports["get"]() == 42


def test_missing_and_mistyped_imports_are_unlinkable(tmp_path):
    path = build_file(tmp_path, wat(START_WAT))
    with pytest.raises(WasmbuildError, match="unknown import env.log"):
        wasmbuild.load(path)
    with pytest.raises(WasmbuildError, match="incompatible import type"):
        wasmbuild.load(path, {"env": {"log": Global(Store(), 0x7F, False, 1)}})


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated_inputs():
    data, _ = gen.generate_module(40, seed=5)
    return [ModuleInput("gen", data)]


def test_images_are_deterministic(generated_inputs):
    settings = CompileSettings(opt_level=2)
    first, r1 = build_image(generated_inputs, settings, jobs=1)
    again, _ = build_image(generated_inputs, settings, jobs=1)
    parallel, r2 = build_image(generated_inputs, settings, jobs=2)
    assert first == again, "two builds of the same input differ"
    assert first == parallel, "jobs=1 and jobs=2 give different images"
    assert r1.functions == r2.functions == 40 and r1.compiled == 40
    other, _ = build_image(generated_inputs, CompileSettings(opt_level=0), jobs=1)
    assert other != first  # the comparison can tell images apart


@pytest.fixture(scope="module")
def image_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("image")
    add = '(func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)\n  '
    return build_file(directory, wat(TRAP_WAT.replace('(func (export "ok")', add + '(func (export "ok")')))


def _sections(data: bytes) -> dict[str, tuple[int, int]]:
    from elftools.elf.elffile import ELFFile
    elf = ELFFile(io.BytesIO(data))
    return {s.name: (s["sh_offset"], s["sh_size"]) for s in elf.iter_sections() if s.name}


def test_image_is_readable_by_pyelftools(image_file):
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection
    with open(image_file, "rb") as f:
        data = f.read()
    elf = ELFFile(io.BytesIO(data))
    expected_machine = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}.get(platform.machine())
    if expected_machine:
        assert elf["e_machine"] == expected_machine
    names = []
    for s in elf.iter_sections():
        names.append(s.name)
        if s["sh_type"] != "SHT_NOBITS":
            assert len(s.data()) == s["sh_size"]
    for name in (".text", ".wb.header", ".wb.meta", ".wb.relocs", ".wb.data", ".symtab", ".strtab"):
        assert name in names
    text = elf.get_section_by_name(".text")
    symtab = elf.get_section_by_name(".symtab")
    assert isinstance(symtab, SymbolTableSection)
    funcs = {}
    for sym in symtab.iter_symbols():
        if sym["st_info"]["type"] == "STT_FUNC":
            funcs[sym.name] = sym
    # Every function TRAP_WAT defines, plus this file's "add", has a symbol inside .text.
    # Each also has its tail-call entry (abi.tail_symbol).
    wasm_funcs = [n for n in funcs if n.startswith("wasm0_f") and not n.endswith(".tail")]
    assert len(wasm_funcs) == len(re.findall(r"\n\s*\(func ", TRAP_WAT)) + 1, sorted(funcs)
    tails = {n for n in funcs if n.startswith("wasm0_f") and n.endswith(".tail")}
    assert tails == {abi.tail_symbol(n) for n in wasm_funcs}, sorted(funcs)
    for name in wasm_funcs:
        sym = funcs[name]
        assert sym["st_size"] > 0
        assert text["sh_addr"] <= sym["st_value"]
        assert sym["st_value"] + sym["st_size"] <= text["sh_addr"] + text["sh_size"]
    assert any(n.startswith("wb_entry_") for n in funcs)


def test_image_is_readable_by_readelf(image_file):
    readelf = need_command("readelf", READELF_HINT)
    proc = subprocess.run([readelf, "-a", "-W", image_file], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for word in ("Warning", "Error"):
        assert word not in proc.stderr, proc.stderr
        assert f"readelf: {word}" not in proc.stdout
    assert ".wb.meta" in proc.stdout and "wasm0_f" in proc.stdout


def _load_error(path: str, data: bytes):
    with open(path, "wb") as f:
        f.write(data)
    with pytest.raises(ImageError) as info:
        wasmbuild.load(path)
    return info.value


def test_truncated_images_are_refused(image_file, tmp_path):
    with open(image_file, "rb") as f:
        data = f.read()
    sections = _sections(data)
    cuts = {0, 3, 16, 63, 64, 200, sections[".text"][0] + 10, sections[".wb.meta"][0] + 5,
            len(data) // 2, len(data) - 100, len(data) - 1}
    for cut in sorted(cuts):
        path = str(tmp_path / f"cut{cut}.img")
        err = _load_error(path, data[:cut])
        assert err.file == path and str(err).startswith(path)
        assert err.reason and "\n" not in str(err)


@pytest.mark.parametrize("section", [".text", ".wb.meta", ".wb.relocs"])
def test_corrupted_bytes_are_refused(image_file, tmp_path, section):
    with open(image_file, "rb") as f:
        data = f.read()
    offset, size = _sections(data)[section]
    assert size > 8
    for k, pos in enumerate(range(offset, offset + size, max(1, size // 25))):
        for flip in (0x01, 0x80):
            bad = bytearray(data)
            bad[pos] ^= flip
            err = _load_error(str(tmp_path / f"bad{k}-{flip}.img"), bytes(bad))
            assert "damaged" in err.reason or "not a wasmbuild image" in err.reason, err.reason


def test_corrupted_metadata_json_is_refused(image_file, tmp_path):
    with open(image_file, "rb") as f:
        data = f.read()
    offset, size = _sections(data)[".wb.meta"]
    meta = data[offset:offset + size]
    digit = next(i for i, ch in enumerate(meta) if chr(ch).isdigit())
    # A change that keeps the JSON well formed is caught by the checksum.
    changed = data[:offset + digit] + (b"9" if meta[digit] != ord("9") else b"8") + data[offset + digit + 1:]
    assert "checksum" in _load_error(str(tmp_path / "meta-digit.img"), changed).reason
    broken = data[:offset] + b"{" * size + data[offset + size:]
    _load_error(str(tmp_path / "meta-json.img"), broken)


def _rewrite_header(data: bytes, edit) -> bytes:
    """The image with its .wb.header JSON replaced by `edit(header)`, padded with spaces (JSON allows
    them) so that no offset moves."""
    import json
    offset, size = _sections(data)[".wb.header"]
    header = json.loads(data[offset:offset + size])
    edit(header)
    if "data_layout" in header.get("target", {}):
        header["target"]["data_layout"] = ""  # keep the rewritten header short enough to fit
    # The checksum covers the header: recompute it, so that the edit is what the loader judges.
    from wasmbuild import image as image_format
    parts = image_format._sections(data)
    header["checksum"] = image_format._checksum(header, *(parts.get(name, b"") for name in image_format.CHECKSUMMED))
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= size
    return data[:offset] + text.ljust(size) + data[offset + size:]


def test_image_for_another_machine_is_refused(image_file, tmp_path):
    with open(image_file, "rb") as f:
        data = f.read()
    foreign = "aarch64" if platform.machine() != "aarch64" else "x86_64"

    def retarget(h):
        h["target"]["machine"] = foreign
        h["target"]["triple"] = f"{foreign}-unknown-linux-gnu"
    err = _load_error(str(tmp_path / "foreign.img"), _rewrite_header(data, retarget))
    assert foreign in err.reason and "cannot run here" in err.reason
    # Building for that target directly either works (and the image is refused the same way) or
    # fails with a clear error naming the target.
    try:
        image, _ = build_image([ModuleInput("m", wat(CONTROL_WAT))],
                               CompileSettings(triple=f"{foreign}-unknown-linux-gnu"))
    except WasmbuildError as e:
        assert foreign in str(e)
    else:
        assert foreign in _load_error(str(tmp_path / "cross.img"), image).reason


def test_image_of_another_format_version_is_refused(image_file, tmp_path):
    with open(image_file, "rb") as f:
        data = f.read()
    err = _load_error(str(tmp_path / "v99.img"), _rewrite_header(data, lambda h: h.update(format=99)))
    assert "format 99" in err.reason
    err = _load_error(str(tmp_path / "abi99.img"), _rewrite_header(data, lambda h: h.update(abi=99)))
    assert "ABI 99" in err.reason and "rebuild" in err.reason


_SWEEP = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from wasmbuild.image import ImageError
    from wasmbuild.loader.instance import load_image
    from wasmbuild.loader.runtime import Store
    data = open(sys.argv[1], "rb").read()
    for spec in sys.argv[3:]:
        pos, flip = map(int, spec.split(":"))
        bad = bytearray(data)
        bad[pos] ^= flip
        print(pos, flip, end=" ", flush=True)
        try:
            inst = load_image(Store(), bytes(bad), "x").instantiate({})
            result = inst.exports["add"](1, 2)
            print("ok" if result == 3 else f"WRONG {result}", flush=True)
        except ImageError:
            print("ImageError", flush=True)
        except Exception as e:
            print(f"OTHER {type(e).__name__}: {e}", flush=True)
""")


def _sweep(image_file, specs: list[str]) -> list[str]:
    """Load the image with each "position:xor" change in a child process (a crash must not take
    pytest down; after one, a new child goes on with the next change). Gives a line for each change
    that ended badly: another exception, a wrong result, or a dead process."""
    bad = []
    while specs:
        proc = subprocess.run([sys.executable, "-c", _SWEEP, image_file, str(REPO_ROOT), *specs],
                              capture_output=True, text=True, timeout=120)
        lines = proc.stdout.splitlines()
        bad += [line for line in lines if not line.endswith(("ok", "ImageError"))]
        if proc.returncode == 0:
            break
        done = sum(1 for line in lines if line.endswith(("ok", "ImageError")) or "OTHER" in line or "WRONG" in line)
        bad.append(f"{specs[done]}: the process died with status {proc.returncode}")
        specs = specs[done + 1:]
    return [line for line in bad if "died" in line or "OTHER" in line or "WRONG" in line]


def test_single_byte_damage_outside_the_header_is_refused_or_harmless(image_file):
    with open(image_file, "rb") as f:
        data = f.read()
    hoff, hsize = _sections(data)[".wb.header"]
    specs = [f"{pos}:{flip}" for pos in range(0, len(data), 7) if not hoff <= pos < hoff + hsize
             for flip in (0x01, 0xFF)]
    bad = _sweep(image_file, specs)
    assert not bad, "\n".join(bad[:15])


def test_single_bit_damage_in_the_header_is_refused_or_harmless(image_file):
    with open(image_file, "rb") as f:
        data = f.read()
    hoff, hsize = _sections(data)[".wb.header"]
    specs = [f"{pos}:{flip}" for pos in range(hoff, hoff + hsize) for flip in (0x01, 0x02, 0x20)]
    bad = _sweep(image_file, specs)
    assert not bad, f"{len(bad)} bad outcomes, e.g.:\n" + "\n".join(bad[:15])


def test_header_byteorder_flip_does_not_crash(image_file, tmp_path):
    with open(image_file, "rb") as f:
        data = f.read()
    hoff, hsize = _sections(data)[".wb.header"]
    pos = data.index(b'"byteorder":"<"', hoff, hoff + hsize) + len(b'"byteorder":"')
    bad = _sweep(image_file, [f"{pos}:{ord('<') ^ ord('>')}"])
    assert not bad, "\n".join(bad)


def test_header_layout_damage_is_an_image_error(image_file, tmp_path):
    with open(image_file, "rb") as f:
        data = f.read()
    failures = []
    for key, value in (("page_size", 1096), ("size", 1192), ("got_offset", 9096), ("data_offset", 9096)):
        bad = _rewrite_header(data, lambda h: h["layout"].update({key: value}))
        path = str(tmp_path / f"layout-{key}.img")
        with open(path, "wb") as f:
            f.write(bad)
        try:
            wasmbuild.load(path)
            failures.append(f"{key}={value}: loaded")
        except ImageError:
            pass
        except Exception as e:  # noqa: BLE001
            failures.append(f"{key}={value}: {type(e).__name__}: {e}")
    assert not failures, "\n".join(failures)


def test_an_import_given_something_that_is_no_extern_is_unlinkable(tmp_path):
    """A host import of a table, memory or global given a plain Python value is "incompatible import
    type", not a crash in the matching rule."""
    path = build_file(tmp_path, wat('(module (import "env" "t" (table 1 funcref)) (import "env" "g" (global i32)))'))
    for item in ({"t": 5}, {"t": "x"}):
        with pytest.raises(WasmbuildError, match="incompatible import type for env.t"):
            wasmbuild.load(path, {"env": item})
