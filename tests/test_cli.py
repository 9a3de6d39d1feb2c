"""Tests of the `wasmbuild` command line, run as `python -m wasmbuild` in a subprocess.

Takes modules written here as WebAssembly text (assembled by WABT's wat2wasm through conftest's `wat`,
or read by the CLI itself from .wat files), hand-made malformed binaries, one spec-suite script
(`i32.json` from `$WASMBUILD_SPEC_DIR`) and a small script made
here with WABT's wast2json.

Gives pass/fail on the exit status, stdout and stderr of `check`, `build -o`, `run --invoke`,
`inspect` and `wast` (with `--json`): user errors are one line naming the file and exit 1, never a
traceback; a failed build leaves an existing image untouched. Also `python -m wasmbuild.samplecheck`
(passing and failing checks, without importing the command line) and that `wasmbuild.load` is
`wasmbuild.api.load`. Expected outputs are written here or derived from the inputs (the spec
script's own list of commands), never from wasmbuild.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

import pytest
from conftest import REPO_ROOT, WABT_HINT, need_command, spec_core, wat

import wasmbuild


def cli(*args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("WASMBUILD_CACHE_DIR", os.path.join(tempfile.gettempdir(), "wasmbuild-test-cli-cache"))
    return subprocess.run([sys.executable, "-m", "wasmbuild", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)


def assert_user_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 1, exactly one line on stderr containing every needle, no traceback; gives the line."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


ADD_WAT = """(module
  (memory (export "mem") 1)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "pair") (param f64 i64) (result i64 f64) local.get 1 local.get 0)
  (func (export "mul64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
  (func (export "crash") unreachable)
  (func (export "nothing")))
"""
INVALID_WAT = "(module (func (result i32) i64.const 1))\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "add.wat").write_text(ADD_WAT)
    (d / "add.wasm").write_bytes(wat(ADD_WAT))
    (d / "invalid.wat").write_text(INVALID_WAT)
    (d / "invalid.wasm").write_bytes(wat(INVALID_WAT, check=False))
    (d / "truncated.wasm").write_bytes(b"\0asm\x01\0\0\0\x01\x05")  # a type section cut short
    (d / "notwasm.wasm").write_bytes(b"hello world\n")
    (d / "syntax.wat").write_text("(module (func (export \"f\") i32.const))\n")
    proc = cli("build", d / "add.wasm", "-o", d / "add.img", "-j", "1", "--no-cache", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d


# --- check -----------------------------------------------------------------------------------------

def test_check_valid_modules(files):
    proc = cli("check", files / "add.wat", files / "add.wasm", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    proc = cli("check", "-v", files / "add.wasm", cwd=files)
    assert proc.returncode == 0 and f"{files / 'add.wasm'}: ok" in proc.stdout
    assert "6 functions" in proc.stdout


@pytest.mark.parametrize("name,reason", [("truncated.wasm", "malformed"), ("notwasm.wasm", "malformed"),
                                         ("invalid.wasm", "invalid: type mismatch"),
                                         ("invalid.wat", "invalid: type mismatch"), ("syntax.wat", ""),
                                         ("missing.wasm", "")])
def test_check_bad_module(files, name, reason):
    path = files / name
    line = assert_user_error(cli("check", path, cwd=files), reason)
    assert line.startswith(str(path)), line


def test_check_reports_each_bad_file_on_its_own_line(files):
    bad = ["truncated.wasm", "invalid.wasm", "missing.wasm"]
    proc = cli("check", *(files / n for n in ["add.wasm", *bad]), cwd=files)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [str(files / n) for n in bad]


# --- build and run ---------------------------------------------------------------------------------

def test_build_writes_a_loadable_image(files, tmp_path):
    out = tmp_path / "out.img"
    proc = cli("build", files / "add.wat", "-o", out, "-j", "2", "--cache-dir", tmp_path / "cache", "-v", "-O", "0",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{out}: 6 functions (6 compiled, 0 from cache)"), proc.stdout
    assert wasmbuild.load(str(out)).exports["add"](40, 2) == 42
    # Built again from the cache: the same image.
    again = tmp_path / "again.img"
    proc = cli("build", files / "add.wat", "-o", again, "-j", "1", "--cache-dir", tmp_path / "cache", "-v", "-O", "0",
               cwd=tmp_path)
    assert proc.returncode == 0 and "(0 compiled, 6 from cache)" in proc.stdout, proc.stdout
    assert again.read_bytes() == out.read_bytes()


def test_load_is_the_api_load():
    import wasmbuild.api
    assert wasmbuild.load is wasmbuild.api.load


SAMPLECHECK = """import runpy, sys
sys.argv = ["samplecheck", *sys.argv[1:]]
try:
    runpy.run_module("wasmbuild.samplecheck", run_name="__main__")
finally:
    print("cli imported:", "wasmbuild.cli" in sys.modules)
"""


def test_samplecheck_does_not_import_the_cli(files, tmp_path):
    """`python -m wasmbuild.samplecheck`, which the SCons tool runs, passes and fails the checks of an
    image without importing the command line."""
    good, bad = tmp_path / "good.expected", tmp_path / "bad.expected"
    good.write_text("add 40 2 => 42\npair 1.5 7 => 7 1.5\ndiv 1 0 => trap: integer divide by zero\n")
    bad.write_text("add 1 1 => 3\n")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = {expected: subprocess.run([sys.executable, "-c", SAMPLECHECK, files / "add.img", expected],
                                     capture_output=True, text=True, env=env, timeout=120)
            for expected in (good, bad)}
    for expected, proc in runs.items():
        assert proc.stdout.splitlines()[-1] == "cli imported: False", proc.stdout + proc.stderr
    assert runs[good].returncode == 0, runs[good].stderr
    assert f"{files / 'add.img'}: 3 checks passed ({good})" in runs[good].stdout
    assert runs[bad].returncode == 1
    assert f"{bad}:1: add 1 1: expected 3, got 2" in runs[bad].stderr


@pytest.mark.parametrize("invoke,expected", [
    (["add", "2", "3"], "5"),
    (["add", "2147483647", "1"], "-2147483648"),
    (["add", "0x10", "-1"], "15"),
    (["mul64", "4294967296", "4294967296"], "0"),
    (["mul64", "-3", "5"], "-15"),
    (["pair", "2.5", "-7"], "-7 2.5"),
    (["nothing"], ""),
])
def test_run_invoke_prints_results(files, invoke, expected):
    proc = cli("run", files / "add.img", "--invoke", *invoke, cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected and proc.stderr == ""


@pytest.mark.parametrize("invoke,message", [(["div", "1", "0"], "integer divide by zero"),
                                            (["div", "-2147483648", "-1"], "integer overflow"),
                                            (["crash"], "unreachable")])
def test_run_trap(files, invoke, message):
    proc = cli("run", files / "add.img", "--invoke", *invoke, cwd=files)
    assert_user_error(proc, message)
    assert proc.stdout == ""


@pytest.mark.parametrize("invoke,needle", [(["nope"], "nope"), (["add", "1"], "2 arguments"),
                                           (["add", "x", "1"], "bad argument")])
def test_run_bad_invocation(files, invoke, needle):
    assert_user_error(cli("run", files / "add.img", "--invoke", *invoke, cwd=files), needle)


def test_run_without_invoke_wants_a_wasi_program(files):
    # Without --invoke, `run` starts the image as a WASI program: this one has no _start.
    assert_user_error(cli("run", files / "add.img", cwd=files), str(files / "add.img"), "_start")


def test_run_on_files_that_are_not_images(files, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not wasm, not an image\n")
    assert_user_error(cli("run", text, "--invoke", "add", "1", "2"), str(text), "not a wasmbuild image")
    data = (files / "add.img").read_bytes()
    cut = tmp_path / "cut.img"
    cut.write_bytes(data[: len(data) // 2])
    assert_user_error(cli("run", cut, "--invoke", "add", "1", "2"), str(cut))
    damaged = tmp_path / "damaged.img"
    text_start = 4096  # .text starts on the first page boundary of our images
    damaged.write_bytes(data[:text_start + 5] + bytes([data[text_start + 5] ^ 0x40]) + data[text_start + 6:])
    assert_user_error(cli("run", damaged, "--invoke", "add", "1", "2"), str(damaged), "damaged")


def test_run_builds_a_module_given_as_wasm(files):
    """`wasmbuild run m.wasm` builds the module first (through the cache), as wasmtime runs one."""
    proc = cli("run", files / "add.wasm", "--invoke", "add", "1", "2")
    assert proc.returncode == 0 and proc.stdout.split() == ["3"], proc.stderr


def test_run_on_image_with_damaged_header_key(files, tmp_path):
    data = (files / "add.img").read_bytes()
    assert data.count(b'"layout":') >= 1  # the first is the header's (it precedes the metadata)
    bad = tmp_path / "key.img"
    bad.write_bytes(data.replace(b'"layout":', b'"layouT":', 1))
    assert_user_error(cli("run", bad, "--invoke", "add", "1", "2"), str(bad))


def test_build_failure_leaves_existing_image_untouched(files, tmp_path):
    out = tmp_path / "keep.img"
    original = (files / "add.img").read_bytes()
    out.write_bytes(original)
    before = sorted(os.listdir(tmp_path))
    for source, reason in ((files / "invalid.wat", "invalid: type mismatch"), (files / "truncated.wasm", "malformed"),
                           (files / "missing.wat", "missing.wat")):
        line = assert_user_error(cli("build", source, "-o", out, "-j", "1", "--no-cache", cwd=tmp_path), reason)
        assert str(source) in line
        assert out.read_bytes() == original
        assert sorted(os.listdir(tmp_path)) == before  # no temporary file left behind


def test_build_needs_an_output(files):
    proc = cli("build", files / "add.wat", cwd=files)
    assert proc.returncode == 2 and "-o" in proc.stderr and "Traceback" not in proc.stderr


# --- inspect ---------------------------------------------------------------------------------------

def test_inspect_describes_the_image(files):
    proc = cli("inspect", files / "add.img", cwd=files)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith(f"image {files / 'add.img'}\n")
    assert "module 0 add: 6 functions, 0 imports, 7 exports" in out
    for name in ("add", "div", "pair", "mul64", "crash", "nothing"):
        assert f"  export {name} (func " in out
    assert "  export mem (memory 0)" in out
    assert "func wasm0_f0 at 0x0 size " in out and "[i32 i32] -> [i32]" in out
    assert "[f64 i64] -> [i64 f64]" in out
    assert "trampoline entry ii_i (wb_entry_ii_i): used by add:func 0, add:func 1" in out
    lines = out.splitlines()
    sections = lines[lines.index("sections") + 1:]
    assert [s.split()[0] for s in sections][:1] == [".text"]
    for name in (".wb.header", ".wb.meta", ".wb.relocs", ".wb.data", ".symtab"):
        assert any(s.split()[0] == name for s in sections), name
    assert "settings {\"opt_level\": 2, \"bounds_checks\": \"guard\", \"wasm_features\": \"wasm3\"}" in out


def test_inspect_errors(files):
    assert_user_error(cli("inspect", files / "missing.img"), str(files / "missing.img"))
    assert_user_error(cli("inspect", files / "add.wasm"), str(files / "add.wasm"))


# --- wast ------------------------------------------------------------------------------------------

def test_wast_on_a_spec_script(tmp_path):
    script = spec_core() / "i32" / "i32.json"
    commands = json.loads(script.read_text())["commands"]
    counts_file = tmp_path / "counts.json"
    proc = cli("wast", script, "--json", counts_file, cwd=tmp_path, timeout=300)
    assert "Traceback" not in proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    words = last.split()
    assert len(words) == 6 and words[1:6:2] == ["passed,", "failed,", "skipped"], last
    passed, failed, skipped = int(words[0]), int(words[2]), int(words[4])
    assert passed + failed + skipped == len(commands)
    assert proc.returncode == (1 if failed else 0)
    assert failed == 0, proc.stdout[-3000:]
    counts = json.loads(counts_file.read_text())
    assert set(counts) == {"total", "directories", "files", "kinds", "skip_reasons"}
    assert counts["total"] == {"passed": passed, "failed": failed, "skipped": skipped}
    assert list(counts["files"]) == [str(script)]
    kinds = Counter(c["type"] for c in commands)
    assert {k: sum(v.values()) for k, v in counts["kinds"].items()} == dict(kinds)
    assert sum(sum(v.values()) for v in counts["directories"].values()) == len(commands)


WAST = """
(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 4) (i32.const 2)) "integer divide by zero")
(assert_invalid (module (func (result i32) i64.const 0)) "type mismatch")
"""


def test_wast_counts_failures(tmp_path):
    tool = need_command("wast2json", WABT_HINT)
    (tmp_path / "mine.wast").write_text(WAST)
    subprocess.run([tool, "mine.wast", "-o", "mine.json"], cwd=tmp_path, check=True, capture_output=True)
    proc = cli("wast", tmp_path / "mine.json", "--json", tmp_path / "counts.json", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "4 passed, 2 failed, 0 skipped"
    failures = lines[:-1]
    assert len(failures) == 2 and all("failed" in line for line in failures)
    assert any(":6:" in line for line in failures) and any(":8:" in line for line in failures), failures
    counts = json.loads((tmp_path / "counts.json").read_text())
    assert counts["kinds"]["assert_return"] == {"passed": 1, "failed": 1, "skipped": 0}
    assert counts["kinds"]["assert_trap"] == {"passed": 1, "failed": 1, "skipped": 0}
    assert counts["total"] == {"passed": 4, "failed": 2, "skipped": 0}


def test_wast_missing_script(tmp_path):
    assert_user_error(cli("wast", tmp_path / "nothing.json", cwd=tmp_path), "nothing.json")


def test_version_and_usage():
    from wasmbuild import __version__
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"wasmbuild {__version__}"
    proc = cli()
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_build_tells_a_manifest_from_a_module_by_content(tmp_path):
    """A manifest named without .toml, and modules named .toml or with no suffix, build as what
    they are."""
    lib = tmp_path / "lib.wat"
    lib.write_text('(module (func (export "seven") (result i32) (i32.const 7)))')
    manifest = tmp_path / "graph.manifest"
    manifest.write_text('[[step]]\nmodule = "lib"\npath = "lib.wat"\n\n[[step]]\ninstance = "l"\nof = "lib"\n\n'
                        '[[step]]\nexport = "seven"\nfrom = "l.seven"\n')
    text_module = tmp_path / "text.toml"
    text_module.write_text(';; a module, whatever its name\n(module (func (export "seven") (result i32) (i32.const 7)))')
    binary_module = tmp_path / "binary"
    binary_module.write_bytes(wat('(module (func (export "seven") (result i32) (i32.const 7)))'))
    for source in (manifest, text_module, binary_module):
        out = tmp_path / (source.name + ".img")
        proc = cli("build", source, "-o", out, "--no-cache")
        assert proc.returncode == 0, proc.stderr
        assert wasmbuild.load(str(out)).exports["seven"]() == 7


def test_inspect_verifies_a_damaged_header_first(files, tmp_path):
    """A one-byte change in the header (a key renamed) is a one-line error, as `run` gives, not a
    KeyError traceback."""
    data = (files / "add.img").read_bytes()
    for old, new in ((b'"format":', b'"formax":'), (b'"layout":', b'"layouT":'), (b'"target":', b'"targex":')):
        bad = tmp_path / f"{new[1:7].decode()}.img"
        bad.write_bytes(data.replace(old, new, 1))
        assert_user_error(cli("inspect", bad), str(bad))


def _many_functions(n: int) -> str:
    """A module of `n` functions, each a loop of arithmetic (enough work for LLVM at -O2)."""
    body = """
  (func (export "f{k}") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const {m})) (i32.rotl (local.get $n) (i32.const {k}))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $acc))"""
    return "(module" + "".join(body.format(k=k, m=2 * k + 1) for k in range(n)) + ")"


def _workers_of(pid: int, timeout: float = 60.0) -> list[int]:
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        if len(found) >= 2:
            return [int(p) for p in found]
        time.sleep(0.05)
    raise AssertionError("the build started no workers")


@pytest.mark.slow
def test_a_killed_compile_worker_fails_the_build_instead_of_hanging_it(tmp_path):
    import signal
    source = tmp_path / "many.wat"
    source.write_text(_many_functions(1500))
    out = tmp_path / "many.img"
    proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(source), "-o", str(out), "-j", "2",
                             "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        os.kill(_workers_of(proc.pid)[0], signal.SIGKILL)  # as the out-of-memory killer would
        _stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    assert "compile worker" in stderr and "died" in stderr and "SIGKILL" in stderr, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert not out.exists()


@pytest.mark.slow
def test_interrupting_a_build_stops_its_workers_quietly(tmp_path):
    import signal
    source = tmp_path / "many.wat"
    source.write_text(_many_functions(1500))
    proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(source), "-o", str(tmp_path / "x.img"),
                             "-j", "2", "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers = _workers_of(proc.pid)
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()


@pytest.mark.slow
def test_an_interrupted_build_keeps_what_it_compiled(tmp_path):
    """Each compiled function reaches the cache as soon as it is ready: after Ctrl-C in the middle
    of a build, the next build takes those functions from the cache."""
    import re
    import signal
    import time
    source = tmp_path / "many.wat"
    source.write_text(_many_functions(1500))
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "wasmbuild", "build", str(source), "-o", str(tmp_path / "x.img"), "-j", "2",
               "--cache-dir", str(cache), "--summary"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _workers_of(proc.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sum(len(f) for _d, _s, f in os.walk(cache / "objects")) < 20:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0, "the build finished before it was interrupted"
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    compiled, cached = map(int, re.search(r"\((\d+) compiled, (\d+) from cache", again.stdout).groups())
    assert compiled + cached == 1500 and cached >= 20, again.stdout


def test_a_build_on_a_terminal_shows_its_progress_and_then_clears_it(tmp_path):
    import pty
    funcs = " ".join(f'(func (export "f{i}") (result i32) (i32.const {i}))' for i in range(30))
    (tmp_path / "m.wasm").write_bytes(wat(f"(module {funcs})"))
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "build", "--no-cache", "-j", "1", "m.wasm",
                           "-o", "m.img"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=slave, timeout=300)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's other end is closed: all read
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"m.img: 30/30 functions (100%)" in shown and shown.endswith(b"\r\x1b[K")
    # Not on a terminal: nothing.
    piped = cli("build", "--no-cache", "m.wasm", "-o", "m2.img", cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
