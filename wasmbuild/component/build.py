"""Building a component: decode, validate, instantiate statically, then the ordinary graph build.

`build_component(session, data, path)` gives the image bytes and the `BuildReport` of component
binary `data` (`path` for messages), built by `session` (a `build.BuildSession`): its core modules
compiled per function through the session's cache, its component record kept in the image.
"""

from __future__ import annotations

from .decode import decode_component
from .instantiate import component_graph


def build_component(session, data: bytes, path: str):
    component = decode_component(data, path, session.settings.wasm_feature_set)
    try:
        from .validate import validate_component
    except ImportError:  # the validator lands separately
        validate_component = None
    if validate_component is not None:
        validate_component(component)
    inputs, graph, record = component_graph(component, path)
    return session.build(inputs, graph, record)
