"""The samples compiled with zig (samples/cpp-exceptions, samples/atomics): their committed `.wasm`
files, how they were made, and the same C++ program in the legacy exception encoding.

Takes the committed binaries and expected results; gives tests that
- each expected.toml is what wasmtime (another engine) prints for the committed `.wasm`;
- wasmbuild's run of each graph matches it (built at -O1; `scons` checks the -O2 build); the C++
  graph has a second instance (callbacks.wat) that C++ exceptions pass through;
- the atomics sample uses atomic instructions of every width, and needs the threads feature;
- the C++ sample uses the standard exception encoding (try_table/exnref), and
  tests/cpp/exceptions-legacy.wasm (the same source, `LEGACY=1 build.sh`) only the legacy one
  (try/catch/delegate/rethrow), which gives the same output in wasmbuild;
- each build script reproduces its committed `.wasm` byte for byte (needs ziglang).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tomllib

import pytest
from conftest import need_module

from wasmbuild.api import run_wasi
from wasmbuild.binary import decode_module
from wasmbuild.binary.decode import decode_function
from wasmbuild.build import build_graph
from wasmbuild.compile import CompileSettings
from wasmbuild.contract import features
from wasmbuild.contract import opcodes as ops
from wasmbuild.errors import InvalidError, MalformedError
from wasmbuild.valid.validate import validate_module

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
import wasmtime_expected  # noqa: E402

# sample directory -> its program module
SAMPLES = {"cpp-exceptions": "exceptions.wasm", "atomics": "atomics.wasm"}
# sample directory -> the modules other instances of its graph provide (import module -> file)
PROVIDERS = {"cpp-exceptions": {"env": "callbacks.wat"}}
ZIG_VERSION = "0.17.1"   # the zig the build scripts were run with
LEGACY = os.path.join(REPO, "tests", "cpp", "exceptions-legacy.wasm")


def sample_path(sample: str, name: str | None = None) -> str:
    return os.path.join(REPO, "samples", sample, name or SAMPLES[sample])


def expected(sample: str) -> dict:
    with open(sample_path(sample, "expected.toml"), "rb") as f:
        return tomllib.load(f)


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def run_with_wasmbuild(tmp_path, graph: str, args=(), program: str | None = None) -> tuple[int, str]:
    """Exit code and stdout of the WASI program of `graph` (a manifest), built at -O1 by wasmbuild;
    `program` replaces the path of the graph's module `exceptions.wasm`."""
    if program:
        with open(graph) as f:
            text = f.read()
        base = os.path.dirname(graph)
        text = re.sub(r'path = "([^"]+)"', lambda m: 'path = "%s"' % (
            program if m.group(1) == "exceptions.wasm" else os.path.join(base, m.group(1))), text)
        graph = str(tmp_path / "graph.toml")
        with open(graph, "w") as f:
            f.write(text)
    image, _ = build_graph(graph, CompileSettings(opt_level=1))
    path = tmp_path / "prog.img"
    path.write_bytes(image)
    out = io.BytesIO()
    code = run_wasi(str(path), list(args), stdout=out)
    return code, out.getvalue().decode()


def validate(data: bytes, enabled: frozenset[str]) -> None:
    validate_module(decode_module(data, "m.wasm", features=enabled))


def opcodes_used(data: bytes) -> set:
    m = decode_module(data, "m.wasm")
    return {op for i in range(len(m.bodies)) for op, _, _ in decode_function(m, i).instrs}


STANDARD_EH = {ops.TRY_TABLE, ops.THROW_REF}
LEGACY_EH = {ops.TRY, ops.CATCH, ops.CATCH_ALL, ops.DELEGATE, ops.RETHROW}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_expected_output_is_what_wasmtime_prints(sample):
    need_module("wasmtime")
    spec = expected(sample)
    providers = {name: sample_path(sample, path) for name, path in PROVIDERS.get(sample, {}).items()}
    code, stdout = wasmtime_expected.run(sample_path(sample), spec["args"], providers)
    assert (code, stdout.decode()) == (spec["exit_code"], spec["stdout"])


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_wasmbuild_gives_the_expected_output(tmp_path, sample):
    spec = expected(sample)
    assert run_with_wasmbuild(tmp_path, sample_path(sample, "graph.toml"), spec["args"]) == \
        (spec["exit_code"], spec["stdout"])


def test_cpp_sample_uses_the_standard_exception_encoding():
    data = read(sample_path("cpp-exceptions"))
    validate(data, features.DEFAULT - {features.LEGACY_EXCEPTIONS})
    assert STANDARD_EH <= opcodes_used(data)
    with pytest.raises((MalformedError, InvalidError), match=r"exception handling \(exceptions\)"):
        validate(data, features.DEFAULT - {features.LEGACY_EXCEPTIONS, features.EXCEPTIONS})


def test_legacy_build_uses_only_legacy_instructions_and_gives_the_same_output(tmp_path):
    data = read(LEGACY)
    with pytest.raises((MalformedError, InvalidError), match=r"legacy exception instructions"):
        validate(data, features.DEFAULT - {features.LEGACY_EXCEPTIONS})
    used = opcodes_used(data)
    assert LEGACY_EH <= used and not STANDARD_EH & used
    spec = expected("cpp-exceptions")
    graph = sample_path("cpp-exceptions", "graph.toml")
    assert run_with_wasmbuild(tmp_path, graph, program=LEGACY) == (spec["exit_code"], spec["stdout"])


def test_atomics_sample_uses_atomic_instructions_of_every_width():
    used = opcodes_used(read(sample_path("atomics")))
    assert {ops.I32_ATOMIC_RMW8_CMPXCHG_U, ops.I32_ATOMIC_RMW16_CMPXCHG_U, ops.I32_ATOMIC_RMW_CMPXCHG,
            ops.I64_ATOMIC_RMW_CMPXCHG, ops.I32_ATOMIC_RMW_ADD, ops.I64_ATOMIC_RMW_SUB,
            ops.I32_ATOMIC_RMW8_XCHG_U, ops.I32_ATOMIC_RMW16_XOR_U, ops.I64_ATOMIC_RMW_AND,
            ops.I64_ATOMIC_RMW_OR, ops.I64_ATOMIC_LOAD, ops.I32_ATOMIC_STORE, ops.ATOMIC_FENCE} <= used
    # with threads off, a 2.0-style engine refuses the first atomic instruction
    with pytest.raises((MalformedError, InvalidError), match=r"threads"):
        validate(read(sample_path("atomics")), features.DEFAULT - {features.THREADS})


@pytest.mark.parametrize("sample,env,out", [
    ("cpp-exceptions", {}, "exceptions.wasm"),
    ("cpp-exceptions", {"LEGACY": "1"}, LEGACY),
    ("atomics", {}, "atomics.wasm"),
])
def test_build_script_reproduces_the_committed_wasm(tmp_path, sample, env, out):
    need_module("ziglang")
    from importlib.metadata import version
    # Another compiler gives other (still valid) bytes: the test extra pins this version.
    assert version("ziglang") == ZIG_VERSION, \
        f"the committed .wasm files were built with ziglang {ZIG_VERSION}, not {version('ziglang')}: pip install -e '.[test]'"
    target = tmp_path / "out.wasm"
    subprocess.run(["sh", sample_path(sample, "build.sh")], check=True, capture_output=True,
                   env={**os.environ, **env, "OUT": str(target)})
    assert target.read_bytes() == read(out if os.path.isabs(out) else sample_path(sample, out))
