"""The Python API for running images.

`load(path, imports=None)` loads an image (or a package, verified first; a component or core module
binary or a `.toml` manifest is built first) into a fresh `Store` and instantiates its graph, giving a
`GraphInstance`: `instance.exports["name"]` (or `instance.name`) are `Function`, `Memory`, `Table`
and `Global` objects, or whole instances the graph exports; functions are called with Python
numbers (`instance.exports["add"](1, 2)`). `imports` maps module names to `{item name: value}`, where a
value is a Python callable (wrapped as a host function of the import's type), or a `Function`,
`Memory`, `Table` or `Global` from another instance.

`find_export(instance, name)` gives an export of a loaded graph by name ("inst.item" reaches into a
whole-instance export), or None; `parse_arg(value_type, text)` gives the Python number that the
text of a command-line argument stands for (the CLI's `run --invoke` and `wasmbuild.samplecheck`).
"""

from __future__ import annotations

import os

from .contract.types import F32, F64
from .errors import WasmbuildError
from .loader.codemem import host_machine
from .loader.instance import GraphInstance, load_image
from .loader.runtime import Store


def read_runnable(path: str, rebuild: bool = False) -> bytes:
    """The image bytes of `path`: an image file, a package (verified first; with `rebuild`, a
    package for another machine is rebuilt here from the sources it carries), or a component or
    core module binary or a manifest (a `.toml` file), built here first (through the local cache)."""
    from .package import is_package, open_package, rebuild_from_sources
    if is_package(path):
        image, manifest, members = open_package(path)
        if rebuild and manifest["target"]["machine"] != host_machine():
            image = rebuild_from_sources(members, manifest, path)
        return image
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise WasmbuildError(f"cannot read image: {e.strerror}", file=path) from None
    if data.startswith(b"\0asm"):
        return build_binary(data, path)
    if path.endswith(".toml"):
        return build_manifest(path)
    return data


def build_manifest(path: str) -> bytes:
    """The image of the graph manifest at `path` (core modules or a composition of components),
    built with the default settings through the default local cache."""
    from .build import build_graph
    from .cache import open_cache
    image, _report = build_graph(path, jobs=os.cpu_count() or 1, cache=open_cache())
    return image


def build_binary(data: bytes, path: str) -> bytes:
    """The image of component or core module binary `data`, built with the default settings
    through the default local cache (what `wasmbuild run app.wasm` does)."""
    from .build import BuildSession, ModuleInput
    from .cache import open_cache
    from .component.build import build_component
    from .component.decode import is_component
    session = BuildSession(jobs=os.cpu_count() or 1, cache=open_cache())
    if is_component(data):
        image, _report = build_component(session, data, path)
    else:
        name = os.path.splitext(os.path.basename(path))[0]
        image, _report = session.build([ModuleInput(name, data, path)])
    return image


def load(path: str, imports: dict | None = None, store: Store | None = None,
         rebuild: bool = False) -> GraphInstance:
    """Load the image or package at `path` and instantiate its graph."""
    data = read_runnable(path, rebuild)
    store = store or Store()
    image = load_image(store, data, path)
    return image.instantiate(imports or {})


def find_export(instance: GraphInstance, name: str):
    """An export of a loaded graph by name; "inst.item" reaches into a whole-instance export."""
    item = instance.exports.get(name)
    if item is None and "." in name:
        head, _, rest = name.partition(".")
        sub = instance.exports.get(head)
        if sub is not None and hasattr(sub, "exports"):
            item = sub.exports.get(rest)
    return item


def parse_arg(value_type: int, text: str):
    """A float for an f32/f64 parameter, else an integer (decimal, or 0x hex)."""
    return float(text) if value_type in (F32, F64) else int(text, 0)


def run_wasi(path: str, args: list[str] | None = None, env: dict[str, str] | None = None,
             dirs: dict[str, str] | None = None, stdin=None, stdout=None, stderr=None,
             rebuild: bool = False, program_name: str | None = None) -> int:
    """Run the WASI program of the image at `path` with `args`, `env` and the preopened `dirs`
    (guest path -> host path); gives its exit code (argv[0] is `program_name`, by default the
    file's name). A core program (its graph exports `_start` and
    `memory`) gets WASI preview 1; a command component (it exports `wasi:cli/run`) WASI 0.2."""
    data = read_runnable(path, rebuild)
    store = Store()
    image = load_image(store, data, path)
    argv = [program_name or os.path.basename(path)] + list(args or [])
    if image.meta.component is not None:
        return _run_command_component(image, path, argv, env, dirs, stdin, stdout, stderr)
    from .wasi import NAMESPACE, Wasi
    wasi = Wasi(argv, env, dirs, stdin, stdout, stderr)
    instance = image.instantiate({NAMESPACE: wasi.namespace(store)})
    start = instance.exports.get("_start")
    memory = instance.exports.get("memory")
    if start is None or memory is None:
        raise WasmbuildError("not a WASI program: the graph must export _start and memory", file=path)
    wasi.bind(memory)
    try:
        return wasi.run(start)
    finally:
        wasi.close()


def _run_command_component(image, path, argv, env, dirs, stdin, stdout, stderr) -> int:
    from .component.wasi2 import Wasi2, interface_key
    wasi = Wasi2(argv, env, dirs, stdin, stdout, stderr)
    try:
        instance = image.instantiate(wasi.interfaces())
        run = None
        for name, item in instance.exports.items():
            if interface_key(name) == "wasi:cli/run" and hasattr(item, "exports"):
                run = item.exports.get("run")
        if run is None:
            raise WasmbuildError("not a command component: it exports no wasi:cli/run@0.2 interface", file=path)
        return wasi.run(run)
    finally:
        wasi.close()
