"""Run a WASI program (a .wasm file) under wasmtime and print what it did as a sample's
`expected.toml` (see wasmbuild/samplecheck.py: check_wasi): its arguments, exit code and stdout.

The expected results of a sample come from another engine, never from wasmbuild itself; this is
how the C/C++ samples built with zig get theirs:

    python3 tools/wasmtime_expected.py [--with NAME=MODULE]... PROGRAM.wasm [ARG...] > expected.toml

wasmtime (the Python package) runs it with exceptions and threads enabled. `--with NAME=MODULE`
first instantiates MODULE (.wasm or .wat, importing nothing) and offers its exports to the program
as the import module NAME (a two-instance graph like samples/cpp-exceptions). Only programs that
need no directories or environment are supported. Exit status: 0, or 1 when wasmtime refuses or traps.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile


def run(wasm: str, args: list[str], providers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Exit code and stdout of `wasm` run as a WASI command with `args` under wasmtime; `providers`
    maps an import module name to the path of a module whose instance provides it."""
    import wasmtime
    config = wasmtime.Config()
    config.wasm_exceptions = True
    config.wasm_threads = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "stdout")
        wasi = wasmtime.WasiConfig()
        wasi.argv = [os.path.basename(wasm), *args]
        wasi.stdout_file = out
        wasi.inherit_stderr()
        store.set_wasi(wasi)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        for name, path in (providers or {}).items():
            provider = linker.instantiate(store, wasmtime.Module.from_file(engine, path))
            linker.define_instance(store, name, provider)
        instance = linker.instantiate(store, wasmtime.Module.from_file(engine, wasm))
        try:
            instance.exports(store)["_start"](store)
            code = 0
        except wasmtime.ExitTrap as e:
            code = e.code
        with open(out, "rb") as f:
            return code, f.read()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    providers = {}
    while argv and argv[0] == "--with":
        name, _, path = argv[1].partition("=")
        providers[name] = path
        argv = argv[2:]
    wasm, args = argv[0], argv[1:]
    try:
        code, stdout = run(wasm, args, providers)
    except Exception as e:  # wasmtime's errors and traps have no common base class
        print(f"{wasm}: wasmtime: {e}", file=sys.stderr)
        return 1
    text = stdout.decode("utf-8")
    print(f"# {os.path.basename(wasm)} as wasmtime runs it (tools/wasmtime_expected.py)")
    print(f"args = {json.dumps(args)}")
    print(f"exit_code = {code}")
    # A literal string keeps backslashes as they are; the output has no ''' in it.
    assert "'''" not in text
    print(f"stdout = '''\n{text}'''")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
