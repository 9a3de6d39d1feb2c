"""Module-linking graphs: the TOML manifest, and its resolution into initializers.

`load_manifest(path)` reads a manifest (format in docs/manifest.md) into a `Graph`: an ordered list
of steps, each one of
  import   a host namespace the graph needs at load time (WASI, a Python provider, ...)
  module   a module definition (a .wasm or .wat file)
  instance an instantiation of a module, with its import wiring
  export   an export of the graph: one item of an instance, or a whole instance
or, in a manifest that composes components, `component` steps (a component binary) instead of
module and import steps, instances of components and their exports (checked and built by
component/compose.py, not by `resolve_graph`). Order matters: a step can only use what the steps
before it defined. `is_manifest(path)` tells a
manifest from a module file by its content (whatever its name).

`resolve_graph(graph, modules)` checks the wiring against the decoded modules (unknown module,
instance or export, an import left unwired, an item whose type does not match the import, a
reference to an instance defined later or to itself, duplicate names) and gives the initializers
the image records and the loader interprets (`contract.records`):
  ImportStep(namespace)                      the graph needs a host namespace
  InstantiateStep(instance, module index, (ImportSource per module import, in order))
      ImportSource(INSTANCE, instance, export) or ImportSource(HOST, namespace, item)
  ExportStep(name, instance, export or None for the whole instance)
`default_graph(name, module)` is the graph of a single module built on its own: its import
namespaces become host imports, and its exports the graph's.
Errors raise `ManifestError` naming the manifest, the step and the import.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field

from .contract.matching import import_mismatch
from .contract.records import HOST, INSTANCE, ExportStep, ImportSource, ImportStep, Initializer, InstantiateStep
from .contract.types import EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_TABLE, EXTERN_TAG
from .binary.types import Module
from .errors import WasmbuildError

STEP_KINDS = ("import", "module", "component", "instance", "export")


class ManifestError(WasmbuildError):
    phase = "manifest"


@dataclass
class Step:
    kind: str
    name: str
    index: int  # position in the manifest, for messages
    path: str | None = None  # module, component: the file
    module: str | None = None  # instance: which module (or component)
    # instance: wiring, import namespace or "namespace.item" -> (source, item or None)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    source: tuple[str, str | None] | None = None  # export: (instance, item or None for all of it)


@dataclass
class Graph:
    path: str  # the manifest (or the module, for a default graph)
    steps: list[Step]

    @property
    def modules(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "module"]

    @property
    def components(self) -> list[Step]:
        """The component steps: a manifest with any instantiates components (component/compose.py)."""
        return [s for s in self.steps if s.kind == "component"]

    def where(self, step: Step) -> str:
        return f"step {step.index + 1} ({step.kind} {step.name!r})"


def is_manifest(path: str) -> bool:
    """Whether the file at `path` is a manifest rather than a module, by its content: a binary
    module starts with the wasm magic and a text module with "(" (after blanks and ";;" comments);
    anything else is read as a manifest. An unreadable file counts as a manifest (its error is
    reported when it is read)."""
    from .wat import looks_like_text_module
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return True
    return not head.startswith(b"\0asm") and not looks_like_text_module(head)


def load_manifest(path: str) -> Graph:
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise ManifestError(f"cannot read manifest: {e.strerror}", file=path) from None
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"not valid TOML: {e}", file=path) from None
    raw_steps = doc.get("step")
    unknown = sorted(set(doc) - {"step"})
    if unknown:
        raise ManifestError(f"unknown top-level key {unknown[0]!r} (steps are [[step]] tables)", file=path)
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ManifestError("the manifest has no [[step]] entries", file=path)
    base = os.path.dirname(os.path.abspath(path))
    steps = []
    for i, raw in enumerate(raw_steps):
        kinds = [k for k in STEP_KINDS if k in raw]
        if len(kinds) != 1:
            raise ManifestError(f"step {i + 1}: give exactly one of {', '.join(STEP_KINDS)}", file=path)
        kind = kinds[0]
        name = raw[kind]
        if not isinstance(name, str) or not name:
            raise ManifestError(f"step {i + 1}: {kind} needs a name (a string)", file=path)
        allowed = {"import": {"import"}, "module": {"module", "path"}, "component": {"component", "path"},
                   "instance": {"instance", "of", "imports"}, "export": {"export", "from"}}[kind]
        extra = sorted(set(raw) - allowed)
        if extra:
            raise ManifestError(f"step {i + 1} ({kind} {name!r}): unknown key {extra[0]!r}", file=path)
        step = Step(kind, name, i)
        if kind in ("module", "component"):
            if not isinstance(raw.get("path"), str):
                raise ManifestError(f"step {i + 1} ({kind} {name!r}): needs path = \"file.wasm\"", file=path)
            step.path = os.path.normpath(os.path.join(base, raw["path"]))
        elif kind == "instance":
            if not isinstance(raw.get("of"), str):
                raise ManifestError(f"step {i + 1} (instance {name!r}): needs of = \"module name\"", file=path)
            step.module = raw["of"]
            imports = raw.get("imports", {})
            if not isinstance(imports, dict) or not all(isinstance(v, str) for v in imports.values()):
                raise ManifestError(f"step {i + 1} (instance {name!r}): imports must map names to strings",
                                    file=path)
            step.imports = {key: _split(value) for key, value in imports.items()}
        elif kind == "export":
            if not isinstance(raw.get("from"), str):
                raise ManifestError(f"step {i + 1} (export {name!r}): needs from = \"instance\" or "
                                    f"\"instance.item\"", file=path)
            step.source = _split(raw["from"])
        steps.append(step)
    if any(s.kind == "component" for s in steps):
        core = next((s for s in steps if s.kind in ("module", "import")), None)
        if core is not None:
            why = ("a manifest that instantiates components has no import steps (an import that no instance "
                   "gives comes from the host)" if core.kind == "import"
                   else "a manifest instantiates core modules or components, not both")
            raise ManifestError(f"step {core.index + 1} ({core.kind} {core.name!r}): {why}", file=path)
    return Graph(path, steps)


def default_graph(path: str, module_name: str, module: Module) -> Graph:
    """The graph of one module on its own: host namespaces in, every export out. Its instance is
    called "main" (or "main_N" if a namespace already has that name)."""
    namespaces = list(dict.fromkeys(imp.module for imp in module.imports))
    instance, n = "main", 0
    while instance in namespaces:
        n += 1
        instance = f"main_{n}"
    steps = [Step("import", ns, i) for i, ns in enumerate(namespaces)]
    steps.append(Step("module", module_name, len(steps), path=path))
    steps.append(Step("instance", instance, len(steps), module=module_name,
                      imports={ns: (ns, None) for ns in namespaces}))
    for e in module.exports:
        steps.append(Step("export", e.name, len(steps), source=(instance, e.name)))
    return Graph(path, steps)


def _split(ref: str) -> tuple[str, str | None]:
    """ "instance.item" -> ("instance", "item"); "instance" -> ("instance", None). Instance and
    namespace names in a manifest therefore contain no dots; item names may."""
    head, dot, tail = ref.partition(".")
    return head, (tail if dot else None)


def resolve_graph(graph: Graph, modules: dict[str, Module]) -> list[Initializer]:
    """Check the wiring of `graph` against its decoded `modules`; give the initializers."""
    module_index = {s.name: i for i, s in enumerate(graph.modules)}
    hosts: set[str] = set()
    instances: dict[str, Module] = {}
    export_names: dict[str, dict] = {}  # instance -> its exports by name
    exports: set[str] = set()
    names_seen: dict[str, str] = {}
    inits: list[Initializer] = []

    def fail(step: Step, message: str):
        raise ManifestError(f"{graph.where(step)}: {message}", file=graph.path)

    module_names: set[str] = set()
    for step in graph.steps:
        # Host imports and instances share one namespace (both are import sources); modules have
        # their own.
        if step.kind in ("import", "instance"):
            previous = names_seen.get(step.name)
            if previous is not None:
                fail(step, f"duplicate name {step.name!r} (already a {previous})")
            names_seen[step.name] = step.kind
        elif step.kind == "module":
            if step.name in module_names:
                fail(step, f"duplicate module name {step.name!r}")
            module_names.add(step.name)
        if step.kind == "import":
            hosts.add(step.name)
            inits.append(ImportStep(step.name))
        elif step.kind == "module":
            continue
        elif step.kind == "instance":
            if step.module not in module_index:
                fail(step, f"unknown module {step.module!r}")
            m = modules[step.module]
            wired = []
            for imp in m.imports:
                what = f"import {imp.module}.{imp.name}"
                key = f"{imp.module}.{imp.name}"
                whole = key not in step.imports
                rule = step.imports.get(imp.module) if whole else step.imports[key]
                if rule is None:
                    fail(step, f"{what} is not wired (add it to imports)")
                src, item = rule
                if whole:
                    if item is not None:
                        fail(step, f"{what}: namespace {imp.module!r} must come from an instance or "
                                   f"a host import, not from an item ({src}.{item})")
                    item = imp.name
                elif item is None:
                    fail(step, f"{what}: {src!r} names no item (write \"instance.export\")")
                if src == step.name:
                    fail(step, f"{what}: an instance cannot import from itself (a cycle)")
                if src in hosts:
                    wired.append(ImportSource(HOST, src, item))
                    continue
                if src not in instances:
                    if any(s.name == src for s in graph.steps[step.index:]):
                        fail(step, f"{what}: instance {src!r} is defined later (instances can only use "
                                   f"what comes before them, so wiring cannot form a cycle)")
                    fail(step, f"{what}: unknown instance or host import {src!r}")
                _check_import(step, what, m, imp, instances[src], export_names[src].get(item), src, item, fail)
                wired.append(ImportSource(INSTANCE, src, item))
            instances[step.name] = m
            export_names[step.name] = {e.name: e for e in m.exports}
            inits.append(InstantiateStep(step.name, module_index[step.module], tuple(wired)))
        else:  # export
            if step.name in exports:
                fail(step, f"duplicate export name {step.name!r}")
            exports.add(step.name)
            src, item = step.source
            if src not in instances:
                fail(step, f"unknown instance {src!r}")
            if item is not None and item not in export_names[src]:
                fail(step, f"instance {src!r} has no export {item!r}")
            inits.append(ExportStep(step.name, src, item))
    return inits


def _check_import(step: Step, what: str, importer: Module, imp, source: Module, exp, src: str, item: str,
                  fail) -> None:
    """Types that can be checked before anything runs: function signatures, global types, and the
    declared limits of tables and memories."""
    if exp is None:
        fail(step, f"{what}: instance {src!r} has no export {item!r}")
    if exp.kind != imp.kind:
        have = None
    elif imp.kind == EXTERN_FUNC:
        have = source.types[source.all_func_types()[exp.index]]
    elif imp.kind == EXTERN_TAG:
        have = source.types[source.all_tags()[exp.index]]
    elif imp.kind == EXTERN_GLOBAL:
        have = source.all_globals()[exp.index]
    elif imp.kind == EXTERN_TABLE:
        have = source.all_tables()[exp.index]
    else:
        have = source.all_memories()[exp.index]
    want = importer.types[imp.desc] if imp.kind in (EXTERN_FUNC, EXTERN_TAG) else imp.desc
    reason = import_mismatch(imp.kind, want, exp.kind, have)
    if reason is not None:
        fail(step, f"{what}: {src}.{item} {reason}")
