"""Stage 1 of a build, the plan: decoded modules and what the graph asks of them.

`DecodedModules(inputs, options, features)` decodes and validates (module level) each input once per
process, on first use: the build's own process, or a compile worker, which is handed the inputs.
`plan_build(modules, graph)` checks the graph's wiring (`graph.resolve_graph`; with no graph the
single input is built as `default_graph` makes it) and gives the `BuildPlan`: the initializers, the
function jobs in image order, which functions the graph exports and which imports the host serves
(the signatures that need a host trampoline, with who needs them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..binary import decode_module
from ..binary.types import Module
from ..contract.records import HOST, ExportStep, Initializer, InstantiateStep
from ..contract.types import EXTERN_FUNC, FuncType
from ..errors import WasmbuildError
from ..graph import Graph, default_graph, resolve_graph
from ..translate.function import ModuleInfo, TranslateOptions
from ..valid import Context, check_module_level


@dataclass
class ModuleInput:
    name: str
    data: bytes
    path: str | None = None


@dataclass
class DecodedModule:
    input: ModuleInput
    module: Module
    context: Context
    info: ModuleInfo  # what the translator needs of the module


class DecodedModules:
    """The build's inputs, each decoded and module-level validated once, on first use."""

    def __init__(self, inputs: list[ModuleInput], options: TranslateOptions, features: frozenset[str]):
        self.inputs = inputs
        self.options = options
        self.features = features  # the proposals the modules may use
        self._decoded: dict[int, DecodedModule] = {}
        self.seconds = {"decode": 0.0, "validate": 0.0}

    def get(self, mi: int) -> DecodedModule:
        decoded = self._decoded.get(mi)
        if decoded is None:
            inp = self.inputs[mi]
            t0 = time.perf_counter()
            m = decode_module(inp.data, inp.path or inp.name, self.features)
            t1 = time.perf_counter()
            ctx = check_module_level(m)
            self.seconds["decode"] += t1 - t0
            self.seconds["validate"] += time.perf_counter() - t1
            info = ModuleInfo.from_context(ctx, self.options)
            decoded = self._decoded[mi] = DecodedModule(inp, m, ctx, info)
        return decoded

    def all(self) -> list[DecodedModule]:
        return [self.get(mi) for mi in range(len(self.inputs))]


@dataclass
class BuildPlan:
    modules: list[DecodedModule]
    initializers: list[Initializer]
    jobs: list[tuple[int, int]]  # (module index, defined function index), in image order
    graph_exported: dict[int, set[int]] = field(default_factory=dict)  # module -> functions the graph exports
    host_users: dict[FuncType, list[str]] = field(default_factory=dict)  # host trampolines needed
    component: dict | None = None  # a component's record (component/record.py) as JSON


def plan_build(decoded: DecodedModules, graph: Graph | None, component: dict | None = None) -> BuildPlan:
    modules = decoded.all()
    if graph is None:
        if len(modules) != 1:
            raise WasmbuildError("several modules make a graph: give a manifest")
        inp = modules[0].input
        graph = default_graph(inp.path or inp.name, inp.name, modules[0].module)
    initializers = resolve_graph(graph, {d.input.name: d.module for d in modules})
    jobs = [(mi, j) for mi, d in enumerate(modules) for j in range(len(d.module.bodies))]
    plan = BuildPlan(modules, initializers, jobs, component=component)

    # Which functions escape to the host through the graph's exports, and which imports the host
    # serves (each needs a host trampoline of its signature).
    instance_module: dict[str, int] = {}
    export_functions = [{e.name: e.index for e in d.module.exports if e.kind == EXTERN_FUNC} for d in modules]
    for init in initializers:
        if isinstance(init, InstantiateStep):
            instance_module[init.instance] = init.module
            m = modules[init.module].module
            for imp, source in zip(m.imports, init.imports):
                if source.source == HOST and imp.kind == EXTERN_FUNC:
                    plan.host_users.setdefault(m.types[imp.desc], []).append(
                        f"{init.instance}:import {imp.module}.{imp.name}")
        elif isinstance(init, ExportStep):
            mi = instance_module[init.instance]
            functions = export_functions[mi]
            exported = plan.graph_exported.setdefault(mi, set())
            if init.item is None:
                exported.update(functions.values())
            elif init.item in functions:
                exported.add(functions[init.item])
    return plan
