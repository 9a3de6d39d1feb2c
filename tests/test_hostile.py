"""Hostile or careless callers at the edges of the runtime: Python values that do not fit the wasm
types they are given for (a float for an i32, an int beyond its range), in both directions, and a
guest that never ends, stopped by Ctrl-C.

Values: an argument from Python that does not fit raises `TypeError` (a `ValueTypeError`, which the
command line prints as one line); a host function's result that does not fit traps. Ctrl-C: the
guests below create a file in their preopened directory when they start (so the test knows when to
send SIGINT), then spin in compiled code or wait in a host function for ever; `wasmbuild run` must
end with status 130, saying so in one line.
"""

import math
import signal
import subprocess
import sys
import time

import pytest

import wasmbuild
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.loader.runtime import Trap, ValueTypeError

from conftest import wat


def image_of(tmp_path, text: str, name="prog") -> str:
    image, _ = build_image([ModuleInput(name, wat(text), name)], CompileSettings(opt_level=1))
    path = tmp_path / f"{name}.img"
    path.write_bytes(image)
    return str(path)


IDENTITIES = """
(module
  (func (export "i32") (param i32) (result i32) local.get 0)
  (func (export "i64") (param i64) (result i64) local.get 0)
  (func (export "f32") (param f32) (result f32) local.get 0)
  (func (export "f64") (param f64) (result f64) local.get 0))
"""


@pytest.fixture(scope="module")
def identities(tmp_path_factory):
    return image_of(tmp_path_factory.mktemp("values"), IDENTITIES, "identities")


@pytest.mark.parametrize("export, value", [
    ("i32", 1.5), ("i32", 3.0), ("i32", 1 << 100), ("i32", 1 << 32), ("i32", -(1 << 31) - 1), ("i32", "7"),
    ("i32", None), ("i64", 2.5), ("i64", 1 << 64), ("i64", -(1 << 63) - 1), ("f32", "1.0"), ("f64", None),
    pytest.param("f64", 1 << 2000, id="f64-2**2000"),
])
def test_a_value_that_does_not_fit_a_parameter_is_a_type_error(identities, export, value):
    func = wasmbuild.load(identities).exports[export]
    with pytest.raises(TypeError) as info:
        func(value)
    assert isinstance(info.value, ValueTypeError)
    assert str(info.value).startswith("type: argument 1: ")


@pytest.mark.parametrize("export, value, result", [
    ("i32", -(1 << 31), -(1 << 31)), ("i32", (1 << 32) - 1, -1), ("i32", True, 1),
    ("i64", (1 << 64) - 1, -1), ("i64", -(1 << 63), -(1 << 63)),
    ("f32", 1, 1.0), ("f32", 0.1, 0.10000000149011612), ("f32", 1e300, math.inf), ("f64", 7, 7.0),
])
def test_values_that_fit_pass_signed_or_unsigned(identities, export, value, result):
    assert wasmbuild.load(identities).exports[export](value) == result


CALLS_HOST = """
(module
  (import "env" "h32" (func $h32 (result i32)))
  (import "env" "h64" (func $h64 (result i64)))
  (func (export "call32") (result i32) call $h32)
  (func (export "call64") (result i64) call $h64))
"""


@pytest.mark.parametrize("result, wording", [(1 << 100, "does not fit in i32"), (2.0, "wants an integer"),
                                             ("1", "wants an integer"), (None, "returned 0 values")])
def test_a_host_function_result_that_does_not_fit_traps(tmp_path, result, wording):
    def h32():
        return result
    instance = wasmbuild.load(image_of(tmp_path, CALLS_HOST), {"env": {"h32": h32, "h64": lambda: -1}})
    with pytest.raises(Trap) as info:
        instance.exports["call32"]()
    assert "host function h32" in str(info.value) and wording in str(info.value)
    assert instance.exports["call64"]() == -1


def test_a_host_function_result_in_range_passes(tmp_path):
    instance = wasmbuild.load(image_of(tmp_path, CALLS_HOST),
                              {"env": {"h32": lambda: 0xFFFFFFFF, "h64": lambda: -(1 << 63)}})
    assert instance.exports["call32"]() == -1 and instance.exports["call64"]() == -(1 << 63)


def test_command_line_reports_an_argument_that_does_not_fit_in_one_line(identities):
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "run", identities, "--invoke", "i32", "99999999999"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["wasmbuild: type: argument 1: 99999999999 does not fit in i32"]


# --- Ctrl-C ----------------------------------------------------------------------------------------

STARTS = """
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "running")
  (func $say_running  ;; create the file `running` in the preopened directory
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 256) (i32.const 7) (i32.const 1)
                      (i64.const 0x7fffffff) (i64.const 0x7fffffff) (i32.const 0) (i32.const 0))))
"""

RUNAWAY = {
    "spins in compiled code": "(func (export \"_start\") (call $say_running) (loop $spin (br $spin)))",
    # one relative clock subscription (monotonic) with the longest timeout there is
    "waits in poll_oneoff": """(func (export "_start") (call $say_running)
        (i32.store (i32.const 16) (i32.const 1))
        (i64.store (i32.const 24) (i64.const -1))
        (call $exit (call $poll (i32.const 0) (i32.const 512) (i32.const 1) (i32.const 600))))""",
}


@pytest.mark.parametrize("how", sorted(RUNAWAY))
def test_ctrl_c_stops_a_runaway_guest_with_status_130(tmp_path, how):
    img = image_of(tmp_path, f"(module {STARTS} {RUNAWAY[how]})")
    box = tmp_path / "box"
    box.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", "run", img, "--dir", f"{box}::/box"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (box / "running").exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the guest did not start"
            time.sleep(0.02)
        time.sleep(0.1)  # let it get into its loop
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read()
    assert code == 130 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines() == ["wasmbuild: interrupted"]


def test_run_leaves_sigint_as_it_found_it(identities):
    from wasmbuild.cli import main
    before = signal.getsignal(signal.SIGINT)
    assert main(["run", identities, "--invoke", "i32", "5"]) == 0
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.set_wakeup_fd(-1) == -1  # no wakeup pipe left behind
