"""A build session: the settings, cache and worker count of a series of builds, and the state they
share (the runtime helpers' and trampolines' objects, made once per session).

`BuildSession(settings, jobs, cache).build(inputs, graph)` runs the stages of a build, data flowing
one way, and gives (image bytes, `BuildReport`):

    plan      plan.py      inputs, graph      → BuildPlan (decoded modules, initializers, jobs)
    objects   objects.py   BuildPlan          → one FunctionObject per job (cache, then compile)
    link      linking.py   objects, support   → LinkedGraph (linked code, module records)
    image     emit.py      LinkedGraph        → image bytes

A session is what a long-running caller (the spec runner, a benchmark) keeps between builds, so
helper objects are compiled once; `build_image` is one build with a fresh session.
"""

from __future__ import annotations

from typing import Callable

from ..cache import ObjectCache
from ..compile import CompileSettings, translate_options
from ..graph import Graph
from ..link import elf
from .emit import emit_image
from .linking import link_graph
from .objects import SupportObjects, function_objects
from .plan import DecodedModules, ModuleInput, plan_build
from .report import BuildReport


class BuildSession:
    def __init__(self, settings: CompileSettings | None = None, jobs: int = 1, cache: ObjectCache | None = None,
                 progress: Callable[[int, int], None] | None = None):
        self.settings = (settings or CompileSettings()).resolved()
        self.jobs = jobs
        self.progress = progress  # progress(functions done, functions in all), see function_objects
        # The null cache keeps nothing: without one, the build need not compute keys at all.
        self.cache = cache if cache is not None and cache.keyed else None
        self.translate_options = translate_options(self.settings)
        self.support = SupportObjects(cache)

    def build(self, inputs: list[ModuleInput], graph: Graph | None = None,
              component: dict | None = None) -> tuple[bytes, BuildReport]:
        """Compile the modules `inputs` into an image of `graph` (whose module steps name the inputs,
        in order); with no graph, `inputs` must be one module, built as `default_graph` makes it.
        `component` is the record of the component the graph was made from, kept in the image.
        With a cache, functions whose key is there are neither validated nor compiled again."""
        # A build allocates millions of small, acyclic objects (decoded instructions, symbols);
        # Python's cyclic garbage collector would scan them over and over for nothing.
        with elf.gc_paused():
            report = BuildReport()
            decoded = DecodedModules(inputs, self.translate_options, self.settings.wasm_feature_set)
            plan = plan_build(decoded, graph, component)
            report.seconds.update(decoded.seconds)
            objects = function_objects(plan, decoded, self.settings, self.cache, self.jobs, report,
                                       self.progress)
            linked = link_graph(plan, objects, self.support, self.settings, report)
            image = emit_image(linked, plan, self.settings)
            self._finish_cache(report)
        return image, report

    def _finish_cache(self, report: BuildReport) -> None:
        """Flush the cache's writes; its statistics and warnings go into the report (the library
        prints nothing: the command line and the SCons tool do)."""
        if self.cache is None:
            return
        stats = self.cache.finish()
        report.warnings = stats.warnings
        if stats.remote is not None:
            report.remote_uploads = stats.remote_uploads
            report.remote_errors = stats.remote_errors
            report.remote_misses = stats.remote_misses
