"""Benchmark the Python cost of the canonical ABI itself (wasmbuild/component/canonical.py), without
native calls: a bytearray memory and a Python bump allocator stand in for the guest's memory and
realloc, so the figures are what canonical.py adds to a call on top of the core calls it makes
(the lifted function, each realloc, post-return).

Takes `--calls N` (default 100000) and `--runs R` (default 5); prints microseconds per operation,
the best of R runs of N each:

- a `func(s: string) -> string` call: `lower_args` of a short string (one realloc) and
  `lift_results` of the result (spilled: read through the return area);
- `func(x: u32, y: u32) -> u32`: both operations, no memory;
- `list<u32>` of 1,000 elements lowered and lifted; a record of a string, an option and an enum;
- a guest -> host import `func(msg: string)`: `lift_args` and `lower_results`.

    python bench/canonical.py
    python bench/canonical.py --calls 20000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wasmbuild.component import canonical as C  # noqa: E402
from wasmbuild.component import types as T  # noqa: E402
from wasmbuild.component.values import Record  # noqa: E402

P = T.prim


class Memory:
    def __init__(self, size: int):
        self.data = bytearray(size)
        self.size = size

    def read(self, offset: int, n: int) -> bytes:
        return bytes(self.data[offset:offset + n])

    def write(self, offset: int, data) -> None:
        self.data[offset:offset + len(data)] = data


class Heap:
    """Bump allocation that wraps around (the benchmark never keeps what it allocates)."""

    def __init__(self, start: int, end: int):
        self.start, self.end, self.next = start, end, start

    def __call__(self, old, old_size, align, new_size):
        ptr = -(-self.next // align) * align
        if ptr + new_size > self.end:
            ptr = self.start
        self.next = ptr + new_size
        return ptr


def best(fn, calls: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls)
    return min(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    memory = Memory(1 << 20)
    opts = C.CanonOptions(memory, Heap(4096, 1 << 20), "utf8")

    echo = C.function_abi(T.FuncType((("s", P("string")),), P("string")))
    memory.write(64, b"hello")
    memory.write(16, (64).to_bytes(4, "little") + (5).to_bytes(4, "little"))  # the result area
    add = C.function_abi(T.FuncType((("x", P("u32")), ("y", P("u32"))), P("u32")))
    numbers = C.function_abi(T.FuncType((("xs", T.List(P("u32"))),), T.List(P("u32"))))
    xs = list(range(1000))
    flat_xs, _ = numbers.lower_args(opts, [xs])
    memory.write(24, flat_xs[0].to_bytes(4, "little") + flat_xs[1].to_bytes(4, "little"))
    rec_t = T.Record((("name", P("string")), ("age", T.Option(P("u8"))), ("color", T.Enum(("red", "green")))))
    rec = C.function_abi(T.FuncType((("r", rec_t),), None))
    log = C.function_abi(T.FuncType((("msg", P("string")),), None))

    def echo_call():
        _, cx = echo.lower_args(opts, ["hello"])
        return echo.lift_results(cx, [16])

    def add_call():
        flat, cx = add.lower_args(opts, [1, 2])
        return add.lift_results(cx, [3])

    def numbers_call():
        flat, cx = numbers.lower_args(opts, [xs])
        return numbers.lift_results(cx, [24])

    def log_call():
        args_, cx = log.lift_args(opts, [64, 5])
        return log.lower_results(cx, None, [64, 5])

    value = Record(name="ada", age=36, color="green")
    rows = [
        ("string -> string: lower_args + lift_results", echo_call, args.calls),
        ("(u32, u32) -> u32: lower_args + lift_results", add_call, args.calls),
        ("list<u32> x1000 in and out", numbers_call, max(1, args.calls // 100)),
        ("record {string, option<u8>, enum}: lower_args", lambda: rec.lower_args(opts, [value]), args.calls),
        ("import (string): lift_args + lower_results", log_call, args.calls),
    ]
    print(f"{'operation':52} {'us/op':>8}")
    for label, fn, calls in rows:
        print(f"{label:52} {best(fn, calls, args.runs):8.2f}")


if __name__ == "__main__":
    main()
