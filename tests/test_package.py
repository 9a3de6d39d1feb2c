"""Deployable packages: reproducible, verified before anything runs, runnable from anywhere.

Packages are made with the command line from a sample (wordfreq, a C program using WASI files) and
from a small graph; damage is done here (a flipped byte, a truncated file, a changed manifest), and
so are hostile packages whose manifest is true to their members but whose member names point out
of the rebuild directory (zip slip), repeat, or are not members a package has.
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import pytest

import wasmbuild
from wasmbuild.api import read_runnable, run_wasi
from wasmbuild.package import PackageError, open_package

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "samples", "wordfreq")


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "wasmbuild", *args], capture_output=True, text=True,
                          cwd=cwd, env=env)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pkg")
    image = tmp / "wf.img"
    env = dict(os.environ, WASMBUILD_CACHE_DIR=str(tmp / "cache"))
    assert cli("build", os.path.join(SAMPLE, "graph.toml"), "-o", str(image), "-O", "1", env=env).returncode == 0
    pkg = tmp / "wf.wbpkg"
    made = cli("package", str(image), "-o", str(pkg), "--sources", os.path.join(SAMPLE, "graph.toml"))
    assert made.returncode == 0, made.stderr
    again = tmp / "again.wbpkg"
    assert cli("package", str(image), "-o", str(again), "--sources", os.path.join(SAMPLE, "graph.toml")).returncode == 0
    return pkg, again


def test_packages_are_reproducible(package):
    pkg, again = package
    assert pkg.read_bytes() == again.read_bytes()
    with zipfile.ZipFile(pkg) as z:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        assert z.namelist()[:2] == ["package.json", "image.wbi"]


def test_manifest_describes_the_program(package):
    _image, manifest, members = open_package(str(package[0]))
    assert set(members) == set(manifest["members"])  # every member, verified
    assert manifest["entry"] == "_start"
    assert {"name": "_start", "kind": "func", "type": "[] -> []"} in manifest["exports"]
    assert any(i["name"] == "fd_write" and i["module"] == "wasi_snapshot_preview1" for i in manifest["host_imports"])
    from wasmbuild.loader.codemem import host_machine
    assert manifest["target"]["machine"] == host_machine()
    assert set(manifest["versions"]) == {"wasmbuild", "llvm", "llvmlite"}
    assert "sources/graph.toml" in manifest["members"] and "sources/wordfreq.wasm" in manifest["members"]
    shown = cli("inspect", str(package[0]))
    assert shown.returncode == 0 and json.loads(shown.stdout)["entry"] == "_start"


def test_runs_from_another_directory_with_an_empty_cache(package, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("to be or not to be\n")
    env = dict(os.environ, WASMBUILD_CACHE_DIR=str(tmp_path / "empty-cache"))
    run = cli("run", str(package[0]), "--dir", f"{data}::/d", "--", "/d/in.txt", "/d/out.txt", "2",
              cwd=str(tmp_path), env=env)
    assert run.returncode == 0, run.stderr
    assert (data / "out.txt").read_text() == "     2 be\n     2 to\n"
    assert not (tmp_path / "empty-cache").exists()  # running compiles nothing


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as z:
        for info, data in members:
            z.writestr(info, change(info.filename, data))


def _refused(path, message):
    with pytest.raises(PackageError) as info:
        wasmbuild.load(str(path))
    assert message in str(info.value)
    run = cli("run", str(path))
    assert run.returncode == 1 and "Traceback" not in run.stderr and message in run.stderr


def test_tampered_member_is_refused(package, tmp_path):
    bad = tmp_path / "bad.wbpkg"

    def flip(name, data):
        if name == "image.wbi":
            data = bytearray(data)
            data[len(data) // 3] ^= 1
            return bytes(data)
        return data
    _rewrite(package[0], bad, flip)
    _refused(bad, "does not match its checksum")


def test_truncated_file_is_refused(package, tmp_path):
    bad = tmp_path / "short.wbpkg"
    bad.write_bytes(package[0].read_bytes()[:5000])
    _refused(bad, "not a whole wasmbuild package")


def test_incompatible_format_is_refused(package, tmp_path):
    bad = tmp_path / "future.wbpkg"

    def bump(name, data):
        if name == "package.json":
            manifest = json.loads(data)
            manifest["format"] = 99
            return json.dumps(manifest).encode()
        return data
    _rewrite(package[0], bad, bump)
    _refused(bad, "package format 99 is not supported")


def test_another_machine_is_refused_and_can_rebuild(package, tmp_path, monkeypatch):
    # Pretend this host is an aarch64 machine: the package's x86-64 image cannot run "here".
    monkeypatch.setattr("wasmbuild.loader.instance.host_machine", lambda: "aarch64")
    with pytest.raises(Exception) as info:
        wasmbuild.load(str(package[0]))
    assert "cannot run here" in str(info.value)
    monkeypatch.undo()
    # --rebuild compiles the packaged sources for this machine.
    monkeypatch.setattr("wasmbuild.api.host_machine", lambda: "riscv64")
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path / "rebuild-cache"))
    data = tmp_path / "d"
    data.mkdir()
    (data / "in.txt").write_text("a a b\n")
    out = io.BytesIO()
    code = run_wasi(str(package[0]), ["/d/in.txt", "/d/out.txt", "1"], dirs={"/d": str(data)}, stdout=out,
                    rebuild=True)
    assert code == 0 and (data / "out.txt").read_text() == "     2 a\n"
    assert (tmp_path / "rebuild-cache").exists()


def _repack(src, dst, add=(), change=None, compression=zipfile.ZIP_STORED, manifest_change=None):
    """A copy of package `src` with members added and changed, whose manifest lists every member
    with its true checksum: only the names, kinds or manifest shape can be wrong."""
    with zipfile.ZipFile(src) as z:
        manifest = json.loads(z.read("package.json"))
        members = [(n, z.read(n)) for n in z.namelist() if n != "package.json"]
    members = [(n, change(n, d) if change else d) for n, d in members] + list(add)
    manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in members}
    if manifest_change:
        manifest = manifest_change(manifest)
    with zipfile.ZipFile(dst, "w", compression) as z:
        z.writestr("package.json", json.dumps(manifest))
        for n, d in members:
            z.writestr(n, d)
    return dst


@pytest.fixture
def rebuild_here(tmp_path, monkeypatch):
    """--rebuild as on another machine, with its temporary directories made in tmp_path/t."""
    (tmp_path / "t").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "t"))
    monkeypatch.setattr("wasmbuild.api.host_machine", lambda: "riscv64")
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "t"


@pytest.mark.parametrize("name", ["sources/../escaped.wasm", "sources//ABS/escaped.wasm", "sources/sub/x.wasm",
                                  "sources/..", "sources/", "/escaped.wasm", "../escaped.wasm", "evil.txt"])
def test_member_names_that_leave_the_package_are_refused_before_anything_is_written(
        package, tmp_path, rebuild_here, name):
    # The zip slip: `run --rebuild` wrote sources/../x and sources//abs/path where they point.
    (tmp_path / "abs").mkdir()
    name = name.replace("/ABS", str(tmp_path / "abs"))
    bad = _repack(package[0], tmp_path / "slip.wbpkg", add=[(name, b"not a module")])
    with pytest.raises(PackageError) as info:
        read_runnable(str(bad), rebuild=True)
    assert repr(name) in str(info.value)
    assert not (rebuild_here / "escaped.wasm").exists() and not (tmp_path / "abs" / "escaped.wasm").exists()
    assert os.listdir(rebuild_here) == []  # nothing extracted at all
    _refused(bad, repr(name))


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile warns as it writes the second
def test_a_member_that_appears_twice_is_refused(package, tmp_path):
    bad = _repack(package[0], tmp_path / "twice.wbpkg", add=[("sources/wordfreq.wasm", b"another")])
    _refused(bad, "'sources/wordfreq.wasm' appears twice")


def test_a_compressed_member_is_refused(package, tmp_path):
    bad = _repack(package[0], tmp_path / "deflated.wbpkg", compression=zipfile.ZIP_DEFLATED)
    _refused(bad, "is compressed or encrypted")


@pytest.mark.parametrize("shape, message", [
    (lambda m: [m], "the manifest is not a JSON object"),
    (lambda m: {**m, "members": list(m["members"])}, "the manifest's members are not"),
    (lambda m: {**m, "members": {**m["members"], "image.wbi": "x"}}, "the manifest's members are not"),
    (lambda m: {**m, "name": 7}, "the manifest has no name"),
])
def test_a_manifest_of_the_wrong_shape_is_refused(package, tmp_path, shape, message):
    bad = _repack(package[0], tmp_path / "shape.wbpkg", manifest_change=shape)
    _refused(bad, message)


def test_a_packaged_graph_naming_a_host_file_is_refused(package, tmp_path, rebuild_here):
    # sources/graph.toml is a member like any other: its modules must be packaged sources, not
    # paths that reach out of the rebuild directory to a file of the host.
    host_file = os.path.join(SAMPLE, "wordfreq.wasm")

    def point_out(name, data):
        return data.replace(b'"wordfreq.wasm"', json.dumps(host_file).encode()) if name == "sources/graph.toml" else data
    bad = _repack(package[0], tmp_path / "reach.wbpkg", change=point_out)
    with pytest.raises(PackageError) as info:
        read_runnable(str(bad), rebuild=True)
    assert "sources/graph.toml: module 'wordfreq' is not one of the packaged sources" in str(info.value)
    assert os.listdir(rebuild_here) == []  # the private directory is gone
