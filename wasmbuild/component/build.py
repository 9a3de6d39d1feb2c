"""Building a component: decode, validate, instantiate statically, then the ordinary graph build.

`build_component(session, data, path, provided=None)` gives the image bytes and the `BuildReport`
of component binary `data` (`path` for messages), built by `session` (a `build.BuildSession`): its
core modules compiled per function through the session's cache, its component record kept in the
image. `provided` gives core modules for root imports of core modules, which a host cannot give
at load time: {import path: module bytes}, the path a tuple of names (an import name, then export
names inside an imported instance; a string for a top-level import). Each is compiled into the
image like a nested module, instantiated where the component instantiates it; one whose type does
not match the import's is an `UnlinkableError` naming the import. Paths the component does not
import a core module at are ignored.
"""

from __future__ import annotations

from ..binary.decode import decode_module
from ..errors import UnlinkableError, WasmbuildError
from . import decode as d
from .decode import decode_component
from .instantiate import component_graph, exported_core_modules
from .validate import module_mismatch, root_import, validate_component


def build_component(session, data: bytes, path: str, provided: dict | None = None):
    features = session.settings.wasm_feature_set
    component, modules = _prepare(data, path, provided, features)
    inputs, graph, record = component_graph(component, path, features, modules)
    return session.build(inputs, graph, record)


def component_exported_modules(data: bytes, path: str, provided: dict | None = None,
                               features=None) -> dict | None:
    """The core modules component binary `data` exports, {export path: bytes} (built with
    `provided` as `build_component` is; None if it cannot be instantiated: see
    `instantiate.exported_core_modules`)."""
    component, modules = _prepare(data, path, provided, features)
    return exported_core_modules(component, path, modules)


def _prepare(data: bytes, path: str, provided: dict | None, features):
    """The decoded component and its checked `provided` modules (`provided_modules`)."""
    component = decode_component(data, path, features)
    # Function bodies are validated as they are compiled (and not again when taken from the cache).
    info = validate_component(component, functions=False)
    return component, provided_modules(info, provided, path, features)


def provided_modules(info, provided: dict | None, path: str, features=None) -> dict:
    """`provided` ({import path: bytes}) decoded and checked against the imports of the component
    `info` describes (validate.ComponentInfo), as `component_graph` takes them: {path tuple:
    (decode.CoreModule, bytes, name for messages)}; the paths not importing a core module left out."""
    modules = {}
    for key, data in (provided or {}).items():
        at = (key,) if isinstance(key, str) else tuple(key)
        want = root_import(info, at)
        if want is None or want.kind != "core module":
            continue
        where = f"the module given for import {'/'.join(at)}"
        try:
            module = d.CoreModule(0, 0, len(data), decode_module(bytes(data), where, features))
            why = module_mismatch(module, want.type, where)
        except WasmbuildError as e:
            raise UnlinkableError(f"component import {'/'.join(at)}: {where} is not a valid module: {e.reason}",
                                  file=path) from None
        if why is not None:
            raise UnlinkableError(f"component import {'/'.join(at)}: {where} does not match: {why}", file=path)
        modules[at] = (module, bytes(data), where)
    return modules
