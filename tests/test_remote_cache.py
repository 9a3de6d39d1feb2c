"""The shared remote cache against a real server: nginx with WebDAV PUT on 127.0.0.1.

Each test starts its own nginx (temporary config, root and logs in tmp_path, a free port) and stops
it afterwards. Needs Debian's nginx, which `.ci/run` installs (conftest's `need`: outside CI its
absence skips these tests, in CI it fails the run).
"""

import threading

import pytest
from conftest import need

from wasmbuild.build import ModuleInput, build_image
from wasmbuild.cache import Cache
from wasmbuild.compile import CompileSettings
from wasmbuild.remote import RemoteCache
from wasmbuild.testing.nginx import NGINX, Nginx
from wasmbuild.wat import wat_to_wasm

O1 = CompileSettings(opt_level=1)


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


def build(inp, cache_dir, remote):
    cache = Cache(str(cache_dir), remote=remote)
    try:
        return build_image([inp], O1, 1, cache=cache)
    finally:
        if remote is not None:
            remote.close()


def test_second_tree_compiles_nothing(tmp_path, nginx):
    inp = module(tmp_path)
    first, r1 = build(inp, tmp_path / "cache-a", RemoteCache(nginx.url))
    assert r1.compiled == 24 and r1.remote_uploads >= 24 and r1.remote_errors == 0
    assert len(nginx.blobs()) >= 24
    second, r2 = build(inp, tmp_path / "cache-b", RemoteCache(nginx.url))
    assert r2.compiled == 0 and r2.remote_hits == 24 and r2.trampolines_compiled == 0
    assert first == second


def test_read_only_never_uploads(tmp_path, nginx):
    _, r = build(module(tmp_path), tmp_path / "c", RemoteCache(nginx.url, read_only=True))
    assert r.compiled == 24 and r.remote_uploads == 0
    assert nginx.blobs() == []


def test_server_down_costs_a_warning_not_the_build(tmp_path, nginx, capsys):
    nginx.stop()
    image, r = build(module(tmp_path), tmp_path / "c", RemoteCache(nginx.url, timeout=1))
    assert image and r.compiled == 24
    assert "remote cache" in capsys.readouterr().err


def test_server_stopped_mid_build(tmp_path, nginx):
    inp = module(tmp_path, 60)
    clean, _ = build_image([inp], O1, 1)
    threading.Timer(0.3, nginx.stop).start()
    image, r = build(inp, tmp_path / "c", RemoteCache(nginx.url, timeout=1))
    assert image == clean


def test_corrupt_blob_on_the_server_is_detected_and_not_used(tmp_path, nginx, capsys):
    inp = module(tmp_path)
    good, _ = build(inp, tmp_path / "cache-a", RemoteCache(nginx.url))
    for blob in nginx.blobs():
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF
        blob.write_bytes(bytes(data))
    again, r = build(inp, tmp_path / "cache-b", RemoteCache(nginx.url))
    assert again == good
    assert r.compiled == 24 and r.remote_hits == 0
    assert "did not match its digest" in capsys.readouterr().err


def test_credentials_come_from_the_environment_and_are_not_printed(tmp_path, nginx, capsys, monkeypatch):
    monkeypatch.setenv("WASMBUILD_REMOTE_CACHE_TOKEN", "s3cr3t-token")
    nginx.stop()  # make it fail so that warnings are printed
    remote = RemoteCache(nginx.url, timeout=1)
    assert remote.headers == {"Authorization": "Bearer s3cr3t-token"}
    build(module(tmp_path), tmp_path / "c", remote)
    assert "s3cr3t" not in capsys.readouterr().err
