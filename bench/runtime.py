"""Benchmark: run time of WASI programs natively, under wasmtime and under wasmbuild.

Takes: the C programs of `bench/programs/` (and `samples/nbody/nbody.c`), their prebuilt WASI
modules `bench/programs/<name>.wasm` (see bench/programs/README.md for how they are built), gcc
(optional: without it the native column is skipped, with a note), the `wasmtime` Python package
and this repository's wasmbuild. Options:
  --only NAME       run only this program (repeatable, or comma-separated names)
  --size-scale F    multiply each program's work by about F (its size argument is scaled by
                    F ** (1 / p), p being how the work grows with it: 3 for matmul's N, ...)
  --repeat N        runs per runtime and program, the best (smallest) time is kept (default 3)
  --clock wall|cpu  wall-clock time (default) or CPU time of the run (less sensitive to a busy
                    machine)
  --cpu native      compile for this machine's CPU and features (as wasmtime does) instead of
                    wasmbuild's portable default (x86-64-v2)
Gives: on stdout, a build table (wasm size; wasmbuild build time at O2 with an empty cache in a
temporary directory and all cores; wasmtime's compile time, for comparison) and the run table:
program, native s, wasmtime s, wasmbuild s, wasmbuild/wasmtime, wasmbuild/native, with the
geometric means of both ratios. Exit status 1 if any program's output (stdout and exit code)
differs between the runtimes or a run fails, with the expected and actual output printed.

What is timed: native, the whole process (`gcc -O2` binary, built into a temporary directory);
wasmtime, only the `_start` call (the Module is compiled, and the instance made, beforehand);
wasmbuild, only `Wasi.run(_start)` (the image is built and loaded beforehand, as `api.run_wasi`
does it). Each runtime's runs happen in a child process (`--worker`), so that a crash or trap in
one is reported instead of ending the benchmark; the program's stdout goes to memory or a file.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROGRAMS_DIR = os.path.join(HERE, "programs")
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


CPU = {"cpu": "", "features": ""}  # what wasmbuild compiles for: "" = its portable default


@dataclass
class Program:
    name: str
    source: str       # C source, relative to the repository root
    size: int         # default size argument (native run of roughly 0.3-1 s)
    power: float      # work grows like size ** power

    @property
    def wasm(self) -> str:
        return os.path.join(PROGRAMS_DIR, self.name + ".wasm")

    def size_arg(self, scale: float) -> str:
        return str(max(1, round(self.size * scale ** (1.0 / self.power))))


PROGRAMS = [
    Program("sort", "bench/programs/sort.c", 3_000_000, 1),
    Program("hash", "bench/programs/hash.c", 96, 1),
    Program("matmul", "bench/programs/matmul.c", 800, 3),
    Program("cmark", "bench/programs/cmark.c", 4000, 1),
    Program("sieve", "bench/programs/sieve.c", 200_000_000, 1),
    Program("interp", "bench/programs/interp.c", 80_000, 1),
    Program("pidigits", "bench/programs/pidigits.c", 16_000, 2),
    Program("nbody", "samples/nbody/nbody.c", 5_000_000, 1),
    # The same C built with -msimd128: the wasm uses v128 instructions where clang vectorised.
    Program("matmul_simd", "bench/programs/matmul.c", 800, 3),
    Program("sieve_simd", "bench/programs/sieve.c", 200_000_000, 1),
]


# --- child processes: run a module `repeat` times, time only the program ----------------------------
def _clock(kind: str):
    return time.process_time if kind == "cpu" else time.perf_counter


def _worker_wasmtime(job: dict) -> dict:
    import wasmtime
    engine = wasmtime.Engine()
    module = wasmtime.Module.deserialize_file(engine, job["compiled"])
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    clock = _clock(job["clock"])
    runs = []
    for i in range(job["repeat"]):
        out_path = os.path.join(job["tmp"], f"wasmtime-{i}.out")
        err_path = os.path.join(job["tmp"], f"wasmtime-{i}.err")
        store = wasmtime.Store(engine)
        config = wasmtime.WasiConfig()
        config.argv = [job["name"]] + job["args"]
        config.stdout_file = out_path
        config.stderr_file = err_path
        store.set_wasi(config)
        instance = linker.instantiate(store, module)
        start = instance.exports(store)["_start"]
        code, error = 0, None
        t0 = clock()
        try:
            start(store)
        except wasmtime.ExitTrap as e:
            code = e.code
        except Exception as e:  # a trap
            code, error = None, f"{type(e).__name__}: {e}"
        seconds = clock() - t0
        del instance, start, store
        with open(out_path, "rb") as f:
            out = f.read()
        with open(err_path, "rb") as f:
            err = f.read()
        runs.append({"seconds": seconds, "code": code, "error": error,
                     "stdout": base64.b64encode(out).decode(), "stderr": base64.b64encode(err).decode()})
    return {"runs": runs}


def _worker_wasmbuild(job: dict) -> dict:
    import io
    from wasmbuild.api import load
    from wasmbuild.loader.runtime import Store
    from wasmbuild.wasi import NAMESPACE, Wasi
    clock = _clock(job["clock"])
    runs = []
    for _ in range(job["repeat"]):
        out, err = io.BytesIO(), io.BytesIO()
        # as api.run_wasi, but timing only wasi.run(start)
        wasi = Wasi([job["name"]] + job["args"], None, None, io.BytesIO(), out, err)
        store = Store()
        instance = load(job["image"], {NAMESPACE: wasi.namespace(store)}, store)
        start = instance.exports.get("_start")
        memory = instance.exports.get("memory")
        if start is None or memory is None:
            raise SystemExit("not a WASI program: no _start or memory export")
        wasi.bind(memory)
        code, error = None, None
        t0 = clock()
        try:
            code = wasi.run(start)
        except Exception as e:  # a trap
            error = f"{type(e).__name__}: {e}"
        seconds = clock() - t0
        wasi.close()
        runs.append({"seconds": seconds, "code": code, "error": error,
                     "stdout": base64.b64encode(out.getvalue()).decode(),
                     "stderr": base64.b64encode(err.getvalue()).decode()})
    return {"runs": runs}


def worker_main(job_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    result = (_worker_wasmtime if job["runtime"] == "wasmtime" else _worker_wasmbuild)(job)
    with open(job["result"], "w") as f:
        json.dump(result, f)


# --- the parent -------------------------------------------------------------------------------------
@dataclass
class Outcome:
    seconds: float | None = None   # best of the runs; None when a run failed
    code: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    error: str | None = None       # why the runtime gave no usable result


def _best(runs: list[dict]) -> Outcome:
    """The best time of runs that must all agree (else the first disagreeing run is the outcome)."""
    first = runs[0]
    for r in runs:
        o = Outcome(r["seconds"], r["code"], base64.b64decode(r["stdout"]), base64.b64decode(r["stderr"]),
                    r["error"])
        if r["error"] or (r["code"], r["stdout"]) != (first["code"], first["stdout"]):
            o.seconds = None
            o.error = o.error or "runs of the same program disagree"
            return o
    best = min(runs, key=lambda r: r["seconds"])
    return Outcome(best["seconds"], first["code"], base64.b64decode(first["stdout"]),
                   base64.b64decode(first["stderr"]))


def run_worker(runtime: str, job: dict, tmp: str) -> Outcome:
    job_path = os.path.join(tmp, f"{runtime}-job.json")
    job = dict(job, runtime=runtime, result=os.path.join(tmp, f"{runtime}-result.json"), tmp=tmp)
    if os.path.exists(job["result"]):
        os.unlink(job["result"])
    with open(job_path, "w") as f:
        json.dump(job, f)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", job_path],
                          capture_output=True, env=env)
    if proc.returncode != 0 or not os.path.exists(job["result"]):
        detail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        return Outcome(error=f"{runtime} worker failed (exit status {proc.returncode}): " + " | ".join(detail))
    with open(job["result"]) as f:
        return _best(json.load(f)["runs"])


def run_native(exe: str, args: list[str], repeat: int, clock: str, tmp: str) -> Outcome:
    runs = []
    out_path, err_path = os.path.join(tmp, "native.out"), os.path.join(tmp, "native.err")
    for _ in range(repeat):
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen([exe] + args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        with open(out_path, "rb") as f:
            stdout = f.read()
        with open(err_path, "rb") as f:
            stderr = f.read()
        runs.append({"seconds": usage.ru_utime + usage.ru_stime if clock == "cpu" else wall,
                     "code": proc.returncode, "error": None,
                     "stdout": base64.b64encode(stdout).decode(), "stderr": base64.b64encode(stderr).decode()})
    return _best(runs)


def build_native(prog: Program, tmp: str) -> tuple[str | None, str | None]:
    gcc = shutil.which("gcc")
    if gcc is None:
        return None, "gcc not found"
    exe = os.path.join(tmp, prog.name)
    proc = subprocess.run([gcc, "-O2", os.path.join(ROOT, prog.source), "-o", exe, "-lm"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None, "gcc failed: " + proc.stderr.strip()
    return exe, None


def build_wasmbuild(prog: Program, tmp: str, jobs: int) -> tuple[str, float, str]:
    from wasmbuild.build import ModuleInput, build_image
    from wasmbuild.cache import LocalStore
    from wasmbuild.compile import CompileSettings
    with open(prog.wasm, "rb") as f:
        data = f.read()
    cache = LocalStore(os.path.join(tmp, "cache"))
    t0 = time.perf_counter()
    image, report = build_image([ModuleInput(prog.name, data, prog.wasm)],
                                CompileSettings(opt_level=2, cpu=CPU["cpu"], features=CPU["features"]),
                                jobs, cache=cache)
    seconds = time.perf_counter() - t0
    path = os.path.join(tmp, prog.name + ".img")
    with open(path, "wb") as f:
        f.write(image)
    return path, seconds, f"{report.functions}"


def compile_wasmtime(prog: Program, tmp: str) -> tuple[str, float]:
    import wasmtime
    engine = wasmtime.Engine()
    t0 = time.perf_counter()
    module = wasmtime.Module.from_file(engine, prog.wasm)
    seconds = time.perf_counter() - t0
    path = os.path.join(tmp, prog.name + ".cwasm")
    with open(path, "wb") as f:
        f.write(module.serialize())
    return path, seconds


def show(o: Outcome) -> str:
    text = o.stdout.decode(errors="replace")
    lines = [f"    exit code: {o.code}"]
    if o.error:
        lines.append(f"    error: {o.error}")
    lines += ["    stdout: " + line for line in text.splitlines()] or ["    stdout: (empty)"]
    if o.stderr:
        lines += ["    stderr: " + line for line in o.stderr.decode(errors="replace").splitlines()]
    return "\n".join(lines)


def fmt(x: float | None, spec: str = "{:.3f}") -> str:
    return "-" if x is None else spec.format(x)


def geomean(xs: list[float]) -> float | None:
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run time of WASI programs: native, wasmtime, wasmbuild.")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only this program (repeatable or comma-separated)")
    ap.add_argument("--size-scale", type=float, default=1.0, metavar="F",
                    help="multiply each program's work by about F")
    ap.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per runtime, best kept (3)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="what is timed (wall)")
    ap.add_argument("--cpu", default="", help="CPU wasmbuild compiles for: '' (the portable default, "
                    "x86-64-v2) or 'native' (this machine's CPU and features, as wasmtime does)")
    args = ap.parse_args(argv)
    if args.size_scale <= 0 or args.repeat < 1:
        ap.error("--size-scale must be positive and --repeat at least 1")
    CPU["cpu"] = args.cpu  # "native" is resolved by CompileSettings

    only = {n for item in args.only for n in item.split(",") if n}
    unknown = only - {p.name for p in PROGRAMS}
    if unknown:
        ap.error(f"unknown program(s): {', '.join(sorted(unknown))}; "
                 f"known: {', '.join(p.name for p in PROGRAMS)}")
    programs = [p for p in PROGRAMS if not only or p.name in only]
    for p in programs:
        if not os.path.exists(p.wasm):
            print(f"error: {p.wasm} is missing; build it as bench/programs/README.md says", file=sys.stderr)
            return 2

    jobs = os.cpu_count() or 1
    failures = []
    builds, rows = [], []
    native_note = None
    print(f"runtime benchmark: {len(programs)} programs, size scale {args.size_scale:g}, "
          f"best of {args.repeat}, {args.clock} clock, {jobs} build jobs", flush=True)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-bench-") as tmp:
        for p in programs:
            ptmp = os.path.join(tmp, p.name)
            os.mkdir(ptmp)
            size = p.size_arg(args.size_scale)
            exe, why = build_native(p, ptmp)
            if why:
                native_note = why
            image, build_s, funcs = build_wasmbuild(p, ptmp, jobs)
            compiled, wt_compile_s = compile_wasmtime(p, ptmp)
            builds.append((p.name, os.path.getsize(p.wasm), funcs, build_s, wt_compile_s))

            job = {"name": p.name, "args": [size], "repeat": args.repeat, "clock": args.clock,
                   "image": image, "compiled": compiled}
            native = run_native(exe, [size], args.repeat, args.clock, ptmp) if exe else None
            wasmtime_o = run_worker("wasmtime", job, ptmp)
            wasmbuild_o = run_worker("wasmbuild", job, ptmp)

            # every runtime must give exactly the reference output (native's, else wasmtime's)
            ref_name, ref = ("native", native) if native is not None else ("wasmtime", wasmtime_o)
            ok = True
            for name, o in (("native", native), ("wasmtime", wasmtime_o), ("wasmbuild", wasmbuild_o)):
                if o is None:
                    continue
                if o.error or (o.code, o.stdout) != (ref.code, ref.stdout) or ref.error:
                    ok = False
                    failures.append(p.name)
                    print(f"\n*** MISMATCH: {p.name} {size}: {name} differs from {ref_name} ***", flush=True)
                    print(f"  expected ({ref_name}):\n{show(ref)}\n  actual ({name}):\n{show(o)}\n", flush=True)
            if ok:
                first = ref.stdout.decode(errors="replace").splitlines()
                print(f"  {p.name} {size}: outputs agree ({len(ref.stdout)} bytes, exit {ref.code}; "
                      f"last line: {first[-1] if first else ''})", flush=True)
            rows.append((p.name, size, native.seconds if native else None,
                         wasmtime_o.seconds if ok else None, wasmbuild_o.seconds if ok else None))

    print("\nbuild (wasmbuild: O2, empty cache, %d jobs; wasmtime: Module compile, default config)" % jobs)
    print(f"{'program':<10} {'wasm bytes':>10} {'functions':>14} {'wasmbuild s':>12} {'wasmtime s':>11}")
    for name, nbytes, funcs, bs, ws in builds:
        print(f"{name:<10} {nbytes:>10} {funcs:>14} {bs:>12.3f} {ws:>11.3f}")

    print(f"\nrun ({args.clock} clock, best of {args.repeat}; wasm runtimes time only _start)")
    print(f"{'program':<10} {'size':>10} {'native s':>9} {'wasmtime s':>11} {'wasmbuild s':>12} "
          f"{'wb/wasmtime':>12} {'wb/native':>10}")
    wt_ratios, nat_ratios = [], []
    for name, size, nat, wt, wb in rows:
        r_wt = wb / wt if wb and wt else None
        r_nat = wb / nat if wb and nat else None
        if r_wt:
            wt_ratios.append(r_wt)
        if r_nat:
            nat_ratios.append(r_nat)
        print(f"{name:<10} {size:>10} {fmt(nat):>9} {fmt(wt):>11} {fmt(wb):>12} "
              f"{fmt(r_wt, '{:.2f}x'):>12} {fmt(r_nat, '{:.2f}x'):>10}")
    print(f"{'geomean':<10} {'':>10} {'':>9} {'':>11} {'':>12} "
          f"{fmt(geomean(wt_ratios), '{:.2f}x'):>12} {fmt(geomean(nat_ratios), '{:.2f}x'):>10}")
    if native_note:
        print(f"note: native runs skipped ({native_note})")
    if failures:
        print(f"\nFAILED: output differs or a run failed for: {', '.join(dict.fromkeys(failures))}")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
