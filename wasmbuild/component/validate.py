"""Validate a decoded component (`decode.Component`) and resolve every index it uses into types.

`validate_component(component, functions=True) -> ComponentInfo` checks the rules of the synchronous
component model (Explainer.md, Binary.md, CanonicalABI.md "canonical definitions") and raises
`InvalidError` with the file and the offset of the offending definition. Core modules are checked by
the core validator (`functions=False`: module-level rules only, for builds, which validate each
function as they compile it). Constructs of proposals this version does not support (decode.GATED:
async, threading, error-context, maps, fixed-length lists, values, start functions, name
attributes) are refused here, naming the proposal.

Index spaces are built incrementally per scope (a component, a component type, an instance type);
outer aliases count scopes outward. Types are `component.types` objects, so nothing after this
needs a type index again.

The output
----------
`ComponentInfo` (one per component definition; nested components have their own, in `nested`):

- `component`: the syntax tree it describes; `type`: its `ComponentType` (imports and exports).
- the index spaces, each a list in index order: `funcs` (FuncType of every component function),
  `types` (ValType, ResourceType, FuncType, InstanceType or ComponentType), `instances`
  (InstanceType), `components` (ComponentType), `core_funcs` (`contract.types.FuncType`),
  `core_tables`, `core_memories`, `core_globals`, `core_tags` (their `contract.types` types),
  `core_types` (core FuncType or CoreModuleType), `core_modules` (CoreModuleType),
  `core_instances` (CoreInstanceType).
- `added`: for each definition (same index as `component.definitions`), the `(space, index)` it
  added, where `space` is the name of one of the lists above (None for a definition that adds
  nothing); `info.item(i)` gives that entry.
- `imports`, `exports`: ((name, Extern), ...) in order (the component's own imports and exports).
- `canons`: {definition index: `CanonInfo`} for every `canon` definition: `kind` ("lift", "lower",
  "resource.new", "resource.drop", "resource.rep"), `func_type` (the component FuncType lifted
  or lowered; None for resource built-ins), `core_type` (the core FuncType of the core function
  involved: the one lifted, or the one defined), `core_func` (lift: the core func index lifted),
  `func` (lower: the component func index lowered), `resource` (the ResourceType of the
  resource built-ins) and `options` (`OptionIndices`: `string_encoding` "utf8" / "utf16" /
  "latin1+utf16", `memory` a core memory index or None, `realloc` and `post_return` core func
  indices or None).
- `resources`: [`ResourceInfo`] for each resource definition, in order: `type` (its ResourceType,
  whose `dtor` is also set to the destructor's core func index), `rep` (core value type, i32),
  `dtor` (core func index or None), `definition` (the definition index). `imported_resources`:
  the abstract ResourceTypes of its imports (type imports `(sub resource)` and those of
  imported instances). `resource_views`: {view: ResourceType} for each export of a resource
  ascribed `(type (sub resource))`: outside (and for the definitions after it, through the
  export's index) the export is the abstract `view`, which at run time is the resource it maps to.
- `core_module_types`: {definition index: CoreModuleType} of each nested core module.
- `nested`: {definition index: ComponentInfo} of each nested component definition.

A nested component's ResourceTypes are those of its one definition; instantiating it (as
`Instantiate` does at validation, and static instantiation does at build time) gives fresh ones
for its `type.exported_resources` (`types.substitute`). A value type that an import or export
introduces is a copy of its own (equal to the original, not the same object), as the spec makes it
a new type index: an `(eq ...)` type import is substituted by its argument, and a record, variant,
enum or flags type has an externally visible name only through such a copy.

External visibility (Explainer.md) is tracked by object identity: `_Validator.owners` records, for
each named copy and each handle made from a named type index, the scope and side (import or export)
that named it; an import's or export's type may use only what is named there, or inside a type
declaration (a name given inside an instance or component type is part of that type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..contract.matching import import_mismatch
from ..contract.types import (EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, EXTERN_TAG, I32,
                              FuncType as CoreFuncType, type_name)
from ..errors import InvalidError, WasmbuildError
from ..valid.memory import check_memory_type, check_table_type
from ..valid.validate import check_module_level, validate_module
from . import decode as D
from .canonical import MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, flatten_functype, flatten_types
from .types import (Borrow, ComponentType, CoreExtern, CoreInstanceType, CoreModuleType, Enum, Extern, Flags,
                    FuncType, InstanceType, List, Option, Own, Prim, Record, ResourceType, Result, Tuple, ValType,
                    Variant, contains, prim, resources_in, substitute)

# An effective type may be no larger than this many nodes (a type can name others many times over:
# without a bound, a short binary could describe an exponentially large type).
MAX_TYPE_SIZE = 1_000_000
MAX_TYPE_DEPTH = 100
REALLOC_TYPE = CoreFuncType((I32, I32, I32, I32), (I32,))
DTOR_TYPE = CoreFuncType((I32,), ())

_CORE_KIND_OF_SORT = {"core func": EXTERN_FUNC, "core table": EXTERN_TABLE, "core memory": EXTERN_MEMORY,
                      "core global": EXTERN_GLOBAL, "core tag": EXTERN_TAG}
_SPACE_OF_SORT = {"core func": "core_funcs", "core table": "core_tables", "core memory": "core_memories",
                  "core global": "core_globals", "core tag": "core_tags", "core type": "core_types",
                  "core module": "core_modules", "core instance": "core_instances", "func": "funcs",
                  "type": "types", "component": "components", "instance": "instances", "value": "values"}


@dataclass(frozen=True, slots=True)
class OptionIndices:
    """The canonical options of one `canon`, as indices of the component's core index spaces."""

    string_encoding: str = "utf8"
    memory: int | None = None
    realloc: int | None = None
    post_return: int | None = None


@dataclass(frozen=True, slots=True)
class CanonInfo:
    """One `canon` definition, resolved (see the module docstring)."""

    kind: str
    options: OptionIndices
    core_type: CoreFuncType
    func_type: FuncType | None = None
    core_func: int | None = None
    func: int | None = None
    resource: ResourceType | None = None


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One resource type definition: its type, representation and destructor (core func index)."""

    type: ResourceType
    rep: int
    dtor: int | None
    definition: int


class _Scope:
    """The index spaces of one scope: a component, a component type or an instance type."""

    def __init__(self, kind: str, parent: "_Scope | None"):
        self.kind = kind  # "component", "component type", "instance type"
        self.parent = parent
        for space in _SPACE_OF_SORT.values():
            setattr(self, space, [])
        self.imports: list[tuple[str, Extern]] = []
        self.exports: list[tuple[str, Extern]] = []
        self.import_names: dict[str, str] = {}  # canonical name -> name as written
        self.export_names: dict[str, str] = {}
        self.local_resources: set[int] = set()  # ids of ResourceTypes defined here
        self.resource_views: dict[ResourceType, ResourceType] = {}  # export ascribed (sub resource) -> resource
        self.imported_resources: list[ResourceType] = []  # abstract resources of the imports
        self.exported_resources: list[ResourceType] = []  # abstract resources the exports declare (types)
        # resource name -> ResourceType, for [constructor]/[method]/[static] names: imports name
        # them for imports, exports for exports
        self.resource_names: dict[str, dict[str, ResourceType]] = {"import": {}, "export": {}}
        # External visibility (Explainer.md): type indices and instance indices that an import or
        # export introduced (or aliased out of such an instance), by "import" / "export"
        self.named_index: dict[int, str] = {}
        self.named_instances: dict[int, str] = {}

    def space(self, sort: str) -> list:
        return getattr(self, _SPACE_OF_SORT[sort])


@dataclass
class ComponentInfo:
    """What validating one component definition resolved (see the module docstring)."""

    component: D.Component
    type: ComponentType
    funcs: list
    types: list
    instances: list
    components: list
    core_funcs: list
    core_tables: list
    core_memories: list
    core_globals: list
    core_tags: list
    core_types: list
    core_modules: list
    core_instances: list
    added: list
    imports: list
    exports: list
    canons: dict = field(default_factory=dict)
    resources: list = field(default_factory=list)
    imported_resources: list = field(default_factory=list)
    core_module_types: dict = field(default_factory=dict)
    nested: dict = field(default_factory=dict)
    resource_views: dict = field(default_factory=dict)

    def item(self, definition: int):
        """The entry definition `definition` added to its index space (None if it added none)."""
        added = self.added[definition]
        return None if added is None else getattr(self, added[0])[added[1]]


def validate_component(component: D.Component, functions: bool = True) -> ComponentInfo:
    """Validate `component`; its resolved types. Raises InvalidError. With `functions` False the
    core modules' function bodies are left out (a build validates each one it compiles, and only
    those: a function taken from the cache was validated when it was compiled)."""
    return _Validator(component.filename, functions).component(component, None)


def root_import(info: ComponentInfo, path: tuple[str, ...]) -> Extern | None:
    """The extern type of the root import at `path` (an import name, then export names inside
    imported instances) of the component `info` describes; None if it has none there."""
    want: Extern | None = None
    exports = info.imports
    for name in path:
        want = next((e for n, e in exports if n == name), None)
        if want is None:
            return None
        exports = want.type.exports if want.kind == "instance" else ()
    return want


def module_mismatch(module: D.CoreModule, want: CoreModuleType, filename: str | None) -> str | None:
    """Why core module `module` (decoded; validated here, bodies included) is not a subtype of
    module type `want`; None when it is."""
    have = _Validator(filename, True).core_module(module)
    try:
        _Matcher(None).module(have, want)
    except InvalidError as e:
        return e.reason
    return None


# ---------------------------------------------------------------------------------------------

class ImportMismatch(Exception):
    """An instantiation argument that is missing (`reason` None) or does not match the import `name`."""

    def __init__(self, name: str, reason: str | None):
        super().__init__(name, reason)
        self.name = name
        self.reason = reason


def instantiation_type(component: ComponentType, args: dict[str, Extern], on_fresh=None,
                       on_copy=None, same_types=None) -> InstanceType:
    """The type of the instance that instantiating a component of type `component` with `args`
    (import name -> the extern given for it) makes: its exports, with each resource it imports
    replaced by the one given and each resource it exports made afresh. Raises `ImportMismatch`
    for the first import (in order) that is not given or whose argument is not a subtype of it.
    `on_fresh(resource)` is told of each fresh resource, `on_copy` as for `types.substitute`;
    `same_types(t)` gives `t` and the objects that are the same type under other names (the
    validator's named copies), all replaced for an `(eq ...)` type import."""
    matcher = _Matcher(None, bound=component.imported_resources)
    for name, want in component.imports:
        have = args.get(name)
        if have is None:
            raise ImportMismatch(name, None)
        try:
            matcher.extern(have, want, name)
        except InvalidError as err:
            raise ImportMismatch(name, err.reason) from None
    # Each supplied type replaces the import it satisfies (resources bound by the matcher, and
    # `(eq ...)` type imports); each exported resource is made afresh.
    pairs = list(matcher.mapping.items())
    for name, want in component.imports:
        if want.kind == "type" and type(want.type) is not ResourceType:
            same = same_types(want.type) if same_types is not None else (want.type,)
            pairs.extend((t, args[name].type) for t in same)
    for r in component.exported_resources:
        fresh = ResourceType(r.name)
        if on_fresh is not None:
            on_fresh(fresh)
        pairs.append((r, fresh))
    # (one substitution for all the exports: a type they share stays one object)
    return InstanceType(substitute(InstanceType(component.exports), pairs, on_copy=on_copy).exports)


class _Validator:
    def __init__(self, filename: str | None, functions: bool = True):
        self.filename = filename
        self.functions = functions  # validate the core modules' function bodies too
        self.sizes: dict[int, int] = {}  # id of a resolved type -> its effective size
        # id of a type object -> the (scope, "import" | "export") where it has an external name
        self.owners: dict[int, list] = {}
        # id of a value type -> the copies imports and exports of it made
        self.copies: dict[int, list] = {}
        self.depths: dict[int, int] = {}
        self.keep: list = []  # resolved types, kept alive so that their ids stay theirs

    def error(self, reason: str, offset: int | None) -> InvalidError:
        return InvalidError(reason, file=self.filename, offset=offset)

    def gated(self, proposal: str, what: str, offset: int) -> InvalidError:
        return self.error(f"uses {D.GATED[proposal]} ({what}), which is not supported", offset)

    # --- components ---
    def component(self, c: D.Component, parent: _Scope | None) -> ComponentInfo:
        scope = _Scope("component", parent)
        info = ComponentInfo(c, None, scope.funcs, scope.types, scope.instances, scope.components, scope.core_funcs,
                             scope.core_tables, scope.core_memories, scope.core_globals, scope.core_tags,
                             scope.core_types, scope.core_modules, scope.core_instances, [], scope.imports,
                             scope.exports)
        for i, d in enumerate(c.definitions):
            info.added.append(self.definition(scope, info, i, d))
        info.imported_resources = list(scope.imported_resources)
        info.resource_views = dict(scope.resource_views)
        info.type = ComponentType(tuple(scope.imports), tuple(scope.exports), tuple(scope.imported_resources),
                                  tuple(r for r in self._exported_resources(scope)))
        return info

    def _exported_resources(self, scope: _Scope) -> list[ResourceType]:
        """The resources a component's exports refer to that it does not import: those it defines or
        gets from the components it instantiates, made afresh by each instantiation."""
        imported = {r.id for r in scope.imported_resources}
        out: list[ResourceType] = []
        for _, e in scope.exports:
            out.extend(r for r in resources_in(e) if r.id not in imported and r not in out)
        return out

    def definition(self, scope: _Scope, info: ComponentInfo, i: int, d) -> tuple[str, int] | None:
        cls = type(d)
        if cls is D.CoreModule:
            mt = self.core_module(d)
            info.core_module_types[i] = mt
            return self.add(scope, "core module", mt)
        if cls is D.CoreInstantiate:
            return self.add(scope, "core instance", self.core_instantiate(scope, d))
        if cls is D.CoreInlineExports:
            return self.add(scope, "core instance", self.core_inline(scope, d))
        if cls is D.CoreTypeDef:
            return self.add(scope, "core type", self.core_type(scope, d.type, d.offset))
        if cls is D.NestedComponent:
            nested = self.component(d.component, scope)
            info.nested[i] = nested
            return self.add(scope, "component", nested.type)
        if cls is D.Instantiate:
            return self.add(scope, "instance", self.instantiate(scope, d))
        if cls is D.InlineExports:
            return self.add(scope, "instance", self.inline_exports(scope, d))
        if cls in (D.ExportAlias, D.CoreExportAlias, D.OuterAlias):
            return self.alias(scope, d)
        if cls is D.TypeDef:
            t = self.deftype(scope, d.type, d.offset)
            if type(t) is ResourceType:
                rdef = d.type
                info.resources.append(ResourceInfo(t, rdef.rep, rdef.dtor, i))
            return self.add(scope, "type", t)
        if cls in (D.CanonLift, D.CanonLower, D.CanonResource):
            canon = self.canon(scope, d)
            info.canons[i] = canon
            if canon.kind == "lift":
                return self.add(scope, "func", canon.func_type)
            return self.add(scope, "core func", canon.core_type)
        if cls is D.CanonGated:
            raise self.gated(d.proposal, f"canon {d.name}", d.offset)
        if cls is D.Start:
            raise self.gated("cm-values", "a start function", d.offset)
        if cls is D.ValueDef:
            raise self.gated("cm-values", "a value definition", d.offset)
        if cls is D.Import:
            return self.import_(scope, d)
        if cls is D.Export:
            return self.export(scope, d)
        raise self.error(f"unexpected definition {cls.__name__}", getattr(d, "offset", None))

    def add(self, scope: _Scope, sort: str, t) -> tuple[str, int]:
        space = scope.space(sort)
        space.append(t)
        return _SPACE_OF_SORT[sort], len(space) - 1

    def get(self, scope: _Scope, sort: str, index: int, offset: int):
        space = scope.space(sort)
        if index >= len(space):
            what = {"func": "function"}.get(sort.removeprefix("core "), sort.removeprefix("core "))
            raise self.error(f"unknown {sort} {index}: {what} index out of bounds", offset)
        return space[index]

    # --- core modules and instances ---
    def core_module(self, d: D.CoreModule) -> CoreModuleType:
        m = d.module
        try:
            (validate_module if self.functions else check_module_level)(m)
        except WasmbuildError as e:
            raise D.rebased(e, d.start)
        func_types = m.all_func_types()
        tables, memories, globals_, tags = m.all_tables(), m.all_memories(), m.all_globals(), m.all_tags()

        def extern(kind, desc):
            if kind == EXTERN_FUNC or kind == EXTERN_TAG:
                return CoreExtern(kind, m.types[desc])
            return CoreExtern(kind, desc)

        seen = set()
        for imp in m.imports:
            # (two-level names are mangled into one by the component model: no duplicates)
            if (imp.module, imp.name) in seen:
                raise self.error(f"duplicate import name `{imp.module}:{imp.name}`", d.start + imp.offset)
            seen.add((imp.module, imp.name))
        imports = tuple((imp.module, imp.name, extern(imp.kind, imp.desc)) for imp in m.imports)
        exports = []
        for e in m.exports:
            if e.kind == EXTERN_FUNC:
                t = m.types[func_types[e.index]]
            elif e.kind == EXTERN_TABLE:
                t = tables[e.index]
            elif e.kind == EXTERN_MEMORY:
                t = memories[e.index]
            elif e.kind == EXTERN_GLOBAL:
                t = globals_[e.index]
            else:
                t = m.types[tags[e.index]]
            exports.append((e.name, CoreExtern(e.kind, t)))
        return CoreModuleType(imports, tuple(exports))

    def core_instantiate(self, scope: _Scope, d: D.CoreInstantiate) -> CoreInstanceType:
        if d.module >= len(scope.core_modules):
            raise self.error(f"unknown module {d.module}: module index out of bounds", d.offset)
        mt = scope.core_modules[d.module]
        args: dict[str, CoreInstanceType] = {}
        for name, index in d.args:
            if name in args:
                raise self.error(f"duplicate module instantiation argument named `{name}`", d.offset)
            args[name] = self.get(scope, "core instance", index, d.offset)
        for module, name, want in mt.imports:
            inst = args.get(module)
            if inst is None:
                raise self.error(f"missing module instantiation argument named `{module}`", d.offset)
            have = inst.export(name)
            if have is None:
                raise self.error(f"module instantiation argument `{module}` does not export an item named "
                                 f"`{name}`", d.offset)
            why = import_mismatch(want.kind, want.type, have.kind, have.type)
            if why is not None:
                raise self.error(f"type mismatch for export `{name}` of module instantiation argument "
                                 f"`{module}`: it {why}", d.offset)
        return CoreInstanceType(mt.exports)

    def core_inline(self, scope: _Scope, d: D.CoreInlineExports) -> CoreInstanceType:
        exports = []
        seen = set()
        for name, sort, index in d.exports:
            if name in seen:
                raise self.error(f"export name `{name}` already defined", d.offset)
            seen.add(name)
            kind = _CORE_KIND_OF_SORT.get(sort)
            if kind is None:
                raise self.error(f"a core instance cannot export a {sort}", d.offset)
            t = self.get(scope, sort, index, d.offset)
            exports.append((name, CoreExtern(kind, t)))
        return CoreInstanceType(tuple(exports))

    # --- core types ---
    def core_type(self, scope: _Scope, t, offset: int):
        if type(t) is CoreFuncType:
            return t
        return self.module_type(scope, t, offset)

    def module_type(self, scope: _Scope, t: D.CoreModuleType, offset: int) -> CoreModuleType:
        types: list = []
        imports = []
        exports = []
        import_names: set = set()
        export_names: set = set()

        def func_type(index: int, at: int) -> CoreFuncType:
            if index >= len(types):
                raise self.error(f"type index out of bounds: {index}", at)
            if type(types[index]) is not CoreFuncType:
                raise self.error(f"type index {index} is not a function type", at)
            return types[index]

        def extern(kind, desc, at):
            if kind == EXTERN_FUNC or kind == EXTERN_TAG:
                return CoreExtern(kind, func_type(desc, at))
            if kind == EXTERN_MEMORY:
                check_memory_type(self, desc, at)  # (the core validator's rules; `self` has its `error`)
            elif kind == EXTERN_TABLE:
                check_table_type(self, desc, at)
            return CoreExtern(kind, desc)

        for decl in t.decls:
            at = decl.offset
            cls = type(decl)
            if cls is D.CoreTypeDef:
                if type(decl.type) is not CoreFuncType:
                    raise self.error("invalid leading byte: a module type cannot declare a module type", at)
                types.append(decl.type)
            elif cls is D.OuterAlias:
                if decl.count == 0:
                    target = types
                    if decl.index >= len(target):
                        raise self.error(f"type index out of bounds: {decl.index}", at)
                    types.append(target[decl.index])
                    continue
                outer = self.outer_scope(scope, decl.count - 1, at)
                aliased = self.get(outer, "core type", decl.index, at)
                if type(aliased) is not CoreFuncType:
                    raise self.error("an outer alias in a module type may not refer to a module type", at)
                types.append(aliased)
            elif cls is D.CoreExportDecl:
                if decl.name in export_names:
                    raise self.error(f"export name `{decl.name}` already defined", at)
                export_names.add(decl.name)
                exports.append((decl.name, extern(decl.kind, decl.desc, at)))
            else:  # a core import
                key = (decl.module, decl.name)
                if key in import_names:
                    raise self.error(f"duplicate import name `{decl.module}:{decl.name}`", at)
                import_names.add(key)
                imports.append((decl.module, decl.name, extern(decl.kind, decl.desc, at)))
        return CoreModuleType(tuple(imports), tuple(exports))

    # --- aliases ---
    def outer_scope(self, scope: _Scope, count: int, offset: int) -> _Scope:
        target = scope
        for _ in range(count):
            target = target.parent
            if target is None:
                raise self.error(f"invalid outer alias count of {count}", offset)
        return target

    def alias(self, scope: _Scope, d) -> tuple[str, int]:
        cls = type(d)
        if cls is D.CoreExportAlias:
            inst = self.get(scope, "core instance", d.instance, d.offset)
            e = inst.export(d.name)
            if e is None:
                raise self.error(f"core instance {d.instance} has no export named `{d.name}`", d.offset)
            kind = _CORE_KIND_OF_SORT.get(d.sort)
            if e.kind != kind:
                what = d.sort.replace("core ", "")
                raise self.error(f"export `{d.name}` for core instance {d.instance} is not a {what}", d.offset)
            return self.add(scope, d.sort, e.type)
        if cls is D.ExportAlias:
            inst = self.get(scope, "instance", d.instance, d.offset)
            e = inst.export(d.name)
            if e is None:
                raise self.error(f"instance {d.instance} has no export named `{d.name}`", d.offset)
            if e.kind != d.sort:
                raise self.error(f"export `{d.name}` for instance {d.instance} is not a {d.sort}", d.offset)
            if e.kind == "value":
                raise self.gated("cm-values", "a value export", d.offset)
            how = scope.named_instances.get(d.instance)
            if how is not None and e.kind in ("type", "instance"):
                # an alias out of an imported or exported instance is a name too
                if e.kind == "type" and type(e.type) in _NAMEABLE:
                    self.name(e.type, scope, how)
                return self.add_named(scope, e, how)
            return self.add(scope, d.sort, e.type)
        # outer
        if scope.kind != "component" and d.sort not in ("type", "core type"):
            raise self.error("outer aliases in type declarations may only refer to types", d.offset)
        if d.sort not in ("type", "core type", "core module", "component"):
            raise self.error(f"outer aliases may only refer to types, modules and components, not {d.sort}s",
                             d.offset)
        target, crossed = scope, False  # crossed: the alias reaches out of a component
        for _ in range(d.count):
            crossed = crossed or target.kind == "component"
            target = target.parent
            if target is None:
                raise self.error(f"invalid outer alias count of {d.count}", d.offset)
        t = self.get(target, d.sort, d.index, d.offset)
        if crossed and d.sort == "type" and resources_in(t):
            raise self.error("cannot alias outer type which transitively refers to resources not defined "
                             "in the current component", d.offset)
        added = self.add(scope, d.sort, t)
        how = target.named_index.get(d.index)
        if d.sort == "type" and how is not None and not crossed:
            # a type declaration inside the component still sees the component's names
            scope.named_index[added[1]] = how
        return added

    # --- types ---
    def valtype(self, scope: _Scope, vt, offset: int) -> ValType:
        if type(vt) is str:
            if vt == "error-context":
                raise self.gated("cm-error-context", "the error-context type", offset)
            return prim(vt)
        t = self.get(scope, "type", vt, offset)
        if not isinstance(t, ValType):
            raise self.error(f"type index {vt} is not a defined type", offset)
        return t

    def resource(self, scope: _Scope, index: int, offset: int) -> ResourceType:
        t = self.get(scope, "type", index, offset)
        if type(t) is not ResourceType:
            raise self.error(f"type index {index} is not a resource type", offset)
        return t

    def track(self, t, parts, offset: int):
        """Record the effective size and depth of resolved type `t` made of `parts`."""
        size_ = 1 + sum(self.sizes.get(id(p), 1) for p in parts)
        depth = 1 + max((self.depths.get(id(p), 1) for p in parts), default=0)  # (a primitive: 1)
        if size_ > MAX_TYPE_SIZE:
            raise self.error(f"effective type size exceeds the limit of {MAX_TYPE_SIZE}", offset)
        if depth > MAX_TYPE_DEPTH:
            raise self.error("type nesting is too deep", offset)
        self.sizes[id(t)] = size_
        self.depths[id(t)] = depth
        self.keep.append(t)
        return t

    def labels(self, names, what: str, offset: int, short: str) -> None:
        """Labels `names` of a `what` ("record field", ...) are kebab case and strongly unique;
        `short` names one in the conflict message ("field")."""
        seen: dict[str, str] = {}
        for n in names:
            if n == "":
                raise self.error(f"{what} name cannot be empty", offset)
            if not is_label(n):
                raise self.error(f"{what} name `{n}` is not in kebab case", offset)
            key = n.lower()
            if key in seen:
                raise self.error(f"{what} name `{n}` conflicts with previous {short} name `{seen[key]}`", offset)
            seen[key] = n

    def deftype(self, scope: _Scope, t, offset: int):
        cls = type(t)
        vt = lambda x: self.valtype(scope, x, offset)  # noqa: E731
        if cls is D.PrimDef:
            return vt(t.name)
        if cls is D.RecordDef:
            if not t.fields:
                raise self.error("record type must have at least one field", offset)
            self.labels([n for n, _ in t.fields], "record field", offset, "field")
            fields = tuple((n, vt(x)) for n, x in t.fields)
            return self.value_type(Record(fields), [x for _, x in fields], offset)
        if cls is D.VariantDef:
            if not t.cases:
                raise self.error("variant type must have at least one case", offset)
            self.labels([n for n, _ in t.cases], "variant case", offset, "case")
            cases = tuple((n, None if x is None else vt(x)) for n, x in t.cases)
            return self.value_type(Variant(cases), [x for _, x in cases if x is not None], offset)
        if cls is D.ListDef:
            elem = vt(t.elem)
            return self.value_type(List(elem), [elem], offset)
        if cls is D.TupleDef:
            if not t.types:
                raise self.error("tuple type must have at least one type", offset)
            types = tuple(vt(x) for x in t.types)
            return self.value_type(Tuple(types), types, offset)
        if cls is D.FlagsDef:
            if not t.names:
                raise self.error("flags must have at least one entry", offset)
            if len(t.names) > 32:
                raise self.error("cannot have more than 32 flags", offset)
            self.labels(t.names, "flag", offset, "flag")
            return self.value_type(Flags(tuple(t.names)), (), offset)
        if cls is D.EnumDef:
            if not t.names:
                raise self.error("enum type must have at least one variant", offset)
            self.labels(t.names, "enum tag", offset, "tag")
            return self.value_type(Enum(tuple(t.names)), (), offset)
        if cls is D.OptionDef:
            x = vt(t.type)
            return self.value_type(Option(x), [x], offset)
        if cls is D.ResultDef:
            ok = None if t.ok is None else vt(t.ok)
            err = None if t.err is None else vt(t.err)
            return self.value_type(Result(ok, err), [x for x in (ok, err) if x is not None], offset)
        if cls is D.OwnDef or cls is D.BorrowDef:
            handle = (Own if cls is D.OwnDef else Borrow)(self.resource(scope, t.type, offset))
            ctx = scope.named_index.get(t.type)
            if ctx is not None:
                self.name(handle, scope, ctx)
            self.keep.append(handle)
            return handle
        if cls is D.FuncTypeDef:
            if t.is_async:
                raise self.gated("cm-async", "an async function type", offset)
            self.labels([n for n, _ in t.params], "function parameter", offset, "parameter")
            params = tuple((n, vt(x)) for n, x in t.params)
            result = None if t.result is None else vt(t.result)
            if result is not None and contains(result, (Borrow,)):
                raise self.error("function result cannot contain a `borrow` type", offset)
            return self.track(FuncType(params, result), [x for _, x in params] + ([result] if result else []),
                              offset)
        if cls is D.ComponentTypeDef:
            return self.type_scope(scope, t.decls, "component type", offset)
        if cls is D.InstanceTypeDef:
            return self.type_scope(scope, t.decls, "instance type", offset)
        if cls is D.ResourceTypeDef:
            if scope.kind != "component":
                raise self.error("resources can only be defined within a concrete component", offset)
            if t.rep != I32:
                raise self.error("resources can only be represented by `i32`", offset)
            if t.dtor is not None:
                dtor = self.get(scope, "core func", t.dtor, offset)
                if dtor != DTOR_TYPE:
                    raise self.error(f"wrong signature for a destructor: {dtor}, wanted {DTOR_TYPE}", offset)
            r = ResourceType("resource", t.dtor)
            scope.local_resources.add(r.id)
            self.keep.append(r)
            return r
        if cls is D.GatedDef:
            raise self.gated(t.proposal, t.what, offset)
        raise self.error(f"unexpected type definition {cls.__name__}", offset)

    def value_type(self, t: ValType, parts, offset: int) -> ValType:
        # (Binary.md bounds every value type's elem_size below 2^28 bytes. Without fixed-length
        # lists no type within MAX_TYPE_SIZE nodes can reach it: a node adds at most 16 bytes.)
        return self.track(t, parts, offset)

    def type_scope(self, scope: _Scope, decls, kind: str, offset: int):
        inner = _Scope(kind, scope)
        for decl in decls:
            cls = type(decl)
            at = decl.offset
            if cls is D.CoreTypeDef:
                self.add(inner, "core type", self.core_type(inner, decl.type, at))
            elif cls is D.TypeDef:
                self.add(inner, "type", self.deftype(inner, decl.type, at))
            elif cls in (D.ExportAlias, D.OuterAlias):
                if cls is D.ExportAlias and decl.sort not in ("instance", "type"):
                    raise self.error("export aliases in type declarations may only refer to types or instances", at)
                self.alias(inner, decl)
            elif cls is D.CoreExportAlias:
                raise self.error("core export aliases are not allowed in type declarations", at)
            elif cls is D.Import:
                self.import_(inner, decl)
            else:  # ExportDecl
                self.export_decl(inner, decl)
        if kind == "instance type":
            t = InstanceType(tuple(inner.exports), tuple(inner.exported_resources))
        else:
            t = ComponentType(tuple(inner.imports), tuple(inner.exports), tuple(inner.imported_resources),
                              tuple(inner.exported_resources))
        return self.track(t, [e.type for _, e in inner.imports + inner.exports], offset)

    # --- extern types, imports, exports ---
    def extern_desc(self, scope: _Scope, desc: D.ExternDesc, name: str, offset: int) -> Extern:
        kind = desc.kind
        if kind == "core module":
            t = self.get(scope, "core type", desc.index, offset)
            if type(t) is not CoreModuleType:
                raise self.error(f"core type index {desc.index} is not a module type", offset)
        elif kind == "value":
            raise self.gated("cm-values", "a value import or export", offset)
        elif kind == "type":
            if desc.index is None:
                t = ResourceType(_resource_label(name))
                self.keep.append(t)
            else:
                t = self.get(scope, "type", desc.index, offset)
        else:
            t = self.get(scope, "type", desc.index, offset)
            want = {"func": FuncType, "component": ComponentType, "instance": InstanceType}[kind]
            if type(t) is not want:
                what = {"func": "a function", "component": "a component", "instance": "an instance"}[kind]
                raise self.error(f"type index {desc.index} is not {what} type", offset)
        return Extern(kind, t)

    def freshen(self, e: Extern, into: list[ResourceType]) -> Extern:
        """An instance extern whose type's declared resources are replaced by fresh ones (added to
        `into`): each import or export of an instance type has resources of its own."""
        if e.kind != "instance" or not e.type.resources:
            return e
        mapping = {}
        for r in e.type.resources:
            fresh = ResourceType(r.name)
            self.keep.append(fresh)
            mapping[r] = fresh
            into.append(fresh)
        t = substitute(e.type, mapping, on_copy=self.copied)
        return Extern("instance", InstanceType(t.exports, ()))

    def same_size(self, old, new) -> None:
        """`new` is a copy of `old` (kept alive, and as large as it for the size bounds)."""
        self.keep.append(new)
        if id(old) in self.sizes:
            self.sizes[id(new)] = self.sizes[id(old)]
            self.depths[id(new)] = self.depths[id(old)]

    def copied(self, old, new) -> None:
        """`substitute` rebuilt `old` as `new`: the copy has the names the original had."""
        self.same_size(old, new)
        owners = self.owners.get(id(old))
        if owners:
            self.owners.setdefault(id(new), []).extend(owners)

    def check_name(self, scope: _Scope, name: str, attributes, e: Extern, offset: int, what: str) -> None:
        for kind, _text in attributes:
            raise self.gated("cm-implements", f"the `{kind}` attribute on {what} `{name}`", offset)
        problem = extern_name_problem(name)
        if problem is not None:
            raise self.error(f"`{name}` is not a valid extern name: {problem}", offset)
        names = scope.import_names if what == "import" else scope.export_names
        key = strongly_unique_key(name)
        if key in names:
            raise self.error(f"{what} name `{name}` conflicts with previous name `{names[key]}`", offset)
        names[key] = name
        self.check_annotation(name, e, offset, scope.resource_names[what])

    def check_annotation(self, name: str, e: Extern, offset: int, resources: dict, handle_named=None) -> None:
        """The rules of a `[constructor]`, `[method]` or `[static]` name (Binary.md): `resources` maps
        the resource names of this context to their types; `handle_named(handle)` tells whether the
        handle in the function's type is itself named in this context (not checked if None)."""
        m = _ANNOTATED.match(name)
        if m is None:
            return
        annotation, label = m.group(1), m.group(2)
        if e.kind != "func":
            raise self.error(f"item `{name}` is not a func", offset)
        ft: FuncType = e.type
        if annotation == "static":
            if label not in resources:
                raise self.error(f"static resource name is not known in this context: `{label}`", offset)
            return
        if annotation == "constructor":
            if ft.result is None:
                raise self.error("function should return one value", offset)
            handle = ft.result
            if type(handle) is Result and type(handle.ok) is Own:
                handle = handle.ok
            if type(handle) is not Own:
                raise self.error("function should return `(own $T)` or `(result (own $T))`", offset)
        else:
            if not ft.params:
                raise self.error("method should have at least one argument", offset)
            pname, handle = ft.params[0]
            if pname != "self":
                raise self.error("method should have a first argument called `self`", offset)
            if type(handle) is not Borrow:
                raise self.error("method should take a first argument of `(borrow $T)`", offset)
        names = [n for n, r in resources.items() if r is handle.resource]
        if not names or (handle_named is not None and not handle_named(handle)):
            raise self.error("resource used in function does not have a name in this context", offset)
        if label not in names:
            raise self.error(f"function does not match expected resource name `{names[0]}`", offset)

    def named_extern(self, scope: _Scope, name: str, e: Extern, what: str) -> Extern:
        """What an import or export of `e` named `name` introduces: a value type imported or exported
        becomes a copy of its own, equal to it (a record, variant, enum or flags type is named by it
        in this scope: Explainer.md, "External Visibility of Types"); a resource is named by the
        name; an instance names the types it exports."""
        if e.kind == "type":
            t = e.type
            if type(t) is ResourceType:
                scope.resource_names[what][_resource_label(name)] = t
                if t.name == "resource":
                    t.name = _resource_label(name)
            elif isinstance(t, ValType):
                # A value type imported or exported is a new type (equal to the original) under a
                # name: type imports are substituted one by one, and what is named is this one.
                original = t
                t = type(t)(*(getattr(t, f) for f in t.__slots__))
                self.same_size(original, t)
                self.copies.setdefault(id(original), []).append(t)
                if type(t) in _NAMEABLE:
                    self.name(t, scope, what)
                e = Extern("type", t)
        elif e.kind == "instance":
            self.name_instance_exports(e.type, scope, what)
        return e

    def named_copies(self, t) -> list:
        """`t` and the copies made of it (and of them) to give it names."""
        out, stack = [], [t]
        while stack:
            x = stack.pop()
            out.append(x)
            stack.extend(self.copies.get(id(x), ()))
        return out

    def name(self, t, scope: _Scope, what: str) -> None:
        self.owners.setdefault(id(t), []).append((scope, what))

    def name_instance_exports(self, it: InstanceType, scope: _Scope, what: str) -> None:
        """An instance imported or exported names the types it exports (and nested instances'),
        and the handles of its functions' types that refer to resources it exports."""
        resources = set()

        def walk(it: InstanceType):
            for _, e in it.exports:
                if e.kind == "type":
                    if type(e.type) is ResourceType:
                        resources.add(e.type.id)
                    else:
                        self.name(e.type, scope, what)
                elif e.kind == "instance":
                    walk(e.type)

        walk(it)
        if resources:
            for node in _nodes(it):
                if type(node) in (Own, Borrow) and node.resource.id in resources and id(node) in self.owners:
                    self.name(node, scope, what)

    def check_visible(self, scope: _Scope, e: Extern, what: str, offset: int) -> None:
        """Every resource handle and record, variant, enum and flags type used in the type of an
        import (`what` "import") or export must have an externally visible name here."""
        if e.kind in ("component", "core module"):
            return  # component types were checked as they were defined
        visited: set[int] = set()

        def allowed(t) -> bool:
            for owner, how in self.owners.get(id(t), ()):
                if owner is scope:
                    if how == "import" or what == "export":
                        return True
                elif owner.kind != "component":  # named inside a type declaration: part of the type
                    return True
            return False

        def walk(t, top: bool) -> bool:
            if t is None or id(t) in visited:
                return True
            visited.add(id(t))
            cls = type(t)
            if cls in _NAMEABLE or cls is Own or cls is Borrow:
                if not top and not allowed(t):
                    return False
            if cls is InstanceType:
                return all(walk(x.type, x.kind == "type") for _, x in t.exports)
            if cls is ComponentType:
                return True
            return all(walk(p, False) for p in _value_parts(t))

        if not walk(e.type, e.kind == "type"):
            raise self.error(f"{e.kind} not valid to be used as {what}", offset)

    def import_(self, scope: _Scope, d: D.Import) -> tuple[str, int]:
        e = self.extern_desc(scope, d.desc, d.name, d.offset)
        if d.desc.kind == "type" and d.desc.index is None:
            scope.imported_resources.append(e.type)
        e = self.freshen(e, scope.imported_resources)
        self.check_name(scope, d.name, d.attributes, e, d.offset, "import")
        e = self.named_extern(scope, d.name, e, "import")
        if scope.kind != "instance type":
            self.check_visible(scope, e, "import", d.offset)
        scope.imports.append((d.name, e))
        return self.add_named(scope, e, "import")

    def add_named(self, scope: _Scope, e: Extern, what: str) -> tuple[str, int]:
        added = self.add(scope, e.kind, e.type)
        if e.kind == "type":
            scope.named_index[added[1]] = what
        elif e.kind == "instance":
            scope.named_instances[added[1]] = what
        return added

    def export_decl(self, scope: _Scope, d: D.ExportDecl) -> tuple[str, int]:
        e = self.extern_desc(scope, d.desc, d.name, d.offset)
        if d.desc.kind == "type" and d.desc.index is None:
            scope.exported_resources.append(e.type)
        e = self.freshen(e, scope.exported_resources)
        if (scope.kind == "component type" and e.kind == "type" and isinstance(e.type, ValType)
                and contains(e.type, (Borrow,))):
            raise self.error("a type exported from a component type cannot contain a `borrow`", d.offset)
        self.check_name(scope, d.name, d.attributes, e, d.offset, "export")
        e = self.named_extern(scope, d.name, e, "export")
        if scope.kind != "instance type":
            self.check_visible(scope, e, "export", d.offset)
        scope.exports.append((d.name, e))
        return self.add_named(scope, e, "export")

    def item_extern(self, scope: _Scope, sort: str, index: int, offset: int) -> Extern:
        if sort == "value":
            raise self.gated("cm-values", "a value", offset)
        if sort.startswith("core ") and sort != "core module":
            raise self.error(f"a {sort} cannot be exported or passed to a component", offset)
        t = self.get(scope, sort, index, offset)
        return Extern(sort, t)

    def export(self, scope: _Scope, d: D.Export) -> tuple[str, int]:
        e = self.item_extern(scope, d.sort, d.index, d.offset)
        if d.desc is not None:
            ascribed = self.extern_desc(scope, d.desc, d.name, d.offset)
            if ascribed.kind == "type" and d.desc.index is None:
                # (sub resource): the export must be a resource, and outside it is a new abstract
                # one: a view of the same resource (in `resource_views`).
                if type(e.type) is not ResourceType:
                    raise self.error("ascribed type of export is not compatible: expected resource, found "
                                     "defined type", d.offset)
                view = ascribed.type
                scope.resource_views[view] = scope.resource_views.get(e.type, e.type)
                if e.type.id in scope.local_resources:
                    scope.local_resources.add(view.id)
                e = ascribed
            else:
                matcher = _Matcher(self)
                try:
                    matcher.extern(e, ascribed, "")
                except InvalidError as err:
                    raise self.error(f"ascribed type of export is not compatible with item's type: {err.reason}",
                                     d.offset) from None
                # The ascribed type, with the abstract resources it declares being the item's.
                t = substitute(ascribed.type, matcher.mapping, on_copy=self.copied)
                if type(t) is InstanceType:
                    t = InstanceType(t.exports, ())
                e = Extern(ascribed.kind, t)
        if e.kind == "type" and isinstance(e.type, ValType) and contains(e.type, (Borrow,)):
            raise self.error("a type exported from a component cannot contain a `borrow`", d.offset)
        self.check_name(scope, d.name, d.attributes, e, d.offset, "export")
        e = self.named_extern(scope, d.name, e, "export")
        self.check_visible(scope, e, "export", d.offset)
        scope.exports.append((d.name, e))
        return self.add_named(scope, e, "export")

    # --- instances ---
    def instantiate(self, scope: _Scope, d: D.Instantiate) -> InstanceType:
        if d.component >= len(scope.components):
            raise self.error(f"unknown component {d.component}: component index out of bounds", d.offset)
        ct: ComponentType = scope.components[d.component]
        args: dict[str, Extern] = {}
        keys: dict[str, str] = {}
        for name, sort, index in d.args:
            key = strongly_unique_key(name)
            if key in keys:
                raise self.error(f"instantiation argument `{name}` conflicts with previous argument `{keys[key]}`",
                                 d.offset)
            keys[key] = name
            args[name] = self.item_extern(scope, sort, index, d.offset)
        try:
            return instantiation_type(ct, args, on_fresh=self.keep.append, on_copy=self.copied,
                                      same_types=self.named_copies)
        except ImportMismatch as err:
            if err.reason is None:
                raise self.error(f"missing import named `{err.name}`", d.offset) from None
            raise self.error(f"type mismatch for import `{err.name}`: {err.reason}", d.offset) from None

    def inline_exports(self, scope: _Scope, d: D.InlineExports) -> InstanceType:
        exports = []
        names: dict[str, str] = {}
        for attrs in d.attributes:
            for kind, _text in attrs:
                raise self.gated("cm-implements", f"the `{kind}` attribute on an instance export", d.offset)
        for name, sort, index in d.exports:
            e = self.item_extern(scope, sort, index, d.offset)
            problem = extern_name_problem(name)
            if problem is not None:
                raise self.error(f"`{name}` is not a valid extern name: {problem}", d.offset)
            key = strongly_unique_key(name)
            if key in names:
                raise self.error(f"export name `{name}` conflicts with previous name `{names[key]}`", d.offset)
            names[key] = name
            exports.append((name, e))
        resources = {name: e.type for name, e in exports if e.kind == "type" and type(e.type) is ResourceType}
        handle_named = lambda h: any(owner is scope for owner, _ in self.owners.get(id(h), ()))  # noqa: E731
        for name, e in exports:
            self.check_annotation(name, e, d.offset, resources, handle_named=handle_named)
        return InstanceType(tuple(exports))

    # --- canon ---
    def options(self, scope: _Scope, opts, offset: int) -> OptionIndices:
        encoding = None
        memory = realloc = post_return = None
        for o in opts:
            if o.name in ("utf8", "utf16", "latin1+utf16"):
                if encoding is not None:
                    raise self.error(f"canonical encoding option `{_enc(encoding)}` conflicts with option "
                                     f"`{_enc(o.name)}`", o.offset)
                encoding = o.name
            elif o.name == "memory":
                if memory is not None:
                    raise self.error("canonical option `memory` is specified more than once", o.offset)
                mt = self.get(scope, "core memory", o.index, o.offset)
                if mt.addr != I32:
                    raise self.error("canonical option `memory` must be a 32-bit memory", o.offset)
                memory = o.index
            elif o.name == "realloc":
                if realloc is not None:
                    raise self.error("canonical option `realloc` is specified more than once", o.offset)
                if self.get(scope, "core func", o.index, o.offset) != REALLOC_TYPE:
                    raise self.error("canonical option `realloc` uses a core function with an incorrect "
                                     "signature", o.offset)
                realloc = o.index
            elif o.name == "post-return":
                if post_return is not None:
                    raise self.error("canonical option `post-return` is specified more than once", o.offset)
                self.get(scope, "core func", o.index, o.offset)
                post_return = o.index
            else:
                raise self.gated("cm-async", f"the `{o.name}` canonical option", o.offset)
        if realloc is not None and memory is None:
            raise self.error("canonical option `realloc` requires `memory` to also be specified", offset)
        return OptionIndices(encoding or "utf8", memory, realloc, post_return)

    def canon(self, scope: _Scope, d) -> CanonInfo:
        cls = type(d)
        if cls is D.CanonResource:
            r = self.resource(scope, d.type, d.offset)
            if d.op != "drop" and r.id not in scope.local_resources:
                raise self.error(f"type index {d.type} is not a local resource", d.offset)
            core = DTOR_TYPE if d.op == "drop" else CoreFuncType((I32,), (I32,))
            return CanonInfo(f"resource.{d.op}", OptionIndices(), core, resource=r)
        opts = self.options(scope, d.options, d.offset)
        if cls is D.CanonLift:
            core = self.get(scope, "core func", d.core_func, d.offset)
            ft = self.get(scope, "type", d.type, d.offset)
            if type(ft) is not FuncType:
                raise self.error(f"type index {d.type} is not a function type", d.offset)
            want = flatten_functype(ft, "lift")
            self.require_options(ft, opts, "lift", d.offset)
            if core.params != want.params:
                raise self.error(f"lowered parameter types `{_core_types(want.params)}` do not match parameter "
                                 f"types `{_core_types(core.params)}` of core function {d.core_func}", d.offset)
            if core.results != want.results:
                raise self.error(f"lowered result types `{_core_types(want.results)}` do not match result types "
                                 f"`{_core_types(core.results)}` of core function {d.core_func}", d.offset)
            if opts.post_return is not None:
                pr = scope.core_funcs[opts.post_return]
                if pr != CoreFuncType(want.results, ()):
                    raise self.error("canonical option `post-return` uses a core function with an incorrect "
                                     f"signature: {pr}, wanted {CoreFuncType(want.results, ())}", d.offset)
            return CanonInfo("lift", opts, core, func_type=ft, core_func=d.core_func)
        ft = self.get(scope, "func", d.func, d.offset)
        if opts.post_return is not None:
            raise self.error("canonical option `post-return` cannot be specified for lowerings", d.offset)
        self.require_options(ft, opts, "lower", d.offset)
        return CanonInfo("lower", opts, flatten_functype(ft, "lower"), func_type=ft, func=d.func)

    def require_options(self, ft: FuncType, opts: OptionIndices, context: str, offset: int) -> None:
        """The options a lift or lower of `ft` needs (CanonicalABI.md, canonopt validation)."""
        params = [t for _, t in ft.params]
        lists_in_params = any(contains(t, (List,)) for t in params)
        lists_in_result = ft.result is not None and contains(ft.result, (List,))
        many_params = len(flatten_types(params)) > MAX_FLAT_PARAMS
        many_results = ft.result is not None and len(flatten_types((ft.result,))) > MAX_FLAT_RESULTS
        # Into the core side: lift passes parameters in (lift(param): realloc), results out (lower: memory).
        # lower passes parameters out (lower(param): memory), results in (lift(result): realloc).
        need_memory = lists_in_params or lists_in_result or many_params or many_results
        need_realloc = lists_in_params or many_params if context == "lift" else lists_in_result
        if need_memory and opts.memory is None:
            raise self.error("canonical option `memory` is required", offset)
        if need_realloc and opts.realloc is None:
            raise self.error("canonical option `realloc` is required", offset)


class _Matcher:
    """Subtyping of extern types (`have` may be used where `want` is expected). Resources of `bound`
    (on the wanted side: imports of a component being instantiated, abstract resources of a type) are
    bound to the first type they are matched against, in `mapping`."""

    def __init__(self, v: _Validator, bound=()):
        self.v = v
        self.bound = {r.id for r in bound}
        self.mapping: dict[ResourceType, object] = {}

    def fail(self, reason: str):
        return InvalidError(reason)

    def extern(self, have: Extern, want: Extern, name: str) -> None:
        if have.kind != want.kind:
            raise self.fail(f"expected {want.kind}, found {have.kind}")
        kind = want.kind
        if kind == "func":
            self.func(have.type, want.type)
        elif kind == "type":
            self.type(have.type, want.type)
        elif kind == "instance":
            self.instance(have.type, want.type)
        elif kind == "component":
            self.component(have.type, want.type)
        elif kind == "core module":
            self.module(have.type, want.type)

    def type(self, have, want) -> None:
        if type(want) is ResourceType:
            if type(have) is not ResourceType:
                raise self.fail("expected resource, found defined type")
            self.resource(have, want)
        elif type(have) is ResourceType:
            raise self.fail("expected defined type, found resource")
        elif type(want) is FuncType:
            if type(have) is not FuncType:
                raise self.fail("expected func type")
            self.func(have, want)
        elif type(want) is InstanceType:
            if type(have) is not InstanceType:
                raise self.fail("expected instance type")
            self.instance(have, want)
        elif type(want) is ComponentType:
            if type(have) is not ComponentType:
                raise self.fail("expected component type")
            self.component(have, want)
        else:
            if not isinstance(have, ValType):
                raise self.fail("expected a defined value type")
            self.value(have, want)

    def resource(self, have: ResourceType, want: ResourceType) -> None:
        if want.id in self.bound and want not in self.mapping:
            self.mapping[want] = have
            return
        if self.mapping.get(want, want) is not have:
            raise self.fail("resource types are not the same")

    def func(self, have: FuncType, want: FuncType) -> None:
        if len(have.params) != len(want.params):
            raise self.fail(f"expected {len(want.params)} parameters, found {len(have.params)}")
        for (hn, ht), (wn, wt) in zip(have.params, want.params):
            if hn != wn:
                raise self.fail(f"expected parameter named `{wn}`, found `{hn}`")
            try:
                self.value(ht, wt)
            except InvalidError as e:
                raise self.fail(f"type mismatch in function parameter `{wn}`: {e.reason}") from None
        if (have.result is None) != (want.result is None):
            raise self.fail("expected a result, found none" if have.result is None else "expected no result")
        if want.result is not None:
            try:
                self.value(have.result, want.result)
            except InvalidError as e:
                raise self.fail(f"type mismatch with result type: {e.reason}") from None

    def value(self, have, want) -> None:
        if have is want:
            return
        hc, wc = type(have), type(want)
        if hc is not wc:
            raise self.fail(f"expected {_kind(want)}, found {_kind(have)}")
        if wc is Prim:
            if have.name != want.name:
                raise self.fail(f"expected primitive `{want.name}` found primitive `{have.name}`")
        elif wc is Record:
            if len(have.fields) != len(want.fields):
                raise self.fail(f"expected {len(want.fields)} fields, found {len(have.fields)}")
            for (hn, ht), (wn, wt) in zip(have.fields, want.fields):
                if hn != wn:
                    raise self.fail(f"expected field name `{wn}`, found `{hn}`")
                self.nested(ht, wt, f"record field `{wn}`")
        elif wc is Variant:
            if len(have.cases) != len(want.cases):
                raise self.fail(f"expected {len(want.cases)} cases, found {len(have.cases)}")
            for (hn, ht), (wn, wt) in zip(have.cases, want.cases):
                if hn != wn:
                    raise self.fail(f"expected case named `{wn}`, found `{hn}`")
                if (ht is None) != (wt is None):
                    raise self.fail(f"expected case `{wn}` to have a type, found none" if ht is None
                                    else f"expected case `{wn}` to have no type")
                if wt is not None:
                    self.nested(ht, wt, f"variant case `{wn}`")
        elif wc is List:
            self.nested(have.elem, want.elem, "list element")
        elif wc is Tuple:
            if len(have.types) != len(want.types):
                raise self.fail(f"expected {len(want.types)} types, found {len(have.types)}")
            for i, (ht, wt) in enumerate(zip(have.types, want.types)):
                self.nested(ht, wt, f"tuple field {i}")
        elif wc is Flags:
            if have.names != want.names:
                raise self.fail("mismatch in flags elements")
        elif wc is Enum:
            if have.names != want.names:
                raise self.fail("mismatch in enum elements")
        elif wc is Option:
            self.nested(have.type, want.type, "option")
        elif wc is Result:
            for side, h, w in (("ok", have.ok, want.ok), ("err", have.err, want.err)):
                if (h is None) != (w is None):
                    raise self.fail(f"expected {side} type to not be present" if w is None
                                    else f"expected {side} type, but found none")
                if w is not None:
                    self.nested(h, w, f"{side} variant")
        elif wc is Own or wc is Borrow:
            self.resource(have.resource, want.resource)

    def nested(self, have, want, where: str) -> None:
        try:
            self.value(have, want)
        except InvalidError as e:
            raise self.fail(f"type mismatch in {where}: {e.reason}") from None

    def instance(self, have: InstanceType, want: InstanceType) -> None:
        self.bound |= {r.id for r in want.resources}
        for name, w in want.exports:
            h = have.export(name)
            if h is None:
                raise self.fail(f"missing expected export `{name}`")
            try:
                self.extern(h, w, name)
            except InvalidError as e:
                raise self.fail(f"type mismatch in instance export `{name}`: {e.reason}") from None

    def component(self, have: ComponentType, want: ComponentType) -> None:
        # Imports are contravariant: what `want` promises to supply must satisfy what `have`
        # imports, binding `have`'s abstract imported resources to `want`'s.
        inner = _Matcher(self.v, bound=have.imported_resources)
        inner.mapping = dict(self.mapping)
        for name, h in have.imports:
            w = want.import_(name)
            if w is None:
                raise self.fail(f"missing expected import `{name}`")
            try:
                inner.extern(w, h, name)
            except InvalidError as e:
                raise self.fail(f"type mismatch in import `{name}`: {e.reason}") from None
        bindings = {r: inner.mapping[r] for r in have.imported_resources if r in inner.mapping}
        self.bound |= {r.id for r in want.exported_resources}
        for name, w in want.exports:
            h = have.export(name)
            if h is None:
                raise self.fail(f"missing expected export `{name}`")
            try:
                self.extern(substitute(h, bindings), w, name)
            except InvalidError as e:
                raise self.fail(f"type mismatch in export `{name}`: {e.reason}") from None

    def module(self, have: CoreModuleType, want: CoreModuleType) -> None:
        want_imports = {(m, n): t for m, n, t in want.imports}
        for m, n, h in have.imports:
            w = want_imports.get((m, n))
            if w is None:
                raise self.fail(f"missing expected import `{m}::{n}`")
            if import_mismatch(h.kind, h.type, w.kind, w.type) is not None:
                raise self.fail(f"type mismatch in import `{m}::{n}`")
        for n, w in want.exports:
            h = have.export(n)
            if h is None:
                raise self.fail(f"missing expected export `{n}`")
            why = import_mismatch(w.kind, w.type, h.kind, h.type)
            if why is not None:
                raise self.fail(f"type mismatch in export `{n}`: it {why}")


_NAMEABLE = (Record, Variant, Enum, Flags)  # the value types that need an external name


def _value_parts(t) -> tuple:
    cls = type(t)
    if cls is Record:
        return tuple(x for _, x in t.fields)
    if cls is Variant:
        return tuple(x for _, x in t.cases if x is not None)
    if cls is List:
        return (t.elem,)
    if cls is Tuple:
        return t.types
    if cls is Option:
        return (t.type,)
    if cls is Result:
        return tuple(x for x in (t.ok, t.err) if x is not None)
    if cls is FuncType:
        return tuple(x for _, x in t.params) + ((t.result,) if t.result is not None else ())
    if cls is InstanceType:
        return tuple(e.type for _, e in t.exports)
    return ()


def _nodes(t):
    """Every type object inside `t` (once each)."""
    seen: set[int] = set()
    stack = [t]
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        yield x
        stack.extend(_value_parts(x))


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

_WORD = r"[a-z][0-9a-z]*"
_LABEL_RE = re.compile(r"(?:[a-z][0-9a-z]*|[A-Z][0-9A-Z]*)(?:-(?:[0-9a-z]+|[0-9A-Z]+))*\Z")
_WORDS_RE = re.compile(rf"{_WORD}(?:-[0-9a-z]+)*\Z")
_ANNOTATED = re.compile(r"\[(constructor|method|static)\]([^.]*)(?:\.(.*))?\Z", re.S)
_SEMVER_RE = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z")


def is_label(s: str) -> bool:
    """Whether `s` is a kebab-case label (Explainer.md: `label`)."""
    return _LABEL_RE.match(s) is not None


def extern_name_problem(name: str) -> str | None:
    """None if `name` is a valid import or export name (a plain name, with an optional
    [constructor]/[method]/[static] annotation, or an interface name), else what is wrong."""
    if name == "":
        return "`` is not in kebab case"
    if name.startswith("["):
        m = _ANNOTATED.match(name)
        if m is None:
            return "unknown annotation"
        annotation, first, second = m.groups()
        if annotation == "constructor":
            if second is not None:
                return f"`{first}.{second}` is not in kebab case"
            return None if is_label(first) else f"`{first}` is not in kebab case"
        if second is None:
            return "failed to find `.` character"
        for part in (first, second):
            if not is_label(part):
                return f"`{part}` is not in kebab case"
        return None
    if ":" in name or "/" in name or "@" in name:
        return _interface_name_problem(name)
    return None if is_label(name) else f"`{name}` is not in kebab case"


def _interface_name_problem(name: str) -> str | None:
    rest, _, version = name.partition("@")
    if "@" in name and not _SEMVER_RE.match(version):
        return f"`{version}` is not a valid semver"
    namespace, colon, rest = rest.partition(":")
    if not colon:
        return f"`{name}` is not in kebab case"
    if not _WORDS_RE.match(namespace):
        return f"`{namespace}` is not in kebab case"
    package, slash, projection = rest.partition("/")
    if not slash:
        return "expected `/` after package name"
    if not _WORDS_RE.match(package):
        return f"`{package}` is not in kebab case"
    if "/" in projection:
        return f"trailing characters found: `/{projection.partition('/')[2]}`"
    if not is_label(projection):
        return f"`{projection}` is not in kebab case"
    return None


def strongly_unique_key(name: str) -> str:
    """The canonical form two names must not share (Explainer.md, "Name Uniqueness")."""
    key = name.lower()
    m = _ANNOTATED.match(key)
    if m is None:
        return key
    annotation, first, second = m.groups()
    if annotation == "constructor":
        return key
    if second is not None and first == second:
        return first
    return f"{first}.{second}" if second is not None else first


def _resource_label(name: str) -> str:
    """The resource name an import or export name gives a resource type (its last label)."""
    if ":" in name or "/" in name:
        return name.rpartition("/")[2].partition("@")[0]
    return name


def _enc(name: str) -> str:
    return "latin1-utf16" if name == "latin1+utf16" else name


def _core_types(types) -> str:
    return "[" + ", ".join(type_name(t).upper() for t in types) + "]"


def _kind(t) -> str:
    cls = type(t)
    if cls is Prim:
        return t.name
    return {Prim: "primitive", Record: "record", Variant: "variant", List: "list", Tuple: "tuple", Flags: "flags",
            Enum: "enum", Option: "option", Result: "result", Own: "own", Borrow: "borrow"}.get(cls, cls.__name__)


__all__ = ["validate_component", "ComponentInfo", "CanonInfo", "OptionIndices", "ResourceInfo", "is_label",
           "extern_name_problem", "strongly_unique_key"]
