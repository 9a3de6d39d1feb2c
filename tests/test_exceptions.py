"""Exception handling: the standard encoding (tags, throw, throw_ref, try_table) and the legacy one
(try, catch, catch_all, rethrow, delegate), end to end.

Takes WebAssembly text assembled by WABT's wat2wasm (exceptions enabled), builds images with
`build_image` / `build_graph` and runs them with `wasmbuild.load`. Gives pass/fail on: throwing
across functions and across two modules of a graph, catching by tag and with catch_all, rethrowing
(throw_ref, legacy rethrow), payloads of every number type, exceptions reaching the host as
`wasmbuild.WasmException` (tag and values), host functions throwing into wasm (also through a
nested entry), tags as identities (two instances of a module have different tags), legacy nested
try with delegate, traps not being caught, locals seen by a handler as the body left them, many
exceptions in a loop leaving no exception object behind, exnrefs kept in a global across calls, and
the feature gate (with exceptions off, the 2.0 reasons). Where wasmtime (which implements the
standard encoding) is available, the same module's results are compared with it.
"""

from __future__ import annotations

import ctypes
import math
import os
import subprocess
import tempfile
import textwrap

import pytest
from conftest import WABT_HINT, need_command

import wasmbuild
from wasmbuild.binary import decode_module
from wasmbuild.build import ModuleInput, build_graph, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.contract import abi
from wasmbuild.contract.types import F64, I32, FuncType
from wasmbuild.errors import MalformedError
from wasmbuild.loader.runtime import Store, Tag, Trap, WasmException

def wat(text: str) -> bytes:
    """`text` assembled by wat2wasm with its default features (exception handling among them)."""
    tool = need_command("wat2wasm", WABT_HINT)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-test-") as tmp:
        src, out = os.path.join(tmp, "m.wat"), os.path.join(tmp, "m.wasm")
        with open(src, "w", encoding="utf-8") as f:
            f.write(text)
        proc = subprocess.run([tool, src, "-o", out], capture_output=True, text=True)
        assert proc.returncode == 0, f"wat2wasm rejected the test's module:\n{proc.stderr}\n{text}"
        with open(out, "rb") as f:
            return f.read()


def load(tmp_path, text: str, imports=None, store=None, opt_level: int = 2, name: str = "m"):
    image, _ = build_image([ModuleInput(name, wat(text))], CompileSettings(opt_level=opt_level))
    path = tmp_path / f"{name}{opt_level}.img"
    path.write_bytes(image)
    return wasmbuild.load(str(path), imports or {}, store=store)


def leftover_exceptions(store: Store) -> int:
    """How many exception objects the store's Runtime still lists."""
    n, exn = 0, ctypes.c_uint64.from_address(store.runtime + abi.RT_EXNS).value
    while exn:
        n += 1
        exn = ctypes.c_uint64.from_address(exn + abi.EXN_NEXT).value
    return n


STANDARD = """
(module
  (tag $e0)
  (tag $e1 (param i32))
  (tag $e2 (param i32 i64 f32 f64))
  (export "e1" (tag $e1))
  (export "e2" (tag $e2))
  (func $thrower (param i32)
    (if (i32.eq (local.get 0) (i32.const 0)) (then (throw $e0)))
    (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e1 (i32.const 11))))
    (if (i32.eq (local.get 0) (i32.const 2))
      (then (throw $e2 (i32.const -2) (i64.const 0x100000000) (f32.const 1.5) (f64.const -0.25)))))
  (func $middle (param i32) (call $thrower (local.get 0)))
  ;; which: 0 -> caught by $e0 (100), 1 -> payload + 1000, 2 -> catch_all (200), 3 -> no throw (7)
  (func (export "catch") (param i32) (result i32)
    (block $all
      (block $b1 (result i32)
        (block $b0
          (try_table (catch $e0 $b0) (catch $e1 $b1) (catch_all $all)
            (call $middle (local.get 0)))
          (return (i32.const 7)))
        (return (i32.const 100)))
      (return (i32.add (i32.const 1000))))
    (i32.const 200))
  (func (export "payload") (result i32 i64 f32 f64)
    (block $h (result i32 i64 f32 f64)
      (try_table (catch $e2 $h) (call $thrower (i32.const 2)))
      (unreachable)))
  (func (export "uncaught") (param i32) (call $middle (local.get 0)))
  ;; catch_ref, then throw_ref from an outer function: the outer catch sees the same payload
  (func $rethrow (param i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e1 $h) (call $thrower (local.get 0)))
      (return))
    (drop (i32.const 0))
    (throw_ref (call $swap)))
  (func $swap (param i32 exnref) (result exnref) (local.get 1))
  (func (export "rethrow") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e1 $h) (call $rethrow (local.get 0)))
      (i32.const -1)))
  (func (export "catch_all_ref") (result i32)
    (block $outer (result i32)
      (try_table (catch $e1 $outer)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (call $thrower (i32.const 1)))
          (unreachable))
        (throw_ref))
      (i32.const -1)))
  (func (export "throw_null") (throw_ref (ref.null exn)))
  ;; a local changed in the body, then read by the handler
  (func (export "locals") (param i32) (result i32) (local $x i32)
    (local.set $x (i32.const 1))
    (block $h
      (try_table (catch_all $h)
        (local.set $x (i32.add (local.get $x) (local.get 0)))
        (call $thrower (i32.const 0))
        (local.set $x (i32.const 99))))
    (local.get $x))
  (func (export "trap_in_try") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h) (drop (i32.div_s (i32.const 1) (local.get 0)))))
    (i32.const 5))
  ;; n throws, each caught by its tag right away: nothing may be left behind
  (func (export "loop") (param i32) (result i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (block $h (result i32)
          (try_table (catch $e1 $h) (call $thrower (i32.const 1)))
          (i32.const 0))
        (local.set $sum (i32.add (local.get $sum)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  ;; n throws caught with catch_ref (their exnrefs escape): freed when the call returns
  (func (export "loop_ref") (param i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (block $h (result i32 exnref)
          (try_table (catch_ref $e1 $h) (call $thrower (i32.const 1)))
          (unreachable))
        (drop) (drop)
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next))))
  ;; an exnref kept in a global across calls
  (global $kept (mut exnref) (ref.null exn))
  (func (export "keep")
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $thrower (i32.const 1)))
      (unreachable))
    (global.set $kept))
  (func (export "throw_kept") (throw_ref (global.get $kept)))
)
"""


@pytest.mark.parametrize("opt_level", [0, 2])
def test_throw_and_catch_by_tag_across_functions(tmp_path, opt_level):
    g = load(tmp_path, STANDARD, opt_level=opt_level)
    catch = g.exports["catch"]
    assert [catch(i) for i in range(4)] == [100, 1011, 200, 7]
    a, b, c, d = g.exports["payload"]()
    assert (a, b, c, d) == (-2, 0x100000000, 1.5, -0.25)
    assert g.exports["rethrow"](1) == 11          # catch_ref + throw_ref keep tag and payload
    assert g.exports["catch_all_ref"]() == 11
    assert g.exports["locals"](5) == 6            # the handler sees the body's store, not the entry's
    assert g.exports["locals"](-1) == 0


def test_exception_reaches_the_host_with_tag_and_values(tmp_path):
    g = load(tmp_path, STANDARD)
    with pytest.raises(WasmException) as info:
        g.exports["uncaught"](2)
    assert info.value.tag is g.exports["e2"]
    assert info.value.values == (-2, 0x100000000, 1.5, -0.25)
    with pytest.raises(WasmException) as info:
        g.exports["uncaught"](1)
    assert info.value.tag is g.exports["e1"] and info.value.values == (11,)
    assert isinstance(info.value, wasmbuild.WasmException)
    g.exports["uncaught"](3)  # the instance goes on
    assert g.exports["catch"](1) == 1011


def test_traps_are_not_caught(tmp_path):
    g = load(tmp_path, STANDARD)
    with pytest.raises(Trap, match="integer divide by zero"):
        g.exports["trap_in_try"](0)
    assert g.exports["trap_in_try"](1) == 5  # and the handler chain was reset by the trap
    assert g.exports["catch"](0) == 100
    with pytest.raises(Trap, match="null exception reference"):
        g.exports["throw_null"]()


def test_a_memory_fault_in_a_region_is_a_trap(tmp_path):
    text = """(module (memory 1) (tag $e)
      (func (export "f") (param i32) (result i32)
        (block $h (try_table (catch_all $h) (return (i32.load (local.get 0)))))
        (i32.const -1))
      (func (export "g") (result i32) (block $h (try_table (catch_all $h) (throw $e))) (i32.const 9)))"""
    g = load(tmp_path, text)  # guard pages where the target has them: the fault handler traps
    with pytest.raises(Trap, match="out of bounds memory access"):
        g.exports["f"](65536)
    assert g.exports["f"](0) == 0
    assert g.exports["g"]() == 9  # and the chain of handler records was reset


def test_many_exceptions_leave_nothing_behind(tmp_path):
    store = Store()
    g = load(tmp_path, STANDARD, store=store)
    assert g.exports["loop"](100_000) == 1_100_000
    assert leftover_exceptions(store) == 0       # each was freed when caught
    g.exports["loop_ref"](20_000)
    assert leftover_exceptions(store) == 0       # escaped ones are freed when the call returns
    for _ in range(200):                         # and uncaught ones once they reached the host
        with pytest.raises(WasmException):
            g.exports["uncaught"](1)
    assert leftover_exceptions(store) == 0


def test_exnref_in_a_global_survives_calls(tmp_path):
    store = Store()
    g = load(tmp_path, STANDARD, store=store)
    g.exports["keep"]()
    g.exports["loop_ref"](100)                   # collections happen; the kept one stays
    assert leftover_exceptions(store) == 1
    for _ in range(3):
        with pytest.raises(WasmException) as info:
            g.exports["throw_kept"]()
        assert info.value.tag is g.exports["e1"] and info.value.values == (11,)


NESTED = """
(module
  (tag $inner (export "inner") (param i32))
  (tag $outer (param exnref))
  (global $g (mut exnref) (ref.null exn))
  (func $throw_inner (param i32) (throw $inner (local.get 0)))
  ;; an exnref inside the payload of an exception kept in a global
  (func (export "store")
    (block $h (result exnref)
      (try_table (catch_all_ref $h)
        (block $i (result i32 exnref)
          (try_table (catch_ref $inner $i) (call $throw_inner (i32.const 42)))
          (unreachable))
        (throw $outer))
      (unreachable))
    (global.set $g))
  (func (export "spam") (param i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get 0)))
      (block $h (result i32) (try_table (catch $inner $h) (call $throw_inner (i32.const 7))) (i32.const 0))
      (drop)
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br $next))))
  (func (export "unwrap")
    (block $h (result exnref)
      (try_table (catch $outer $h) (throw_ref (global.get $g)))
      (unreachable))
    (throw_ref))
)
"""


def test_an_exnref_in_a_kept_exceptions_payload_stays_alive(tmp_path):
    store = Store()
    g = load(tmp_path, NESTED, store=store)
    g.exports["store"]()
    assert leftover_exceptions(store) == 2      # the kept one and the one in its payload
    g.exports["spam"](1000)                      # would reuse the memory of a wrongly freed one
    for _ in range(2):
        with pytest.raises(WasmException) as info:
            g.exports["unwrap"]()
        assert info.value.tag is g.exports["inner"] and info.value.values == (42,)


LIVE_VALUES = """
(module
  (tag $e (param i32))
  ;; uses many registers, then throws (or not)
  (func $clobber (param i32) (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
    (local.set 1 (i32.mul (local.get 0) (i32.const 2))) (local.set 2 (i32.mul (local.get 1) (i32.const 3))) (local.set 3 (i32.mul (local.get 2) (i32.const 4))) (local.set 4 (i32.mul (local.get 3) (i32.const 5))) (local.set 5 (i32.mul (local.get 4) (i32.const 6))) (local.set 6 (i32.mul (local.get 5) (i32.const 7))) (local.set 7 (i32.mul (local.get 6) (i32.const 8))) (local.set 8 (i32.mul (local.get 7) (i32.const 9))) (local.set 9 (i32.mul (local.get 8) (i32.const 10))) (local.set 10 (i32.mul (local.get 9) (i32.const 11))) (local.set 11 (i32.mul (local.get 10) (i32.const 12))) (local.set 12 (i32.mul (local.get 11) (i32.const 13))) (local.set 13 (i32.mul (local.get 12) (i32.const 14))) (local.set 14 (i32.mul (local.get 13) (i32.const 15))) (local.set 15 (i32.mul (local.get 14) (i32.const 16)))
    (if (i32.and (local.get 0) (i32.const 1)) (then (throw $e (local.get 15)))))
  ;; 14 values below the region stay on the operand stack across it: they are SSA values from
  ;; before the _setjmp, used after the body and after the landing
  (func (export "live") (param i32) (result i32)
    (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.const 0))
    (i32.add (i32.mul (local.get 0) (i32.const 4)) (i32.const 1))
    (i32.add (i32.mul (local.get 0) (i32.const 5)) (i32.const 2))
    (i32.add (i32.mul (local.get 0) (i32.const 6)) (i32.const 3))
    (i32.add (i32.mul (local.get 0) (i32.const 7)) (i32.const 4))
    (i32.add (i32.mul (local.get 0) (i32.const 8)) (i32.const 5))
    (i32.add (i32.mul (local.get 0) (i32.const 9)) (i32.const 6))
    (i32.add (i32.mul (local.get 0) (i32.const 10)) (i32.const 7))
    (i32.add (i32.mul (local.get 0) (i32.const 11)) (i32.const 8))
    (i32.add (i32.mul (local.get 0) (i32.const 12)) (i32.const 9))
    (i32.add (i32.mul (local.get 0) (i32.const 13)) (i32.const 10))
    (i32.add (i32.mul (local.get 0) (i32.const 14)) (i32.const 11))
    (i32.add (i32.mul (local.get 0) (i32.const 15)) (i32.const 12))
    (i32.add (i32.mul (local.get 0) (i32.const 16)) (i32.const 13))
    (block $h (result i32)
      (try_table (result i32) (catch $e $h) (call $clobber (local.get 0)) (i32.const 0)))
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add)
    (i32.add))
)
"""


@pytest.mark.parametrize("opt_level", [0, 2])
def test_stack_values_below_a_region_survive_the_landing(tmp_path, opt_level):
    g = load(tmp_path, LIVE_VALUES, opt_level=opt_level, name=f"live{opt_level}")
    for x in (4, 5, 1001, 1002):
        caught = x * math.factorial(16) if x & 1 else 0  # the payload, when $clobber threw
        expected = (sum(x * (i + 3) + i for i in range(14)) + caught) & 0xFFFFFFFF
        assert g.exports["live"](x) & 0xFFFFFFFF == expected, x


HOST = """
(module
  (import "host" "tag" (tag $t (param i32 f64)))
  (import "host" "fail" (func $fail (param i32)))
  (import "host" "reenter" (func $reenter (param i32)))
  (func (export "call_fail") (param i32) (result i32 f64)
    (block $h (result i32 f64)
      (try_table (catch $t $h) (call $fail (local.get 0)))
      (i32.const -1) (f64.const 0)))
  (func (export "throw") (param i32) (throw $t (local.get 0) (f64.const 2.5)))
  ;; wasm -> host -> wasm (throws, nothing catches it there) -> host -> caught here
  (func (export "nested") (param i32) (result i32)
    (block $h (result i32 f64)
      (try_table (catch $t $h) (call $reenter (local.get 0)))
      (return (i32.const -1)))
    (drop))
)
"""


def test_host_functions_throw_into_wasm(tmp_path):
    store = Store()
    tag = Tag(store, FuncType((I32, F64), ()))
    calls = []

    def fail(n):
        calls.append(n)
        if n:
            raise WasmException(tag, (n * 2, 0.5))

    def reenter(n):
        g.exports["throw"](n)  # raises the WasmException of the inner entry; it goes on into wasm

    g = load(tmp_path, HOST, {"host": {"tag": tag, "fail": fail, "reenter": reenter}}, store=store)
    assert g.exports["call_fail"](21) == (42, 0.5)
    assert g.exports["call_fail"](0) == (-1, 0.0)
    assert calls == [21, 0]
    assert g.exports["nested"](9) == 9
    with pytest.raises(WasmException) as info:
        g.exports["throw"](3)
    assert info.value.tag is tag and info.value.values == (3, 2.5)
    other = Tag(store, FuncType((I32, F64), ()))  # same type, another tag: not caught by $t

    def fail_other(n):
        raise WasmException(other, (n, 1.0))

    g2 = load(tmp_path, HOST, {"host": {"tag": tag, "fail": fail_other, "reenter": reenter}}, store=store,
              name="m2")
    with pytest.raises(WasmException) as info:
        g2.exports["call_fail"](4)
    assert info.value.tag is other
    assert leftover_exceptions(store) == 0


def test_host_exceptions_wasm_cannot_catch_trap(tmp_path):
    store, elsewhere = Store(), Store()
    tag = Tag(store, FuncType((I32, F64), ()))
    foreign = WasmException(Tag(elsewhere, FuncType((I32, F64), ())), (1, 2.0))
    raised = []

    def fail(n):
        raise raised[n]

    g = load(tmp_path, HOST, {"host": {"tag": tag, "fail": fail, "reenter": print}}, store=store)
    raised[:] = [foreign, WasmException(tag, ("no int", 2.0)), WasmException(tag, (1,)), KeyError("k")]
    with pytest.raises(WasmException) as info:  # another store's tag: passed on as Python's
        g.exports["call_fail"](0)
    assert info.value is foreign
    with pytest.raises(TypeError, match="exception value 1"):
        g.exports["call_fail"](1)
    with pytest.raises(TypeError, match="takes 2 values, got 1"):
        g.exports["call_fail"](2)
    with pytest.raises(KeyError):
        g.exports["call_fail"](3)
    assert leftover_exceptions(store) == 0


def test_a_tag_of_another_type_is_unlinkable(tmp_path):
    store = Store()
    with pytest.raises(wasmbuild.errors.UnlinkableError, match="incompatible import type"):
        load(tmp_path, HOST, {"host": {"tag": Tag(store, FuncType((I32,), ())), "fail": print,
                                       "reenter": print}}, store=store)


THROWER = """
(module
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) (throw $e (local.get 0)))
  ;; catches its own tag only: 1000 + payload, else 0 (catch_all)
  (func (export "catch_own") (param funcref) (result i32)
    (block $all
      (block $h (result i32)
        (try_table (catch $e $h) (catch_all $all)
          (call_indirect (param i32) (i32.const 5) (i32.const 0) (table.set $t (i32.const 0) (local.get 0))))
        (return (i32.const -1)))
      (return (i32.add (i32.const 1000))))
    (i32.const 0))
  (table $t 1 funcref)
  (elem declare func 0)
)
"""
CATCHER = """
(module
  (import "lib" "e" (tag $e (param i32)))
  (import "lib" "throw" (func $throw (param i32)))
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $throw (local.get 0)))
      (i32.const -1)))
)
"""


def test_exceptions_across_modules_of_a_graph_and_tag_identity(tmp_path):
    (tmp_path / "thrower.wasm").write_bytes(wat(THROWER))
    (tmp_path / "catcher.wasm").write_bytes(wat(CATCHER))
    (tmp_path / "graph.toml").write_text(textwrap.dedent('''
        [[step]]
        module = "thrower"
        path = "thrower.wasm"
        [[step]]
        module = "catcher"
        path = "catcher.wasm"
        [[step]]
        instance = "a"
        of = "thrower"
        [[step]]
        instance = "b"
        of = "thrower"
        [[step]]
        instance = "c"
        of = "catcher"
        imports = { lib = "a" }
        [[step]]
        export = "catch"
        from = "c.catch"
        [[step]]
        export = "a"
        from = "a"
        [[step]]
        export = "b"
        from = "b"
    '''))
    image, _ = build_graph(str(tmp_path / "graph.toml"), CompileSettings(opt_level=1))
    (tmp_path / "g.img").write_bytes(image)
    g = wasmbuild.load(str(tmp_path / "g.img"))
    assert g.exports["catch"](7) == 7                  # thrown in a, caught in c by the imported tag
    a, b = g.exports["a"].exports, g.exports["b"].exports
    assert a["e"] is not b["e"]                        # two instantiations, two tags
    assert a["catch_own"](a["throw"]) == 1005          # its own tag (the payload is 5)
    assert b["catch_own"](a["throw"]) == 0             # a's tag is not b's: only catch_all takes it
    with pytest.raises(WasmException) as info:
        b["throw"](1)
    assert info.value.tag is b["e"]


LEGACY = """
(module
  (tag $e0 (param i32))
  (tag $e1)
  (func $throw0 (param i32) (throw $e0 (local.get 0)))
  (func (export "catch") (param i32) (result i32)
    (try (result i32)
      (do (if (local.get 0) (then (call $throw0 (local.get 0)) ) (else (throw $e1))) (i32.const 0))
      (catch $e0 (i32.add (i32.const 100)))
      (catch_all (i32.const 1))))
  ;; rethrow from a catch, caught by the outer try
  (func (export "rethrow") (param i32) (result i32)
    (try (result i32)
      (do (try (do (call $throw0 (local.get 0))) (catch $e0 (drop) (rethrow 0))) (i32.const 0))
      (catch $e0)))
  ;; nested try with delegate: the inner exception skips the middle try's handlers
  (func (export "delegate") (param i32) (result i32)
    (try $outer (result i32)
      (do
        (try (result i32)
          (do
            (try (do (call $throw0 (local.get 0))) (delegate $outer))
            (i32.const 0))
          (catch $e0 (drop) (i32.const -1))))
      (catch $e0 (i32.add (i32.const 1000)))))
  ;; delegate to the function's label: to the caller
  (func $to_caller (param i32) (try (do (call $throw0 (local.get 0))) (delegate 0)))
  (func (export "delegate_out") (param i32) (result i32)
    (try (result i32) (do (call $to_caller (local.get 0)) (i32.const 0)) (catch $e0)))
  (func (export "trap") (result i32)
    (try (result i32) (do (unreachable)) (catch_all (i32.const 1))))
  ;; an exception held by two catch bodies at once (rethrown into a nested try and caught again),
  ;; then rethrown out of both: neither may free it while it is in flight
  (func (export "recatch") (param i32) (result i32)
    (try (result i32)
      (do
        (try (do (throw $e0 (local.get 0)))
          (catch $e0
            (drop)
            (try (do (rethrow 1))
              (catch $e0 (drop) (rethrow 0)))))
        (i32.const 0))
      (catch $e0)))
  ;; the same, delegated out of both catch bodies
  (func (export "recatch_delegate") (param i32) (result i32)
    (try $outer (result i32)
      (do
        (try (do (throw $e0 (local.get 0)))
          (catch $e0
            (drop)
            (try (do (rethrow 1))
              (catch_all (try (do (rethrow 1)) (delegate $outer))))))
        (i32.const 0))
      (catch $e0)))
  (func (export "loop") (param i32) (result i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $sum (i32.add (local.get $sum)
          (try (result i32) (do (call $throw0 (i32.const 2)) (i32.const 0)) (catch $e0))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    (local.get $sum))
)
"""


@pytest.mark.parametrize("opt_level", [0, 2])
def test_legacy_try_catch_rethrow_delegate(tmp_path, opt_level):
    store = Store()
    g = load(tmp_path, LEGACY, store=store, opt_level=opt_level)
    assert g.exports["catch"](5) == 105
    assert g.exports["catch"](0) == 1
    assert g.exports["rethrow"](8) == 8
    assert g.exports["delegate"](3) == 1003
    assert g.exports["delegate_out"](4) == 4
    with pytest.raises(Trap, match="unreachable"):
        g.exports["trap"]()
    for _ in range(1000):
        assert g.exports["recatch"](5) == 5
        assert g.exports["recatch_delegate"](6) == 6
    assert g.exports["loop"](10_000) == 20_000
    assert leftover_exceptions(store) == 0


BOUNDED = """
(module
  (import "env" "probe" (func $probe))
  (tag $e (param i32))
  (func $throw (param i32) (throw $e (local.get 0)))
  ;; a C++-like cleanup pad (catch_all, rethrow) under a catch by tag, n times, then the probe
  (func $cleanup (param i32) (try (do (call $throw (local.get 0))) (catch_all (rethrow 0))))
  (func (export "legacy") (param i32) (result i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $sum (i32.add (local.get $sum)
          (try (result i32) (do (call $cleanup (i32.const 3)) (i32.const 0)) (catch $e))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    (call $probe)
    (local.get $sum))
  (func (export "standard") (param i32) (result i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $sum (i32.add (local.get $sum)
          (block $h (result i32) (try_table (catch $e $h) (call $throw (i32.const 2))) (i32.const 0))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    (call $probe)
    (local.get $sum))
)
"""


def test_exception_objects_are_freed_during_a_long_call(tmp_path):
    store = Store()
    seen = []
    g = load(tmp_path, BOUNDED, {"env": {"probe": lambda: seen.append(leftover_exceptions(store))}}, store=store)
    assert g.exports["standard"](50_000) == 100_000
    assert g.exports["legacy"](50_000) == 150_000
    assert seen == [0, 0]  # while the call still runs, every exception caught has been freed


KEYED = """
(module
  {extra}
  (tag $a (param i32))
  (tag $b (param {b_type}))
  (func (export "f") (result i32)
    (block $all
      (block $h (result i32)
        (try_table (catch $a $h) (catch_all $all) (throw $a (i32.const 1)))
        (return (i32.const 0)))
      (return))
    (i32.const 2)))
"""


def _keys(text: str) -> list[str]:
    from wasmbuild.binary.decode import decode_function
    from wasmbuild.keys import function_key
    from wasmbuild.valid import check_module_level
    m = decode_module(wat(text))
    ctx = check_module_level(m)
    settings = CompileSettings(opt_level=1).resolved()
    return [function_key(ctx, j, decode_function(m, j), settings)[0] for j in range(len(m.bodies))]


def test_cache_keys_name_tags_by_use_not_index():
    base = _keys(KEYED.format(extra="", b_type="i64"))
    assert _keys(KEYED.format(extra="(tag $other (param f32))", b_type="i64")) == base  # a tag inserted before
    assert _keys(KEYED.format(extra="", b_type="f64")) == base  # an unused tag's type changed
    swapped = KEYED.replace("(catch $a $h)", "(catch $b $h)").replace("(throw $a", "(throw $b")
    # another tag of the same type: the same code (its tag.0 is linked to the other tag's slot)
    assert _keys(swapped.format(extra="", b_type="i32")) == base
    both = KEYED.replace("(catch_all $all)", "(catch $b $h) (catch_all $all)")
    assert _keys(both.format(extra="", b_type="i32")) != base  # one more tag referred to


def _function_ir(text: str, j: int = 0) -> str:
    from llvmlite import ir
    from wasmbuild.translate.function import ModuleInfo, translate_function
    from wasmbuild.valid import check_module_level, validate_function
    m = decode_module(wat(text))
    ctx = check_module_level(m)
    lm = ir.Module()
    translate_function(lm, "f", ModuleInfo.from_context(ctx), j, validate_function(ctx, j))
    return str(lm)


def test_only_locals_written_in_a_region_live_in_memory():
    plain = _function_ir("(module (func (param i32) (result i32) (local i32) (local.set 1 (local.get 0))"
                         " (local.get 1)))")
    assert "volatile" not in plain and "setjmp" not in plain  # no region: the IR of before
    text = """(module (tag $e)
      (func (param $a i32) (param $b i32) (result i32) (local $c i32)
        (local.set $c (local.get $a))
        (block $h (try_table (catch_all $h) (local.set $b (i32.const 1)) (throw $e)))
        (try (do) (catch_all (local.set $a (i32.const 2))))
        (i32.add (local.get $a) (i32.add (local.get $b) (local.get $c)))))"""
    code = _function_ir(text)
    volatile = [line for line in code.splitlines() if "volatile" in line]
    allocas = [line.split("=")[0].strip() for line in code.splitlines() if "alloca i32" in line]
    assert len(allocas) == 3  # $a, $b, $c
    # $b is written in a region's body: every access to it is volatile; $a (written only in a
    # catch body) and $c (written before the region) are promoted to registers as usual
    assert len(volatile) == 3 and all(line.endswith(f"* {allocas[1]}") for line in volatile), (volatile, allocas)


def test_features_off_keeps_the_2_0_reasons():
    tag_section = wat("(module (tag $e))")
    legacy = wat("(module (func (try (do))))")
    throw = wat("(module (tag $e) (func (throw $e)))")
    for data, reason, what in ((tag_section, "malformed section id", "the tag section"),
                               (legacy, "illegal opcode 06", "instruction try"),
                               (throw, "malformed section id", "the tag section")):
        with pytest.raises(MalformedError) as info:
            m = decode_module(data, features=frozenset())
            from wasmbuild.binary.decode import check_bodies
            check_bodies(m)
        assert info.value.reason.startswith(reason + ": " + what)
        assert "exception" in info.value.reason
    decode_module(legacy, features=frozenset({"legacy-exceptions"}))


def test_same_results_as_wasmtime(tmp_path):
    wasmtime = pytest.importorskip("wasmtime")
    data = wat(STANDARD)
    config = wasmtime.Config()
    config.wasm_exceptions = True
    engine = wasmtime.Engine(config)
    wstore = wasmtime.Store(engine)
    inst = wasmtime.Instance(wstore, wasmtime.Module(engine, data), [])
    g = load(tmp_path, STANDARD)
    for name, args in (("catch", (0,)), ("catch", (1,)), ("catch", (2,)), ("catch", (3,)), ("rethrow", (1,)),
                       ("catch_all_ref", ()), ("locals", (5,)), ("loop", (1000,))):
        assert g.exports[name](*args) == inst.exports(wstore)[name](wstore, *args), name
    assert list(g.exports["payload"]()) == list(inst.exports(wstore)["payload"](wstore))


# --- random programs against wasmtime ---------------------------------------------------------

class _Program:
    """A random module of standard-encoding exception handling: functions (param i32) (result i32)
    whose bodies nest try_table regions (random clauses, catch_ref/catch_all_ref and throw_ref
    among them), throws, calls of earlier functions, branches and br_table out of regions, returns
    and a trap now and then, with an accumulator local that records the path taken. With `legacy`,
    the same program (the same random choices) in the legacy encoding: try/catch/catch_all, and
    rethrow where the standard one has catch_ref/catch_all_ref and throw_ref."""

    def __init__(self, seed: int, functions: int = 6, legacy: bool = False):
        import random
        self.rng = random.Random(seed)
        self.legacy = legacy
        self.labels = 0
        self.funcs = [self.function(i) for i in range(functions)]

    def label(self) -> str:
        self.labels += 1
        return f"$l{self.labels}"

    def step(self, k: int) -> str:
        return f"(local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (i32.const {k})))"

    def stmt(self, fi: int, depth: int, outer: list[str]) -> str:
        r = self.rng
        choice = r.random()
        if depth <= 0 or choice < 0.25:
            return self.step(r.randrange(1, 100))
        if choice < 0.35:
            return f"(if (i32.and (local.get 0) (i32.const {1 << r.randrange(4)})) (then {self.throw()}))"
        if choice < 0.45 and fi:
            return (f"(local.set $acc (i32.add (local.get $acc) (call $f{r.randrange(fi)} "
                    f"(i32.add (local.get 0) (i32.const {r.randrange(8)})))))")
        if choice < 0.52 and outer:
            target = r.choice(outer)
            cond = f"(i32.and (local.get 0) (i32.const {1 << r.randrange(4)}))"
            if r.random() < 0.5:
                return f"(br_if {target} {cond})"
            other = r.choice(outer)
            return f"(br_table {target} {other} {target} (i32.and (local.get 0) (i32.const 3)))"
        if choice < 0.56:
            return "(if (i32.eq (local.get 0) (i32.const 13)) (then (return (local.get $acc))))"
        if choice < 0.58:
            return "(if (i32.eq (local.get 0) (i32.const 11)) (then (unreachable)))"
        if choice < 0.66:
            inner = [self.stmt(fi, depth - 1, outer) for _ in range(r.randrange(1, 3))]
            return f"(if (i32.and (local.get 0) (i32.const {1 << r.randrange(4)})) (then {' '.join(inner)}))"
        return self.region(fi, depth, outer)

    def throw(self) -> str:
        if self.rng.random() < 0.5:
            return f"(throw $t0 (i32.add (local.get $acc) (i32.const {self.rng.randrange(50)})))"
        return "(throw $t1)"

    def region(self, fi: int, depth: int, outer: list[str]) -> str:
        r = self.rng
        done, c0, c0r, c1, ca, car = (self.label() for _ in range(6))
        kinds = r.sample(["c0", "c0r", "c1", "ca", "car"], r.randrange(0, 4))
        # tag clauses first, then one catch_all at most (what the legacy encoding can say)
        alls = [k for k in kinds if k in ("ca", "car")]
        kinds = [k for k in kinds if k not in ("ca", "car")] + alls[:1]
        clauses = {"c0": f"(catch $t0 {c0})", "c0r": f"(catch_ref $t0 {c0r})", "c1": f"(catch $t1 {c1})",
                   "ca": f"(catch_all {ca})", "car": f"(catch_all_ref {car})"}
        inner_outer = outer + [done]
        body = " ".join(self.stmt(fi, depth - 1, inner_outer) for _ in range(r.randrange(1, 4)))

        def handler(k: int) -> str:
            return " ".join(self.stmt(fi, depth - 2, outer + [done]) for _ in range(r.randrange(0, 2))) + \
                " " + self.step(k)
        rethrow = r.random() < 0.3
        handlers = {k: handler(k) for k in (101, 102, 103, 104, 105)}
        if self.legacy:
            try_label = self.label()
            again = f"(rethrow {try_label})" if rethrow else ""
            bodies = {"c0": f"(catch $t0 (local.set $acc (i32.add (local.get $acc))) {handlers[101]})",
                      "c0r": f"(catch $t0 {again} (local.set $acc (i32.add (local.get $acc))) {handlers[102]})",
                      "c1": f"(catch $t1 {handlers[103]})", "ca": f"(catch_all {handlers[104]})",
                      "car": f"(catch_all {again} {handlers[105]})"}
            return (f"(block {done} (try {try_label} (do {body}) "
                    f"{' '.join(bodies[k] for k in kinds)}))")
        rethrow = "(throw_ref)" if rethrow else "(drop)"
        return f"""(block {done}
  (block {car} (result exnref)
   (block {ca}
    (block {c1}
     (block {c0r} (result i32 exnref)
      (block {c0} (result i32)
       (try_table {' '.join(clauses[k] for k in kinds)} {body})
       (br {done}))
      (local.set $acc (i32.add (local.get $acc))) {handlers[101]} (br {done}))
     {rethrow} (local.set $acc (i32.add (local.get $acc))) {handlers[102]} (br {done}))
    {handlers[103]} (br {done}))
   {handlers[104]} (br {done}))
  {rethrow} {handlers[105]})"""

    def function(self, fi: int) -> str:
        body = " ".join(self.stmt(fi, 4, []) for _ in range(self.rng.randrange(2, 5)))
        return f"(func $f{fi} (export \"f{fi}\") (param i32) (result i32) (local $acc i32) {body} (local.get $acc))"

    def text(self) -> str:
        return "(module (tag $t0 (param i32)) (tag $t1)\n" + "\n".join(self.funcs) + ")"


def _outcome(call):
    try:
        return ("value", call())
    except WasmException as e:
        return ("exception", e.values)
    except Trap as e:
        return ("trap", e.message)


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_match_wasmtime(tmp_path, seed):
    wasmtime = pytest.importorskip("wasmtime")
    program = _Program(seed)
    text = program.text()
    data = wat(text)
    config = wasmtime.Config()
    config.wasm_exceptions = True
    engine = wasmtime.Engine(config)
    module = wasmtime.Module(engine, data)
    image, _ = build_image([ModuleInput("r", data)], CompileSettings(opt_level=2 if seed % 2 else 0))
    (tmp_path / "r.img").write_bytes(image)
    g = wasmbuild.load(str(tmp_path / "r.img"))
    for fi in range(len(program.funcs)):
        for x in range(16):
            wstore = wasmtime.Store(engine)
            inst = wasmtime.Instance(wstore, module, [])
            try:
                expected = ("value", inst.exports(wstore)[f"f{fi}"](wstore, x))
            except wasmtime.Trap as e:
                expected = ("exception",) if "thrown Wasm exception" in str(e) else ("trap",)
            got = _outcome(lambda: g.exports[f"f{fi}"](x))
            assert got[:len(expected)] == expected, (seed, fi, x, got, expected, text)


@pytest.mark.parametrize("seed", range(12))
def test_random_legacy_programs_match_their_standard_form(tmp_path, seed):
    """The legacy encoding of a random program behaves as its standard encoding (checked against
    wasmtime above): same results, same payloads of uncaught exceptions, same traps."""
    loaded = []
    for legacy in (False, True):
        program = _Program(seed, legacy=legacy)
        image, _ = build_image([ModuleInput("r", wat(program.text()))],
                               CompileSettings(opt_level=2 if seed % 2 else 0))
        (tmp_path / f"r{legacy}.img").write_bytes(image)
        loaded.append(wasmbuild.load(str(tmp_path / f"r{legacy}.img")))
    standard, legacy_form = loaded
    for fi in range(len(program.funcs)):
        for x in range(16):
            expected = _outcome(lambda: standard.exports[f"f{fi}"](x))
            assert _outcome(lambda: legacy_form.exports[f"f{fi}"](x)) == expected, (seed, fi, x, program.text())


class _LegacyProgram:
    """A random module of nested legacy try/catch/catch_all/delegate with rethrows of enclosing
    catch bodies (also from nested try bodies and handlers), throws and branches out of catch
    bodies and calls: what the holds of legacy catch bodies must survive."""

    def __init__(self, seed: int, functions: int = 5):
        import random
        self.rng = random.Random(seed)
        self.n = 0
        self.funcs = [self.function(i) for i in range(functions)]

    def label(self) -> str:
        self.n += 1
        return f"$l{self.n}"

    def cond(self) -> str:
        return f"(i32.and (local.get 0) (i32.const {1 << self.rng.randrange(5)}))"

    def stmt(self, fi, depth, labels, catches) -> str:
        r = self.rng
        c = r.random()
        if depth <= 0 or c < 0.2:
            return f"(local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (i32.const {r.randrange(1, 90)})))"
        if c < 0.3:
            thrown = (f"(throw $t0 (i32.add (local.get $acc) (i32.const {r.randrange(9)})))" if r.random() < 0.6
                      else "(throw $t1)")
            return f"(if {self.cond()} (then {thrown}))"
        if c < 0.38 and fi:
            return f"(local.set $acc (i32.add (local.get $acc) (call $f{r.randrange(fi)} (i32.add (local.get 0) (i32.const {r.randrange(5)})))))"
        if c < 0.48 and catches:
            return f"(if {self.cond()} (then (rethrow {r.choice(catches)})))"
        if c < 0.55 and labels:
            return f"(br_if {r.choice(labels)} {self.cond()})"
        if c < 0.6:
            return "(if (i32.eq (local.get 0) (i32.const 21)) (then (return (local.get $acc))))"
        body_labels = labels
        t = self.label()
        inner = labels + [t]
        body = " ".join(self.stmt(fi, depth - 1, inner, catches) for _ in range(r.randrange(1, 3)))
        if r.random() < 0.35:
            target = r.choice(labels) if labels and r.random() < 0.8 else None
            delegate = f"(delegate {target})" if target else f"(delegate {len(body_labels)})"
            return f"(try {t} (do {body}) {delegate})"
        handlers = []
        for kind in r.sample(["t0", "t1", "all"], r.randrange(1, 4)):
            h = " ".join(self.stmt(fi, depth - 1, inner, catches + [t]) for _ in range(r.randrange(0, 3)))
            if kind == "t0":
                handlers.append(("0", f"(catch $t0 (local.set $acc (i32.add (local.get $acc))) {h})"))
            elif kind == "t1":
                handlers.append(("0", f"(catch $t1 {h})"))
            else:
                handlers.append(("1", f"(catch_all {h})"))
        handlers.sort(key=lambda kh: kh[0])  # catch_all last
        return f"(try {t} (do {body}) {' '.join(h for _, h in handlers)})"

    def function(self, fi) -> str:
        body = " ".join(self.stmt(fi, 5, [], []) for _ in range(self.rng.randrange(2, 5)))
        return f'(func $f{fi} (export "f{fi}") (param i32) (result i32) (local $acc i32) {body} (local.get $acc))'

    def text(self) -> str:
        return "(module (tag $t0 (param i32)) (tag $t1)\n" + "\n".join(self.funcs) + ")"


@pytest.mark.parametrize("seed", range(16))
def test_random_legacy_nesting_frees_nothing_still_in_use(tmp_path, seed, monkeypatch):
    """The same random legacy program built twice: as is, and with exceptions never freed before
    the call returns (every legacy catch marks its exception escaped): the results must agree, and
    nothing may be left over after a call."""
    from wasmbuild.translate import exceptions as eh
    program = _LegacyProgram(seed)
    data = wat(program.text())
    settings = CompileSettings(opt_level=2 if seed % 2 else 0)
    images = [build_image([ModuleInput("r", data)], settings)[0]]
    with monkeypatch.context() as m:
        m.setattr(eh, "_add_hold", eh._mark_escaped)
        m.setattr(eh, "_release", lambda t, exn, holds, thrown=None: None if holds else
                  t.b.call(eh.declare_release(t.m), [t.vmctx, exn, ir_const(0), eh.NULL]))
        images.append(build_image([ModuleInput("r", data)], settings)[0])
    assert images[0] != images[1]
    stores = [Store(), Store()]
    loaded = []
    for i, (image, store) in enumerate(zip(images, stores)):
        (tmp_path / f"r{i}.img").write_bytes(image)
        loaded.append(wasmbuild.load(str(tmp_path / f"r{i}.img"), store=store))
    for fi in range(len(program.funcs)):
        for x in range(32):
            got = [_outcome(lambda: g.exports[f"f{fi}"](x)) for g in loaded]
            assert got[0] == got[1], (seed, fi, x, got, program.text())
            assert leftover_exceptions(stores[0]) == 0


def ir_const(v: int):
    from llvmlite import ir
    return ir.Constant(ir.IntType(64), v)
