"""Guard-page memories (`--bounds-checks guard`, the default on x86-64 and aarch64) against explicit
bounds checks: the same traps at the same accesses, the memory as wasm leaves it, faults that are
not wasm's reaching the handler installed before, traps on several threads and across stores, a
failed reservation refused with a clear error, and the setting in the image header and cache key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from conftest import wat

import wasmbuild
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.cache import open_cache
from wasmbuild.compile import CompileSettings
from wasmbuild.contract import abi
from wasmbuild.errors import WasmbuildError
from wasmbuild.image import SECTION_FAULT, read_image
from wasmbuild.loader.runtime import Trap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = (abi.BOUNDS_GUARD, abi.BOUNDS_EXPLICIT)

MEMORY_WAT = r"""
(module
  (import "env" "call_other" (func $call_other (param i32) (result i32)))
  (memory (export "mem") 1 3)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load_offset") (param i32) (result i32) (i32.load offset=0xfffffff0 (local.get 0)))
  (func (export "load_low_byte") (param i32) (result i32)
    (i32.and (i32.load (local.get 0)) (i32.const 0xff)))  ;; LLVM may not narrow it to one byte
  (func (export "load_dropped") (param i32) (drop (i64.load (local.get 0))))
  (func (export "load_v128") (param i32) (result i32) (i32x4.extract_lane 0 (v128.load (local.get 0))))
  (func (export "store_then_trap") (param i32 i32)
    ;; The first store happens, the second traps: memory shows the first, not the second.
    (i32.store8 (local.get 0) (i32.const 0x55))
    (i32.store (local.get 1) (i32.const 0x66666666)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "other_then_load") (param i32) (result i32)
    (i32.add (call $call_other (local.get 0)) (i32.load (local.get 0))))
)
"""


def _image(tmp_path, mode: str, text: str = MEMORY_WAT, name: str = "m") -> str:
    image, _report = build_image([ModuleInput(name, wat(text))], CompileSettings(bounds_checks=mode), jobs=1)
    path = str(tmp_path / f"{name}-{mode}.img")
    with open(path, "wb") as f:
        f.write(image)
    return path


def _outcome(fn, *args):
    try:
        return fn(*args)
    except Trap as e:
        return e.message


@pytest.fixture(scope="module", params=MODES)
def memory_image(request, tmp_path_factory):
    return _image(tmp_path_factory.mktemp("guard"), request.param)


def _load(path, other=lambda n: n):
    return wasmbuild.load(path, {"env": {"call_other": other}})


def test_every_access_traps_where_wasm_says_in_both_modes(memory_image):
    e = _load(memory_image).exports
    oob = "out of bounds memory access"
    size = 65536
    assert [_outcome(e["load"], a) for a in (0, size - 4, size - 3, size - 1, size, 0xFFFFFFFF)] == \
        [0, 0, oob, oob, oob, oob]
    assert _outcome(e["load_offset"], 0) == oob and _outcome(e["load_offset"], 0xFFFFFFFF) == oob
    assert _outcome(e["load_low_byte"], size - 4) == 0 and _outcome(e["load_low_byte"], size - 2) == oob
    assert _outcome(e["load_dropped"], size - 8) is None and _outcome(e["load_dropped"], size - 7) == oob
    assert _outcome(e["load_v128"], size - 16) == 0 and _outcome(e["load_v128"], size - 15) == oob
    assert _outcome(e["store_then_trap"], 100, size - 2) == oob
    mem = e["mem"]
    assert mem.read(100, 1) == b"\x55" and mem.read(size - 2, 2) == b"\0\0"
    # Growing makes the next page accessible, and no further.
    assert e["grow"](1) == 1 and _outcome(e["load"], size - 2) == 0
    assert _outcome(e["load"], 2 * size - 3) == oob
    assert e["grow"](5) == -1 and _outcome(e["load"], 2 * size) == oob
    assert e["load"](2 * size - 4) == 0  # the instance works after all those traps


def test_the_image_records_the_mode_and_carries_the_fault_handler_only_with_guards(tmp_path):
    for mode in MODES:
        with open(_image(tmp_path, mode), "rb") as f:
            image = read_image(f.read())
        assert image.header.bounds_checks == mode
        assert bool(image.fault_object) == (mode == abi.BOUNDS_GUARD)
    assert CompileSettings().resolved().bounds_checks == abi.BOUNDS_GUARD  # on this x86-64/aarch64 host
    assert CompileSettings(triple="s390x-unknown-linux-gnu").resolved().bounds_checks == abi.BOUNDS_EXPLICIT
    with pytest.raises(WasmbuildError, match="guard-page memories are not supported on s390x"):
        CompileSettings(triple="s390x-unknown-linux-gnu", bounds_checks="guard").resolved()


def test_the_mode_is_part_of_the_cache_key(tmp_path):
    cache = open_cache(str(tmp_path / "cache"))
    data = wat(MEMORY_WAT)
    compiled = []
    for mode in (*MODES, abi.BOUNDS_GUARD):
        _image_bytes, report = build_image([ModuleInput("m", data)], CompileSettings(bounds_checks=mode),
                                           jobs=1, cache=cache)
        compiled.append(report.compiled)
    assert compiled == [8, 8, 0]


def test_a_trap_in_a_store_entered_from_a_host_function_of_another(tmp_path):
    inner = _load(_image(tmp_path, abi.BOUNDS_GUARD, name="inner")).exports
    seen = []

    def other(n):
        seen.append(_outcome(inner["load"], n))  # traps in the inner store, on this thread
        return 1
    outer = _load(_image(tmp_path, abi.BOUNDS_GUARD, name="outer"), other).exports
    # The inner store's trap is the inner call's; then the outer load traps in the outer store.
    assert _outcome(outer["other_then_load"], 65536) == "out of bounds memory access"
    assert seen == ["out of bounds memory access"]
    assert _outcome(outer["other_then_load"], 8) == 1 and seen == ["out of bounds memory access", 0]


def test_threads_trap_in_their_own_stores_at_once(tmp_path):
    path = _image(tmp_path, abi.BOUNDS_GUARD)
    barrier = threading.Barrier(4, timeout=60)
    results: dict[int, list] = {}

    def run(i):
        e = _load(path).exports
        barrier.wait()
        results[i] = [_outcome(e["load"], 65536 + i) for _ in range(200)] + [e["load"](0)]
    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {i: ["out of bounds memory access"] * 200 + [0] for i in range(4)}


def _python(code: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, env=env, **kwargs)


def test_a_fault_outside_wasm_code_reaches_the_handler_from_before(tmp_path):
    path = _image(tmp_path, abi.BOUNDS_GUARD)
    crash = f"""
        import ctypes, faulthandler, sys
        import wasmbuild
        from wasmbuild.loader.runtime import Trap
        if sys.argv[1:] == ["faulthandler"]:
            faulthandler.enable()
        e = wasmbuild.load({path!r}, {{"env": {{"call_other": lambda n: n}}}}).exports
        try:
            e["load"](1 << 20)
        except Trap as t:
            print("trap:", t.message, flush=True)
        ctypes.string_at(8)  # a fault in no wasm code
        print("not reached")
    """
    plain = _python(crash)
    assert plain.stdout == "trap: out of bounds memory access\n" and plain.returncode == -signal.SIGSEGV
    env = dict(os.environ, PYTHONPATH=REPO)
    chained = subprocess.run([sys.executable, "-c", textwrap.dedent(crash), "faulthandler"], capture_output=True,
                             text=True, timeout=120, env=env)
    assert chained.stdout == "trap: out of bounds memory access\n" and chained.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in chained.stderr


def test_without_address_space_for_the_guard_region_the_image_is_refused_clearly(tmp_path):
    prog = wat("""(module (memory (export "memory") 1) (func (export "_start") (drop (i32.load (i32.const 0)))))""")
    paths = {}
    for mode in MODES:
        image, _report = build_image([ModuleInput("main", prog)], CompileSettings(bounds_checks=mode), jobs=1)
        paths[mode] = str(tmp_path / f"{mode}.img")
        with open(paths[mode], "wb") as f:
            f.write(image)
    import resource
    limit = 3 << 30  # enough for Python, less than a guard region or a 4 GiB memory

    def run(path):
        return subprocess.run([sys.executable, "-m", "wasmbuild", "run", path], capture_output=True, text=True,
                              timeout=120, env=dict(os.environ, PYTHONPATH=REPO),
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    guarded = run(paths[abi.BOUNDS_GUARD])
    assert guarded.returncode == 1 and "Traceback" not in guarded.stderr
    assert guarded.stderr.count("\n") == 1 and "--bounds-checks explicit" in guarded.stderr
    # Explicit checks need only the memory's maximum reserved, and with less address space than
    # that the memory gets what there is (memory.grow fails sooner).
    explicit = run(paths[abi.BOUNDS_EXPLICIT])
    assert explicit.returncode == 0, explicit.stderr


def test_the_cli_takes_the_mode(tmp_path):
    src = tmp_path / "m.wat"
    src.write_text("(module (memory 1) (func (export \"f\") (result i32) (i32.load (i32.const 65535))))")
    for mode in MODES:
        out = tmp_path / f"{mode}.img"
        proc = subprocess.run([sys.executable, "-m", "wasmbuild", "build", "--no-cache", "--bounds-checks", mode,
                               str(src), "-o", str(out)], capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, PYTHONPATH=REPO))
        assert proc.returncode == 0, proc.stderr
        with open(out, "rb") as f:
            assert read_image(f.read()).header.bounds_checks == mode
        assert (SECTION_FAULT.encode() in out.read_bytes()) == (mode == abi.BOUNDS_GUARD)


def test_images_collected_while_others_load_do_not_deadlock(tmp_path):
    # CodeMemory.close (from the garbage collector, at any allocation) takes the image's code out of
    # the handler's ranges: also while this thread is adding another image's code.
    import gc
    path = _image(tmp_path, abi.BOUNDS_GUARD)
    threshold = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    try:
        for i in range(60):
            e = _load(path).exports  # the previous instance, in a cycle with its store, is garbage
            assert _outcome(e["load"], 65536 + i) == "out of bounds memory access"
    finally:
        gc.set_threshold(*threshold)
    gc.collect()
    from wasmbuild.loader import signals
    assert len(signals._ranges) <= 2  # only what is still alive (the last image, maybe one more)
