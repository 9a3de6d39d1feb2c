"""Calls of a component's lifted exports from Python through what the component layer keeps per
lifted function (component/runtime.py: `_lifted_call`, `_options`) and the core fast paths.

Takes ../shared/components/programs/wit/compose/provider.wasm (`wb:demo/math`: `greeting(string)
-> string` with realloc and post-return, `gcd(u64, u64) -> u64`), loaded by wasmbuild and, as the
reference, by wasmtime-py's component API.

Gives pass/fail on: the same answers as wasmtime for many calls in a row (short, empty, non-ASCII
and long strings, one long enough to grow the component's memory, then short ones again; u64
extremes), bad arguments refused with the parameter named and the instance usable afterwards, and
two instances in two stores called from two threads at once.
"""

from __future__ import annotations

import math
import os
import threading

import pytest
from conftest import need_module

import wasmbuild
from wasmbuild.component.canonical import ComponentValueError
from wasmbuild.testing import components_dir

PROVIDER = os.path.join(components_dir(), "programs", "wit", "compose", "provider.wasm")


def math_exports():
    return wasmbuild.load(PROVIDER).exports["wb:demo/math"].exports


@pytest.fixture(scope="module")
def reference():
    """greeting and gcd of wasmtime-py, as functions of their arguments."""
    wasmtime = need_module("wasmtime")
    import wasmtime.component as wc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    with open(PROVIDER, "rb") as f:
        component = wc.Component(engine, f.read())
    inst = wc.Linker(engine).instantiate(store, component)
    interface = inst.get_export_index(store, "wb:demo/math")
    greeting = inst.get_func(store, inst.get_export_index(store, "greeting", interface))
    gcd = inst.get_func(store, inst.get_export_index(store, "gcd", interface))
    return (lambda s: greeting(store, s)), (lambda a, b: gcd(store, a, b))


NAMES = ["world", "", "é", "naïve ☃ 𝄞", "x" * 1000, "y" * 70_000, "z", "world"]
PAIRS = [(12, 18), (0, 0), (0, 7), (2**64 - 1, 3), (2**64 - 1, 2**64 - 2), (2**63, 2**62), (1, 2**64 - 1)]


def test_answers_match_wasmtime_call_after_call(reference):
    wt_greeting, wt_gcd = reference
    exports = math_exports()
    greeting, gcd = exports["greeting"], exports["gcd"]
    for _ in range(3):  # the first call finds what later ones reuse
        for name in NAMES:
            assert greeting(name) == wt_greeting(name) == "hello, " + name
        for a, b in PAIRS:
            assert gcd(a, b) == wt_gcd(a, b) == math.gcd(a, b)


def test_bad_arguments_name_the_parameter_and_leave_the_instance_usable():
    exports = math_exports()
    greeting, gcd = exports["greeting"], exports["gcd"]
    for args, where in [((-1, 1), "`a`"), ((1, 2**64), "`b`"), ((1.0, 2), "`a`")]:
        with pytest.raises(ComponentValueError, match=where):
            gcd(*args)
    with pytest.raises(ComponentValueError, match="`name`"):
        greeting(5)
    with pytest.raises(ComponentValueError, match="takes 1 arguments, not 2"):
        greeting("a", "b")
    assert gcd(21, 14) == 7 and greeting("again") == "hello, again"


def test_two_instances_on_two_threads():
    errors, done = [], {}

    def work(k):
        try:
            exports = math_exports()
            ok = True
            for i in range(500):
                ok &= exports["gcd"](k * i, k) == k
                ok &= exports["greeting"](f"{k}:{i}") == f"hello, {k}:{i}"
            done[k] = ok
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in (5, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and done == {5: True, 9: True}
