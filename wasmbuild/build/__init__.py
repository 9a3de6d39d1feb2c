"""Compile modules into one image: plan → objects → link → image (`session.py` runs the stages).

`build_image(inputs, settings, jobs, graph, cache, progress)` takes `ModuleInput`s (a name and the module's
bytes) and gives the image bytes and a `BuildReport`; `build_graph(manifest, ...)` reads a
manifest's modules first (or, for a manifest of components, builds its composition:
component/compose.py). `progress(done, total)`, if given, is called as functions are ready
(those taken from the cache count as done at once). Each defined function is translated and compiled on its own (one LLVM
module per function), into an object whose references to the outside world are index-free
(`translate/refs.py`); the link step names them. A caller making many images keeps one
`BuildSession`, which compiles the runtime helpers and trampolines once.
"""

from __future__ import annotations

from ..compile import CompileSettings
from ..graph import Graph, load_manifest
from .plan import ModuleInput
from .report import BuildReport
from .session import BuildSession

__all__ = ["BuildReport", "BuildSession", "ModuleInput", "build_graph", "build_image"]


def build_image(inputs: list[ModuleInput], settings: CompileSettings | None = None, jobs: int = 1,
                graph: Graph | None = None, cache=None, progress=None) -> tuple[bytes, BuildReport]:
    return BuildSession(settings, jobs, cache, progress).build(inputs, graph)


def build_graph(manifest: str, settings: CompileSettings | None = None, jobs: int = 1, cache=None,
                session: BuildSession | None = None, progress=None) -> tuple[bytes, BuildReport]:
    """Build the graph of the manifest at `manifest`: read its modules, compile, link."""
    from ..wat import read_module_bytes
    graph = load_manifest(manifest)
    session = session or BuildSession(settings, jobs, cache, progress)
    if graph.components:
        from ..component.compose import build_composition
        return build_composition(session, graph)
    enabled = session.settings.wasm_feature_set
    inputs = [ModuleInput(step.name, read_module_bytes(step.path, enabled), step.path) for step in graph.modules]
    return session.build(inputs, graph)
