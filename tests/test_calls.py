"""The fast paths of calls between Python and wasm (loader/runtime.py: `_call_plan`, `_host_server`,
the value areas and slot aliases on their free lists).

Builds one module (WAT through conftest's `wat`, then `build_image`) whose exports pass every
scalar type through, reverse a mixed signature, call host functions with every scalar type, trap,
and call back into Python, and one of v128 and 17-value signatures that the generic path serves.

Gives pass/fail on: each scalar type's extreme values both ways (signed results, unsigned
arguments accepted), NaN bit patterns kept by `call_bits` and by a raw host function, refusals of
bad arguments (ValueTypeError naming the argument) and of bad host results (Trap), a trap and a
Python exception through the fast path with the store usable afterwards, nested calls (a host
function calling back in, deeply), the same image's functions called from two threads at once in
two stores, a second thread refused while one is inside a store (and the inside call's result
intact), the generic signatures, and `Memory.read`/`write` (through a view of the memory) after the
memory grew, from wasm or from Python, 64-bit memories (which may move) included. Expected values are written here by hand from the spec's
definitions (two's complement, IEEE bits through `struct`).
"""

from __future__ import annotations

import math
import os
import struct
import threading

import pytest
from conftest import wat

import wasmbuild
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.contract.types import F32, F64, I32, I64, FuncType
from wasmbuild.loader.runtime import Memory, Store, StoreBusyError, Trap, ValueTypeError

MODULE = r"""
(module
  (import "env" "h" (func $h (param i32 i64 f32 f64) (result f64 f32 i64 i32)))
  (import "env" "raw" (func $raw (param f32 f64) (result f64 f32)))
  (import "env" "back" (func $back (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "id_i32") (param i32) (result i32) local.get 0)
  (func (export "id_i64") (param i64) (result i64) local.get 0)
  (func (export "id_f32") (param f32) (result f32) local.get 0)
  (func (export "id_f64") (param f64) (result f64) local.get 0)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "none"))
  (func (export "reverse") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "via_host") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    (call $h (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "via_raw") (param f32 f64) (result f64 f32)
    (call $raw (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  ;; countdown(n) = n == 0 ? 0 : back(n - 1) + 1, where the host's back calls countdown again
  (func (export "countdown") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $back (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func (export "spin") (param i32) (result i32)
    (local $acc i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set $acc (i32.add (local.get $acc) (call $back (local.get 0))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    (local.get $acc))
)
"""

GENERIC = r"""
(module
  (func (export "swap_v128") (param v128 i32) (result i32 v128) local.get 1 local.get 0)
  (func (export "sum17") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i64)
    (result i64)
    (local $i i32) (local $acc i64)
    (i64.add (local.get 16)
      (i64.extend_i32_s (i32.add (i32.add (i32.add (local.get 0) (local.get 1)) (i32.add (local.get 2) (local.get 3)))
        (i32.add (i32.add (i32.add (local.get 4) (local.get 5)) (i32.add (local.get 6) (local.get 7)))
          (i32.add (i32.add (i32.add (local.get 8) (local.get 9)) (i32.add (local.get 10) (local.get 11)))
            (i32.add (i32.add (local.get 12) (local.get 13)) (i32.add (local.get 14) (local.get 15)))))))))
)
"""


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("calls") / "calls.img")
    with open(path, "wb") as f:
        f.write(build_image([ModuleInput("calls", wat(MODULE))], CompileSettings(opt_level=2))[0])
    return path


class Host:
    """The host functions of MODULE, recording what they were given."""

    def __init__(self):
        self.seen = []
        self.h_result = None
        self.back = lambda n: n + 1

    def imports(self, store: Store, raw_fn=None) -> dict:
        raw_type = FuncType((F32, F64), (F64, F32))
        raw = store.host_function(raw_type, raw_fn or (lambda a, b: (b, a)), raw=True)

        def h(a, b, c, d):
            self.seen.append((a, b, c, d))
            return self.h_result if self.h_result is not None else (d, c, b, a)
        return {"env": {"h": h, "raw": raw, "back": lambda n: self.back(n)}}


def load(image_path, host: Host | None = None, raw_fn=None):
    host = host or Host()
    store = Store()
    return wasmbuild.load(image_path, host.imports(store, raw_fn), store), host


def test_every_scalar_type_passes_through_with_its_extremes(image_path):
    inst, _ = load(image_path)
    e = inst.exports
    for given, back in [(0, 0), (1, 1), (-1, -1), (0x7FFFFFFF, 0x7FFFFFFF), (-0x80000000, -0x80000000),
                        (0x80000000, -0x80000000), (0xFFFFFFFF, -1), (True, 1)]:
        assert e["id_i32"](given) == back
    for given, back in [(0, 0), (-1, -1), (2**63 - 1, 2**63 - 1), (-2**63, -2**63), (2**63, -2**63), (2**64 - 1, -1)]:
        assert e["id_i64"](given) == back
    for x in (0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, 3.4028234663852886e38, 1e-45):
        got = e["id_f32"](x)
        assert f32_bits(got) == f32_bits(x)
        assert f64_bits(e["id_f64"](x)) == f64_bits(x)
    assert e["id_f32"](0.1) == struct.unpack("<f", struct.pack("<f", 0.1))[0]  # rounded to f32
    assert e["id_f64"](7) == 7.0 and type(e["id_f64"](7)) is float  # an int is a number too
    assert math.isnan(e["id_f64"](math.nan)) and math.isnan(e["id_f32"](math.nan))
    assert e["add"](0x7FFFFFFF, 1) == -0x80000000  # wraps
    assert e["none"]() is None


def test_nan_bit_patterns_survive_call_bits_and_raw_host_functions(image_path):
    inst, _ = load(image_path)
    e = inst.exports
    for bits in (0x7FC00000, 0x7FA00001, 0xFFC00001, 0x7F800001):
        assert e["id_f32"].call_bits([bits]) == [bits]
    for bits in (0x7FF8000000000000, 0x7FF4000000000001, 0xFFF0000000000001, 0xFFFFFFFFFFFFFFFF):
        assert e["id_f64"].call_bits([bits]) == [bits]
    # The raw host function gets the bits and returns them swapped.
    assert e["via_raw"].call_bits([0x7FA00001, 0x7FF4000000000001]) == [0x7FF4000000000001, 0x7FA00001]
    # call_bits: raw bits in, raw (unsigned) bits out, 32-bit values masked.
    assert e["id_i32"].call_bits([-1]) == [0xFFFFFFFF]
    assert e["id_i64"].call_bits([-1]) == [0xFFFFFFFFFFFFFFFF]
    assert e["reverse"].call_bits([1, 2, f32_bits(1.0), f64_bits(2.0)]) == [f64_bits(2.0), f32_bits(1.0), 2, 1]


def test_mixed_signatures_both_ways(image_path):
    inst, host = load(image_path)
    e = inst.exports
    assert e["reverse"](-5, -2**63, 0.5, -1e300) == (-1e300, 0.5, -2**63, -5)
    assert e["via_host"](0xFFFFFFFF, 2**64 - 1, -0.0, math.inf) == (math.inf, -0.0, -1, -1)
    # The host function got Python values: signed ints, floats.
    a, b, c, d = host.seen[-1]
    assert (a, b, d) == (-1, -1, math.inf) and f32_bits(c) == f32_bits(-0.0)
    host.h_result = [1.0, 2.0, 2**64 - 1, 0x80000000]  # a list, unsigned ints accepted
    assert e["via_host"](0, 0, 0.0, 0.0) == (1.0, 2.0, -1, -0x80000000)


def test_bad_arguments_are_refused_naming_them(image_path):
    inst, _ = load(image_path)
    e = inst.exports
    for fn, args, what in [("id_i32", (2**32,), "argument 1"), ("id_i32", (-2**31 - 1,), "argument 1"),
                           ("add", (1, 1.5), "argument 2"), ("id_i64", (2**64,), "argument 1"),
                           ("id_f64", ("1",), "argument 1"), ("id_f32", (None,), "argument 1"),
                           ("id_f32", (10**400,), "argument 1"), ("id_f64", (10**400,), "argument 1")]:
        with pytest.raises(ValueTypeError, match=what):
            e[fn](*args)
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        e["add"](1)
    with pytest.raises(TypeError, match="expected 1 arguments, got 2"):
        e["id_i32"].call_bits([1, 2])
    assert e["add"](2, 3) == 5


def test_bad_host_results_trap(image_path):
    inst, host = load(image_path)
    e = inst.exports
    for result, why in [((1.0, 2.0, 3), "returned 3 values, expected 4"), (None, "returned 0 values, expected 4"),
                        ((1.0, 2.0, 3, 2**32), "bad value"), ((1.0, "x", 3, 4), "bad value")]:
        host.h_result = result if result is not None else ()
        with pytest.raises(Trap, match=why):
            e["via_host"](0, 0, 0.0, 0.0)
    host.back = lambda n: None
    with pytest.raises(Trap, match="returned 0 values, expected 1"):
        e["spin"](1)
    host.back = lambda n: 2**40
    with pytest.raises(Trap, match="bad value"):
        e["spin"](1)
    host.h_result = None
    assert e["via_host"](1, 2, 3.0, 4.0) == (4.0, 3.0, 2, 1)


def test_traps_and_exceptions_cross_and_the_store_stays_usable(image_path):
    inst, host = load(image_path)
    e = inst.exports
    for _ in range(3):
        with pytest.raises(Trap, match="integer divide by zero"):
            e["div"](1, 0)
        with pytest.raises(Trap, match="integer overflow"):
            e["div"](-0x80000000, -1)
        assert e["div"](-7, 2) == -3

    class Boom(Exception):
        pass

    def boom(n):
        raise Boom(n)
    host.back = boom
    with pytest.raises(Boom) as info:
        e["spin"](3)
    assert info.value.args == (3,)
    host.back = lambda n: n
    assert e["spin"](4) == 10
    assert e["add"](40, 2) == 42


def test_nested_calls_keep_their_own_values(image_path):
    inst, host = load(image_path)
    e = inst.exports
    depth = []

    def back(n):
        depth.append(n)
        # While the outer calls wait for their results, inner ones use other value areas.
        assert e["reverse"](n, -n, 0.5, 2.5) == (2.5, 0.5, -n, n)
        return e["countdown"](n)
    host.back = back
    assert e["countdown"](40) == 40
    assert depth == list(range(39, -1, -1))
    # A host function's arguments and results stay right when it calls in between.
    host.back = lambda n: e["add"](n, e["id_i32"](n)) - n
    assert e["spin"](100) == sum(range(1, 101))


def test_two_stores_on_two_threads(image_path):
    results, errors = {}, []

    def work(k):
        try:
            inst, host = load(image_path)
            e = inst.exports
            host.back = lambda n: n * k
            ok = True
            for i in range(3000):
                ok &= e["add"](i, k) == i + k
                ok &= e["reverse"](i, k, 1.0, float(i)) == (float(i), 1.0, k, i)
                ok &= e["id_i64"](-i * k) == -i * k
            results[k] = (ok, e["spin"](50) == k * sum(range(1, 51)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in (3, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == {3: (True, True), 7: (True, True)}


def test_a_second_thread_is_refused_and_the_inside_call_keeps_its_values(image_path):
    inst, host = load(image_path)
    e = inst.exports
    inside, done = threading.Event(), threading.Event()
    outcome = []

    def back(n):
        inside.set()
        done.wait(30)
        return n + 1000
    host.back = back

    def other():
        inside.wait(30)
        try:
            e["reverse"](9, 9, 9.0, 9.0)
        except StoreBusyError:
            outcome.append("busy")
        finally:
            done.set()

    t = threading.Thread(target=other)
    t.start()
    assert e["spin"](1) == 1001
    t.join()
    assert outcome == ["busy"]
    host.back = lambda n: n
    assert e["reverse"](1, 2, 3.0, 4.0) == (4.0, 3.0, 2, 1)


def test_generic_signatures_still_work(tmp_path):
    path = str(tmp_path / "generic.img")
    with open(path, "wb") as f:
        f.write(build_image([ModuleInput("generic", wat(GENERIC))], CompileSettings(opt_level=2))[0])
    e = wasmbuild.load(path).exports
    v = (1 << 127) | 0x0123456789ABCDEF
    assert e["swap_v128"](v, -1) == (-1, v)
    assert e["swap_v128"].call_bits([v, 5]) == [5, v]
    assert e["sum17"](*range(1, 17), -2**40) == sum(range(1, 17)) - 2**40
    with pytest.raises(ValueTypeError, match="argument 17"):
        e["sum17"](*range(1, 17), 2**64)


def test_memory_reads_and_writes_follow_growth(image_path):
    inst, _ = load(image_path)
    e = inst.exports
    memory = e["memory"]
    memory.write(65535, b"\x07")
    with pytest.raises(IndexError):
        memory.read(65535, 2)
    with pytest.raises(IndexError):
        memory.write(65536, b"x")
    assert e["grow"](2) == 1  # grown by wasm code
    memory.write(65536 * 3 - 3, b"abc")
    assert e["load8"](65536 * 3 - 1) == ord("c")
    e["store8"](65536 * 2, 0x5A)
    assert memory.read(65535, 2) == b"\x07\x00" and memory.read(65536 * 2, 1) == b"\x5a"
    assert memory.read(0, 0) == b""
    for addr in (I32, I64):  # a 64-bit memory grows by mremap and may move
        m = Memory(Store(), 1, None, addr=addr)
        pattern = bytes(range(256)) * 256
        m.write(0, pattern)
        assert m.grow(300) == 1
        assert m.read(0, 65536) == pattern
        m.write(301 * 65536 - 4, b"tail")
        assert m.read(301 * 65536 - 4, 4) == b"tail" and m.read(65536, 4) == bytes(4)
        with pytest.raises(IndexError):
            m.read(301 * 65536 - 3, 4)
