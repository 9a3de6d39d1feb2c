"""The per-function cache: the local store, the combination of tiers and the null cache on their
own; then through the build: what is compiled again after each kind of edit, determinism whatever
was cached and however many jobs, damaged and misplaced entries, concurrent builds, and
`wasmbuild cache`. (The remote tier against a real server: tests/test_remote_cache.py.)

Modules are written as text with named functions, so an insertion renumbers everything after it,
as a real edit does. Expected counts of compiled functions come from the edit each test makes.
"""

import hashlib
import os
import shutil
import stat
import subprocess
import sys

import pytest

from wasmbuild.binary import decode_function, decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.cache import LocalStore, NullCache, TieredCache, open_cache, parse_size
from wasmbuild.cache.local import MAGIC, OLD_MAGIC
from wasmbuild.compile import CompileSettings
from wasmbuild.errors import WasmbuildError
from wasmbuild.fsutil import atomic_write
from wasmbuild.keys import function_key
from wasmbuild.valid import check_module_level
from wasmbuild.wat import wat_to_wasm

O1 = CompileSettings(opt_level=1)
KEY_A, KEY_B = (hashlib.sha256(name).hexdigest() for name in (b"a", b"b"))


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


def function_keys(inp, settings=O1) -> list[str]:
    """The cache key of each defined function of `inp`, as the build computes it."""
    m = decode_module(inp.data)
    ctx = check_module_level(m)
    return [function_key(ctx, j, decode_function(m, j), settings.resolved())[0] for j in range(len(m.bodies))]


def entry_path(cache_dir, key) -> str:
    return os.path.join(cache_dir, "objects", key[:2], key)


def _entries(cache_dir):
    for root, _dirs, files in os.walk(os.path.join(cache_dir, "objects")):
        for f in files:
            yield os.path.join(root, f)


# --- the local store, the tiers and the null cache on their own ---------------------------------

def test_local_store_round_trip_and_statistics_per_build(tmp_path):
    store = LocalStore(str(tmp_path / "c"))
    assert store.keyed and store.get(KEY_A) is None
    store.put(KEY_A, b"object a")
    assert store.get(KEY_A) == b"object a"
    assert store.get_many([KEY_A, KEY_B, KEY_A]) == {KEY_A: b"object a"}
    stats = store.finish()
    assert (stats.hits, stats.misses, stats.writes, stats.damaged, stats.warnings) == (2, 2, 1, 0, [])
    assert stats.remote is None
    assert store.stats.hits == 0  # the next build starts afresh
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")


def test_an_entry_copied_under_another_key_is_a_miss(tmp_path):
    cache_dir = str(tmp_path / "c")
    store = LocalStore(cache_dir)
    store.put(KEY_A, b"object a")
    store.put(KEY_B, b"object b")
    shutil.copyfile(entry_path(cache_dir, KEY_A), entry_path(cache_dir, KEY_B))
    assert store.get(KEY_B) is None
    assert store.get(KEY_A) == b"object a"
    assert store.stats.damaged == 1
    assert store.stats.warnings == [f"damaged cache entry {entry_path(cache_dir, KEY_B)} ignored (it will be rebuilt)"]
    store.put(KEY_B, b"object b")  # what the build does after compiling it again
    assert store.get(KEY_B) == b"object b"


def test_entries_of_the_earlier_format_are_quiet_misses(tmp_path):
    cache_dir = str(tmp_path / "c")
    store = LocalStore(cache_dir)
    os.makedirs(os.path.dirname(entry_path(cache_dir, KEY_A)))
    with open(entry_path(cache_dir, KEY_A), "wb") as f:
        f.write(OLD_MAGIC + hashlib.sha256(b"old").digest() + b"old")
    assert store.get(KEY_A) is None
    assert (store.stats.misses, store.stats.damaged, store.stats.warnings) == (1, 0, [])
    store.put(KEY_A, b"new")
    assert store.get(KEY_A) == b"new"


def test_tiered_cache_reads_through_and_writes_both_tiers(tmp_path):
    # The combination only needs two ObjectCaches: a second local store stands in for the remote.
    near, far = LocalStore(str(tmp_path / "near")), LocalStore(str(tmp_path / "far"))
    far.put(KEY_A, b"from far")
    far.finish()
    cache = TieredCache(near, far)
    assert cache.get(KEY_A) == b"from far"  # near misses, far hits, near keeps it
    cache.put(KEY_B, b"new")  # both store it
    assert cache.stats.hits == 1 and cache.stats.misses == 1 and cache.stats.writes == 3
    assert near.get(KEY_A) == b"from far" and far.get(KEY_B) == b"new"
    near.clear()
    assert cache.get_many([KEY_A, KEY_B, KEY_A]) == {KEY_A: b"from far", KEY_B: b"new"}
    assert sorted(os.path.basename(p) for p in _entries(near.directory)) == sorted([KEY_A, KEY_B])
    stats = cache.finish()
    assert (stats.hits, stats.misses, stats.writes) == (5, 3, 5)
    assert cache.stats.hits == cache.stats.writes == 0


def test_null_cache_keeps_nothing_and_the_build_compiles_everything(tmp_path):
    cache = open_cache(str(tmp_path / "c"), enabled=False)
    assert isinstance(cache, NullCache) and not cache.keyed
    cache.put(KEY_A, b"x")
    assert cache.get(KEY_A) is None and cache.get_many([KEY_A]) == {}
    inp = module(tmp_path, base())
    first, r1 = build(inp, cache)
    second, r2 = build(inp, cache)
    assert r1.compiled == r2.compiled == 12 and r2.cached == 0 and first == second
    assert cache.finish().writes == 0 and not (tmp_path / "c").exists()


def test_open_cache_chooses_the_tiers_and_refuses_bad_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("WASMBUILD_REMOTE_CACHE", raising=False)
    local = open_cache(str(tmp_path / "c"), max_bytes=1000)
    assert isinstance(local, LocalStore) and local.max_bytes == 1000
    tiered = open_cache(str(tmp_path / "c"), remote_url="http://127.0.0.1:1/prefix", read_only=True)
    assert isinstance(tiered, TieredCache) and tiered.remote.read_only
    assert tiered.stats.remote == "http://127.0.0.1:1/prefix"
    monkeypatch.setenv("WASMBUILD_REMOTE_CACHE", "http://127.0.0.1:1")
    assert isinstance(open_cache(str(tmp_path / "c")), TieredCache)
    assert isinstance(open_cache(str(tmp_path / "c"), enabled=False), NullCache)
    for url in ("ftp://host/x", "http://host:port/x", "cache:8080"):
        with pytest.raises(WasmbuildError, match="must be http"):
            open_cache(str(tmp_path / "c"), remote_url=url)
    with pytest.raises(WasmbuildError, match="holds credentials") as err:
        open_cache(str(tmp_path / "c"), remote_url="http://me:hunter2@host/x")
    assert "hunter2" not in str(err.value)
    monkeypatch.setenv("WASMBUILD_REMOTE_CACHE_TIMEOUT", "soon")
    with pytest.raises(WasmbuildError, match="WASMBUILD_REMOTE_CACHE_TIMEOUT"):
        open_cache(str(tmp_path / "c"))
    monkeypatch.setenv("WASMBUILD_CACHE_MAX_SIZE", "lots")
    with pytest.raises(WasmbuildError, match="WASMBUILD_CACHE_MAX_SIZE"):
        open_cache(str(tmp_path / "c"))


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


# --- through the build -------------------------------------------------------------------------

def test_second_build_compiles_nothing_and_is_identical(tmp_path, monkeypatch):
    cache = LocalStore(str(tmp_path / "c"))
    inp = module(tmp_path, base())
    first, r1 = build(inp, cache)
    second, r2 = build(inp, cache)
    assert (r1.compiled, r1.cached) == (12, 0)
    assert (r2.compiled, r2.cached) == (0, 12)
    assert r2.trampolines_compiled == 0 < r1.trampolines_compiled
    assert first == second


def test_edit_insert_and_type_change_recompile_only_what_they_touch(tmp_path):
    cache = LocalStore(str(tmp_path / "c"))
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
    cache = LocalStore(str(tmp_path / "c"))
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
    cache = LocalStore(str(tmp_path / "c"))
    partial = module(tmp_path, base(20)[:7], name="partial.wat")
    build(partial, cache, jobs=2)  # some of the functions are in the cache now
    warm, r = build(inp, cache, jobs=2)
    assert 0 < r.cached < 20
    assert cold1 == cold2 == warm


def test_workers_replaced_along_the_way_give_the_same_image(tmp_path, monkeypatch):
    from wasmbuild.build import workers
    inp = module(tmp_path, base(20))
    alone, _ = build(inp, None, jobs=1)
    started = []
    monkeypatch.setattr(workers, "_RECYCLE_AFTER", 3)
    monkeypatch.setattr(workers, "_MAX_BATCH", 1)
    monkeypatch.setattr(workers.multiprocessing.context.ForkProcess, "start",
                        lambda self, real=workers.multiprocessing.context.ForkProcess.start:
                        (started.append(1), real(self))[1])
    recycled, _ = build(inp, None, jobs=2)
    assert recycled == alone
    assert len(started) >= 20 // 3  # a fresh worker after every 3 functions


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "magic"])
def test_damaged_entries_are_misses_reported_not_printed(tmp_path, capsys, damage):
    cache_dir = str(tmp_path / "c")
    inp = module(tmp_path, base())
    good, _ = build(inp, LocalStore(cache_dir))
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
    again, r = build(inp, LocalStore(cache_dir))
    assert again == good
    assert r.compiled == 12
    assert r.warnings and all(w.startswith("damaged cache entry ") for w in r.warnings)
    assert capsys.readouterr().err == ""  # the library prints nothing: its caller does
    # The entries were rewritten: a third build takes everything from the cache again.
    _, r = build(inp, LocalStore(cache_dir))
    assert r.compiled == 0 and r.warnings == []


def test_an_entry_copied_under_another_functions_key_gives_the_right_image(tmp_path):
    # The verified digest covers the key: f1's object copied to f2's place is not taken for f2's
    # (f2 would then call f1 with 1 instead of 2, and the image would silently differ).
    cache_dir = str(tmp_path / "c")
    inp = module(tmp_path, base())
    good, _ = build(inp, LocalStore(cache_dir))
    keys = function_keys(inp)
    shutil.copyfile(entry_path(cache_dir, keys[1]), entry_path(cache_dir, keys[2]))
    again, r = build(inp, LocalStore(cache_dir))
    assert again == good
    assert (r.compiled, r.cached) == (1, 11)
    assert r.warnings == [f"damaged cache entry {entry_path(cache_dir, keys[2])} ignored (it will be rebuilt)"]


def test_the_command_line_prints_the_cache_warnings(tmp_path):
    cache_dir = str(tmp_path / "c")
    inp = module(tmp_path, base(4))
    build(inp, LocalStore(cache_dir))
    keys = function_keys(inp)
    with open(entry_path(cache_dir, keys[0]), "r+b") as f:
        f.write(b"XXXXXXXX")
    out = tmp_path / "m.img"
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "build", inp.path, "-o", str(out), "-O", "1",
                           "-j", "1", "--cache-dir", cache_dir, "--summary"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"wasmbuild: warning: damaged cache entry {entry_path(cache_dir, keys[0])} "
                           f"ignored (it will be rebuilt)\n")
    assert "(1 compiled, 3 from cache)" in proc.stdout


def test_interrupted_writes_leave_a_usable_cache(tmp_path):
    cache_dir = str(tmp_path / "c")
    inp = module(tmp_path, base())
    good, _ = build(inp, LocalStore(cache_dir))
    # A build killed mid-write leaves a temporary file behind; nothing reads it.
    some_dir = os.path.dirname(next(_entries(cache_dir)))
    open(os.path.join(some_dir, ".killed.0123456789ab.tmp"), "wb").write(b"partial")
    again, r = build(inp, LocalStore(cache_dir))
    assert again == good and r.compiled == 0


def test_unwritable_cache_builds_anyway(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    image, r = build(module(tmp_path, base()), LocalStore(str(blocker / "c")))
    assert image and r.compiled == 12
    assert len(r.warnings) == 1 and r.warnings[0].startswith(f"cannot write to the cache {blocker / 'c'} (")
    assert capsys.readouterr().err == ""


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
        assert err == ""
    assert outs[0].read_bytes() == outs[1].read_bytes()
    again, r = build(module(tmp_path, base(30)), LocalStore(cache_dir))
    assert r.compiled == 0 and again == outs[0].read_bytes()


def test_cache_command_stats_prune_clear(tmp_path):
    cache_dir = str(tmp_path / "c")
    build(module(tmp_path, base()), LocalStore(cache_dir))
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
    cache = LocalStore(str(tmp_path / "c"), max_bytes=4096)
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
