"""Benchmark what exception handling costs: entering a try region, throwing and catching, and what
a function without a try region pays (it should be nothing: its code is what it was before).

Takes `--iterations N` (default 2,000,000) and `--runs R` (default 5). Builds one module at O2
(WebAssembly text through WABT's wat2wasm) whose exports each run a loop of N iterations inside
wasm, and prints nanoseconds per iteration (the best of R runs), for:
- `plain`: a call of a small function without try (the baseline);
- `try_table`: the same call inside a try_table with a catch clause that is never taken;
- `legacy try`: the same inside a legacy try/catch;
- `throw+catch`: a call of a function that throws, caught by tag one frame up;
- `throw+catch_ref`: the same with catch_ref (the exnref escapes: freed when the call returns);
and wasmtime's figures for the standard encoding when the `wasmtime` package is there.

    python bench/exceptions.py
    python bench/exceptions.py --iterations 500000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import wasmbuild  # noqa: E402
from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.wat import find_wabt_tool  # noqa: E402


def _loop(name: str, body: str, legacy: bool = False) -> str:
    return f"""
  (func (export "{name}") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      {body}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $acc))"""


TEXT = """
(module
  (tag $e (param i32))
  (func $work (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $thrower (param i32) (throw $e (local.get 0)))
  (func $plain (param i32) (result i32) (call $work (local.get 0)))
  (func $guarded (param i32) (result i32)
    (block $h (result i32) (try_table (result i32) (catch $e $h) (call $work (local.get 0)))))
  (func $guarded_legacy (param i32) (result i32)
    (try (result i32) (do (call $work (local.get 0))) (catch $e)))
  (func $catching (param i32) (result i32)
    (block $h (result i32) (try_table (catch $e $h) (call $thrower (local.get 0))) (i32.const -1)))
  (func $catching_ref (param i32) (result i32)
    (block $h (result i32 exnref) (try_table (catch_ref $e $h) (call $thrower (local.get 0))) (unreachable))
    (drop))
""" + "".join((
    _loop("plain", "(local.set $acc (call $plain (local.get $acc)))"),
    _loop("try_table", "(local.set $acc (call $guarded (local.get $acc)))"),
    _loop("legacy try", "(local.set $acc (call $guarded_legacy (local.get $acc)))"),
    _loop("throw+catch", "(local.set $acc (call $catching (local.get $acc)))"),
    _loop("throw+catch_ref", "(local.set $acc (call $catching_ref (local.get $acc)))"),
)) + "\n)\n"

STANDARD = ("plain", "try_table", "throw+catch", "throw+catch_ref")


def assemble(text: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="wasmbuild-bench-") as tmp:
        src, out = os.path.join(tmp, "m.wat"), os.path.join(tmp, "m.wasm")
        with open(src, "w") as f:
            f.write(text)
        subprocess.run([find_wabt_tool("wat2wasm") or "wat2wasm", src, "-o", out], check=True)
        with open(out, "rb") as f:
            return f.read()


def best_ns(fn, n: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - t)
    return best / n * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = assemble(TEXT)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-bench-") as tmp:
        path = os.path.join(tmp, "eh.img")
        with open(path, "wb") as f:
            f.write(build_image([ModuleInput("eh", data)], CompileSettings(opt_level=2))[0])
        inst = wasmbuild.load(path)
    ours = {name: best_ns(inst.exports[name], args.iterations, args.runs)
            for name in ("plain", "try_table", "legacy try", "throw+catch", "throw+catch_ref")}
    theirs = {}
    try:
        import wasmtime
    except ImportError:
        print("(wasmtime not installed: its column is left out)")
    else:
        config = wasmtime.Config()
        config.wasm_exceptions = True
        engine = wasmtime.Engine(config)
        # wasmtime does not read the legacy instructions: a module without that export.
        std = assemble(TEXT.replace(_loop("legacy try", "(local.set $acc (call $guarded_legacy (local.get $acc)))"), "")
                       .replace("(func $guarded_legacy (param i32) (result i32)\n"
                                "    (try (result i32) (do (call $work (local.get 0))) (catch $e)))", ""))
        store = wasmtime.Store(engine)
        exports = wasmtime.Instance(store, wasmtime.Module(engine, std), []).exports(store)
        theirs = {name: best_ns(lambda n, f=exports[name]: f(store, n), args.iterations, args.runs)
                  for name in STANDARD}
    print(f"{'ns per iteration':<18} {'wasmbuild':>10} {'wasmtime':>10}")
    for name, ns in ours.items():
        other = f"{theirs[name]:10.1f}" if name in theirs else f"{'-':>10}"
        print(f"{name:<18} {ns:10.1f} {other}")
    print(f"entering a try_table costs {ours['try_table'] - ours['plain']:.1f} ns, a legacy try "
          f"{ours['legacy try'] - ours['plain']:.1f} ns (over a plain call)")


if __name__ == "__main__":
    main()
