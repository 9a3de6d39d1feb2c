"""Benchmark whole-module compilation: wasmbuild's `build_image` against wasmtime's `Module`.

Two modes. With `--corpus`, the real programs of `bench/corpus/` (fetch them first with
`bench/corpus/fetch.py`; see its README); without it, one generated module.

Corpus mode takes `[--only NAME ...] [--large] [--jobs J] [--opt L] [--no-edit] [--timeout S]
[--json FILE]` (defaults: the corpus proper, -j 2, -O 2). Each program's file is first checked
against its pinned SHA-256. Then, per program, every build in a fresh subprocess
(`bench/corpus/measure_build.py`):

- cold: `build_image` with no cache; its seconds, its CPU time (build process and workers, user +
  system: the work done, whatever else the machine runs), functions/s, and the peak RSS of any
  one compile process (the larger of the build process's own ru_maxrss and its RUSAGE_CHILDREN
  ru_maxrss, taken after the worker pool has been joined);
- wasmtime: `wasmtime.Module(wasmtime.Engine(config), data)` with a fresh engine and its default
  parallel compilation, best of 3; the ratio cold / wasmtime (above 1: wasmbuild is slower);
- one-function edit (unless `--no-edit`): a build into an empty temporary cache (the "warm-up",
  itself a cold build with a cache: its seconds are shown too), then the same module with one
  function's body changed (an `i32.const` immediate of a mid-sized function, its LEB length kept;
  the edited module is checked with `wasmbuild check`), built with that cache: its seconds, the
  functions compiled and taken from the cache (the `BuildReport`'s), its peak RSS, and the
  ratio to wasmtime's full compile.
A program whose build fails is reported as failed, with its one-line error. Then tables of all
programs and the geometric means over the programs that built (`--json` also writes the results).

    python bench/compile.py --corpus
    python bench/compile.py --corpus --only png zstd --no-edit

Generated mode takes `--functions N` (default 1000), `--seed S` (default 0) and `--repeat R`
(default 1: the best of R builds is reported for wasmbuild; wasmtime is always the best of 3).
Generates a module with `wasmbuild.testing.gen.generate_module(N, S)`, then prints:

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
import importlib.metadata
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(BENCH, "corpus"))

import fetch as corpus  # noqa: E402  (bench/corpus/fetch.py: the pinned programs)
from wasmbuild.binary import decode_function, decode_module  # noqa: E402
from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.contract import opcodes as ops  # noqa: E402
from wasmbuild.testing.gen import generate_module  # noqa: E402

MEASURE_BUILD = os.path.join(BENCH, "corpus", "measure_build.py")


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


def generated_main(args) -> None:
    """Generated mode: one module from `generate_module`, at O0 and O2, jobs 1 and 2."""
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


# ---------------------------------------------------------------------------------------------
# Corpus mode
# ---------------------------------------------------------------------------------------------

@dataclass
class Edit:
    """A one-function edit of a module: `data` is the edited module."""
    data: bytes
    function: int     # defined function index (imports not counted)
    body_bytes: int   # the size of its body
    old: int          # the i32.const immediate before and after
    new: int


def one_function_edit(data: bytes) -> Edit:
    """Change one `i32.const` of a mid-sized function: from the function of median body size
    outwards, the first one that has an `i32.const` gets the middle one of them flipped in its
    lowest bit. Bit 0 of a signed LEB128 is bit 0 of its first byte, so the encoding keeps its
    length (and the module its layout); any i32 is a valid constant, so the module stays valid."""
    module = decode_module(data)
    by_size = sorted((body.end - body.offset, j) for j, body in enumerate(module.bodies))
    middle = len(by_size) // 2
    for k in sorted(range(len(by_size)), key=lambda k: (abs(k - middle), k)):
        size, j = by_size[k]
        consts = [(imm, offset) for op, imm, offset in decode_function(module, j).instrs if op == ops.I32_CONST]
        if not consts:
            continue
        old, offset = consts[len(consts) // 2]
        edited = bytearray(data)
        edited[offset + 1] ^= 1  # the first byte of the immediate, after the opcode byte
        new = old ^ 1
        after = decode_function(decode_module(bytes(edited)), j).instrs
        if (ops.I32_CONST, new, offset) not in after:
            raise RuntimeError(f"the edit of defined function {j} at offset {offset:#x} did not give {new}")
        return Edit(bytes(edited), j, size, old, new)
    raise RuntimeError("no defined function has an i32.const to edit")


def wasmbuild_check(path: str) -> str | None:
    """None if `python -m wasmbuild check` accepts the module at `path`, else its first line."""
    result = subprocess.run([sys.executable, "-m", "wasmbuild", "check", path], capture_output=True, text=True,
                            cwd=REPO, env=corpus.python_env())
    if result.returncode == 0:
        return None
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0] if lines else f"exit status {result.returncode}"


def measured_build(path: str, opt: int, jobs: int, cache_dir: str | None, timeout: float) -> dict:
    """Build the module at `path` in a fresh subprocess (`measure_build.py`, in a session of its
    own so that a time-out stops its workers too); gives its JSON result, or {"error": one line}."""
    command = [sys.executable, MEASURE_BUILD, path, "-O", str(opt), "-j", str(jobs)]
    if cache_dir:
        command += ["--cache-dir", cache_dir]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, env=corpus.python_env())
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"error": f"timed out after {timeout:g} s (stopped)"}
    except BaseException:  # Ctrl-C: stop the build and its workers, then stop
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise
    lines = out.strip().splitlines()
    if lines:
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
    if child.returncode < 0:
        return {"error": f"the build process died of signal {signal.Signals(-child.returncode).name}"
                         + (" (out of memory?)" if child.returncode == -signal.SIGKILL else "")}
    detail = err.strip().splitlines()
    return {"error": detail[-1] if detail else f"the build process exited with status {child.returncode}"}


def wasmtime_default(data: bytes) -> dict:
    """wasmtime's compile time of `data` with its default (parallel) compilation, best of 3."""
    try:
        seconds = wasmtime_compile(data, parallel=True)
    except Exception as e:  # wasmtime refuses the module: say so, the row still shows ours
        return {"error": f"wasmtime: {str(e).strip().splitlines()[0]}"}
    return {"error": "wasmtime not installed (pip install wasmtime)"} if seconds is None else {"seconds": seconds}


def bench_program(program, args) -> dict:
    """Every measurement of one program; failures are recorded as {"error": ...} per phase."""
    path = corpus.wasm_path(program)
    with open(path, "rb") as f:
        data = f.read()
    result = {"name": program.name, "package": program.spec, "language": program.language, "bytes": len(data)}
    print(f"{program.name}: {len(data)} bytes, {program.language}", flush=True)
    result["cold"] = cold = measured_build(path, args.opt, args.jobs, None, args.timeout)
    print(f"    cold:     {_phase_line(cold)}", flush=True)
    result["wasmtime"] = wt = wasmtime_default(data)
    print(f"    wasmtime: {wt['seconds']:.3f} s (best of 3)" if "seconds" in wt else f"    {wt['error']}", flush=True)
    if args.no_edit:
        return result
    with tempfile.TemporaryDirectory(prefix="wasmbuild-corpus-") as tmp:
        cache_dir = os.path.join(tmp, "cache")
        result["warmup"] = warm = measured_build(path, args.opt, args.jobs, cache_dir, args.timeout)
        print(f"    warm-up:  {_phase_line(warm)}", flush=True)
        if "error" in warm:
            result["edit"] = {"error": "no warm cache (the warm-up build failed)"}
            return result
        try:
            edit = one_function_edit(data)
        except Exception as e:
            result["edit"] = {"error": f"could not make the edit: {e}"}
            return result
        # The same file name as the original, so the module's name is the same as in the warm-up.
        os.makedirs(os.path.join(tmp, "edited"))
        edited_path = os.path.join(tmp, "edited", os.path.basename(path))
        with open(edited_path, "wb") as f:
            f.write(edit.data)
        invalid = wasmbuild_check(edited_path)
        if invalid:
            result["edit"] = {"error": f"the edited module is refused: {invalid}"}
            return result
        result["edit"] = edited = measured_build(edited_path, args.opt, args.jobs, cache_dir, args.timeout)
        edited.update(function=edit.function, body_bytes=edit.body_bytes, old=edit.old, new=edit.new)
        print(f"    edit:     {_phase_line(edited)} (defined function {edit.function}, {edit.body_bytes} "
              f"body bytes: i32.const {edit.old} -> {edit.new})", flush=True)
    return result


def _phase_line(r: dict) -> str:
    if "error" in r:
        return f"failed: {r['error']}"
    return (f"{r['seconds']:.2f} s ({r['cpu_seconds']:.1f} s CPU), {r['compiled']} compiled, "
            f"{r['cached']} cached, peak RSS {r['peak_rss_mb']:.0f} MB")


def geometric_mean(values: list[float]) -> float | None:
    if not values:
        return None
    if any(v <= 0 for v in values):
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _ok(r: dict | None) -> bool:
    return r is not None and "error" not in r


def _cell(value, fmt: str, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}{fmt}}"


def _table_head(title: str, header: str) -> str:
    """Print a table's title and column header; gives the rule that goes under it and at its end."""
    rule = "-" * len(header)
    print(f"\n{title}\n{header}\n{rule}")
    return rule


def print_tables(results: list[dict], args) -> None:
    """The cold-build table and the one-function-edit table, each with its geometric means."""
    rule = _table_head(
        f"Cold builds, -O{args.opt} -j {args.jobs}, no cache (CPU s: the build's processes, user + system; "
        f"peak RSS: the largest compile process; wasmtime: default parallel compilation, best of 3)",
        f"{'program':18} {'language':8} {'MB':>6} {'functions':>9} {'cold s':>8} {'CPU s':>8} "
        f"{'func/s':>7} {'peak RSS MB':>11} {'wasmtime s':>10} {'ours/wasmtime':>13}")
    columns: dict[str, list[float]] = {k: [] for k in ("MB", "functions", "cold", "cpu", "rate", "rss", "wt",
                                                       "ratio")}
    failed = []
    for r in results:
        cold, wt = r["cold"], r["wasmtime"]
        language = r["language"].split(" ")[0].rstrip(",")
        mb = r["bytes"] / 1e6
        wt_s = wt.get("seconds")
        if not _ok(cold):
            print(f"{r['name']:18} {language:8} {mb:6.2f} {'':>9} {'failed':>8} {'':>8} {'':>7} {'':>11} "
                  f"{_cell(wt_s, '.3f', 10)} {'':>13}")
            failed.append(f"{r['name']} (cold): {cold['error']}")
            continue
        rate = cold["functions"] / cold["seconds"]
        ratio = cold["seconds"] / wt_s if wt_s else None
        print(f"{r['name']:18} {language:8} {mb:6.2f} {cold['functions']:9} {cold['seconds']:8.1f} "
              f"{cold['cpu_seconds']:8.1f} {rate:7.1f} "
              f"{cold['peak_rss_mb']:11.0f} {_cell(wt_s, '.3f', 10)} {_cell(ratio, '.1f', 12)}{'x' if ratio else ' '}")
        if "error" in wt:
            failed.append(f"{r['name']} (wasmtime): {wt['error']}")
        columns["MB"].append(mb)
        columns["functions"].append(cold["functions"])
        columns["cold"].append(cold["seconds"])
        columns["cpu"].append(cold["cpu_seconds"])
        columns["rate"].append(rate)
        columns["rss"].append(cold["peak_rss_mb"])
        if ratio:
            columns["wt"].append(wt_s)
            columns["ratio"].append(ratio)
    g = {k: geometric_mean(v) for k, v in columns.items()}
    built = len(columns["cold"])
    print(rule)
    label = f"geomean ({built} of {len(results)})"
    print(f"{label:27} {_cell(g['MB'], '.2f', 6)} {_cell(g['functions'], '.0f', 9)} {_cell(g['cold'], '.1f', 8)} "
          f"{_cell(g['cpu'], '.1f', 8)} {_cell(g['rate'], '.1f', 7)} {_cell(g['rss'], '.0f', 11)} "
          f"{_cell(g['wt'], '.3f', 10)} {_cell(g['ratio'], '.1f', 12)}{'x' if g['ratio'] else ''}")

    if not args.no_edit:
        rule = _table_head(
            f"One-function edit, -O{args.opt} -j {args.jobs}: warm-up = a cold build into an empty cache; "
            f"edit = one i32.const changed, rebuilt with that cache",
            f"{'program':18} {'function':>8} {'body B':>7} {'warm-up s':>9} {'edit s':>7} {'compiled':>8} "
            f"{'cached':>7} {'peak RSS MB':>11} {'edit/wasmtime':>13}")
        columns = {k: [] for k in ("warm", "edit", "compiled", "rss", "ratio")}
        for r in results:
            warm, edit, wt_s = r.get("warmup"), r.get("edit"), r["wasmtime"].get("seconds")
            warm_s = warm["seconds"] if _ok(warm) else None
            if not _ok(edit):
                print(f"{r['name']:18} {'':>8} {'':>7} {_cell(warm_s, '.1f', 9)} {'failed':>7}")
                if warm is not None and not _ok(warm):
                    failed.append(f"{r['name']} (warm-up): {warm['error']}")
                failed.append(f"{r['name']} (edit): {edit['error'] if edit else 'not run'}")
                continue
            ratio = edit["seconds"] / wt_s if wt_s else None
            print(f"{r['name']:18} {edit['function']:8} {edit['body_bytes']:7} {warm_s:9.1f} {edit['seconds']:7.2f} "
                  f"{edit['compiled']:8} {edit['cached']:7} {edit['peak_rss_mb']:11.0f} "
                  f"{_cell(ratio, '.2f', 12)}{'x' if ratio else ' '}")
            columns["warm"].append(warm_s)
            columns["edit"].append(edit["seconds"])
            columns["compiled"].append(edit["compiled"])
            columns["rss"].append(edit["peak_rss_mb"])
            if ratio:
                columns["ratio"].append(ratio)
        g = {k: geometric_mean(v) for k, v in columns.items()}
        print(rule)
        label = f"geomean ({len(columns['edit'])} of {len(results)})"
        print(f"{label:34} {_cell(g['warm'], '.1f', 9)} {_cell(g['edit'], '.2f', 7)} "
              f"{_cell(g['compiled'], '.1f', 8)} {'':>7} {_cell(g['rss'], '.0f', 11)} "
              f"{_cell(g['ratio'], '.2f', 12)}{'x' if g['ratio'] else ''}")
    if failed:
        print()
        print("Failed:")
        for line in failed:
            print(f"    {line}")


def corpus_main(args) -> int:
    tiers = {corpus.CORPUS} | ({corpus.LARGE} if args.large else set())
    try:
        programs = corpus.selected(args.only, tiers)
    except corpus.FetchError as e:
        print(f"compile.py: {e}", file=sys.stderr)
        return 2
    missing = [p.name for p in programs if not corpus.is_fetched(p)]
    if missing:
        print(f"compile.py: not fetched, or not the pinned bytes: {', '.join(missing)}\n"
              f"    run: python3 bench/corpus/fetch.py{' --large' if args.large else ''}"
              f"{' --only ' + ' '.join(missing) if args.only else ''}", file=sys.stderr)
        return 2
    try:
        wasmtime_version = importlib.metadata.version("wasmtime")
    except importlib.metadata.PackageNotFoundError:
        wasmtime_version = "not installed"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    print(f"corpus: {len(programs)} programs; -O{args.opt} -j {args.jobs}; {os.cpu_count()} CPUs; "
          f"wasmbuild {commit.stdout.strip() or '(no git)'}; wasmtime {wasmtime_version}", flush=True)
    results = [bench_program(p, args) for p in programs]
    print_tables(results, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"opt": args.opt, "jobs": args.jobs, "cpus": os.cpu_count(), "commit": commit.stdout.strip(),
                       "wasmtime": wasmtime_version, "programs": results}, f, indent=1)
        print(f"\nresults written to {args.json}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="store_true", help="benchmark the real programs of bench/corpus/")
    corpus_args = parser.add_argument_group("corpus mode")
    corpus_args.add_argument("--only", nargs="+", metavar="NAME", help="these programs (names from fetch.py)")
    corpus_args.add_argument("--large", action="store_true", help="add the programs above 8 MB")
    corpus_args.add_argument("--jobs", type=int, default=2, help="compile workers (default 2)")
    corpus_args.add_argument("--opt", type=int, default=2, choices=range(4), help="opt level (default 2)")
    corpus_args.add_argument("--no-edit", action="store_true", help="skip the one-function edit (and its warm-up)")
    corpus_args.add_argument("--timeout", type=float, default=3600, help="seconds per build (default 3600)")
    corpus_args.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    generated = parser.add_argument_group("generated mode")
    generated.add_argument("--functions", type=int, default=1000)
    generated.add_argument("--seed", type=int, default=0)
    generated.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.corpus:
        return corpus_main(args)
    given = [flag for flag in sys.argv[1:] if flag.split("=")[0] in
             ("--only", "--large", "--jobs", "--opt", "--no-edit", "--timeout", "--json")]
    if given:
        parser.error(f"{', '.join(given)}: only with --corpus")
    generated_main(args)
    return 0

if __name__ == "__main__":
    sys.exit(main())
