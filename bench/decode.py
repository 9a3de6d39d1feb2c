"""Benchmark the front end on a large generated module: how fast it decodes and validates.

Takes `--functions N` (default 20000), `--seed S` (default 0), `--repeat R` (default 1: the best of R
runs is reported) and `--out FILE` (also write the generated module there). Generates the module
deterministically with `wasmbuild.testing.gen.generate_module` (varied bodies: arithmetic, loops with
br_if, blocks, br_table, direct and indirect calls, loads and stores, globals), checks that it
validates and that the decoder sees as many instructions as the generator wrote, then prints the
module size, functions and instructions, and for each phase its time, MB/s and functions/s:

- decode_module: the module structure (function bodies are only located, not decoded);
- check_bodies: decoding every function body;
- validate_module: module-level checks plus decoding and validating every body.

    python bench/decode.py                    # 20,000 functions
    python bench/decode.py --functions 2000 --out /tmp/gen.wasm
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wasmbuild.binary import check_bodies, decode_module  # noqa: E402
from wasmbuild.testing.gen import generate_module  # noqa: E402
from wasmbuild.valid import check_module_level, validate_function, validate_module  # noqa: E402


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--functions", type=int, default=20_000, help="defined functions (default 20000)")
    ap.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    ap.add_argument("--repeat", type=int, default=1, help="report the best of this many runs")
    ap.add_argument("--out", default=None, help="also write the generated module to this file")
    args = ap.parse_args(argv)

    start = time.perf_counter()
    data, stats = generate_module(args.functions, args.seed)
    generated = time.perf_counter() - start
    if args.out:
        with open(args.out, "wb") as f:
            f.write(data)

    # The module must be valid, and the decoder must see what the generator wrote.
    module = decode_module(data, "generated.wasm")
    ctx = check_module_level(module)
    decoded = sum(len(validate_function(ctx, i).instrs) for i in range(len(module.bodies)))
    if len(module.bodies) != stats.functions or decoded != stats.instructions:
        print(f"MISMATCH: generator wrote {stats.functions} functions / {stats.instructions} instructions, "
              f"decoder found {len(module.bodies)} / {decoded}", file=sys.stderr)
        return 1

    mb = len(data) / 1e6
    n = stats.functions
    written = f", written to {args.out}" if args.out else ""
    print(f"module             {mb:.2f} MB, {n} functions, {stats.instructions} instructions "
          f"(seed {args.seed}, generated in {generated:.1f} s{written})")
    phases = [  # (name, what it does, decodes instructions?)
        ("decode_module", lambda: decode_module(data, "generated.wasm"), False),
        ("check_bodies", lambda: check_bodies(module), True),
        ("validate_module", lambda: validate_module(decode_module(data, "generated.wasm")), True),
    ]
    for name, fn, per_instr in phases:
        t = best_of(args.repeat, fn)
        line = f"{name:<18} {t * 1000:9.1f} ms  {mb / t:8.2f} MB/s  {n / t:10.0f} functions/s"
        if per_instr:
            line += f"  {stats.instructions / t / 1e6:6.2f} M instructions/s"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
