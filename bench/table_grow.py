"""Benchmark: one `table.grow` of many elements from wasm, wasmbuild against wasmtime.

Takes `--elements N` (default 2**23, below wasmbuild's table limit of 10,000,000 elements; with more,
wasmbuild's `table.grow` answers -1, and so is printed) and `--runs R` (default 3). Builds one module
(with wasmbuild at O2, and with wasmtime from the same bytes) with an unbounded funcref table and two
exports: `grow_null(n)` grows it by n null elements, `grow_func(n)` by n references to a function.

Each measurement happens in a child process (a fresh store, so the table starts empty): the CPU and
wall-clock time of the one `grow_*(N)` call, and how much more memory the process has resident after
it than before (Linux's /proc/self/statm). Prints, per runtime and init value, the result of the
call (the old size, or -1), the best of R runs of each figure and the ratio wasmbuild / wasmtime of
CPU time (when both calls gave the same result).

    python bench/table_grow.py
    python bench/table_grow.py --elements 67108864 --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.loader.runtime import TABLE_ELEMENTS_LIMIT  # noqa: E402
from wasmbuild.testing import gen  # noqa: E402

EXPORTS = ("grow_null", "grow_func")


def module_bytes() -> bytes:
    """(table 0 funcref); grow_null(n) / grow_func(n): table.grow by n with ref.null / ref.func."""
    mb = gen.ModuleBuilder()
    table = mb.table(gen.FUNCREF, 0)
    target = mb.func((), (), gen.END, export="target")  # exported, so ref.func may name it
    table_grow = b"\xfc" + gen.uleb(15) + gen.uleb(table)
    mb.func((gen.I32,), (gen.I32,), gen.ref_null() + gen.local_get(0) + table_grow + gen.END, export="grow_null")
    mb.func((gen.I32,), (gen.I32,), gen.ref_func(target) + gen.local_get(0) + table_grow + gen.END,
            export="grow_func")
    return mb.build()


def _rss_bytes() -> int:
    """The process's resident memory now (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _timed(call) -> dict:
    rss, cpu, wall = _rss_bytes(), time.process_time(), time.perf_counter()
    result = call()
    return {"result": result, "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
            "rss_mib": (_rss_bytes() - rss) / (1 << 20)}


def worker(runtime: str, path: str, export: str, elements: int) -> dict:
    """In a child process: one grow of a fresh instance's table, measured."""
    if runtime == "wasmtime":
        import wasmtime
        engine = wasmtime.Engine()
        store = wasmtime.Store(engine)
        with open(path, "rb") as f:
            module = wasmtime.Module(engine, f.read())
        func = wasmtime.Instance(store, module, []).exports(store)[export]
        return _timed(lambda: func(store, elements))
    import wasmbuild
    func = wasmbuild.load(path).exports[export]
    return _timed(lambda: func(elements))


def measure(runtime: str, path: str, export: str, elements: int, runs: int) -> dict:
    """The best of `runs` child processes' figures (and the result of the call)."""
    best: dict = {}
    for _ in range(runs):
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", runtime, path, export,
                               str(elements)], capture_output=True, text=True)
        if proc.returncode:
            return {"error": f"exit status {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1]}"}
        got = json.loads(proc.stdout)
        best = got if not best else {k: (min(v, got[k]) if k != "result" else v) for k, v in best.items()}
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=1 << 23)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = module_bytes()
    try:
        import wasmtime  # noqa: F401
        runtimes = ("wasmbuild", "wasmtime")
    except ImportError:
        runtimes = ("wasmbuild",)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-bench-") as tmp:
        paths = {"wasmbuild": os.path.join(tmp, "table_grow.img"), "wasmtime": os.path.join(tmp, "table_grow.wasm")}
        with open(paths["wasmbuild"], "wb") as f:
            f.write(build_image([ModuleInput("table_grow", data)], CompileSettings(opt_level=2))[0])
        with open(paths["wasmtime"], "wb") as f:
            f.write(data)
        figures = {(rt, export): measure(rt, paths[rt], export, args.elements, args.runs)
                   for export in EXPORTS for rt in runtimes}
    print(f"table.grow by {args.elements} elements, one call in a fresh store, best of {args.runs} runs")
    print(f"{'runtime':10} {'export':10} {'result':>8} {'CPU s':>8} {'wall s':>8} {'RSS +MiB':>9}")
    for (rt, export), fig in figures.items():
        if "error" in fig:
            print(f"{rt:10} {export:10} failed: {fig['error']}")
            continue
        print(f"{rt:10} {export:10} {fig['result']:8} {fig['cpu']:8.3f} {fig['wall']:8.3f} {fig['rss_mib']:9.1f}")
    if "wasmtime" not in runtimes:
        print("wasmtime: not installed (pip install wasmtime): no ratios")
        return
    for export in EXPORTS:
        ours, theirs = figures[("wasmbuild", export)], figures[("wasmtime", export)]
        if "error" in ours or "error" in theirs:
            continue
        if ours["result"] != theirs["result"]:
            print(f"{export}: no ratio, the results differ "
                  f"(wasmbuild's table limit is {TABLE_ELEMENTS_LIMIT} elements)")
        else:
            print(f"CPU time {export}, wasmbuild / wasmtime: {ours['cpu'] / max(theirs['cpu'], 1e-6):.2f}x")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
    else:
        main()
