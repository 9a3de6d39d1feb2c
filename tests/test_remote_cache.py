"""The shared remote cache against a real server: nginx with WebDAV PUT on 127.0.0.1.

Each test starts its own nginx (temporary config, root and logs in tmp_path, a free port) and stops
it afterwards. Skipped, saying why, when nginx is not installed (`.ci/run` installs it).
"""

import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from wasmbuild.build import ModuleInput, build_image
from wasmbuild.cache import Cache
from wasmbuild.compile import CompileSettings
from wasmbuild.remote import RemoteCache
from wasmbuild.wat import wat_to_wasm

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install -y nginx)")
O1 = CompileSettings(opt_level=1)


class Nginx:
    def __init__(self, tmp_path):
        self.root = tmp_path / "www"
        self.root.mkdir()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        conf = tmp_path / "nginx.conf"
        conf.write_text(f"""
            daemon off;
            master_process off;
            user root;
            pid {tmp_path}/nginx.pid;
            error_log {tmp_path}/error.log;
            events {{ worker_connections 64; }}
            http {{
              access_log off;
              client_body_temp_path {tmp_path}/body;
              proxy_temp_path {tmp_path}/proxy;
              fastcgi_temp_path {tmp_path}/fastcgi;
              uwsgi_temp_path {tmp_path}/uwsgi;
              scgi_temp_path {tmp_path}/scgi;
              server {{
                listen 127.0.0.1:{self.port};
                root {self.root};
                client_max_body_size 0;
                dav_methods PUT;
                create_full_put_path on;
              }}
            }}""")
        self.proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            pytest.fail(f"nginx did not start: {self.proc.stderr.read().decode()}")
        self.url = f"http://127.0.0.1:{self.port}/wasmbuild"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def blobs(self):
        cas = self.root / "wasmbuild" / "cas"
        return sorted(cas.iterdir()) if cas.exists() else []


@pytest.fixture
def nginx(tmp_path):
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
