"""Atomics and shared memories (the threads proposal).

Takes modules written in WAT (WABT's wat2wasm with threads on), built with `build_image` with
guard-page and with explicit bounds checks. Gives tests that
- every read-modify-write, load and store, at every width, gives what wasmtime gives (the old value
  and the memory afterwards) for random operands, and traps where wasmtime traps (misaligned or
  out-of-bounds effective addresses; in a guard image the fault of an atomic access in the guard
  region becomes "out of bounds memory access");
- a narrow cmpxchg compares the expected operand wrapped to its width;
- N Python threads, each in a Store of its own with the same shared memory imported, doing M
  atomic increments (rmw.add, rmw16.add_u, a cmpxchg loop) on one address end with exactly N*M;
- memory.atomic.wait returns 1 (not equal), 2 (timed out) and 0 when another thread's notify wakes
  it; notify answers how many it woke; wait on an unshared memory traps "expected shared memory";
  the host's `Memory.wait`/`Memory.notify` wake wasm threads and are woken by them;
- a shared memory grown through one store is grown for the others, its base unmoved; the same
  for a 64-bit shared memory (memory64: it does not move either), used as a second memory;
- with the threads feature off, the 0xFE prefix and the shared limits flag are malformed with the
  2.0 reason first, and validation wants natural alignment and a maximum for shared memories;
- threads/atomic and relaxed-simd of the 3.0 suite pass when built for aarch64 and run under qemu.
Every waiting step has a timeout, so a broken implementation fails instead of hanging.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time

import pytest
from conftest import need, need_command, need_module, wat

import wasmbuild
from wasmbuild.binary import decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.contract import abi
from wasmbuild.contract.types import I64
from wasmbuild.errors import InvalidError, MalformedError, UnlinkableError
from wasmbuild.loader.runtime import Memory, Store, Trap
from wasmbuild.valid import validate_module

WAIT = 60  # seconds any step may wait for another thread
BOUNDS = (abi.BOUNDS_GUARD, abi.BOUNDS_EXPLICIT)

# (wasm type, width suffix, bytes) of the seven widths of the atomic loads, stores and RMWs.
WIDTHS = (("i32", "", 4), ("i64", "", 8), ("i32", "8", 1), ("i32", "16", 2), ("i64", "8", 1), ("i64", "16", 2),
          ("i64", "32", 4))
RMW = ("add", "sub", "and", "or", "xor", "xchg", "cmpxchg")


def _threads_wat(text: str) -> bytes:
    return wat(text, extra=("--enable-threads",))


def _image(tmp_path, name: str, data: bytes, bounds: str) -> str:
    image, _report = build_image([ModuleInput(name, data)], CompileSettings(bounds_checks=bounds))
    path = tmp_path / f"{name}-{bounds}.img"
    path.write_bytes(image)
    return str(path)


def _ops() -> dict[str, tuple[str, str, int]]:
    """Every atomic load, store and RMW: name -> (wasm type, its kind, bytes accessed)."""
    out = {}
    for t, w, size in WIDTHS:
        u = "_u" if w else ""
        out[f"{t}.atomic.load{w}{u}"] = (t, "load", size)
        out[f"{t}.atomic.store{w}"] = (t, "store", size)
        for op in RMW:
            out[f"{t}.atomic.rmw{w}.{op}{u}"] = (t, op, size)
    return out


OPS = _ops()


def _ops_module() -> str:
    """Each export `NAME(addr, init, a, b) -> (old, word)`: stores `init` in the aligned 8-byte word
    at `addr & ~7`, runs the instruction NAME at `addr` (operands `a`, `b` wrapped to its type), and
    returns its result (zero-extended to i64; 0 for a store) and the word afterwards."""
    funcs = []
    for name, (t, kind, _size) in OPS.items():
        def operand(local: str) -> str:
            return f"(local.get {local})" if t == "i64" else f"(i32.wrap_i64 (local.get {local}))"
        if kind == "load":
            args = ""
        elif kind == "cmpxchg":
            args = operand("$a") + " " + operand("$b")
        else:
            args = operand("$a")
        expr = f"({name} (local.get $addr) {args})"
        if kind == "store":
            compute = f"{expr} (local.set $old (i64.const 0))"
        else:
            compute = f"(local.set $old {expr if t == 'i64' else f'(i64.extend_i32_u {expr})'})"
        funcs.append(f"""
  (func (export "{name}") (param $addr i32) (param $init i64) (param $a i64) (param $b i64) (result i64 i64)
    (local $old i64)
    (i64.store (i32.and (local.get $addr) (i32.const -8)) (local.get $init))
    {compute}
    (local.get $old) (i64.load (i32.and (local.get $addr) (i32.const -8))))""")
    # Unshared: wasmtime-py cannot enable shared memories; atomics work the same on both.
    return "(module (memory (export \"mem\") 1 1)" + "".join(funcs) + ")"


@pytest.fixture(scope="module")
def ops_module() -> bytes:
    return _threads_wat(_ops_module())


@pytest.fixture(scope="module")
def wasmtime_ops(ops_module):
    wasmtime = need_module("wasmtime")
    config = wasmtime.Config()
    config.wasm_threads = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, ops_module), [])

    def call(name, *args):
        try:
            old, word = instance.exports(store)[name](store, *args)
        except wasmtime.Trap as e:
            return "trap", "unaligned" if "misaligned" in str(e) or "unaligned" in str(e) else "oob"
        return old & (2 ** 64 - 1), word & (2 ** 64 - 1)
    return call


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


@pytest.mark.parametrize("bounds", BOUNDS)
def test_every_atomic_instruction_gives_what_wasmtime_gives(tmp_path, ops_module, wasmtime_ops, bounds):
    inst = wasmbuild.load(_image(tmp_path, "ops", ops_module, bounds))
    rng = random.Random(1234)
    names = [n for n in inst.exports if n != "mem"]
    assert sorted(names) == sorted(OPS) and len(names) == 7 * (2 + len(RMW))

    def ours(name, *args):
        try:
            old, word = inst.exports[name](*args)
        except Trap as e:
            assert e.message in ("unaligned atomic", "out of bounds memory access"), e.message
            return "trap", "unaligned" if e.message == "unaligned atomic" else "oob"
        return old & (2 ** 64 - 1), word & (2 ** 64 - 1)
    checked = 0
    for name in names:
        size = OPS[name][2]
        for _ in range(12):
            init = rng.getrandbits(64)
            a = rng.getrandbits(64) if rng.random() < 0.7 else init >> (8 * rng.randrange(8))
            b = rng.getrandbits(64)
            if "cmpxchg" in name and rng.random() < 0.5:
                a = init  # a matching expected value (of the part the width takes)
                if rng.random() < 0.5:
                    a &= (1 << 8 * size) - 1
            addr = 64 + size * rng.randrange(8 // size)
            args = (addr, _signed64(init), _signed64(a), _signed64(b))
            assert ours(name, *args) == wasmtime_ops(name, *args), (name, args)
            checked += 1
        # Misaligned, and out of bounds (an aligned address past the end: in a guard image, a
        # fault in the guard region).
        for addr in ([65 + 8] if size > 1 else []) + [65536, 65536 + 4096, 65536 - size // 2 * 2 + 8]:
            args = (addr, 0, 0, 0)
            assert ours(name, *args) == wasmtime_ops(name, *args) and ours(name, *args)[0] == "trap", (name, addr)
    assert checked == 12 * len(names)


def test_narrow_cmpxchg_compares_the_wrapped_expected_operand(tmp_path, ops_module):
    inst = wasmbuild.load(_image(tmp_path, "ops", ops_module, abi.BOUNDS_GUARD))
    f = inst.exports["i32.atomic.rmw8.cmpxchg_u"]
    # Memory byte 0x11 (the low byte of the word at 64); expected 0x111 wraps to 0x11 (as the
    # proposal's overview has it, and wasmtime does).
    assert f(64, 0x3311, 0x111, 0x22) == (0x11, 0x3322)
    assert f(64, 0x3311, 0x12, 0x22) == (0x11, 0x3311)
    g = inst.exports["i64.atomic.rmw32.cmpxchg_u"]
    assert g(64, 0x1_0000_0005, 0x7_0000_0005, 7) == (5, 0x1_0000_0007)
    assert g(64, 0x1_0000_0005, 6, 7) == (5, 0x1_0000_0005)


COUNTER_WAT = r"""
(module
  (import "env" "mem" (memory 1 4 shared))
  (func (export "add") (param $addr i32) (param $n i32)
    (loop $l
      (drop (i32.atomic.rmw.add (local.get $addr) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "add16") (param $addr i32) (param $n i32)
    (loop $l
      (drop (i64.atomic.rmw16.add_u (local.get $addr) (i64.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; A compare-and-swap loop, and a plain (non-atomic) counter beside it under a spin lock.
  (func (export "cas") (param $addr i32) (param $n i32) (local $old i64)
    (loop $l
      (loop $retry
        (local.set $old (i64.atomic.load (local.get $addr)))
        (br_if $retry (i64.ne (local.get $old)
          (i64.atomic.rmw.cmpxchg (local.get $addr) (local.get $old)
                                  (i64.add (local.get $old) (i64.const 1))))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "locked") (param $lock i32) (param $addr i32) (param $n i32)
    (loop $l
      (loop $spin
        (br_if $spin (i32.atomic.rmw.cmpxchg (local.get $lock) (i32.const 0) (i32.const 1))))
      (i32.store (local.get $addr) (i32.add (i32.load (local.get $addr)) (i32.const 1)))
      (i32.atomic.store (local.get $lock) (i32.const 0))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "load16") (param i32) (result i32) (i32.atomic.load16_u (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait64") (param i32 i64 i64) (result i32)
    (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "store") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1)))
)
"""


@pytest.fixture(scope="module")
def counter_images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("atomics")
    data = _threads_wat(COUNTER_WAT)
    return {bounds: _image(tmp, "counter", data, bounds) for bounds in BOUNDS}


def _instances(path: str, memory: Memory, n: int) -> list:
    """`n` instances of the image at `path`, each in a Store of its own, importing `memory`."""
    return [wasmbuild.load(path, {"env": {"mem": memory}}) for _ in range(n)]


def _run_threads(targets) -> None:
    errors: list = []
    start = threading.Barrier(len(targets), timeout=WAIT)

    def run(target):
        try:
            start.wait()
            target()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors


@pytest.mark.parametrize("bounds", BOUNDS)
def test_threads_in_different_stores_increment_a_shared_counter_exactly(counter_images, bounds):
    n, m = 4, 200_000
    memory = Memory(Store(), 1, 4, shared=True)
    insts = _instances(counter_images[bounds], memory, n)
    assert len({inst.image.store for inst in insts}) == n
    _run_threads([lambda e=inst.exports: (e["add"](0, m), e["add16"](8, m), e["cas"](16, m),
                                          e["locked"](24, 32, m)) for inst in insts])
    e = insts[0].exports
    assert e["load"](0) == n * m
    assert e["load16"](8) == n * m % 65536 and memory.read(10, 6) == bytes(6)  # 16 bits wrap alone
    assert int.from_bytes(memory.read(16, 8), "little") == n * m
    assert e["load"](32) == n * m and e["load"](24) == 0


def test_an_unshared_memory_cannot_be_imported_as_shared(counter_images):
    with pytest.raises(UnlinkableError, match="incompatible import type"):
        wasmbuild.load(counter_images[abi.BOUNDS_GUARD], {"env": {"mem": Memory(Store(), 1, 4)}})


def test_wait_returns_not_equal_and_timed_out_on_its_own(counter_images):
    memory = Memory(Store(), 1, 4, shared=True)
    e = _instances(counter_images[abi.BOUNDS_GUARD], memory, 1)[0].exports
    e["store"](0, 7)
    assert e["wait32"](0, 8, -1) == 1  # not equal, however long it would wait
    assert e["wait64"](0, 8, 0) == 1
    assert e["wait32"](0, 7, 0) == 2
    assert e["wait32"](0, 7, 5_000_000) == 2  # 5 ms
    assert e["wait64"](0, 7, 1000) == 2
    assert e["notify"](0, 10) == 0
    for fn, args in ((e["wait32"], (2, 7, 0)), (e["wait64"], (4, 7, 0)), (e["notify"], (1, 1))):
        with pytest.raises(Trap, match="unaligned atomic"):
            fn(*args)
    for fn, args in ((e["wait32"], (65536, 7, 0)), (e["wait64"], (65536 + 8, 7, 0)), (e["notify"], (65536, 1))):
        with pytest.raises(Trap, match="out of bounds memory access"):
            fn(*args)


def _notify_until(notify, addr: int, expected: int) -> int:
    """Call `notify(addr, 1)` until it has woken `expected` waiters (each must get into the queue
    first), or WAIT seconds have passed; how many it woke."""
    woken = 0
    deadline = time.monotonic() + WAIT
    while woken < expected and time.monotonic() < deadline:
        woken += notify(addr, 1)
        time.sleep(0.001)
    return woken


@pytest.mark.parametrize("bounds", BOUNDS)
def test_notify_wakes_waiters_of_other_threads(counter_images, bounds):
    memory = Memory(Store(), 1, 4, shared=True)
    notifier, *waiters = (inst.exports for inst in _instances(counter_images[bounds], memory, 3))
    results: list = []

    def wait(e, which: str, addr: int, value: int):
        results.append(e[which](addr, value, -1 if which == "wait32" else WAIT * 10 ** 9))
    thread = threading.Thread(target=wait, args=(waiters[0], "wait32", 64, 0), daemon=True)
    thread.start()
    assert _notify_until(notifier["notify"], 64, 1) == 1
    thread.join(WAIT)
    assert results == [0]
    # Two waiters on a 64-bit value (in two stores), woken one at a time; nobody waits at 136.
    memory.write(128, (5).to_bytes(8, "little"))
    threads = [threading.Thread(target=wait, args=(e, "wait64", 128, 5), daemon=True) for e in waiters]
    for t in threads:
        t.start()
    assert _notify_until(notifier["notify"], 128, 2) == 2
    for t in threads:
        t.join(WAIT)
    assert results == [0, 0, 0] and notifier["notify"](136, 5) == 0


def test_wait_on_an_unshared_memory_traps(tmp_path):
    data = _threads_wat("""(module (memory 1 1)
      (func (export "wait") (result i32) (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 0)))
      (func (export "notify") (result i32) (memory.atomic.notify (i32.const 0) (i32.const 1)))
      (func (export "add") (result i32) (i32.atomic.rmw.add (i32.const 0) (i32.const 1))))""")
    for bounds in BOUNDS:
        e = wasmbuild.load(_image(tmp_path, "unshared", data, bounds)).exports
        with pytest.raises(Trap, match="expected shared memory"):
            e["wait"]()
        assert e["notify"]() == 0
        assert (e["add"](), e["add"]()) == (0, 1)  # atomics work on unshared memories too


def test_a_shared_memory_grows_for_every_store(counter_images):
    memory = Memory(Store(), 1, 4, shared=True)
    a, b = (inst.exports for inst in _instances(counter_images[abi.BOUNDS_EXPLICIT], memory, 2))
    base = memory.base
    assert b["grow"](2) == 1
    assert (a["size"](), b["size"](), memory.pages) == (3, 3, 3)
    a["store"](3 * 65536 - 4, 99)
    assert b["load"](3 * 65536 - 4) == 99 and memory.base == base
    assert a["grow"](2) == -1 and a["grow"](1) == 3 and b["size"]() == 4


def test_threads_off_keeps_the_2_0_reasons():
    shared = _threads_wat("(module (memory 1 2 shared))")
    fe = _threads_wat("(module (memory 1 2) (func (drop (i32.atomic.load (i32.const 0)))))")
    with pytest.raises(MalformedError, match=r"integer too large: a shared memory needs threads .*\(threads\), which is off"):
        decode_module(shared, "shared.wasm", features=frozenset())
    with pytest.raises(MalformedError, match=r"illegal opcode fe: an atomic instruction \(0xFE prefix\) needs .* \(threads\), which is off"):
        validate_module(decode_module(fe, "fe.wasm", features=frozenset()))
    validate_module(decode_module(shared))
    validate_module(decode_module(fe))


@pytest.mark.parametrize("text, reason", [
    ("(memory 1 shared)", "shared memory must have maximum"),
    ("(memory 1 1) (func (drop (i32.atomic.load align=2 (i32.const 0))))", "atomic alignment must be natural"),
    ("(memory 1 1) (func (drop (i64.atomic.rmw32.add_u align=8 (i32.const 0) (i64.const 0))))",
     "alignment must not be larger than natural"),
    ("(memory 1 1) (func (drop (memory.atomic.wait64 align=4 (i32.const 0) (i64.const 0) (i64.const 0))))",
     "atomic alignment must be natural"),
    ("(func (drop (memory.atomic.notify (i32.const 0) (i32.const 0))))", "unknown memory"),
])
def test_validation(text, reason):
    data = wat(f"(module {text})", check=False, extra=("--enable-threads",))
    with pytest.raises(InvalidError, match=reason):
        validate_module(decode_module(data))


def test_atomic_and_relaxed_simd_scripts_run_under_qemu_aarch64(tmp_path):
    """threads/atomic and relaxed-simd, built here for aarch64 (guard pages: atomics faulting in the
    guard region, LL/SC or LSE sequences LLVM chooses inline) and run by an emulated aarch64 Python."""
    from wasmbuild.testing import spec3_dir
    from wasmbuild.testing.qemu import find_emulator, prebuild_wast
    from wasmbuild.wast import find_scripts
    emu = need("qemu-aarch64", find_emulator("aarch64"), "run tools/setup-qemu.sh aarch64 as root")
    scripts = find_scripts([f"{spec3_dir()}/threads/atomic", f"{spec3_dir()}/relaxed-simd"])
    prebuild_wast(scripts, CompileSettings(triple="aarch64-unknown-linux-gnu"), str(tmp_path))
    r = emu.run_python(["-m", "wasmbuild.testing.qemu", "wast", str(tmp_path), *scripts], timeout=1200)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-3000:]
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    assert last == "374 passed, 0 failed, 0 skipped", last


MEMORY64_WAT = r"""
(module
  (import "env" "mem" (memory $b i64 1 4 shared))
  (memory $a 1 1)
  (func (export "add") (param i64 i32) (result i32) (i32.atomic.rmw.add $b (local.get 0) (local.get 1)))
  (func (export "add0") (param i32 i32) (result i32) (i32.atomic.rmw.add $a (local.get 0) (local.get 1)))
  (func (export "count") (param i64 i32)
    (loop $l
      (drop (i64.atomic.rmw.add $b (local.get 0) (i64.const 1)))
      (br_if $l (local.tee 1 (i32.sub (local.get 1) (i32.const 1))))))
  (func (export "load") (param i64) (result i64) (i64.atomic.load $b offset=8 (local.get 0)))
  (func (export "wait") (param i64 i32 i64) (result i32)
    (memory.atomic.wait32 $b offset=4 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i64) (result i32) (memory.atomic.notify $b (local.get 0) (i32.const 1)))
  (func (export "grow") (param i64) (result i64) (memory.grow $b (local.get 0)))
)
"""


@pytest.mark.parametrize("bounds", BOUNDS)
def test_atomics_on_a_second_and_64_bit_shared_memory(tmp_path, bounds):
    tool = need_command("wasm-tools", "pip install wasm-tools, or cargo install wasm-tools")
    src = tmp_path / "m64.wat"
    src.write_text(MEMORY64_WAT)
    subprocess.run([tool, "parse", str(src), "-o", str(tmp_path / "m64.wasm")], check=True)
    path = _image(tmp_path, "m64", (tmp_path / "m64.wasm").read_bytes(), bounds)
    memory = Memory(Store(), 1, 4, addr=I64, shared=True)
    a, b = (inst.exports for inst in _instances(path, memory, 2))
    base = memory.base
    assert (a["add"](16, 5), b["add"](16, 5), a["load"](8)) == (0, 5, 10)
    assert (a["add0"](0, 3), a["add0"](0, 3), b["add0"](0, 3)) == (0, 3, 0)  # memory $a: one per instance
    assert (a["wait"](12, 10, 0), a["wait"](12, 11, -1), a["notify"](16)) == (2, 1, 0)
    for fn, args, message in ((a["add"], (-4, 1), "out of bounds"), (a["add"], (65536, 1), "out of bounds"),
                              (a["wait"], (-4, 0, 0), "out of bounds"), (a["wait"], (65532, 0, 0), "out of bounds"),
                              (a["add"], (2, 1), "unaligned atomic"), (a["wait"], (2, 0, 0), "unaligned atomic")):
        with pytest.raises(Trap, match=message):
            fn(*args)
    assert (b["grow"](1), a["add"](65536, 1), a["grow"](5), memory.base) == (1, 0, -1, base)
    _run_threads([lambda e=e: e["count"](24, 20_000) for e in (a, b)])
    assert int.from_bytes(memory.read(24, 8), "little") == 40_000


def test_the_host_waits_and_notifies_with_wasm_threads(counter_images):
    memory = Memory(Store(), 1, 4, shared=True)
    e = _instances(counter_images[abi.BOUNDS_GUARD], memory, 1)[0].exports
    assert memory.wait(0, 1, timeout=0) == 1 and memory.wait(0, 0, timeout=0.001) == 2
    assert memory.wait(8, 0, timeout=0, size=8) == 2 and memory.notify(0) == 0
    # A wasm thread waits; the host wakes it.
    results: list = []
    thread = threading.Thread(target=lambda: results.append(e["wait32"](64, 0, -1)), daemon=True)
    thread.start()
    assert _notify_until(lambda addr, n: memory.notify(addr, n), 64, 1) == 1
    thread.join(WAIT)
    # The host waits; a wasm thread wakes it.
    thread = threading.Thread(target=lambda: results.append(memory.wait(128, 0, timeout=WAIT)), daemon=True)
    thread.start()
    assert _notify_until(e["notify"], 128, 1) == 1
    thread.join(WAIT)
    assert results == [0, 0]
    with pytest.raises(ValueError, match="unaligned atomic"):
        memory.wait(2, 0)
    with pytest.raises(IndexError, match="out of bounds"):
        memory.notify(65536)
    with pytest.raises(ValueError, match="expected shared memory"):
        Memory(Store(), 1, 1).wait(0, 0, timeout=0)
