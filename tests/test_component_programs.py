"""The WASI 0.2 command components of ../shared/components/programs/wasi run through
`wasmbuild.run_wasi` (built from the component binary, as `wasmbuild run app.wasm` does) and
through the command line, each giving the exit code, stdout, stderr and files its run.toml
expects (recorded from wasmtime, and checked with hashlib, rot13 and wc where it could be)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib

import pytest

from wasmbuild.api import run_wasi
from wasmbuild.testing import components_dir

WASI_PROGRAMS = os.path.join(components_dir(), "programs", "wasi")
NAMES = ["clockrand", "fcopy", "hello", "rot13wc", "sha256"]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "component-cache"))


def _run(name: str, tmp_path):
    d = os.path.join(WASI_PROGRAMS, name)
    with open(os.path.join(d, "run.toml"), "rb") as f:
        cfg = tomllib.load(f)
    dirs = {}
    for i, p in enumerate(cfg.get("preopen", [])):
        host = tmp_path / f"pre-{i}"
        shutil.copytree(os.path.join(d, p["host"]), host)
        dirs[p["guest"]] = str(host)
    stdin_path = os.path.join(d, cfg["stdin"]) if "stdin" in cfg else os.devnull
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    argv = cfg.get("argv", [name])
    with open(stdin_path, "rb") as stdin, open(out, "wb") as stdout, open(err, "wb") as stderr:
        code = run_wasi(os.path.join(d, f"{name}.component.wasm"), argv[1:], cfg.get("env", {}), dirs,
                        stdin, stdout, stderr, program_name=argv[0])
    return cfg, d, code, out.read_bytes(), err.read_bytes(), dirs


@pytest.mark.parametrize("name", NAMES)
def test_wasi_command_component(name, tmp_path):
    cfg, d, code, out, err, dirs = _run(name, tmp_path)
    expect = cfg["expect"]
    with open(os.path.join(d, expect["stdout"]), "rb") as f:
        assert out == f.read()
    with open(os.path.join(d, expect["stderr"]), "rb") as f:
        assert err == f.read()
    assert code == expect["exit_code"]
    if "files" in expect:
        guest = cfg["preopen"][0]["guest"]
        for rel in expect["files"]:
            want = os.path.join(d, "expected", "files", guest.strip("/"), rel)
            with open(want, "rb") as f, open(os.path.join(dirs[guest], rel), "rb") as g:
                assert g.read() == f.read(), rel


def test_run_command_line(tmp_path):
    """`wasmbuild run app.component.wasm --env K=V -- args` as wasmtime run takes it."""
    d = os.path.join(WASI_PROGRAMS, "hello")
    r = subprocess.run([sys.executable, "-m", "wasmbuild", "run", os.path.join(d, "hello.component.wasm"),
                        "--env", "GREETING=hi there", "--", "first"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, env={**os.environ, "WASMBUILD_CACHE_DIR": str(tmp_path)})
    assert "argv[1]=first" in r.stdout and "GREETING=hi there" in r.stdout, r.stderr
    assert "argc=2" in r.stdout
    assert r.returncode == 0, r.stderr


def test_check_build_and_inspect_a_component(tmp_path):
    """`check` validates a component; `build` makes an image of it; `inspect` shows its WIT-typed
    imports and exports; a damaged component is one line naming the file."""
    counter = os.path.join(components_dir(), "programs", "wit", "counter", "counter.component.wasm")
    env = {**os.environ, "WASMBUILD_CACHE_DIR": str(tmp_path / "cache")}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "wasmbuild", *args], capture_output=True, text=True, env=env)
    r = cli("check", "-v", counter)
    assert r.returncode == 0 and "ok (a component)" in r.stdout, r.stderr
    image = tmp_path / "counter.img"
    r = cli("build", counter, "-o", str(image))
    assert r.returncode == 0, r.stderr
    shown = cli("inspect", str(image)).stdout
    assert "import log: func(msg: string)" in shown
    assert "export [method]counter.increment: func(self: borrow<counter>, by: s64) -> s64" in shown
    with open(counter, "rb") as f:
        data = f.read()
    cut = tmp_path / "cut.wasm"
    cut.write_bytes(data[: len(data) // 2])
    for command in ("check", "build"):
        r = cli(command, str(cut), *(("-o", str(tmp_path / "cut.img")) if command == "build" else ()))
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and str(cut) in r.stderr, r.stderr
