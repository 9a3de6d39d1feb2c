"""Building a component: decode, validate, instantiate statically, then the ordinary graph build.

`build_component(session, data, path)` gives the image bytes and the `BuildReport` of component
binary `data` (`path` for messages), built by `session` (a `build.BuildSession`): its core modules
compiled per function through the session's cache, its component record kept in the image.
"""

from __future__ import annotations

from .decode import decode_component
from .instantiate import component_graph
from .validate import validate_component


def build_component(session, data: bytes, path: str):
    component = decode_component(data, path, session.settings.wasm_feature_set)
    # Function bodies are validated as they are compiled (and not again when taken from the cache).
    validate_component(component, functions=False)
    inputs, graph, record = component_graph(component, path)
    return session.build(inputs, graph, record)
