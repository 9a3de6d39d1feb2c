"""Static instantiation: a decoded (and validated) component becomes a core graph and a component record.

`component_graph(component, path)` gives `(inputs, graph, record)`: the `ModuleInput` of every
nested core module, the `graph.Graph` of steps that instantiates them with their imports wired
(what `graph.resolve_graph` turns into the image's initializers), and the `ComponentRecord`
(component/record.py) as JSON, which the loader's component layer interprets.

It runs the component's definitions in order, as instantiation would, on *static* values: a core
instance made by instantiating a module becomes an instance step of the graph; a core instance made
of inline exports, a component instance, an alias, are only names for what already exists; a nested
component is instantiated by running its definitions in turn with its imports bound to the arguments
(each instantiation gets fresh resource types and a component instance of its own). The values:
  core item       ("core", instance, export): an export of a core instance of the graph, or
                  ("host", item): item of the host namespace `record.NAMESPACE` (a lowered function
                  or a resource built-in, served by the component layer)
  core instance   `_CoreInstance` (an instance step) or {name: core item} (inline exports)
  core module     the `decode.CoreModule` definition (one graph module per definition, however
                  often it is instantiated)
  func            ("host", path, FuncType): an import of the root; ("lifted", index, FuncType)
  instance        {name: value}
  type            a `types.py` type (value type, `FuncType`, `ResourceType`), or `_TypeDecl` (a
                  component or instance type, resolved only where a root import needs it)
  component       `_ComponentDef`: a nested component and the scope it was defined in
Types are concrete: an imported resource type is the argument's, a resource definition makes a
fresh `ResourceType` per instantiation, so the function types in the record need no substitution.
The root's imports come from the host: a function or an instance of functions and resource types
becomes host values named by their path; a core module import is served only by a module given to
the build (`provided`: import path -> `decode.CoreModule`, see build.py), which becomes a graph
module like a nested one; a component import, or a core module not given, cannot be served: the
component is built, but its image fails to link when instantiated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..build.plan import ModuleInput
from ..errors import WasmbuildError
from ..graph import Graph, Step
from . import decode as d
from . import types as ct
from .adapters import FusedAdapters
from .record import (BuiltinRecord, CanonOptions, ComponentRecord, CoreRef, HOST, LiftedRecord, LoweredRecord,
                     NAMESPACE, ResourceRecord, builtin_item, lowered_item)

CORE_FUNC_EXPORT = "$core"  # graph exports of core functions the component layer calls: "$core.<inst>.<export>"


class ComponentUnsupportedError(WasmbuildError):
    phase = "unsupported"


@dataclass
class _CoreInstance:
    name: str  # the instance step
    module: d.CoreModule

    def item(self, name: str):
        return ("core", self.name, name)


@dataclass
class _TypeDecl:
    definition: object  # d.InstanceTypeDef or d.ComponentTypeDef
    scope: "_Scope"


@dataclass
class _ComponentDef:
    component: d.Component
    scope: "_Scope"


@dataclass
class _Scope:
    """The index spaces of one component being instantiated (or of one instance type being read)."""

    parent: "_Scope | None"
    instance: int  # the component instance it is (-1 inside a type)
    spaces: dict = field(default_factory=dict)  # sort -> list of values

    def space(self, sort: str) -> list:
        return self.spaces.setdefault(sort, [])

    def get(self, sort: str, index: int):
        items = self.space(sort)
        if not 0 <= index < len(items):
            raise _Invalid(f"{sort} index {index} out of range")
        return items[index]

    def outer(self, count: int) -> "_Scope":
        scope = self
        for _ in range(count):
            scope = scope.parent
            if scope is None:
                raise _Invalid(f"outer alias count {count} beyond the enclosing scopes")
        return scope


class WiredImports(dict):
    """The imports of a component instantiated by a composition: those given (import name ->
    value); every other import comes from the host, as the root's do."""


class _HostCannotProvide(Exception):
    """A root import only another component could provide (a core module, a component): the
    component builds, but instantiating it fails to link."""


class _Invalid(Exception):
    """A rule the validator should have caught; reported as an invalid component."""


class _Instantiator:
    def __init__(self, component: d.Component, path: str, provided: dict | None = None):
        self.root = component
        self.path = path
        self.provided = provided or {}  # root import path -> (decode.CoreModule, its bytes, its name)
        self.inputs: list[ModuleInput] = []
        self.steps: list[Step] = [Step("import", NAMESPACE, 0)]
        self.module_names: dict[int, str] = {}  # id(CoreModule) -> graph module name
        self.module_sources: dict[int, tuple] = {}  # id(CoreModule) -> (file bytes, path) of its component
        self.core_instances = 0
        self.core_exports: set[str] = set()
        self.resources: list[ct.ResourceType] = []
        self.resource_records: list[ResourceRecord] = []
        self.resource_index: dict[ct.ResourceType, int] = {}
        self.instances: list[int] = []  # parent of each component instance
        self.lifted: list[LiftedRecord] = []
        self.lowered: list[LoweredRecord] = []
        self.builtins: list[BuiltinRecord] = []
        self.root_imports: dict = {}
        self.host_values: dict = {}  # root import name -> its value (what the host serves)
        self.fused = FusedAdapters(self)

    # --- the graph ---
    def add_step(self, kind: str, name: str, **fields) -> Step:
        step = Step(kind, name, len(self.steps), **fields)
        self.steps.append(step)
        return step

    def _module(self, module: d.CoreModule) -> str:
        name = self.module_names.get(id(module))
        if name is None:
            name = self.module_names[id(module)] = f"m{len(self.module_names)}"
            # In a composition a module can be instantiated by a component other than its own.
            data, path = self.module_sources[id(module)]
            where = f"{path} (core module at offset {module.offset:#x})"
            self.inputs.append(ModuleInput(name, data[module.start:module.end], where))
            self.add_step("module", name, path=where)
        return name

    def name_resource(self, rt: ct.ResourceType, name: str) -> None:
        """Give a defined resource type the name it is first exported under (for messages)."""
        index = self.resource_index[rt]
        rt.name = name
        self.resource_records[index] = dataclasses.replace(self.resource_records[index], name=name)

    def core_func_ref(self, item, what: str) -> CoreRef:
        """The core function `item` as a `CoreRef`, exported from the graph (the layer calls it);
        an item of the host namespace (a lowered function lifted again) is named in it."""
        if item[0] == "host":
            return CoreRef(NAMESPACE, item[1])
        _, instance, export = item
        name = f"{CORE_FUNC_EXPORT}.{instance}.{export}"
        if name not in self.core_exports:
            self.core_exports.add(name)
            self.add_step("export", name, source=(instance, export))
        return CoreRef(instance, export)

    def core_ref(self, item, what: str) -> CoreRef:
        if item[0] != "core":
            raise ComponentUnsupportedError(f"{what}: not an export of a core instance", file=self.path)
        return CoreRef(item[1], item[2])

    def new_resource(self, name: str, owner: int, dtor: CoreRef | None = None,
                     import_path: tuple[str, ...] = ()) -> ct.ResourceType:
        rt = ct.ResourceType(name)
        self.resource_index[rt] = len(self.resources)
        self.resources.append(rt)
        self.resource_records.append(ResourceRecord(name, owner, dtor, import_path))
        return rt

    # --- running a component's definitions ---
    def instantiate(self, component: d.Component, outer: _Scope | None, args, parent: int) -> dict:
        """Run `component`'s definitions with imports `args` (name -> value; None for the root,
        whose imports the host serves); gives its exports (name -> value)."""
        index = len(self.instances)
        self.instances.append(parent)
        scope = _Scope(outer, index)
        for definition in component.definitions:
            if isinstance(definition, d.CoreModule):
                self.module_sources[id(definition)] = (component.data, component.filename or self.path)
        exports: dict = {}
        for definition in component.definitions:
            try:
                handler = getattr(self, "_" + type(definition).__name__)
            except AttributeError:
                raise ComponentUnsupportedError(f"{type(definition).__name__} definitions are not supported",
                                                file=self.path, offset=definition.offset) from None
            try:
                handler(scope, definition, args, exports)
            except _Invalid as e:
                raise WasmbuildError(f"invalid component: {e}", file=self.path, offset=definition.offset) from None
        return exports

    def _CoreModule(self, scope, m: d.CoreModule, args, exports):
        scope.space("core module").append(m)

    def _CoreInstantiate(self, scope, ci: d.CoreInstantiate, args, exports):
        module = scope.get("core module", ci.module)
        module_name = self._module(module)
        with_args = {name: scope.get("core instance", i) for name, i in ci.args}
        wiring = {}
        for imp in module.module.imports:
            source = with_args.get(imp.module)
            if source is None:
                raise _Invalid(f"core module import {imp.module!r} is not given")
            item = source.item(imp.name) if isinstance(source, _CoreInstance) else source.get(imp.name)
            if item is None:
                raise _Invalid(f"core instance argument {imp.module!r} has no export {imp.name!r}")
            wiring[f"{imp.module}.{imp.name}"] = (NAMESPACE, item[1]) if item[0] == "host" else item[1:]
        name = f"c{self.core_instances}"
        self.core_instances += 1
        self.add_step("instance", name, module=module_name, imports=wiring)
        scope.space("core instance").append(_CoreInstance(name, module))

    def _CoreInlineExports(self, scope, ce: d.CoreInlineExports, args, exports):
        scope.space("core instance").append({name: scope.get(sort, i) for name, sort, i in ce.exports})

    def _CoreTypeDef(self, scope, t: d.CoreTypeDef, args, exports):
        scope.space("core type").append(t.type)

    def _NestedComponent(self, scope, c: d.NestedComponent, args, exports):
        scope.space("component").append(_ComponentDef(c.component, scope))

    def _Instantiate(self, scope, inst: d.Instantiate, args, exports):
        target = scope.get("component", inst.component)
        given = {name: scope.get(sort, i) for name, sort, i in inst.args}
        scope.space("instance").append(self.instantiate(target.component, target.scope, given, scope.instance))

    def _InlineExports(self, scope, ie: d.InlineExports, args, exports):
        scope.space("instance").append({name: scope.get(sort, i) for name, sort, i in ie.exports})

    def _ExportAlias(self, scope, a: d.ExportAlias, args, exports):
        instance = scope.get("instance", a.instance)
        if a.name not in instance:
            raise _Invalid(f"instance {a.instance} has no export {a.name!r}")
        scope.space(a.sort).append(instance[a.name])

    def _CoreExportAlias(self, scope, a: d.CoreExportAlias, args, exports):
        instance = scope.get("core instance", a.instance)
        item = instance.item(a.name) if isinstance(instance, _CoreInstance) else instance.get(a.name)
        if item is None:
            raise _Invalid(f"core instance {a.instance} has no export {a.name!r}")
        scope.space(a.sort).append(item)

    def _OuterAlias(self, scope, a: d.OuterAlias, args, exports):
        scope.space(a.sort).append(scope.outer(a.count).get(a.sort, a.index))

    def _TypeDef(self, scope, t: d.TypeDef, args, exports):
        scope.space("type").append(self.resolve_type(scope, t.type))

    def _CanonLift(self, scope, c: d.CanonLift, args, exports):
        ft = scope.get("type", c.type)
        if not isinstance(ft, ct.FuncType):
            raise _Invalid(f"type {c.type} is not a function type")
        core = self.core_func_ref(scope.get("core func", c.core_func), "canon lift")
        index = len(self.lifted)
        self.lifted.append(LiftedRecord(ft, core, scope.instance, self.options(scope, c.options)))
        scope.space("func").append(("lifted", index, ft))

    def _CanonLower(self, scope, c: d.CanonLower, args, exports):
        kind, target, ft = scope.get("func", c.func)
        index = len(self.lowered)
        options = self.options(scope, c.options)
        self.lowered.append(LoweredRecord(ft, target if kind == "host" else None, target if kind == "lifted" else None,
                                          scope.instance, options))
        adapter = self.fused.adapt(self.lifted[target], options, scope.instance) if kind == "lifted" else None
        scope.space("core func").append(adapter or ("host", lowered_item(index)))

    def _CanonResource(self, scope, c: d.CanonResource, args, exports):
        rt = scope.get("type", c.type)
        if not isinstance(rt, ct.ResourceType):
            raise _Invalid(f"type {c.type} is not a resource type")
        index = len(self.builtins)
        self.builtins.append(BuiltinRecord(f"resource.{c.op}", self.resource_index[rt], scope.instance))
        scope.space("core func").append(("host", builtin_item(index)))

    def _Import(self, scope, imp: d.Import, args, exports):
        if args is None or (isinstance(args, WiredImports) and imp.name not in args):
            # From the host. Instances of a composition that leave the same import to the host
            # share one host item (compose.py checked that their types agree).
            value = self.host_values.get(imp.name)
            if value is None:
                value = self.host_values[imp.name] = self.host_import(scope, imp.desc, (imp.name,))
                extern = self.record_extern(value, (imp.name,))
                if extern is not None:
                    self.root_imports[imp.name] = extern
        else:
            if imp.name not in args:
                raise _Invalid(f"import {imp.name!r} is not given")
            value = args[imp.name]
        scope.space(_SORT_OF_KIND[imp.desc.kind]).append(value)

    def _Export(self, scope, e: d.Export, args, exports):
        value = scope.get(e.sort, e.index)
        if isinstance(value, ct.ResourceType) and value.name == "resource":
            self.name_resource(value, e.name)
        scope.space(e.sort).append(value)
        exports[e.name] = value

    # --- types ---
    def valtype(self, scope: _Scope, vt) -> ct.ValType:
        if isinstance(vt, str):
            if vt not in ct.PRIM_NAMES:
                raise ComponentUnsupportedError(f"value type {vt} is not supported", file=self.path)
            return ct.prim(vt)
        t = scope.get("type", vt)
        if not isinstance(t, ct.ValType):
            raise _Invalid(f"type {vt} is not a value type")
        return t

    def resolve_type(self, scope: _Scope, t):
        vt = lambda x: None if x is None else self.valtype(scope, x)  # noqa: E731
        if isinstance(t, d.PrimDef):
            return self.valtype(scope, t.name)
        if isinstance(t, d.RecordDef):
            return ct.Record(tuple((n, vt(f)) for n, f in t.fields))
        if isinstance(t, d.VariantDef):
            return ct.Variant(tuple((n, vt(c)) for n, c in t.cases))
        if isinstance(t, d.ListDef):
            return ct.List(vt(t.elem))
        if isinstance(t, d.TupleDef):
            return ct.Tuple(tuple(vt(e) for e in t.types))
        if isinstance(t, d.FlagsDef):
            return ct.Flags(tuple(t.names))
        if isinstance(t, d.EnumDef):
            return ct.Enum(tuple(t.names))
        if isinstance(t, d.OptionDef):
            return ct.Option(vt(t.type))
        if isinstance(t, d.ResultDef):
            return ct.Result(vt(t.ok), vt(t.err))
        if isinstance(t, (d.OwnDef, d.BorrowDef)):
            rt = scope.get("type", t.type)
            if not isinstance(rt, ct.ResourceType):
                raise _Invalid(f"type {t.type} is not a resource type")
            return (ct.Own if isinstance(t, d.OwnDef) else ct.Borrow)(rt)
        if isinstance(t, d.FuncTypeDef):
            if t.is_async:
                raise ComponentUnsupportedError("async function types (the component-model async ABI) are not "
                                                "supported", file=self.path)
            return ct.FuncType(tuple((n, vt(p)) for n, p in t.params), vt(t.result))
        if isinstance(t, (d.InstanceTypeDef, d.ComponentTypeDef)):
            return _TypeDecl(t, scope)
        if isinstance(t, d.ResourceTypeDef):
            if scope.instance < 0:
                raise _Invalid("a resource type is defined inside a type")
            dtor = None
            if t.dtor is not None:
                dtor = self.core_func_ref(scope.get("core func", t.dtor), "resource destructor")
            return self.new_resource("resource", scope.instance, dtor)
        raise ComponentUnsupportedError(f"{getattr(t, 'what', type(t).__name__)} is not supported", file=self.path)

    # --- the root's imports ---
    def host_import(self, scope: _Scope, desc: d.ExternDesc, path: tuple[str, ...]):
        """The value of a root import at `path` of extern type `desc` in `scope`'s type space."""
        if desc.kind == "func":
            ft = scope.get("type", desc.index)
            if not isinstance(ft, ct.FuncType):
                raise _Invalid(f"type {desc.index} is not a function type")
            return ("host", path, ft)
        if desc.kind == "type":
            if desc.index is None:
                return self.new_resource(path[-1], HOST, import_path=path)
            return scope.get("type", desc.index)
        if desc.kind == "instance":
            decl = scope.get("type", desc.index)
            if not isinstance(decl, _TypeDecl) or not isinstance(decl.definition, d.InstanceTypeDef):
                raise _Invalid(f"type {desc.index} is not an instance type")
            return self.host_instance(decl, path)
        if desc.kind == "core module" and path in self.provided:
            module, data, where = self.provided[path]
            self.module_sources[id(module)] = (data, where)
            return module
        if desc.kind == "component":
            raise ComponentUnsupportedError(f"root-level component imports are not supported (import "
                                            f"{'/'.join(path)})", file=self.path)
        raise _HostCannotProvide(f"component import {'/'.join(path)}: the host provides no {desc.kind}")

    def host_instance(self, decl: _TypeDecl, path: tuple[str, ...]) -> dict:
        scope = _Scope(decl.scope, -1)
        values = {}
        for x in decl.definition.decls:
            if isinstance(x, d.TypeDef):
                scope.space("type").append(self.resolve_type(scope, x.type))
            elif isinstance(x, d.CoreTypeDef):
                scope.space("core type").append(x.type)
            elif isinstance(x, d.OuterAlias):
                scope.space(x.sort).append(scope.outer(x.count).get(x.sort, x.index))
            elif isinstance(x, d.ExportDecl):
                value = self.host_import(scope, x.desc, path + (x.name,))
                if x.desc.kind == "type":
                    scope.space("type").append(value)
                values[x.name] = value
            else:
                raise ComponentUnsupportedError(f"{type(x).__name__} in an imported instance type is not supported",
                                                file=self.path, offset=x.offset)
        return values

    def record_extern(self, value, path: tuple[str, ...]):
        """A root import at `path` as the record keeps it: what the host must provide. None for
        what it need not: a type that is not a resource, a resource declared equal to another one
        (by `(eq ...)`: declared elsewhere)."""
        if isinstance(value, ct.ResourceType):
            index = self.resource_index[value]
            r = self.resource_records[index]
            if r.import_path == path:
                return ("resource", index)
            if r.owner == HOST and path not in r.also_at:
                self.resource_records[index] = dataclasses.replace(r, also_at=r.also_at + (path,))
            return None
        if isinstance(value, dict):
            body = {n: e for n, e in ((n, self.record_extern(v, path + (n,))) for n, v in value.items())
                    if e is not None}
            return ("instance", body)
        if isinstance(value, tuple) and value[0] == "host":
            return ("func", value[2])
        return None

    def export_extern(self, value):
        """A root export as the record keeps it, or None for what the host cannot use (types other
        than resources, core modules, components)."""
        if isinstance(value, ct.ResourceType):
            return ("resource", self.resource_index[value])
        if isinstance(value, dict):
            return ("instance", {n: e for n, e in ((n, self.export_extern(v)) for n, v in value.items())
                                 if e is not None})
        if isinstance(value, tuple) and value[0] == "lifted":
            return ("func", value[1])
        if isinstance(value, tuple) and value[0] == "host":
            raise ComponentUnsupportedError(f"a reexport of the imported function {'/'.join(value[1])} is not "
                                            f"supported", file=self.path)
        if isinstance(value, _ComponentDef):
            raise ComponentUnsupportedError("exporting a component from the root component is not supported",
                                            file=self.path)
        return None

    def options(self, scope: _Scope, options) -> CanonOptions:
        memory = realloc = post_return = None
        encoding = "utf8"
        for opt in options:
            if opt.name in ("utf8", "utf16", "latin1+utf16"):
                encoding = opt.name
            elif opt.name == "memory":
                memory = self.core_ref(scope.get("core memory", opt.index), "canon option memory")
            elif opt.name == "realloc":
                realloc = self.core_func_ref(scope.get("core func", opt.index), "canon option realloc")
            elif opt.name == "post-return":
                post_return = self.core_func_ref(scope.get("core func", opt.index), "canon option post-return")
            else:
                raise ComponentUnsupportedError(f"canon option {opt.name} (the component-model async ABI) is not "
                                                f"supported", file=self.path, offset=opt.offset)
        return CanonOptions(memory, realloc, post_return, encoding)

    def record(self, exports: dict) -> dict:
        """The component record of the root's `exports`; adds the adapters of the host's calls of
        the exported functions (component/hosted.py) to the graph."""
        externs = {n: e for n, e in ((n, self.export_extern(v)) for n, v in exports.items()) if e is not None}
        hosted = {}
        for index in sorted(_exported_functions(externs)):
            adapter = self.fused.adapt_host(self.lifted[index])
            if adapter is not None:
                hosted[index] = adapter
        rec = ComponentRecord(tuple(self.resource_records), tuple(self.instances), tuple(self.lifted),
                              tuple(self.lowered), tuple(self.builtins), self.root_imports, externs,
                              hosted=hosted)
        return rec.to_json(self.resources)


def _exported_functions(externs: dict) -> set[int]:
    """The lifted indices of the functions among the record's export `externs`, at any depth."""
    found = set()
    for kind, body in externs.values():
        if kind == "func":
            found.add(body)
        elif kind == "instance":
            found |= _exported_functions(body)
    return found


_SORT_OF_KIND = {"core module": "core module", "func": "func", "value": "value", "type": "type",
                 "component": "component", "instance": "instance"}


def composition_graph(path: str, instances, exports,
                      features: frozenset[str] | None = None) -> tuple[list[ModuleInput], Graph, dict]:
    """The core graph and component record of a composition (component/compose.py, already
    type-checked): `instances` are (name, decoded component, {import name: (instance, export)})
    in order, each import not in its wiring coming from the host; `exports` are (export name,
    instance, export of it). Each instance is a component instance of its own (parent: the host);
    a component instantiated twice shares its graph modules; calls between the instances go through
    fused adapters (`features` as for `component_graph`)."""
    inst = _Instantiator(None, path)
    inst.fused.features = features
    made: dict[str, dict] = {}
    for name, component, wiring in instances:
        inst.path = component.filename or path  # for its messages
        given = WiredImports({imp: made[src][item] for imp, (src, item) in wiring.items()})
        try:
            made[name] = inst.instantiate(component, None, given, HOST)
        except _HostCannotProvide as e:
            raise WasmbuildError(f"instance {name!r}: {e}", file=path) from None
    inst.path = path
    return inst.inputs, Graph(path, inst.steps), inst.record({n: made[src][item] for n, src, item in exports})


def component_graph(component: d.Component, path: str, features: frozenset[str] | None = None,
                    provided: dict | None = None) -> tuple[list[ModuleInput], Graph, dict]:
    """The core graph of `component` (decoded and validated) and its component record as JSON;
    `features`: the core proposals the build allows (fused adapters that copy memory need
    multi-memory); `provided`: core modules for root imports (import path -> (`decode.CoreModule`,
    its bytes, a name for messages), checked against the imports' types: build.py). Calls between
    component instances go through fused adapters (component/adapters.py)."""
    inst = _Instantiator(component, path, provided)
    inst.fused.features = features
    try:
        exports = inst.instantiate(component, None, None, HOST)
    except _HostCannotProvide as e:
        # Nothing to compile: the image only says why it cannot be instantiated.
        unlinkable = ComponentRecord((), (HOST,), (), (), (), {}, {}, unlinkable=str(e))
        return [], Graph(path, [Step("import", NAMESPACE, 0)]), unlinkable.to_json([])
    return inst.inputs, Graph(path, inst.steps), inst.record(exports)


def exported_core_modules(component: d.Component, path: str, provided: dict | None = None) -> dict | None:
    """The core modules `component` exports (at its top level or inside exported instances), as
    {export path: module bytes}: what Wasmtime's spec-test runner registers of a named instance
    (component/script.py). None for a component that cannot be instantiated (an import not given)."""
    inst = _Instantiator(component, path, provided)
    found: dict = {}

    def walk(values: dict, at: tuple) -> None:
        for name, value in values.items():
            if isinstance(value, d.CoreModule):
                data, _ = inst.module_sources[id(value)]
                found[at + (name,)] = data[value.start:value.end]
            elif isinstance(value, dict):
                walk(value, at + (name,))

    try:
        exports = inst.instantiate(component, None, None, HOST)
    except _HostCannotProvide:
        return None
    walk(exports, ())
    return found
