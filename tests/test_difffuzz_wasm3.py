"""The Wasm 3.0 parts of the differential test (`wasmbuild.testing.difffuzz`), on a module written for them.

Takes one hand-written module with what smith's "wasm3" profile makes and wasmtime's Python API
cannot read itself: an exported tag, an exnref global, a 64-bit exnref table, a shared and a 64-bit
memory, functions that throw uncaught, return an exnref or take one. Runs every call of its
`call_plan` in wasmtime and in wasmbuild (`WasmtimeRun`, `WasmbuildRun`, as `check_seed` does).

Gives pass/fail on: both engines observing the same after every call; the uncaught exception being
the outcome "exception" in both (not a trap, not an error of the harness); exnref values seen as
"null" and "ref" where they are; the profiles alternating with `seed // 2`, each module of a profile
valid for its features and the "wasm3" one using them; `difference` telling an exception from a
trap. Needs wasmtime and wasm-tools (skipped without them).
"""

from __future__ import annotations

import pytest
from conftest import need, need_module

from wasmbuild.testing import difffuzz
from wasmbuild.testing.difffuzz import Observation, difference

MODULE = """
(module
  (tag $t (export "tag") (param i32))
  (global (export "difffuzz:fuel") (mut i32) (i32.const 500))  ;; as difffuzz exports smith's
  (global $g (export "g") (mut exnref) (ref.null exn))
  (table $tab (export "tab") i64 3 4 exnref)
  (memory $shared (export "shared") 1 2 shared)
  (memory $m64 (export "m64") i64 1 2)
  (func (export "throws") (param i32) (result i32)
    local.get 0 throw $t)
  (func $caught (export "caught") (param i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (local.get 0) (throw $t))
      (ref.null exn)))
  (func (export "keep") (param i32)
    (global.set $g (call $caught (local.get 0)))
    (table.set $tab (i64.const 1) (global.get $g))
    (i32.atomic.store $shared (i32.const 8) (local.get 0))
    (i64.store $m64 (i64.const 16) (i64.extend_i32_u (local.get 0))))
  (func (export "pass") (param exnref i32) (result i32)
    (i32.add (local.get 1) (ref.is_null (local.get 0))))
)
"""


@pytest.fixture(scope="module")
def tools():
    need_module("wasmtime")
    try:
        difffuzz.wasm_tools()
    except difffuzz.ToolMissing as e:
        need("wasm-tools", None, str(e))


def _module(tmp_path) -> bytes:
    out = tmp_path / "module.wasm"
    made = difffuzz._wasm_tools(["parse", "-", "-o", str(out)], MODULE.encode())
    assert made.returncode == 0, made.stderr.decode()
    return out.read_bytes()


def test_exceptions_exnref_and_new_memories_observed_alike(tools, tmp_path):
    import wasmtime
    data = _module(tmp_path)
    iface = difffuzz.interface(data)
    assert iface.tables == {"tab": ("exnref", "i64")} and iface.memories == ["shared", "m64"]
    assert set(iface.wrapped_functions) == {"caught", "pass"} and set(iface.wrapped_globals) == {"g"}
    reference = difffuzz.WasmtimeRun(wasmtime.Module(difffuzz.wasmtime_engine(), data), iface)
    ours = difffuzz.WasmbuildRun(data, iface, 2, str(tmp_path))
    assert difference(reference.instantiation, ours.instantiation) == ""
    assert reference.instantiation.globals["g"] == "null"
    seen = {}
    for call in difffuzz.call_plan(iface):
        expected, got = reference.call(call), ours.call(call)
        assert difference(expected, got) == "", f"{call}: {expected} vs {got}"
        seen[call.export] = got
    assert seen["throws"].outcome == ["exception", None]
    assert seen["caught"].outcome == ["ok", ["ref"]]
    assert seen["keep"].globals["g"] == "ref"  # and the table holds it at 1 (compared above)
    assert seen["keep"].tables["tab"] != reference.instantiation.tables["tab"]
    assert seen["keep"].memories["m64"] != reference.instantiation.memories["m64"]
    assert seen["keep"].memories["shared"] != reference.instantiation.memories["shared"]
    assert seen["pass"].outcome[0] == "ok"


def test_an_exception_of_the_start_function_is_the_instantiations_outcome(tools, tmp_path):
    import wasmtime
    text = MODULE.replace('(tag $t (export "tag") (param i32))',
                          '(tag $t (export "tag") (param i32)) (func $start i32.const 3 throw $t) (start $start)')
    assert text != MODULE
    out = tmp_path / "start.wasm"
    assert difffuzz._wasm_tools(["parse", "-", "-o", str(out)], text.encode()).returncode == 0
    data = out.read_bytes()
    iface = difffuzz.interface(data)
    reference = difffuzz.WasmtimeRun(wasmtime.Module(difffuzz.wasmtime_engine(), data), iface)
    ours = difffuzz.WasmbuildRun(data, iface, 0, str(tmp_path))
    assert reference.instantiation.outcome == ours.instantiation.outcome == ["exception", None]


def test_wasmtime_names_the_3_0_trap_kinds_as_it_can():
    kind, abi = difffuzz.wasmbuild_trap_kind, difffuzz.abi
    assert kind(abi.TRAP_UNALIGNED_ATOMIC) == difffuzz.WASMTIME_TRAP_KINDS["HEAP_MISALIGNED"]
    # wasmtime's NULL_REFERENCE is also that of a throw_ref of null
    assert kind(abi.TRAP_NULL_EXCEPTION) == difffuzz.WASMTIME_TRAP_KINDS["NULL_REFERENCE"]


def test_difference_tells_an_exception_from_a_trap_and_a_result():
    exception, trap = Observation(["exception", None]), Observation(["trap", None])
    assert difference(exception, Observation(["exception", None])) == ""
    assert "wasmbuild trap" in difference(exception, trap)
    assert "wasmbuild ok" in difference(exception, Observation(["ok", []]))


def test_profiles_alternate_and_hold_what_they_say(tools):
    assert [difffuzz.profile(s) for s in range(8)] == ["wasm2"] * 2 + ["wasm3"] * 2 + ["wasm2"] * 2 + ["wasm3"] * 2
    wasm3 = [difffuzz.smith_module(s) for s in (2, 3, 6, 7, 10, 11)]  # each validated for its profile
    printed = "".join(difffuzz._wasm_tools(["print", "-"], m).stdout.decode() for m in wasm3 if m)
    for construct in ("shared", "i64 ", "tag", "exnref", "atomic", "try_table", "return_call"):
        assert construct in printed, f"no {construct!r} in six wasm3 modules"
    assert "(memory (;2;)" in printed  # several memories
