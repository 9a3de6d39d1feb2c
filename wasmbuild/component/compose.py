"""Composition: a manifest that instantiates components and wires them, built into one image.

`build_composition(session, graph)` takes a `graph.Graph` read from a manifest with component steps
(docs/manifest.md, "Components") and a `build.BuildSession`, and gives the image bytes and the
`BuildReport`. `resolve_composition(graph, features)` does the checking part: it reads, decodes and
validates each component, resolves each instance's wiring and checks it against the component
model's subtyping (`validate.instantiation_type`, what instantiating a nested component checks), and
gives a `Composition` that `instantiate.composition_graph` turns into one core graph and one
component record.

The wiring of an instance step, `imports = { "<import name>" = "<source>" }`:
  "inst"          the export of instance `inst` named like the import (exactly, else the same
                  interface under a semver-compatible version: `wasi:cli/stdout@0.2.3` for
                  `wasi:cli/stdout@0.2.0`)
  "inst.<export>" that export of `inst` (everything after the first dot: instance names have no
                  dots, so export names may contain '.', ':', '/' and '@')
Imports not wired come from the host when the image is loaded, under their own name; instances
that leave the same import to the host share one host item, so their types must agree. Errors are
`ManifestError`s naming the manifest, the step and the import.

`find_export(names, wanted)` is the name matching (also used by `wasmbuild manifest`,
component/manifest.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import WasmbuildError
from ..graph import Graph, ManifestError, Step
from . import decode as d
from . import types as ct
from .versions import compatible_names
from .validate import ImportMismatch, extern_name_problem, instantiation_type, validate_component

_INSTANCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def find_export(names, wanted: str) -> list[str]:
    """The names among `names` that an import named `wanted` matches (`versions.compatible_names`)."""
    return compatible_names(names, wanted)


@dataclass
class ComponentInput:
    name: str  # the component step
    path: str
    component: d.Component
    type: ct.ComponentType


@dataclass
class InstanceWiring:
    name: str
    component: ComponentInput
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # import -> (instance, export)
    host_imports: list[str] = field(default_factory=list)  # left to the host
    type: ct.InstanceType | None = None


@dataclass
class Composition:
    path: str  # the manifest
    components: dict[str, ComponentInput]
    instances: list[InstanceWiring]
    exports: list[tuple[str, str, str]]  # (export name, instance, export of it)


def read_component(path: str, features=None, where: str | None = None) -> tuple[d.Component, ct.ComponentType]:
    """Decode and validate the component binary at `path`; its syntax tree and type. Function
    bodies are not validated here: a build validates each one as it compiles it."""
    prefix = where + ": " if where else ""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise WasmbuildError(f"{prefix}cannot read component: {e.strerror}", file=path) from None
    if not d.is_component(data):
        raise WasmbuildError(f"{prefix}not a component binary", file=path)
    component = d.decode_component(data, path, features)
    return component, validate_component(component, functions=False).type


def resolve_composition(graph: Graph, features=None) -> Composition:
    """Read the components of `graph` and check its wiring (see the module docstring)."""
    components: dict[str, ComponentInput] = {}
    instances: dict[str, InstanceWiring] = {}
    host: dict[str, tuple[ct.Extern, str]] = {}  # import left to the host -> (its type, first instance)
    exports: list[tuple[str, str, str]] = []

    def fail(step: Step, message: str):
        raise ManifestError(f"{graph.where(step)}: {message}", file=graph.path)

    for step in graph.steps:
        if step.kind == "component":
            if step.name in components:
                fail(step, f"duplicate component name {step.name!r}")
            component, ctype = read_component(step.path, features, graph.where(step))
            components[step.name] = ComponentInput(step.name, step.path, component, ctype)
        elif step.kind == "instance":
            if step.name in instances:
                fail(step, f"duplicate instance name {step.name!r}")
            if not _INSTANCE_NAME.match(step.name):
                fail(step, "an instance name is letters, digits, '-' and '_' (no dots: \"inst.export\" "
                           "names an export of it)")
            if step.module not in components:
                fail(step, f"unknown component {step.module!r}"
                           + (" (an instance, not a component)" if step.module in instances else ""))
            wiring = InstanceWiring(step.name, components[step.module])
            instances[step.name] = _wire(graph, step, wiring, instances, host, fail)
        elif step.kind == "export":
            if any(name == step.name for name, _, _ in exports):
                fail(step, f"duplicate export name {step.name!r}")
            problem = extern_name_problem(step.name)
            if problem is not None:
                fail(step, f"{step.name!r} is not an export name: {problem}")
            src, item = step.source
            if src not in instances:
                fail(step, f"unknown instance {src!r}" + (" (it is defined later)" if any(
                    s.name == src for s in graph.steps[step.index:]) else ""))
            names = [n for n, _ in instances[src].type.exports]
            if item is None:
                found = find_export(names, step.name)
                if len(found) != 1:
                    fail(step, f"instance {src!r} has no export named {step.name!r}" if not found else
                               f"instance {src!r} has several exports matching {step.name!r}: "
                               f"{', '.join(found)} (write from = \"{src}.<export>\")")
                item = found[0]
            elif item not in names:
                fail(step, f"instance {src!r} has no export {item!r}")
            exports.append((step.name, src, item))
        else:
            fail(step, f"a manifest that instantiates components has no {step.kind} steps")
    if not instances:
        raise ManifestError("the manifest defines components but instantiates none", file=graph.path)
    return Composition(graph.path, components, list(instances.values()), exports)


def _wire(graph, step: Step, wiring: InstanceWiring, instances: dict, host: dict, fail) -> InstanceWiring:
    ctype = wiring.component.type
    import_names = [n for n, _ in ctype.imports]
    for key in step.imports:
        if key not in import_names:
            fail(step, f"component {step.module!r} has no import {key!r}"
                       + (f" (its imports: {', '.join(import_names)})" if import_names else " (it imports nothing)"))
    args: dict[str, ct.Extern] = {}
    for name, want in ctype.imports:
        what = f"import {name}"
        rule = step.imports.get(name)
        if rule is None:
            if want.kind in ("component", "core module"):
                fail(step, f"{what}: the host cannot provide a {want.kind}; wire it to an instance's export")
            shared = host.get(name)
            if shared is None:
                host[name] = (want, step.name)
                args[name] = want
            else:
                args[name] = shared[0]
            wiring.host_imports.append(name)
            continue
        src, item = rule
        if src == step.name:
            fail(step, f"{what}: an instance cannot import from itself (a cycle)")
        if src not in instances:
            if any(s.name == src for s in graph.steps[step.index:]):
                fail(step, f"{what}: instance {src!r} is defined later (instances can only use what comes "
                           f"before them, so wiring cannot form a cycle)")
            fail(step, f"{what}: unknown instance {src!r}")
        provider = instances[src].type
        names = [n for n, _ in provider.exports]
        if item is None:
            found = find_export(names, name)
            if not found:
                fail(step, f"{what}: instance {src!r} has no export named {name!r} (write \"{src}.<export>\")")
            if len(found) > 1:
                fail(step, f"{what}: instance {src!r} has several exports matching it: {', '.join(found)} "
                           f"(write \"{src}.<export>\")")
            item = found[0]
        elif item not in names:
            fail(step, f"{what}: instance {src!r} has no export {item!r}")
        args[name] = provider.export(item)
        wiring.imports[name] = (src, item)
    try:
        wiring.type = instantiation_type(ctype, args)
    except ImportMismatch as e:
        if e.name in wiring.imports:
            src, item = wiring.imports[e.name]
            fail(step, f"import {e.name}: {src}.{item} does not match it: {e.reason}")
        first = host[e.name][1]
        fail(step, f"import {e.name}: left to the host, which gives it with the type instance {first!r} "
                   f"imports it with, and that does not match: {e.reason}")
    return wiring


def build_composition(session, graph: Graph):
    """The image bytes and `BuildReport` of the composition manifest `graph`."""
    from .instantiate import composition_graph
    comp = resolve_composition(graph, session.settings.wasm_feature_set)
    inputs, core_graph, record = composition_graph(
        comp.path, [(w.name, w.component.component, w.imports) for w in comp.instances], comp.exports)
    return session.build(inputs, core_graph, record)
