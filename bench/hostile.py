"""Hostile cases against the runtime and the WASI host; prints one line per case with its outcome.

Takes optional case names (default: all; `--list` names them) and `--timeout` seconds per case
(default 60). Each case runs in its own subprocess (`bench/hostile.py --case NAME`) under an
address-space limit (`--address-space`, default 16 GiB, room for one linear memory's 8 GiB guard region), so a crash
is reported, not fatal, and a runaway allocation cannot take the machine down.

Gives, on stdout, one line per case: PASS or FAIL (the expectation held or not), CRASH (the
subprocess died: its signal or status and last stderr lines) or TIMEOUT, the case name, what
happened, and the wall time and peak RSS of its subprocess; then "N passed, M failed". What is
expected: a clean trap or error (or a refusal, for WASI), never a crash, and bounded time and
memory (a case over 20 s or 1 GiB of RSS fails). The cases:

- recursion: unbounded wasm recursion on threads with small stacks (`threading.stack_size`, 32 KiB
  to 1 MiB), on the main thread, with 160 KiB frames, and through a host function (wasm -> host ->
  wasm ...): a "call stack exhausted" trap (or RecursionError through the host), then the instance
  still works;
- memory: memory.grow to the 4 GiB maximum of a memory without a maximum (the last byte usable, the
  next access a trap, one page more refused), past a declared maximum, by 2^32-1 pages, from Python;
  and more memory reservations (8 GiB with guard pages) than the address-space limit allows (a clean error);
- host functions that raise (an Exception, KeyboardInterrupt, deep in wasm/host nesting, in the start
  function) or give a value of the wrong type: the same exception (or a clean error) in the caller,
  the instance usable;
- a huge `table.grow` (2^32-1 and 2^28 entries, from wasm and from Python): refused or done, and
  the largest one not refused outright (2^26-1 entries) done in under 5 s;
- WASI through `wasmbuild.api.run_wasi` with a preopened temporary directory, by hand-written
  WebAssembly calling `wasi_snapshot_preview1` directly (no libc in between): path escapes by `..`,
  absolute paths, symbolic links as the first, a middle and the last component (absolute and
  relative targets, chained, followed or not), creating, removing, renaming and making directories
  through them, and a directory or a file swapped for a symbolic link to outside between the host's
  check and its use (a second process swaps it while the program opens the path 20000 times);
  buffers past the end of memory and absurd iovec counts. Expected: refused (an errno), nothing
  outside read or changed. Two controls (a plain file, a symbolic link within the directory) must
  be allowed.

    python bench/hostile.py                 # all cases
    python bench/hostile.py wasi-dotdot     # one
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MAX_SECONDS = 20.0
MAX_RSS_MIB = 1024


class Outcome(Exception):
    """Raised by a case to end it: `ok` (the expectation held) and what happened."""

    def __init__(self, ok: bool, text: str):
        super().__init__(text)
        self.ok, self.text = ok, text


def expect(condition: bool, text: str) -> None:
    if not condition:
        raise Outcome(False, text)


# ---------------------------------------------------------------------------------------------
# Building and loading (inside a case's subprocess)
# ---------------------------------------------------------------------------------------------

def load(wat_text: str, imports=None, opt_level: int = 2, store=None):
    """Build a text module into an image in a temporary directory and load it."""
    path = build(wat_text, opt_level)
    import wasmbuild
    return wasmbuild.load(path, imports, store)


def build(wat_text: str, opt_level: int = 2) -> str:
    from wasmbuild.build import ModuleInput, build_image
    from wasmbuild.compile import CompileSettings
    from wasmbuild.wat import wat_to_wasm
    directory = tempfile.mkdtemp(prefix="hostile-")
    source = os.path.join(directory, "m.wat")
    with open(source, "w") as f:
        f.write(wat_text)
    image, _ = build_image([ModuleInput("m", wat_to_wasm(source))], CompileSettings(opt_level=opt_level))
    path = os.path.join(directory, "m.img")
    with open(path, "wb") as f:
        f.write(image)
    return path


def on_thread(stack_size: int | None, fn):
    """Run `fn` on a new thread with that stack size (None: on this thread); gives what it returned
    or raises what it raised."""
    if stack_size is None:
        return fn()
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["error"] = e
    old = threading.stack_size(stack_size)
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old)
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---------------------------------------------------------------------------------------------
# Recursion
# ---------------------------------------------------------------------------------------------

RECURSE_WAT = """
(module
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (call $recurse (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func (export "via_host") (param i32) (result i32)
    (call $reenter (i32.add (local.get 0) (i32.const 1))))
  (func $big (export "big_frames") (param i32) (result i64)
    (local LOCALS)
    (local.set 20000 (i64.extend_i32_u (local.get 0)))
    (if (result i64) (i32.eqz (local.get 0)) (then (local.get 20000))
      (else (i64.add (call $big (i32.sub (local.get 0) (i32.const 1))) (local.get 20000)))))
)
""".replace("LOCALS", " ".join(["i64"] * 20001))


def recursion_case(stack_size: int | None, through_host: bool = False, big_frames: bool = False):
    from wasmbuild.loader.runtime import Trap
    instance = None

    def reenter(n):
        return instance.exports["via_host"](n)
    instance = load(RECURSE_WAT, {"env": {"reenter": reenter}}, opt_level=0 if big_frames else 2)
    name = "via_host" if through_host else "big_frames" if big_frames else "recurse"

    def attempt():
        try:
            instance.exports[name](10_000_000 if name != "via_host" else 0)
        except Trap as e:
            return f"trap: {e.message}"
        except RecursionError:
            return "RecursionError"
        return "returned"
    outcome = on_thread(stack_size, attempt)
    after = instance.exports["recurse"](1000)  # on the main thread: the instance still works
    expected = ("trap: call stack exhausted", "RecursionError") if through_host else ("trap: call stack exhausted",)
    expect(outcome in expected, f"{outcome} (expected {' or '.join(expected)})")
    expect(after == 1000, f"{outcome}, but then recurse(1000) gave {after}")
    raise Outcome(True, f"{outcome}; then recurse(1000) = 1000")


# ---------------------------------------------------------------------------------------------
# memory.grow
# ---------------------------------------------------------------------------------------------

MEMORY_WAT = """
(module
  (memory (export "mem") 0)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
)
"""
BOUNDED_MEMORY_WAT = """
(module
  (memory 1 10)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)
"""


def memory_to_4gib():
    from wasmbuild.loader.runtime import Trap
    e = load(MEMORY_WAT).exports
    old = e["grow"](65536)
    expect(old == 0, f"memory.grow(65536) from 0 pages gave {old}, expected 0")
    expect(e["size"]() == 65536, f"memory.size is {e['size']()} after growing to 65536 pages")
    e["store8"](0xFFFFFFFF, 0xAB)
    expect(e["load8"](-1) == 0xAB, "the last byte of a 4 GiB memory did not keep its value")
    try:
        e["load32"](0xFFFFFFFD)
        raise Outcome(False, "a 4-byte load at 4 GiB - 3 did not trap")
    except Trap as trap:
        expect(trap.message == "out of bounds memory access", f"load past 4 GiB: {trap.message}")
    more = e["grow"](1)
    expect(more == -1, f"memory.grow(1) at 65536 pages gave {more}, expected -1")
    raise Outcome(True, "grew to 65536 pages; last byte usable; past it traps; one more page refused (-1)")


def memory_past_max():
    e = load(BOUNDED_MEMORY_WAT).exports
    results = [e["grow"](9), e["grow"](1), e["grow"](-1), e["grow"](0x10000)]
    expect(results == [1, -1, -1, -1], f"grow(9), grow(1), grow(2^32-1), grow(2^16) gave {results}, "
                                       "expected [1, -1, -1, -1]")
    expect(e["size"]() == 10, f"size {e['size']()} after refused grows, expected 10")
    raise Outcome(True, "grow to the maximum 10 pages ok; past it, by 2^32-1 and by 2^16 pages: -1")


def memory_grow_from_python():
    memory = load(MEMORY_WAT).exports["mem"]
    outcomes = []
    for delta in (2**32, 2**40, -1):
        try:
            outcomes.append(f"{delta}: {memory.grow(delta)}")
        except Exception as e:  # noqa: BLE001 - a clean Python error is a clean outcome
            outcomes.append(f"{delta}: {type(e).__name__}")
    expect(memory.size == 0, f"memory is {memory.size} bytes after refused grows")
    expect(all(not o.endswith(": 0") for o in outcomes), f"a huge grow from Python succeeded: {outcomes}")
    raise Outcome(True, "; ".join(outcomes))


# ---------------------------------------------------------------------------------------------
# Host functions
# ---------------------------------------------------------------------------------------------

HOST_WAT = """
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func (export "call_host") (param i32) (result i32) (call $host (local.get 0)))
  (func (export "add1") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
)
"""


class HostProblem(Exception):
    pass


START_WAT = """
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func $start (drop (call $host (i32.const 1))))
  (func (export "add1") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (start $start)
)
"""


def host_raises_in_start():
    def host(n):
        raise HostProblem("from the start function")
    try:
        load(START_WAT, {"env": {"host": host}})
    except HostProblem as e:
        raise Outcome(True, f"HostProblem({e}) from load") from None
    except Exception as e:  # noqa: BLE001 - reported
        raise Outcome(False, f"{type(e).__name__}: {e} (expected HostProblem)") from None
    raise Outcome(False, "the image loaded although its start function's host call raised")


def host_raises(kind: str):
    instance = None

    def host(n):
        if kind == "nested" and n > 0:
            return instance.exports["call_host"](n - 1)  # wasm -> host -> wasm ... 20 levels
        if kind == "wrong-type":
            return "not a number"
        if kind == "keyboard-interrupt":
            raise KeyboardInterrupt
        raise HostProblem(f"raised at {n}")
    instance = load(HOST_WAT, {"env": {"host": host}})
    try:
        got = instance.exports["call_host"](20)
        outcome = f"returned {got}"
    except HostProblem as e:
        outcome = f"HostProblem({e})"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    except Exception as e:  # noqa: BLE001 - another clean error
        outcome = f"{type(e).__name__}: {e}"
    after = instance.exports["add1"](41)
    expected = {"exception": "HostProblem(raised at 20)", "nested": "HostProblem(raised at 0)",
                "keyboard-interrupt": "KeyboardInterrupt"}.get(kind)
    if expected is not None:
        expect(outcome == expected, f"{outcome} (expected {expected})")
    else:
        expect(not outcome.startswith("returned"), f"a host function giving a str for an i32: {outcome}")
    expect(after == 42, f"{outcome}; then add1(41) gave {after}")
    raise Outcome(True, f"{outcome}; then the instance works")


def memory_reservations_past_the_limit():
    """Linear memories reserve 8 GiB of address space each with guard pages (4 GiB without): under
    the case's address-space limit, making more of them must fail cleanly."""
    path = build(MEMORY_WAT)
    import wasmbuild
    kept = []
    try:
        for _ in range(64):
            kept.append(wasmbuild.load(path))
    except Exception as e:  # noqa: BLE001 - a clean error is the expected outcome
        raise Outcome(True, f"{len(kept)} instances, then {type(e).__name__}: {str(e)[:120]}") from None
    raise Outcome(False, f"{len(kept)} memories of 4 GiB or more each under the address-space limit")


# ---------------------------------------------------------------------------------------------
# table.grow
# ---------------------------------------------------------------------------------------------

TABLE_WAT = """
(module
  (table $t (export "t") 1 funcref)
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size $t))
)
"""


CHEAP_SECONDS = 5.0


def table_grow_to_the_refusal_limit():
    """The largest table.grow the runtime does not refuse outright (2^26 - 1 entries) must still be
    cheap: under CHEAP_SECONDS (refusing it would do)."""
    e = load(TABLE_WAT).exports
    began = time.perf_counter()
    got = e["grow"]((1 << 26) - 1)
    seconds = time.perf_counter() - began
    expect(seconds < CHEAP_SECONDS, f"grow({(1 << 26) - 1:#x}) -> {got} took {seconds:.0f} s")
    raise Outcome(True, f"grow({(1 << 26) - 1:#x}) -> {got} in {seconds:.1f} s")


def table_grow_huge(from_python: bool):
    e = load(TABLE_WAT).exports
    outcomes = []
    for delta in (0xFFFFFFFF, 1 << 28):
        began = time.perf_counter()
        try:
            got = e["t"].grow(delta) if from_python else e["grow"](delta)
        except Exception as error:  # noqa: BLE001 - a clean error is a clean outcome
            got = type(error).__name__
        outcomes.append(f"grow({delta:#x}) -> {got} in {time.perf_counter() - began:.1f} s")
    size = e["size"]()
    expect(outcomes[0].split(" -> ")[1].split()[0] != "1", f"a grow to 2^32 entries succeeded: {outcomes}")
    raise Outcome(True, "; ".join(outcomes) + f"; size now {size}")


# ---------------------------------------------------------------------------------------------
# WASI
# ---------------------------------------------------------------------------------------------

SECRET = "SECRET-outside"
INSIDE = "inside"
ERRNO_NAMES = {2: "EACCES", 8: "EBADF", 20: "EEXIST", 21: "EFAULT", 28: "EINVAL", 32: "ELOOP", 44: "ENOENT",
               54: "ENOTDIR", 58: "ENOTSUP", 63: "EPERM", 76: "ENOTCAPABLE"}
WASI_IMPORTS = """
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get"
    (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
"""
PREOPEN_FD = 3  # after stdin, stdout and stderr
RIGHTS_READ, RIGHTS_WRITE = 1 << 1, 1 << 6
O_CREAT, O_TRUNC = 1, 8
FOLLOW = 1


def _wat_string(text: str) -> str:
    return "".join(f"\\{b:02x}" for b in text.encode())


def wasi_program(operation: str, path: str, path2: str = "", follow: bool = True, repeat: int = 0) -> str:
    """A WASI program doing one thing to `path` (relative to the preopened directory, fd 3), ending with
    proc_exit(errno): "open" prints what it read from the file; "create" creates it and writes "pwned";
    "unlink", "mkdir", "stat", "rename" (to `path2`); "race" opens and reads the file `repeat` times
    and exits with the number of reads that began with SECRET."""
    n, n2 = len(path.encode()), len(path2.encode())
    lookup = FOLLOW if follow else 0
    open_call = (f"(call $path_open (i32.const {PREOPEN_FD}) (i32.const {lookup}) (i32.const 1024) (i32.const {n}) "
                 "(i32.const OFLAGS) (i64.const RIGHTS) (i64.const RIGHTS) (i32.const 0) (i32.const 8))")
    read = ("(i32.store (i32.const 16) (i32.const 4096)) (i32.store (i32.const 20) (i32.const 256))"
            "(local.set $err (call $fd_read (i32.load (i32.const 8)) (i32.const 16) (i32.const 1) (i32.const 12)))")
    bodies = {
        "open": f"""
            (local.set $err {open_call.replace("OFLAGS", "0").replace("RIGHTS", str(RIGHTS_READ))})
            (if (local.get $err) (then (call $proc_exit (local.get $err))))
            {read}
            (if (local.get $err) (then (call $proc_exit (local.get $err))))
            (i32.store (i32.const 20) (i32.load (i32.const 12)))
            (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 12)))""",
        "create": f"""
            (local.set $err {open_call.replace("OFLAGS", str(O_CREAT | O_TRUNC)).replace("RIGHTS", str(RIGHTS_WRITE))})
            (if (local.get $err) (then (call $proc_exit (local.get $err))))
            (i32.store (i32.const 16) (i32.const 3072)) (i32.store (i32.const 20) (i32.const 5))
            (local.set $err (call $fd_write (i32.load (i32.const 8)) (i32.const 16) (i32.const 1) (i32.const 12)))""",
        "read-out-of-bounds": f"""
            (local.set $err {open_call.replace("OFLAGS", "0").replace("RIGHTS", str(RIGHTS_READ))})
            (if (local.get $err) (then (call $proc_exit (local.get $err))))
            (i32.store (i32.const 16) (i32.const 65534)) (i32.store (i32.const 20) (i32.const 256))
            (local.set $err (call $fd_read (i32.load (i32.const 8)) (i32.const 16) (i32.const 1) (i32.const 12)))""",
        "write-huge-iovec-count": """
            (i32.store (i32.const 16) (i32.const 3072)) (i32.store (i32.const 20) (i32.const 5))
            (local.set $err (call $fd_write (i32.const 1) (i32.const 16) (i32.const 0x0fffffff) (i32.const 12)))""",
        "unlink": f"(local.set $err (call $unlink (i32.const {PREOPEN_FD}) (i32.const 1024) (i32.const {n})))",
        "mkdir": f"(local.set $err (call $mkdir (i32.const {PREOPEN_FD}) (i32.const 1024) (i32.const {n})))",
        "stat": f"(local.set $err (call $stat (i32.const {PREOPEN_FD}) (i32.const {lookup}) (i32.const 1024) "
                f"(i32.const {n}) (i32.const 5120)))",
        "rename": f"(local.set $err (call $rename (i32.const {PREOPEN_FD}) (i32.const 1024) (i32.const {n}) "
                  f"(i32.const {PREOPEN_FD}) (i32.const 2048) (i32.const {n2})))",
        "race": f"""
            (loop $again
              (if (i32.eqz {open_call.replace("OFLAGS", "0").replace("RIGHTS", str(RIGHTS_READ))})
                (then
                  {read}
                  (if (i32.and (i32.eqz (local.get $err))
                               (i32.eq (i32.load (i32.const 4096)) (i32.load (i32.const 3584))))
                    (then (local.set $leaks (i32.add (local.get $leaks) (i32.const 1)))))
                  (drop (call $fd_close (i32.load (i32.const 8))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $again (i32.lt_u (local.get $i) (i32.const {repeat}))))
            (local.set $err (local.get $leaks))""",
    }
    return f"""
(module {WASI_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 1024) "{_wat_string(path)}")
  (data (i32.const 2048) "{_wat_string(path2)}")
  (data (i32.const 3072) "pwned")
  (data (i32.const 3584) "{_wat_string(SECRET[:4])}")
  (func (export "_start") (local $err i32) (local $i i32) (local $leaks i32)
    {bodies[operation]}
    (call $proc_exit (local.get $err)))
)
"""


def sandbox() -> tuple[str, str]:
    """A fresh `root` with `root/box` (the preopened directory: inside.txt, sub/, d/secret.txt) and
    `root/outside` (secret.txt, victim.txt); gives (box, outside)."""
    root = tempfile.mkdtemp(prefix="hostile-wasi-")
    box, outside = os.path.join(root, "box"), os.path.join(root, "outside")
    for d in (box, outside, os.path.join(box, "sub"), os.path.join(box, "d")):
        os.makedirs(d)
    for path, text in ((os.path.join(box, "inside.txt"), INSIDE), (os.path.join(box, "d", "secret.txt"), INSIDE),
                       (os.path.join(outside, "secret.txt"), SECRET), (os.path.join(outside, "victim.txt"), "victim")):
        with open(path, "w") as f:
            f.write(text)
    return box, outside


def run_program(wat_text: str, box: str) -> tuple[int, str]:
    """Run a WASI program with `box` preopened as /box; gives (exit code, what it printed)."""
    from wasmbuild.api import run_wasi
    out = io.BytesIO()
    code = run_wasi(build(wat_text), [], {}, {"/box": box}, stdin=io.BytesIO(), stdout=out, stderr=io.BytesIO())
    return code, out.getvalue().decode(errors="replace")


def _errno(code: int) -> str:
    return f"errno {code} ({ERRNO_NAMES.get(code, '?')})"


def wasi_refused(operation: str, path, links=(), path2: str = "", follow: bool = True, unchanged=()):
    """`operation` on `path` must fail and leave `unchanged` outside paths as they were. `links`:
    (name in box, target) symbolic links to make first; `path` (and `path2`) may use {outside}."""
    box, outside = sandbox()
    for name, target in links:
        os.symlink(target.format(outside=outside), os.path.join(box, name))
    before = {p: _state(os.path.join(outside, p)) for p in unchanged}
    code, printed = run_program(wasi_program(operation, path.format(outside=outside),
                                             path2.format(outside=outside), follow), box)
    after = {p: _state(os.path.join(outside, p)) for p in unchanged}
    expect(SECRET not in printed, f"read the file outside the directory: {printed!r} ({_errno(code)})")
    expect(before == after, f"changed outside the directory: {before} -> {after} ({_errno(code)})")
    expect(code != 0, f"{operation} succeeded (printed {printed!r})")
    raise Outcome(True, f"refused: {_errno(code)}")


def _state(path: str):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return "<dir>"


def wasi_allowed(path: str, links=()):
    """A control: reading `path` inside the directory (through `links`) works and gives INSIDE."""
    box, _outside = sandbox()
    for name, target in links:
        os.symlink(target, os.path.join(box, name))
    code, printed = run_program(wasi_program("open", path), box)
    expect(code == 0 and printed == INSIDE, f"{_errno(code)}, printed {printed!r} (expected {INSIDE!r})")
    raise Outcome(True, f"allowed: read {printed!r}")


def _swapper(box: str, name: str, target: str, stop_file: str) -> None:
    """In its own process: swap box/<name> with a symbolic link to `target` and back, as fast as it
    can, until `stop_file` exists."""
    path, real, link = (os.path.join(box, n) for n in (name, name + ".real", name + ".link"))
    os.symlink(target, link)
    swaps = 0
    while not os.path.exists(stop_file) or swaps == 0:
        for _ in range(200):
            os.rename(path, real)
            os.rename(link, path)
            os.rename(path, link)
            os.rename(real, path)
            swaps += 1
    os._exit(0)


def wasi_swap_race(which: str, repeat: int = 20000):
    """Another process swaps a component of the path the program opens `repeat` times for a symbolic
    link to outside and back: "dir" swaps box/d (the program opens d/secret.txt), "leaf" swaps the file
    box/leaf itself. No open may read the secret."""
    box, outside = sandbox()
    with open(os.path.join(box, "leaf"), "w") as f:
        f.write(INSIDE)
    stop_file = os.path.join(os.path.dirname(box), "stop")
    path, name, target = (("d/secret.txt", "d", outside) if which == "dir"
                          else ("leaf", "leaf", os.path.join(outside, "secret.txt")))
    program = build(wasi_program("race", path, repeat=repeat))
    pid = os.fork()
    if pid == 0:
        _swapper(box, name, target, stop_file)
    from wasmbuild.api import run_wasi
    try:
        leaks = run_wasi(program, [], {}, {"/box": box}, stdin=io.BytesIO(), stdout=io.BytesIO(),
                         stderr=io.BytesIO())
    finally:
        open(stop_file, "w").close()
        os.waitpid(pid, 0)
    expect(leaks == 0, f"{leaks} of {repeat} opens of {path} read the file outside the directory")
    raise Outcome(True, f"0 of {repeat} opens of {path} read outside while {name} was swapped")


def wasi_bad_buffer(operation: str):
    """A buffer past the end of memory, or an absurd iovec count: an errno (EFAULT), nothing else."""
    box, _outside = sandbox()
    code, printed = run_program(wasi_program(operation, "inside.txt"), box)
    expect(code != 0, f"{operation} succeeded (printed {printed!r})")
    raise Outcome(True, f"refused: {_errno(code)}")


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------

K = 1024
CASES = {
    "recursion-thread-32k": lambda: recursion_case(32 * K),
    "recursion-thread-64k": lambda: recursion_case(64 * K),
    "recursion-thread-128k": lambda: recursion_case(128 * K),
    "recursion-thread-256k": lambda: recursion_case(256 * K),
    "recursion-thread-1m": lambda: recursion_case(1024 * K),
    "recursion-main-thread": lambda: recursion_case(None),
    "recursion-big-frames-thread-256k": lambda: recursion_case(256 * K, big_frames=True),
    "recursion-big-frames-main-thread": lambda: recursion_case(None, big_frames=True),
    "recursion-through-host-thread-256k": lambda: recursion_case(256 * K, through_host=True),
    "recursion-through-host-main-thread": lambda: recursion_case(None, through_host=True),
    "memory-grow-to-4gib": memory_to_4gib,
    "memory-grow-past-max": memory_past_max,
    "memory-grow-from-python": memory_grow_from_python,
    "memory-reservations-past-the-address-space-limit": memory_reservations_past_the_limit,
    "host-raises": lambda: host_raises("exception"),
    "host-raises-nested": lambda: host_raises("nested"),
    "host-raises-keyboard-interrupt": lambda: host_raises("keyboard-interrupt"),
    "host-returns-wrong-type": lambda: host_raises("wrong-type"),
    "host-raises-in-start-function": host_raises_in_start,
    "table-grow-huge": lambda: table_grow_huge(from_python=False),
    "table-grow-huge-from-python": lambda: table_grow_huge(from_python=True),
    "table-grow-to-the-refusal-limit": table_grow_to_the_refusal_limit,
    "wasi-control-plain-file": lambda: wasi_allowed("inside.txt"),
    "wasi-control-symlink-inside": lambda: wasi_allowed("ok", links=[("ok", "inside.txt")]),
    "wasi-dotdot": lambda: wasi_refused("open", "../outside/secret.txt"),
    "wasi-dotdot-after-subdir": lambda: wasi_refused("open", "sub/../../outside/secret.txt"),
    "wasi-absolute-path": lambda: wasi_refused("open", "{outside}/secret.txt"),
    "wasi-absolute-etc-passwd": lambda: wasi_refused("open", "/etc/passwd"),
    "wasi-symlink-first-component": lambda: wasi_refused("open", "out/secret.txt", [("out", "{outside}")]),
    "wasi-symlink-middle-component": lambda: wasi_refused("open", "sub/out/secret.txt",
                                                          [("sub/out", "{outside}")]),
    "wasi-symlink-last-component": lambda: wasi_refused("open", "leaf", [("leaf", "{outside}/secret.txt")]),
    "wasi-symlink-last-relative": lambda: wasi_refused("open", "leaf", [("leaf", "../outside/secret.txt")]),
    "wasi-symlink-last-nofollow": lambda: wasi_refused("open", "leaf", [("leaf", "{outside}/secret.txt")],
                                                       follow=False),
    "wasi-symlink-chain": lambda: wasi_refused("open", "a", [("b", "{outside}/secret.txt"), ("a", "b")]),
    "wasi-stat-through-symlink": lambda: wasi_refused("stat", "out/secret.txt", [("out", "{outside}")]),
    "wasi-create-through-dangling-symlink": lambda: wasi_refused(
        "create", "dangling", [("dangling", "{outside}/created.txt")], unchanged=["created.txt"]),
    "wasi-create-through-dir-symlink": lambda: wasi_refused(
        "create", "out/created.txt", [("out", "{outside}")], unchanged=["created.txt"]),
    "wasi-unlink-dotdot": lambda: wasi_refused("unlink", "../outside/victim.txt", unchanged=["victim.txt"]),
    "wasi-unlink-through-symlink": lambda: wasi_refused("unlink", "out/victim.txt", [("out", "{outside}")],
                                                        unchanged=["victim.txt"]),
    "wasi-rename-out-of-the-directory": lambda: wasi_refused("rename", "inside.txt", path2="../outside/moved.txt",
                                                             unchanged=["moved.txt"]),
    "wasi-rename-into-symlinked-dir": lambda: wasi_refused("rename", "inside.txt", [("out", "{outside}")],
                                                           path2="out/moved.txt", unchanged=["moved.txt"]),
    "wasi-mkdir-through-symlink": lambda: wasi_refused("mkdir", "out/newdir", [("out", "{outside}")],
                                                       unchanged=["newdir"]),
    "wasi-read-into-a-buffer-past-memory": lambda: wasi_bad_buffer("read-out-of-bounds"),
    "wasi-write-with-a-huge-iovec-count": lambda: wasi_bad_buffer("write-huge-iovec-count"),
    "wasi-dir-swapped-for-symlink-between-check-and-use": lambda: wasi_swap_race("dir"),
    "wasi-file-swapped-for-symlink-between-check-and-use": lambda: wasi_swap_race("leaf"),
}


def run_case(name: str) -> None:
    """In the case's subprocess: run it, print one JSON line {ok, text, rss_mib}."""
    try:
        CASES[name]()
        outcome = Outcome(False, "the case ended without an outcome")
    except Outcome as o:
        outcome = o
    except BaseException as e:  # noqa: BLE001 - anything else fails the case, with what it was
        outcome = Outcome(False, f"unexpected {type(e).__name__}: {str(e)[:300]}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ok": outcome.ok, "text": outcome.text, "rss_mib": rss}), flush=True)


def run_isolated(name: str, timeout: float, address_space: int) -> tuple[str, str, float, float | None]:
    """Run a case in a subprocess; gives (verdict, text, seconds, peak RSS in MiB or None)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--case", name], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, env=env, preexec_fn=limit)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return "TIMEOUT", f"still running after {timeout:.0f} s", time.perf_counter() - began, None
        seconds = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
        stderr_tail = " | ".join(err.read().decode(errors="replace").strip().splitlines()[-4:])
    if status != 0 or not lines:
        how = f"signal {-status}" if status < 0 else f"exit status {status}"
        return "CRASH", f"{how}: {stderr_tail[-400:]}", seconds, None
    report = json.loads(lines[-1])
    verdict = "PASS" if report["ok"] else "FAIL"
    text = report["text"]
    if verdict == "PASS" and (seconds > MAX_SECONDS or report["rss_mib"] > MAX_RSS_MIB):
        verdict, text = "FAIL", f"unbounded: {seconds:.0f} s, {report['rss_mib']:.0f} MiB; {text}"
    return verdict, text, seconds, report["rss_mib"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--list", action="store_true", help="print the case names")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case (default 60)")
    ap.add_argument("--address-space", type=int, default=16 << 30, help="bytes of address space per case")
    ap.add_argument("--case", help=argparse.SUPPRESS)  # run one case here (the subprocess)
    args = ap.parse_args(argv)
    if args.case:
        run_case(args.case)
        return 0
    if args.list:
        print("\n".join(CASES))
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        print(f"unknown cases: {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    passed = failed = 0
    width = max(map(len, CASES))
    for name in args.cases or CASES:
        verdict, text, seconds, rss = run_isolated(name, args.timeout, args.address_space)
        usage = f"{seconds:5.1f} s" + (f" {rss:6.0f} MiB" if rss is not None else "")
        print(f"{verdict:8} {name:{width}}  {text}  [{usage}]", flush=True)
        passed += verdict == "PASS"
        failed += verdict != "PASS"
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
