"""The per-function cache: what is compiled again after each kind of edit, determinism whatever
was cached and however many jobs, damaged entries, concurrent builds, and `wasmbuild cache`.

Modules are written as text with named functions, so an insertion renumbers everything after it,
as a real edit does. Expected counts of compiled functions come from the edit each test makes.
"""

import os
import stat
import subprocess
import sys

import pytest

from wasmbuild.build import ModuleInput, build_image
from wasmbuild.cache import MAGIC, Cache, parse_size
from wasmbuild.compile import CompileSettings
from wasmbuild.fsutil import atomic_write
from wasmbuild.wat import wat_to_wasm

O1 = CompileSettings(opt_level=1)


def func(k: int, const: int = 1, param: str = "i32") -> str:
    arg = "(local.get 0)" if param == "i32" else "(i32.wrap_i64 (local.get 0))"
    call = f"(call $f{k - 1} (i32.const {k}))" if k % 4 else "(i32.const 0)"
    return (f'(func $f{k} (export "f{k}") (param {param}) (result i32) '
            f'(i32.add (i32.mul {arg} (i32.const {const})) {call}))')


def module(tmp_path, funcs: list[str], name="m.wat") -> ModuleInput:
    path = tmp_path / name
    path.write_text("(module\n  (global $g (mut i32) (i32.const 0))\n  " + "\n  ".join(funcs) + ")\n")
    return ModuleInput("m", wat_to_wasm(str(path)), str(path))


def base(n=12):
    return [func(k) for k in range(n)]


def build(inp, cache, settings=O1, jobs=1):
    return build_image([inp], settings, jobs, cache=cache)


def test_second_build_compiles_nothing_and_is_identical(tmp_path, monkeypatch):
    # Start without the process-wide memo of support objects, so the first build compiles them.
    monkeypatch.setattr("wasmbuild.build._SUPPORT_MEMO", {})
    cache = Cache(str(tmp_path / "c"))
    inp = module(tmp_path, base())
    first, r1 = build(inp, cache)
    second, r2 = build(inp, cache)
    assert (r1.compiled, r1.cached) == (12, 0)
    assert (r2.compiled, r2.cached) == (0, 12)
    assert r2.trampolines_compiled == 0 < r1.trampolines_compiled
    assert first == second


def test_edit_insert_and_type_change_recompile_only_what_they_touch(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    funcs = base()
    build(module(tmp_path, funcs), cache)

    funcs[5] = func(5, const=9)  # edit one body
    _, r = build(module(tmp_path, funcs), cache)
    assert r.compiled == 1

    funcs.insert(0, '(func $new (export "new") (result i32) (i32.const 1))')  # every index shifts
    _, r = build(module(tmp_path, funcs), cache)
    assert r.compiled == 1

    # f8 (now at position 9) takes an i64: it and its caller f9 (which passes an i64) change.
    funcs[9] = func(8, param="i64")
    funcs[10] = funcs[10].replace("(call $f8 (i32.const 9))", "(call $f8 (i64.const 9))")
    _, r = build(module(tmp_path, funcs), cache)
    assert r.compiled == 2

    # Deleting an unrelated function compiles nothing.
    del funcs[0]
    _, r = build(module(tmp_path, funcs), cache)
    assert r.compiled == 0


def test_settings_change_recompiles_everything(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    inp = module(tmp_path, base())
    build(inp, cache, CompileSettings(opt_level=1))
    _, r = build(inp, cache, CompileSettings(opt_level=2))
    assert r.compiled == 12
    _, r = build(inp, cache, CompileSettings(opt_level=2, cpu="x86-64"))
    assert r.compiled == 12


def test_images_identical_whatever_was_cached_and_the_number_of_jobs(tmp_path):
    inp = module(tmp_path, base(20))
    cold1, _ = build(inp, None, jobs=1)
    cold2, _ = build(inp, None, jobs=2)
    cache = Cache(str(tmp_path / "c"))
    partial = module(tmp_path, base(20)[:7], name="partial.wat")
    build(partial, cache, jobs=2)  # some of the functions are in the cache now
    warm, r = build(inp, cache, jobs=2)
    assert 0 < r.cached < 20
    assert cold1 == cold2 == warm


def _entries(cache_dir):
    for root, _dirs, files in os.walk(os.path.join(cache_dir, "objects")):
        for f in files:
            yield os.path.join(root, f)


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "magic"])
def test_damaged_entries_are_misses_with_a_warning(tmp_path, capsys, damage):
    cache_dir = str(tmp_path / "c")
    inp = module(tmp_path, base())
    good, _ = build(inp, Cache(cache_dir))
    for path in _entries(cache_dir):
        data = open(path, "rb").read()
        if damage == "flip":
            data = data[:-1] + bytes([data[-1] ^ 0x40])
        elif damage == "truncate":
            data = data[:len(data) // 2]
        elif damage == "empty":
            data = b""
        else:
            data = b"XXXXXXXX" + data[len(MAGIC):]
        open(path, "wb").write(data)
    again, r = build(inp, Cache(cache_dir))
    assert again == good
    assert r.compiled == 12
    assert "damaged cache entry" in capsys.readouterr().err
    # The entries were rewritten: a third build takes everything from the cache again.
    _, r = build(inp, Cache(cache_dir))
    assert r.compiled == 0


def test_interrupted_writes_leave_a_usable_cache(tmp_path):
    cache_dir = str(tmp_path / "c")
    inp = module(tmp_path, base())
    good, _ = build(inp, Cache(cache_dir))
    # A build killed mid-write leaves a temporary file behind; nothing reads it.
    some_dir = os.path.dirname(next(_entries(cache_dir)))
    open(os.path.join(some_dir, ".tmp-killed"), "wb").write(b"partial")
    again, r = build(inp, Cache(cache_dir))
    assert again == good and r.compiled == 0


def test_unwritable_cache_builds_anyway(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    image, r = build(module(tmp_path, base()), Cache(str(blocker / "c")))
    assert image and r.compiled == 12
    assert "cannot write to the cache" in capsys.readouterr().err


def test_two_builds_sharing_a_cache_at_once(tmp_path):
    cache_dir = str(tmp_path / "c")
    src = tmp_path / "m.wat"
    module(tmp_path, base(30))
    outs = [tmp_path / f"out{i}.img" for i in range(2)]
    env = dict(os.environ, WASMBUILD_CACHE_DIR=cache_dir)
    procs = [subprocess.Popen([sys.executable, "-m", "wasmbuild", "build", str(src), "-o", str(o), "-O", "1",
                               "-j", "1"], env=env, stderr=subprocess.PIPE, text=True) for o in outs]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert outs[0].read_bytes() == outs[1].read_bytes()
    again, r = build(module(tmp_path, base(30)), Cache(cache_dir))
    assert r.compiled == 0 and again == outs[0].read_bytes()


def test_cache_command_stats_prune_clear(tmp_path):
    cache_dir = str(tmp_path / "c")
    build(module(tmp_path, base()), Cache(cache_dir))
    run = lambda *a: subprocess.run([sys.executable, "-m", "wasmbuild", "cache", *a, "--cache-dir", cache_dir],
                                    capture_output=True, text=True)
    stats = run("stats")
    assert stats.returncode == 0 and "entries" in stats.stdout
    count = len(list(_entries(cache_dir)))
    assert f"{count} entries" in stats.stdout
    pruned = run("prune", "--max-size", "1K")
    assert pruned.returncode == 0
    left = sum(os.path.getsize(p) for p in _entries(cache_dir))
    assert left <= 1024 and len(list(_entries(cache_dir))) < count
    bad = run("prune", "--max-size", "lots")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    cleared = run("clear")
    assert cleared.returncode == 0 and not list(_entries(cache_dir))


def test_automatic_size_limit_keeps_recent_entries(tmp_path):
    cache = Cache(str(tmp_path / "c"), max_bytes=4096)
    build(module(tmp_path, base(30)), cache)
    total = sum(os.path.getsize(p) for p in _entries(cache.directory))
    assert total <= 4096


def test_parse_size():
    assert parse_size("1024") == 1024
    assert parse_size("2K") == 2048
    assert parse_size("1.5M") == 3 << 19
    assert parse_size("2GiB") == 2 << 30
    with pytest.raises(ValueError):
        parse_size("many")


def test_atomic_write(tmp_path):
    path = tmp_path / "out"
    old = os.umask(0o027)
    try:
        atomic_write(str(path), b"first")
        atomic_write(str(path), b"second", durable=True)
    finally:
        os.umask(old)
    assert path.read_bytes() == b"second"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    with pytest.raises(TypeError):
        atomic_write(str(path), "not bytes")
    assert path.read_bytes() == b"second" and os.listdir(tmp_path) == ["out"]  # no temporary left
    with pytest.raises(FileNotFoundError):
        atomic_write(str(tmp_path / "missing" / "out"), b"x")
