"""Benchmark the cost of crossing between Python and wasm: wasmbuild against wasmtime.

Takes `--calls N` (default 20000) and `--runs R` (default 5). Builds one small module (with
wasmbuild at O2, and with wasmtime from the same bytes) and prints, as microseconds per call (the
best of R runs of N calls each) and the ratio wasmbuild / wasmtime:

- Python -> wasm: calling the exported `add(i32, i32) -> i32` with (1, 2), through wasmbuild's
  `Function.__call__` (Python numbers) and `Function.call_bits` (raw bits), and wasmtime's
  `Func.__call__(store, 1, 2)` (the `Func` looked up once from `instance.exports(store)["add"]`);
- wasm -> host: one export runs a loop of N calls to an imported Python function `f(i32) -> i32`,
  so the time per iteration is one wasm -> Python -> wasm round trip.

    python bench/call.py
    python bench/call.py --calls 20000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import wasmbuild  # noqa: E402
from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.testing import gen  # noqa: E402


def module_bytes() -> bytes:
    """add(i32, i32) -> i32; spin(n): n calls of the import env.f(i32) -> i32, summed."""
    mb = gen.ModuleBuilder()
    f = mb.import_func("env", "f", (gen.I32,), (gen.I32,))
    mb.func((gen.I32, gen.I32), (gen.I32,), gen.local_get(0) + gen.local_get(1) + gen.OP["i32.add"] + gen.END,
            export="add")
    # (local $acc i32) block loop: if n == 0 break; acc += f(n); n -= 1; continue
    body = (gen.block() + gen.loop()
            + gen.local_get(0) + gen.OP["i32.eqz"] + gen.br_if(1)
            + gen.local_get(1) + gen.local_get(0) + gen.call(f) + gen.OP["i32.add"] + gen.local_set(1)
            + gen.local_get(0) + gen.i32_const(1) + gen.OP["i32.sub"] + gen.local_set(0)
            + gen.br(0) + gen.END + gen.END + gen.local_get(1) + gen.END)
    mb.func((gen.I32,), (gen.I32,), body, [(1, gen.I32)], export="spin")
    return mb.build()


def best_per_call(fn, calls: int, runs: int) -> float:
    """Microseconds per call: the best of `runs` runs of `fn(calls)`."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn(calls)
        best = min(best, time.perf_counter() - start)
    return best / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = module_bytes()

    with tempfile.TemporaryDirectory(prefix="wasmbuild-bench-") as tmp:
        path = os.path.join(tmp, "call.img")
        with open(path, "wb") as f:
            f.write(build_image([ModuleInput("call", data)], CompileSettings(opt_level=2))[0])
        inst = wasmbuild.load(path, {"env": {"f": lambda x: x + 1}})
    add, spin = inst.exports["add"], inst.exports["spin"]
    assert add(1, 2) == 3 and spin(10) == sum(range(2, 12))

    def ours_call(n):
        for _ in range(n):
            add(1, 2)

    def ours_bits(n):
        call_bits = add.call_bits
        for _ in range(n):
            call_bits([1, 2])

    results = {"wasmbuild add(1, 2)": best_per_call(ours_call, args.calls, args.runs),
               "wasmbuild add.call_bits([1, 2])": best_per_call(ours_bits, args.calls, args.runs),
               "wasmbuild wasm->host round trip": best_per_call(spin, args.calls, args.runs)}

    try:
        import wasmtime
    except ImportError:
        wasmtime = None
    if wasmtime is not None:
        engine = wasmtime.Engine()
        store = wasmtime.Store(engine)
        module = wasmtime.Module(engine, data)
        host = wasmtime.Func(store, wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()]),
                             lambda x: x + 1)
        exports = wasmtime.Instance(store, module, [host]).exports(store)
        wt_add, wt_spin = exports["add"], exports["spin"]
        assert wt_add(store, 1, 2) == 3 and wt_spin(store, 10) == sum(range(2, 12))

        def wt_call(n):
            for _ in range(n):
                wt_add(store, 1, 2)

        results["wasmtime add(store, 1, 2)"] = best_per_call(wt_call, args.calls, args.runs)
        results["wasmtime wasm->host round trip"] = best_per_call(lambda n: wt_spin(store, n), args.calls, args.runs)

    print(f"{args.calls} calls per run, best of {args.runs} runs")
    for name, us in results.items():
        print(f"{name:36} {us:8.3f} us/call")
    if wasmtime is None:
        print("wasmtime: not installed (pip install wasmtime): no ratios")
        return
    print("ratios (wasmbuild / wasmtime):")
    print(f"    Python->wasm call:      {results['wasmbuild add(1, 2)'] / results['wasmtime add(store, 1, 2)']:6.2f}x "
          f"(call_bits: {results['wasmbuild add.call_bits([1, 2])'] / results['wasmtime add(store, 1, 2)']:.2f}x)")
    print(f"    wasm->host round trip:  "
          f"{results['wasmbuild wasm->host round trip'] / results['wasmtime wasm->host round trip']:6.2f}x")


if __name__ == "__main__":
    main()
