"""The remote tier against a real server: nginx with WebDAV PUT on 127.0.0.1.

Each test starts its own nginx (temporary config, root and logs in tmp_path, a free port) and stops
it afterwards. Needs Debian's nginx, which `.ci/run` installs (conftest's `need`: outside CI its
absence skips these tests, in CI it fails the run).
"""

import hashlib
import shutil
import threading

import pytest
from conftest import need

from wasmbuild.binary import decode_function, decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.cache import LocalStore, TieredCache
from wasmbuild.cache.remote import OLD_AC_FORMAT, RemoteTier
from wasmbuild.compile import CompileSettings
from wasmbuild.errors import WasmbuildError
from wasmbuild.keys import function_key
from wasmbuild.testing.nginx import NGINX, Nginx
from wasmbuild.valid import check_module_level
from wasmbuild.wat import wat_to_wasm

O1 = CompileSettings(opt_level=1)
KEY_A, KEY_B = (hashlib.sha256(name).hexdigest() for name in (b"a", b"b"))


@pytest.fixture
def nginx(tmp_path):
    need("nginx", NGINX, "apt-get install nginx")
    server = Nginx(tmp_path)
    yield server
    server.stop()


def module(tmp_path, n=24) -> ModuleInput:
    funcs = [f'(func (export "f{k}") (param i32) (result i32) (i32.mul (local.get 0) (i32.const {k + 2})))'
             for k in range(n)]
    path = tmp_path / "m.wat"
    path.write_text("(module " + " ".join(funcs) + ")")
    return ModuleInput("m", wat_to_wasm(str(path)), str(path))


def function_keys(inp) -> list[str]:
    m = decode_module(inp.data)
    ctx = check_module_level(m)
    return [function_key(ctx, j, decode_function(m, j), O1.resolved())[0] for j in range(len(m.bodies))]


def build(inp, cache_dir, remote):
    return build_image([inp], O1, 1, cache=TieredCache(LocalStore(str(cache_dir)), remote))


def test_round_trip_and_statistics(nginx):
    remote = RemoteTier(nginx.url)
    remote.put(KEY_A, b"object a")
    stats = remote.finish()
    assert (stats.remote_uploads, stats.remote_errors, stats.remote) == (1, 0, nginx.url)
    assert remote.get(KEY_A) == b"object a" and remote.get(KEY_B) is None
    assert remote.get_many([KEY_A, KEY_B, KEY_A]) == {KEY_A: b"object a"}
    stats = remote.finish()
    assert (stats.remote_hits, stats.remote_misses, stats.warnings) == (2, 2, [])


def test_a_record_copied_under_another_key_is_refused(nginx):
    remote = RemoteTier(nginx.url)
    remote.put(KEY_A, b"object a")
    remote.finish()
    ac = nginx.root / "wasmbuild" / "ac"
    shutil.copyfile(ac / KEY_A, ac / KEY_B)
    assert remote.get(KEY_B) is None
    stats = remote.finish()
    assert stats.remote_errors == 1 and stats.remote_hits == 0
    assert stats.warnings == [f"remote cache {nginx.url}: a download failed (an action-cache record was "
                              f"stored under another key (it was not used)); compiling locally"]


def test_records_of_the_earlier_format_are_quiet_misses(nginx):
    remote = RemoteTier(nginx.url)
    remote.put(KEY_A, b"object a")
    remote.finish()
    digest = hashlib.sha256(b"object a").hexdigest()
    (nginx.root / "wasmbuild" / "ac" / KEY_B).write_bytes(OLD_AC_FORMAT + f" {digest} 8\n".encode())
    assert remote.get(KEY_B) is None
    stats = remote.finish()
    assert (stats.remote_misses, stats.remote_errors, stats.warnings) == (1, 0, [])


def test_second_tree_compiles_nothing(tmp_path, nginx):
    inp = module(tmp_path)
    first, r1 = build(inp, tmp_path / "cache-a", RemoteTier(nginx.url))
    assert r1.compiled == 24 and r1.remote_uploads >= 24 and r1.remote_errors == 0
    assert len(nginx.blobs()) >= 24
    second, r2 = build(inp, tmp_path / "cache-b", RemoteTier(nginx.url))
    assert r2.compiled == 0 and r2.remote_hits == 24 and r2.trampolines_compiled == 0
    assert first == second and r2.warnings == []


def test_read_only_never_uploads(tmp_path, nginx):
    _, r = build(module(tmp_path), tmp_path / "c", RemoteTier(nginx.url, read_only=True))
    assert r.compiled == 24 and r.remote_uploads == 0
    assert nginx.blobs() == []


def test_server_down_costs_a_warning_not_the_build(tmp_path, nginx, capsys):
    nginx.stop()
    image, r = build(module(tmp_path), tmp_path / "c", RemoteTier(nginx.url, timeout=1))
    assert image and r.compiled == 24 and r.remote_errors >= 3
    assert len(r.warnings) == 2
    assert r.warnings[0].startswith(f"remote cache {nginx.url}: a download failed (")
    assert r.warnings[1] == f"remote cache {nginx.url} switched off for this build after 3 failures"
    assert capsys.readouterr().err == ""  # the library prints nothing: its caller does


def test_server_stopped_mid_build(tmp_path, nginx):
    inp = module(tmp_path, 60)
    clean, _ = build_image([inp], O1, 1)
    threading.Timer(0.3, nginx.stop).start()
    image, r = build(inp, tmp_path / "c", RemoteTier(nginx.url, timeout=1))
    assert image == clean


def test_corrupt_blob_on_the_server_is_detected_and_not_used(tmp_path, nginx):
    inp = module(tmp_path)
    good, _ = build(inp, tmp_path / "cache-a", RemoteTier(nginx.url))
    for blob in nginx.blobs():
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF
        blob.write_bytes(bytes(data))
    again, r = build(inp, tmp_path / "cache-b", RemoteTier(nginx.url))
    assert again == good
    assert r.compiled == 24 and r.remote_hits == 0
    assert "did not match its digest" in r.warnings[0]


def test_a_record_copied_under_another_functions_key_gives_the_right_image(tmp_path, nginx):
    # f0's record copied over f1's: the server now sends f0's object for f1's key; it is refused
    # (otherwise f1 would multiply by 2 instead of 3, silently).
    inp = module(tmp_path)
    good, _ = build(inp, tmp_path / "cache-a", RemoteTier(nginx.url))
    keys = function_keys(inp)
    ac = nginx.root / "wasmbuild" / "ac"
    shutil.copyfile(ac / keys[0], ac / keys[1])
    again, r = build(inp, tmp_path / "cache-b", RemoteTier(nginx.url))
    assert again == good
    assert (r.compiled, r.remote_hits, r.remote_errors) == (1, 23, 1)
    assert "stored under another key" in r.warnings[0]


def test_credentials_come_from_the_environment_and_are_not_reported(tmp_path, nginx, monkeypatch):
    monkeypatch.setenv("WASMBUILD_REMOTE_CACHE_TOKEN", "s3cr3t-token")
    nginx.stop()  # make it fail so that there are warnings
    remote = RemoteTier(nginx.url, timeout=1)
    assert remote.headers == {"Authorization": "Bearer s3cr3t-token"}
    _, r = build(module(tmp_path), tmp_path / "c", remote)
    assert r.warnings and not any("s3cr3t" in w for w in r.warnings)
    monkeypatch.setenv("WASMBUILD_REMOTE_CACHE_TOKEN", "s3cr3t\nX-Injected: 1")
    with pytest.raises(WasmbuildError, match="WASMBUILD_REMOTE_CACHE_TOKEN holds a control character") as err:
        RemoteTier(nginx.url)
    assert "s3cr3t" not in str(err.value)
