"""Benchmark the cost of calling a component export from Python: wasmbuild against wasmtime-py.

Takes `--calls N` (default 20000) and `--runs R` (default 5). Loads the small component
../shared/components/programs/wit/compose/provider.wasm (its `wb:demo/math` interface:
`greeting(string) -> string`, a hosted call: one core call of its adapter, component/hosted.py;
and `gcd(u64, u64) -> u64`, one core call of the export), built by wasmbuild (default settings, local cache) and compiled by wasmtime from
the same bytes, and prints microseconds per call, wall and CPU (the best of R runs of N calls each), and the
ratio wasmbuild / wasmtime (wall).

    python bench/component_call.py
    python bench/component_call.py --calls 20000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import wasmbuild  # noqa: E402
from wasmbuild.testing import components_dir  # noqa: E402

PROVIDER = os.path.join(components_dir(), "programs", "wit", "compose", "provider.wasm")


def best_per_call(fn, arg_sets, calls: int, runs: int) -> tuple[float, float]:
    """Microseconds per call, wall and CPU (this process's): the best of `runs` runs of `calls`
    calls of `fn(*args)` each."""
    best = best_cpu = float("inf")
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn(*arg_sets)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return best / calls * 1e6, best_cpu / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    app = wasmbuild.load(PROVIDER)  # built with the default settings through the local cache
    math = app.exports["wb:demo/math"].exports
    greeting, gcd = math["greeting"], math["gcd"]
    assert greeting("world") == "hello, world" and gcd(12, 18) == 6
    results = {"wasmbuild greeting(\"world\")": best_per_call(greeting, ("world",), args.calls, args.runs),
               "wasmbuild gcd(12, 18)": best_per_call(gcd, (12, 18), args.calls, args.runs)}

    try:
        import wasmtime
        import wasmtime.component as wc
    except ImportError:
        wasmtime = None
    if wasmtime is not None:
        engine = wasmtime.Engine()
        store = wasmtime.Store(engine)
        with open(PROVIDER, "rb") as f:
            component = wc.Component(engine, f.read())
        inst = wc.Linker(engine).instantiate(store, component)
        interface = inst.get_export_index(store, "wb:demo/math")
        wt_greeting = inst.get_func(store, inst.get_export_index(store, "greeting", interface))
        wt_gcd = inst.get_func(store, inst.get_export_index(store, "gcd", interface))
        assert wt_greeting(store, "world") == "hello, world" and wt_gcd(store, 12, 18) == 6
        results["wasmtime greeting(\"world\")"] = best_per_call(wt_greeting, (store, "world"), args.calls, args.runs)
        results["wasmtime gcd(12, 18)"] = best_per_call(wt_gcd, (store, 12, 18), args.calls, args.runs)

    print(f"{args.calls} calls per run, best of {args.runs} runs")
    for name, (us, cpu) in results.items():
        print(f"{name:36} {us:8.3f} us/call ({cpu:.3f} us CPU)")
    if wasmtime is None:
        print("wasmtime: not installed (pip install wasmtime): no ratios")
        return
    print("ratios (wasmbuild / wasmtime):")
    for call in ("greeting(\"world\")", "gcd(12, 18)"):
        print(f"    {call:20} {results['wasmbuild ' + call][0] / results['wasmtime ' + call][0]:6.2f}x")


if __name__ == "__main__":
    main()
