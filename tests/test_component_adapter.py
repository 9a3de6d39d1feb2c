"""The WASI preview1 -> 0.2 adapters that `wasmbuild.wasi_adapter` fetches (for WasmComponent).

Takes npm (the adapters come in the npm package @bytecodealliance/jco) and, as an independent copy
to compare with, the adapters of the shared component data (`testing.components_dir()/adapters`,
from the same jco release). Gives tests that each fetched adapter is byte for byte that copy, that
the command-line form writes it, and that a missing npm, an unknown kind and bytes that do not
match the pinned hash are one-line errors.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import need, need_command

from wasmbuild import wasi_adapter
from wasmbuild.errors import ToolError, WasmbuildError
from wasmbuild.testing import components_dir

ADAPTERS = os.path.join(components_dir(), "adapters")


@pytest.mark.parametrize("kind", ["command", "reactor"])
def test_fetched_adapter_is_the_published_one(tmp_path, kind):
    need_command("npm", "Node.js's npm, from Debian: apt-get install npm")
    shared = need("component test data", os.path.join(ADAPTERS, wasi_adapter.adapter_name(kind))
                  if os.path.isdir(ADAPTERS) else None, "../shared/components or $WASMBUILD_COMPONENTS_DIR")
    dest = tmp_path / "sub" / wasi_adapter.adapter_name(kind)
    wasi_adapter.fetch_adapter(kind, str(dest))
    with open(shared, "rb") as f:
        assert dest.read_bytes() == f.read()
    assert not (tmp_path / "sub" / (dest.name + ".partial")).exists()


def test_command_line_writes_the_adapter(tmp_path):
    need_command("npm", "Node.js's npm, from Debian: apt-get install npm")
    dest = tmp_path / "a.wasm"
    proc = subprocess.run([sys.executable, "-m", "wasmbuild.wasi_adapter", "command", "-o", str(dest)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert dest.read_bytes()[:4] == b"\0asm"


def test_without_npm_the_error_says_what_is_needed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no npm
    with pytest.raises(ToolError) as e:
        wasi_adapter.fetch_adapter("command", str(tmp_path / "a.wasm"))
    message = str(e.value)
    assert message.startswith(f"{tmp_path / 'a.wasm'}: ") and "needs npm" in message
    assert wasi_adapter.JCO_PACKAGE in message and "\n" not in message
    assert not (tmp_path / "a.wasm").exists()


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(WasmbuildError, match="no WASI adapter 'proxy' \\(one of: command, reactor\\)"):
        wasi_adapter.fetch_adapter("proxy", str(tmp_path / "a.wasm"))


def test_bytes_that_do_not_match_the_pin_are_refused(tmp_path, monkeypatch):
    need_command("npm", "Node.js's npm, from Debian: apt-get install npm")
    monkeypatch.setitem(wasi_adapter.ADAPTER_SHA256, "command", "0" * 64)
    with pytest.raises(ToolError, match="has SHA-256 2a652d71.*, expected 0{64}"):
        wasi_adapter.fetch_adapter("command", str(tmp_path / "a.wasm"))
    assert not (tmp_path / "a.wasm").exists()
