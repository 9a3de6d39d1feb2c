"""WASI preview 1: real C programs built with zig (committed .wasm), the command line, and the
sandbox.

The sandbox tests use small hand-written WAT programs that call `path_open` directly with paths
that try to leave the preopened directory (`..`, absolute paths, a symlink to outside), and check
the errno WASI returns (76 = ENOTCAPABLE) and that nothing outside was touched.
"""

import io
import os
import subprocess
import sys

import pytest

from wasmbuild.api import run_wasi
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.wat import read_module_bytes

from conftest import wat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
O1 = CompileSettings(opt_level=1)


def image_of(tmp_path, data: bytes, name="prog") -> str:
    image, _ = build_image([ModuleInput(name, data, name)], O1)
    path = tmp_path / f"{name}.img"
    path.write_bytes(image)
    return str(path)


@pytest.fixture(scope="module")
def wordfreq(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wordfreq")
    return image_of(tmp, read_module_bytes(os.path.join(REPO, "samples/wordfreq/wordfreq.wasm")), "wordfreq")


def test_c_program_reads_and_writes_files(tmp_path, wordfreq):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("b a c b a b. A!\n")
    out = io.BytesIO()
    code = run_wasi(wordfreq, ["/data/in.txt", "/data/out.txt", "2"], dirs={"/data": str(data)}, stdout=out)
    assert code == 0
    assert (data / "out.txt").read_text() == "     3 a\n     3 b\n"
    assert out.getvalue() == b"16 bytes, 7 words, 3 distinct; top 2 written to /data/out.txt\n"


def test_missing_input_exits_nonzero_with_message(tmp_path, wordfreq):
    err = io.BytesIO()
    code = run_wasi(wordfreq, ["/data/nope.txt", "/data/out.txt"], dirs={"/data": str(tmp_path)}, stderr=err)
    assert code == 1
    assert b"nope.txt" in err.getvalue()


def test_command_line_runs_a_wasi_program_with_args_env_and_exit_code(tmp_path):
    data = wat("""
    (module
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $esizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (drop (call $sizes (i32.const 0) (i32.const 4)))
        (drop (call $args (i32.const 100) (i32.const 200)))
        ;; write argv[1] (a NUL-terminated string at *(104)) of length *(4) - len(argv[0]) ... simply
        ;; print the bytes from argv[1] to the end of the argument buffer
        (i32.store (i32.const 16) (i32.load (i32.const 104)))
        (i32.store (i32.const 20) (i32.sub (i32.add (i32.const 200) (i32.load (i32.const 4)))
                                           (i32.load (i32.const 104))))
        (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
        (drop (call $esizes (i32.const 8) (i32.const 12)))
        (call $exit (i32.add (i32.const 40) (i32.load (i32.const 8))))))
    """)
    img = image_of(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "run", img, "--env", "A=1", "--env", "B=2",
                           "--", "hello"], capture_output=True)
    assert proc.returncode == 42  # 40 + two environment variables
    assert proc.stdout == b"hello\0"


SANDBOX = """
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "%PATH%")
  ;; try to open (create) the path; return the errno
  (func (export "open") (result i32)
    (call $open (i32.const 3) (i32.const 1) (i32.const 256) (i32.const %LEN%) (i32.const 1)
                (i64.const 0x7fffffff) (i64.const 0x7fffffff) (i32.const 0) (i32.const 0)))
  (func (export "mkdir") (result i32)
    (call $mkdir (i32.const 3) (i32.const 256) (i32.const %LEN%))))
"""


def sandbox_call(tmp_path, path: str, func: str) -> int:
    import wasmbuild
    from wasmbuild.loader.runtime import Store
    from wasmbuild.wasi import NAMESPACE, Wasi
    text = SANDBOX.replace("%PATH%", path).replace("%LEN%", str(len(path.encode())))
    img = image_of(tmp_path, wat(text), "sandbox")
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    wasi = Wasi(["sandbox"], {}, {"/box": str(box)})
    store = Store()
    g = wasmbuild.load(img, {NAMESPACE: wasi.namespace(store)}, store)
    wasi.bind(g.exports["memory"])
    try:
        return g.exports[func]()
    finally:
        wasi.close()


ENOTCAPABLE = 76


@pytest.mark.parametrize("path", ["../escaped.txt", "a/../../escaped.txt", "/etc/escaped.txt",
                                  "link/escaped.txt"])
def test_paths_cannot_leave_the_preopened_directory(tmp_path, path):
    box = tmp_path / "box"
    box.mkdir()
    (box / "a").mkdir()
    os.symlink(str(tmp_path), str(box / "link"))  # a symlink pointing outside the sandbox
    assert sandbox_call(tmp_path, path, "open") == ENOTCAPABLE
    assert sandbox_call(tmp_path, path.replace("escaped.txt", "escdir"), "mkdir") == ENOTCAPABLE
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "escdir").exists()


def test_paths_inside_the_sandbox_work(tmp_path):
    assert sandbox_call(tmp_path, "a/../inside.txt", "open") == 0
    assert (tmp_path / "box" / "inside.txt").exists()


def test_unknown_wasi_function_is_reported_at_link_time(tmp_path):
    data = wat("""(module (import "wasi_snapshot_preview1" "no_such_call" (func (param i32) (result i32)))
                   (memory (export "memory") 1) (func (export "_start")))""")
    img = image_of(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "run", img], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "unknown import wasi_snapshot_preview1.no_such_call" in proc.stderr
    assert "Traceback" not in proc.stderr
