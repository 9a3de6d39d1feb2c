"""Differential fuzzing of wasmbuild against wasmtime on many `wasm-tools smith` modules; prints the figures.

Takes `--count N` seeds (default 200) from `--start SEED` (default 0), built at `-O LEVEL` (default 2)
in `-j J` worker processes (default 1), each seed allowed `--timeout` seconds (default 120). The
machinery is `wasmbuild.testing.difffuzz` (shared with tests/test_difffuzz.py): smith's module of
the seed (its profile, "wasm2" or "wasm3", by the seed: `difffuzz.profile`), every exported function
called with fixed arguments in both engines, results, traps, uncaught exceptions, globals, memories
and tables compared.

Gives, on stdout: a line for each seed that did not match (mismatch, crash or timeout: the seed,
the call with its arguments and what differed, both observations) with its module saved as
`bench/out/difffuzz/seed-<SEED>-O<LEVEL>.wasm` (and a `.txt` beside it); then the figures: modules,
compared, matches, mismatches, crashes, timeouts, calls (by outcome), the statuses by profile,
skipped by reason, seconds.
Exits 1 if anything did not match. A seed is run again on its own with
`--start SEED --count 1 -O LEVEL`. Progress goes to stderr every 100 modules.

    python bench/difffuzz.py --count 1000 -O 2 -j 2
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from wasmbuild.testing import difffuzz  # noqa: E402

OUT_DIR = os.path.join(ROOT, "bench", "out", "difffuzz")


def save(result: difffuzz.SeedResult) -> str:
    """Write the seed's module and the account of what happened under OUT_DIR; gives the module's path."""
    os.makedirs(OUT_DIR, exist_ok=True)
    stem = os.path.join(OUT_DIR, f"seed-{result.seed}-O{result.opt_level}")
    data = difffuzz.smith_module(result.seed)
    if data is not None:
        with open(stem + ".wasm", "wb") as f:
            f.write(data)
    with open(stem + ".txt", "w") as f:
        f.write(result.describe() + "\n")
    return stem + ".wasm"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=200, help="number of seeds (default 200)")
    ap.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("-O", dest="opt_level", type=int, default=2, choices=range(4), help="optimisation level")
    ap.add_argument("-j", dest="jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per seed (default 120)")
    args = ap.parse_args(argv)
    try:
        difffuzz.wasm_tools()
        difffuzz.wasmtime_engine()
    except difffuzz.ToolMissing as e:
        print(e, file=sys.stderr)
        return 2

    began = time.perf_counter()
    statuses, skipped, outcomes = collections.Counter(), collections.Counter(), collections.Counter()
    by_profile = collections.defaultdict(collections.Counter)
    calls = wrapped_calls = unnamed_traps = 0
    seeds = range(args.start, args.start + args.count)
    for done, result in enumerate(difffuzz.run_seeds(seeds, args.opt_level, args.jobs, args.timeout), 1):
        statuses[result.status] += 1
        by_profile[result.profile or difffuzz.profile(result.seed)][result.status] += 1
        calls += result.calls
        wrapped_calls += result.wrapped_calls
        unnamed_traps += result.unnamed_traps
        outcomes.update(result.outcomes)
        if result.status == "skipped":
            skipped[result.reason] += 1
        elif result.status != "match":
            print(f"{result.status.upper()}: {result.describe()}\n  module saved: {save(result)}", flush=True)
        if done % 100 == 0:
            print(f"... {done} modules, {time.perf_counter() - began:.0f} s, {dict(statuses)}",
                  file=sys.stderr, flush=True)
    seconds = time.perf_counter() - began

    failures = statuses["mismatch"] + statuses["crash"] + statuses["timeout"]
    print(f"modules            {args.count} (seeds {args.start}..{args.start + args.count - 1}, -O{args.opt_level}, "
          f"{args.jobs} workers)")
    print(f"compared           {args.count - statuses['skipped']}")
    print(f"matches            {statuses['match']}")
    print(f"mismatches         {statuses['mismatch']}")
    print(f"crashes            {statuses['crash']}")
    print(f"timeouts           {statuses['timeout']}")
    by_outcome = ", ".join(f"{kind} {n}" for kind, n in outcomes.most_common())
    print(f"calls              {calls} ({wrapped_calls} through the v128 wrapper; {by_outcome})")
    print(f"unnamed trap kinds {unnamed_traps} (traps in both engines whose kind one did not name: not compared)")
    for name in sorted(by_profile):
        print(f"  profile {name:10} {', '.join(f'{s} {n}' for s, n in sorted(by_profile[name].items()))}")
    print(f"skipped            {statuses['skipped']}")
    for reason, n in skipped.most_common():
        print(f"  {reason:40} {n}")
    print(f"seconds            {seconds:.0f} ({args.count / seconds:.1f} modules/s)")
    if failures:
        print(f"FAILED: {failures} seeds did not match; modules and accounts under {os.path.relpath(OUT_DIR)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
