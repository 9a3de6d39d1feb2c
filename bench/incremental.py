"""Incremental rebuilds of a large module: how much is compiled again, and how long it takes.

Takes `--functions N` (default 5000), `--jobs J` (default: all cores) and `-O LEVEL` (default 2).
Writes a module of N functions as WebAssembly text (named functions, so inserting one renumbers all
the others, as a real edit would), builds it with an empty cache in a temporary directory, then
rebuilds after each of these changes, in order:
  null          nothing changed
  edit          one function's body changed
  insert        a new function inserted at index 0 (every other index shifts)
  type          one function's type changed (it and its one caller must be compiled again)
For each it prints the functions compiled, the functions taken from the cache and the wall time,
then the ratio of the one-function rebuild ("edit") to the cold build. Targets: 1 function
compiled after an edit or an insertion; the edit rebuild >= 20x faster than cold and < 1 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.cache import LocalStore  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.wat import wat_to_wasm  # noqa: E402


def function_text(k: int, edited: bool = False, wide: bool = False) -> str:
    """Function $f<k>: a loop of arithmetic on its parameter; calls $f<k-1> unless k % 10 == 0.
    `wide` gives it an i64 parameter instead of i32; `edited` changes one constant."""
    param = "i64" if wide else "i32"
    arg = "(i32.wrap_i64 (local.get $n))" if wide else "(local.get $n)"
    step = 7 if edited else 3
    callee = ""
    if k % 10:
        callee = f"(local.set $acc (i32.add (local.get $acc) (call $f{k - 1} (i32.const {k % 97}))))"
    return f"""
  (func $f{k} (export "f{k}") (param $n {param}) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $i {arg})
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $i)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const {k * 31 + 1}))
                                 (i32.xor (local.get $i) (i32.const {step}))))
        (local.set $acc (i32.rotl (local.get $acc) (i32.and (local.get $i) (i32.const 31))))
        (if (i32.gt_u (local.get $acc) (i32.const {k * 1000 + 17}))
          (then (local.set $acc (i32.sub (local.get $acc) (i32.const {k + 5})))))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $next)))
    {callee}
    (local.get $acc))"""


def caller_fix(text: str, k: int) -> str:
    """Make the caller of $f<k> pass an i64, after $f<k>'s parameter became i64."""
    arg = (k + 1) % 97  # the caller is $f<k+1>, which passes its own index mod 97
    return text.replace(f"(call $f{k} (i32.const {arg}))", f"(call $f{k} (i64.const {arg}))")


def module_text(n: int, edit: int | None = None, insert: bool = False, wide: int | None = None) -> str:
    funcs = [function_text(k, edited=(k == edit), wide=(k == wide)) for k in range(n)]
    if wide is not None and wide + 1 < n and (wide + 1) % 10:
        funcs[wide + 1] = caller_fix(funcs[wide + 1], wide)
    if insert:
        funcs.insert(0, """
  (func $inserted (export "inserted") (result i32) (i32.const 42))""")
    return "(module" + "".join(funcs) + "\n)\n"


def build(tmp: str, text: str, cache: LocalStore, settings: CompileSettings, jobs: int):
    path = os.path.join(tmp, "big.wat")
    with open(path, "w") as f:
        f.write(text)
    data = wat_to_wasm(path)
    start = time.perf_counter()
    _image, report = build_image([ModuleInput("big", data, path)], settings, jobs, cache=cache)
    return time.perf_counter() - start, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("-O", dest="opt", type=int, default=2)
    args = ap.parse_args()
    n = args.functions
    settings = CompileSettings(opt_level=args.opt)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-incr-") as tmp:
        cache = LocalStore(os.path.join(tmp, "cache"))
        print(f"module: {n} functions, -O{args.opt}, {args.jobs} jobs")
        print(f"{'case':8} {'compiled':>9} {'cached':>8} {'seconds':>9}")
        times = {}
        cases = [("cold", module_text(n)), ("null", module_text(n)),
                 ("edit", module_text(n, edit=n // 2)),
                 ("insert", module_text(n, edit=n // 2, insert=True)),
                 ("type", module_text(n, edit=n // 2, insert=True, wide=n // 3))]
        for name, text in cases:
            seconds, report = build(tmp, text, cache, settings, args.jobs)
            times[name] = seconds
            print(f"{name:8} {report.compiled:9} {report.cached:8} {seconds:9.3f}")
        print(f"edit rebuild / cold build: 1/{times['cold'] / times['edit']:.1f} "
              f"({times['edit']:.3f} s vs {times['cold']:.3f} s)")


if __name__ == "__main__":
    main()
