"""Benchmark component-to-component calls: fused adapters against the Python path.

Takes `--calls N` (default 20000) and `--runs R` (default 3). Makes one component (WAT below,
`wasm-tools parse`d) in which a caller component imports `add(u32, u32) -> u32` and
`echo(string) -> string` from a callee component; the caller's exports `loop-add(n)` and
`loop-echo(s, n)` call the import n times from core code. Each is built twice, with fused adapters
and with `WASMBUILD_PYTHON_ADAPTERS=1`, and the script prints microseconds per component-to-component
call (the best of R runs of N calls) for both, and the ratio. Wasmtime (`wasmtime.component`, when
installed) runs the same component as a reference.

    python bench/component_calls.py
    python bench/component_calls.py --calls 5000 --runs 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import wasmbuild  # noqa: E402
from wasmbuild.component.adapters import PYTHON_ADAPTERS_ENV  # noqa: E402

REALLOC = """
    (global $bump (mut i32) (i32.const 1024))
    (func $realloc (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new i32)
                   (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $new)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.add (i32.shr_u (global.get $bump) (i32.const 16)) (i32.const 1))))))
      (local.get $p))
    (func (export "reset") (param i32) (global.set $bump (i32.const 1024)))
"""

WAT = f"""
(component
  (component $callee-c
    (core module $m
      (memory (export "memory") 1)
      {REALLOC}
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1)) (i32.const 16)))
    (core instance $i (instantiate $m))
    (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
    (func $echo (param "s" string) (result string)
      (canon lift (core func $i "echo") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))
                  (post-return (core func $i "reset"))))
    (export "add" (func $add))
    (export "echo" (func $echo)))
  (instance $callee (instantiate $callee-c))
  (component $caller-c
    (import "c" (instance $c
      (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
      (export "echo" (func (param "s" string) (result string)))))
    (core module $libc-m (memory (export "memory") 1) {REALLOC})
    (core instance $libc (instantiate $libc-m))
    (core func $add (canon lower (func $c "add")))
    (core func $echo (canon lower (func $c "echo") (memory (core memory $libc "memory"))
                                                  (realloc (core func $libc "realloc"))))
    (core module $main-m
      (import "libc" "memory" (memory 1))
      (import "libc" "reset" (func $reset (param i32)))
      (import "c" "add" (func $add (param i32 i32) (result i32)))
      (import "c" "echo" (func $echo (param i32 i32 i32)))
      (func (export "loop-add") (param $n i32) (result i32)
        (local $acc i32)
        (block $done (loop $l
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $acc (call $add (local.get $acc) (local.get $n)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
        (local.get $acc))
      ;; echo the argument n times (the caller's allocator reset each time); the last length
      (func (export "loop-echo") (param $p i32) (param $len i32) (param $n i32) (result i32)
        (block $done (loop $l
          (br_if $done (i32.eqz (local.get $n)))
          (call $echo (local.get $p) (local.get $len) (i32.const 32))
          (call $reset (i32.const 0))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
        (i32.load (i32.const 36))))
    (core instance $main (instantiate $main-m (with "libc" (instance $libc))
                                                (with "c" (instance (export "add" (func $add))
                                                                    (export "echo" (func $echo))))))
    (func $loop-add (param "n" u32) (result u32) (canon lift (core func $main "loop-add")))
    (func $loop-echo (param "s" string) (param "n" u32) (result u32)
      (canon lift (core func $main "loop-echo") (memory (core memory $libc "memory"))
                  (realloc (core func $libc "realloc"))))
    (export "loop-add" (func $loop-add))
    (export "loop-echo" (func $loop-echo)))
  (instance $caller (instantiate $caller-c (with "c" (instance $callee))))
  (export "loop-add" (func $caller "loop-add"))
  (export "loop-echo" (func $caller "loop-echo")))
"""


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(path: str, python: bool, calls: int, runs: int) -> dict:
    if python:
        os.environ[PYTHON_ADAPTERS_ENV] = "1"
    else:
        os.environ.pop(PYTHON_ADAPTERS_ENV, None)
    app = wasmbuild.load(path)
    add, echo = app.exports["loop-add"], app.exports["loop-echo"]
    assert add(10) == 55 and echo("hello", 3) == 5
    return {"u32": best(lambda: add(calls), runs) / calls * 1e6,
            "string": best(lambda: echo("hello", calls), runs) / calls * 1e6}


def measure_wasmtime(path: str, calls: int, runs: int) -> dict | None:
    try:
        from wasmtime import Engine, Store
        from wasmtime.component import Component, Linker
    except ImportError:
        return None
    engine = Engine()
    store = Store(engine)
    instance = Linker(engine).instantiate(store, Component.from_file(engine, path))
    add = instance.get_func(store, "loop-add")
    echo = instance.get_func(store, "loop-echo")

    def call(f, *args):
        result = f(store, *args)
        f.post_return(store)
        return result
    return {"u32": best(lambda: call(add, calls), runs) / calls * 1e6,
            "string": best(lambda: call(echo, "hello", calls), runs) / calls * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    wasm_tools = shutil.which("wasm-tools")
    if wasm_tools is None:
        sys.exit("wasm-tools is needed to make the benchmark component")
    with tempfile.TemporaryDirectory() as tmp:
        wat, path = os.path.join(tmp, "calls.wat"), os.path.join(tmp, "calls.wasm")
        with open(wat, "w", encoding="utf-8") as f:
            f.write(WAT)
        subprocess.run([wasm_tools, "parse", wat, "-o", path], check=True)
        fused = measure(path, False, args.calls, args.runs)
        python = measure(path, True, args.calls, args.runs)
        try:
            wasmtime = measure_wasmtime(path, args.calls, args.runs)
        except Exception as e:  # a reference only: report why it did not run
            print(f"wasmtime: not measured ({e})")
            wasmtime = None
    print(f"component -> component calls, microseconds per call (best of {args.runs} runs of {args.calls}):")
    print(f"{'call':28} {'python path':>12} {'fused':>10} {'ratio':>8}" + (f" {'wasmtime':>10}" if wasmtime else ""))
    for key, label in (("u32", "add(u32, u32) -> u32"), ("string", 'echo(string) -> string "hello"')):
        line = f"{label:28} {python[key]:12.3f} {fused[key]:10.3f} {python[key] / fused[key]:7.1f}x"
        if wasmtime:
            line += f" {wasmtime[key]:10.3f}"
        print(line)


if __name__ == "__main__":
    main()
