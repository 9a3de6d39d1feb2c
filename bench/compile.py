"""Benchmark whole-module compilation: wasmbuild's `build_image` against wasmtime's `Module`.

Takes `--functions N` (default 1000), `--seed S` (default 0) and `--repeat R` (default 1: the best of
R builds is reported for wasmbuild; wasmtime is always the best of 3). Generates a module with
`wasmbuild.testing.gen.generate_module(N, S)`, then prints:

- for wasmbuild at O0 and O2, with jobs=1 and jobs=2 (no cache): the build time, functions/s and
  the seconds per phase from the `BuildReport` (per-function phases are summed over all
  functions, so with jobs=2 they can exceed the wall time);
- wasmtime's compile time for the same bytes (`wasmtime.Module(engine, data)`, a fresh `Engine`
  each time so nothing is cached), with its default parallel compilation and with it turned off;
- the ratios ours / wasmtime (above 1: wasmbuild is slower).

    python bench/compile.py
    python bench/compile.py --functions 200 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.testing.gen import generate_module  # noqa: E402


def wasmtime_compile(data: bytes, parallel: bool, repeat: int = 3) -> float | None:
    try:
        import wasmtime
    except ImportError:
        return None
    best = float("inf")
    for _ in range(repeat):
        config = wasmtime.Config()
        config.parallel_compilation = parallel
        engine = wasmtime.Engine(config)
        start = time.perf_counter()
        wasmtime.Module(engine, data)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    data, stats = generate_module(args.functions, args.seed)
    inputs = [ModuleInput("gen", data)]
    print(f"module: {stats.functions} functions, {stats.instructions} instructions, {stats.size} bytes "
          f"(generate_module({args.functions}, {args.seed})); {os.cpu_count()} CPUs")

    # Compile the runtime helpers and trampolines once, so that no configuration pays for them
    # alone (build_image keeps them per process and settings).
    for opt in (0, 2):
        build_image([ModuleInput("warm", generate_module(1, 0)[0])], CompileSettings(opt_level=opt))

    ours: dict[tuple[int, int], float] = {}
    for opt in (0, 2):
        for jobs in (1, 2):
            best, best_report = float("inf"), None
            for _ in range(args.repeat):
                start = time.perf_counter()
                image, report = build_image(inputs, CompileSettings(opt_level=opt), jobs=jobs)
                elapsed = time.perf_counter() - start
                if elapsed < best:
                    best, best_report = elapsed, report
            ours[(opt, jobs)] = best
            phases = ", ".join(f"{k} {v:.3f}" for k, v in best_report.seconds.items())
            print(f"wasmbuild O{opt} jobs={jobs}: {best:7.3f} s  {stats.functions / best:8.1f} functions/s  "
                  f"image {len(image)} bytes")
            print(f"    phases (s): {phases}")

    wt = {parallel: wasmtime_compile(data, parallel) for parallel in (True, False)}
    if wt[True] is None:
        print("wasmtime: not installed (pip install wasmtime): no comparison")
        return
    for parallel in (True, False):
        label = "parallel (default)" if parallel else "one thread"
        print(f"wasmtime {label}: {wt[parallel]:7.3f} s  {stats.functions / wt[parallel]:8.1f} functions/s  "
              "(best of 3)")
    print("ratios (wasmbuild time / wasmtime time):")
    for (opt, jobs), seconds in ours.items():
        print(f"    O{opt} jobs={jobs}: {seconds / wt[True]:7.1f}x wasmtime parallel, "
              f"{seconds / wt[False]:7.1f}x wasmtime one thread")


if __name__ == "__main__":
    main()
