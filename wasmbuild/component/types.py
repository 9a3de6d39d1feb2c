"""Component-level types: the value types of the component model and the types built from them.

A value type is an immutable record: `Prim(name)` for the primitive types (bool, s8 ... u64, f32,
f64, char, string), `Record`, `Variant`, `List`, `Tuple`, `Flags`, `Enum`, `Option`, `Result`,
`Own` and `Borrow` (handles of a `ResourceType`). Type indices are resolved away when a binary is
decoded: a value type holds its component types directly, so two equal structures compare equal
(`==`) and hash alike. Resource types are the exception: each definition (or abstract import) is a
distinct type, compared by identity. `FuncType` is a component function type (named parameters, at
most one result).

Names and encodings follow the binary format (design-mvp/Binary.md): `PRIM_CODES` maps the
primitive opcodes to names.

The other types of the component model, as validation (`validate.py`) resolves them: `Extern(kind,
type)` (the type of an import, export or index-space item), `InstanceType`, `ComponentType` (with
the abstract resources they bind), `CoreModuleType`, `CoreInstanceType` and `CoreExtern` (core
extern types as `contract.types` has them). Helpers: `substitute(t, mapping)` replaces parts by
identity (resource types, type imports), `resources_in(t)`, `contains(t, classes)`. (The canonical
ABI's facts of a type, flattening, sizes and alignments, are in `canonical.py`.)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

PRIM_CODES = {0x7F: "bool", 0x7E: "s8", 0x7D: "u8", 0x7C: "s16", 0x7B: "u16", 0x7A: "s32",
              0x79: "u32", 0x78: "s64", 0x77: "u64", 0x76: "f32", 0x75: "f64", 0x74: "char",
              0x73: "string"}
PRIM_NAMES = frozenset(PRIM_CODES.values())

# Integer ranges of the integer primitives: name -> (lowest, highest).
INT_RANGES = {name: ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if name[0] == "s" else (0, (1 << bits) - 1))
              for name, bits in (("s8", 8), ("u8", 8), ("s16", 16), ("u16", 16), ("s32", 32),
                                 ("u32", 32), ("s64", 64), ("u64", 64))}


class ValType:
    """Base of the component value types."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Prim(ValType):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Record(ValType):
    fields: tuple[tuple[str, ValType], ...]  # (label, type) in declaration order

    def __str__(self) -> str:
        return "record { " + ", ".join(f"{n}: {t}" for n, t in self.fields) + " }"


@dataclass(frozen=True, slots=True)
class Variant(ValType):
    cases: tuple[tuple[str, ValType | None], ...]  # (label, payload type or None)

    def __str__(self) -> str:
        return "variant { " + ", ".join(n if t is None else f"{n}({t})" for n, t in self.cases) + " }"


@dataclass(frozen=True, slots=True)
class List(ValType):
    elem: ValType

    def __str__(self) -> str:
        return f"list<{self.elem}>"


@dataclass(frozen=True, slots=True)
class Tuple(ValType):
    types: tuple[ValType, ...]

    def __str__(self) -> str:
        return "tuple<" + ", ".join(map(str, self.types)) + ">"


@dataclass(frozen=True, slots=True)
class Flags(ValType):
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "flags { " + ", ".join(self.names) + " }"


@dataclass(frozen=True, slots=True)
class Enum(ValType):
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "enum { " + ", ".join(self.names) + " }"


@dataclass(frozen=True, slots=True)
class Option(ValType):
    type: ValType

    def __str__(self) -> str:
        return f"option<{self.type}>"


@dataclass(frozen=True, slots=True)
class Result(ValType):
    ok: ValType | None
    err: ValType | None

    def __str__(self) -> str:
        return f"result<{self.ok or '_'}, {self.err or '_'}>"


_resource_ids = itertools.count()


@dataclass(eq=False, slots=True)
class ResourceType:
    """A resource type: a definition `(resource (rep i32) (dtor f)?)` of some component instance,
    or an abstract type a component imports. Equal only to itself."""

    name: str  # for messages: the import or export name it was given, or "resource"
    dtor: object = None  # defined resources: where the destructor is (set by whoever defines it)
    id: int = field(default_factory=lambda: next(_resource_ids))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Own(ValType):
    resource: ResourceType

    def __str__(self) -> str:
        return f"own<{self.resource}>"


@dataclass(frozen=True, slots=True)
class Borrow(ValType):
    resource: ResourceType

    def __str__(self) -> str:
        return f"borrow<{self.resource}>"


@dataclass(frozen=True, slots=True)
class FuncType:
    params: tuple[tuple[str, ValType], ...]
    result: ValType | None

    def __str__(self) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in self.params)
        return f"func({params})" + (f" -> {self.result}" if self.result is not None else "")


def prim(name: str) -> Prim:
    """The primitive type `name` ("u32", "string", ...)."""
    return _PRIMS[name]


_PRIMS = {name: Prim(name) for name in PRIM_NAMES}


# ---------------------------------------------------------------------------------------------
# The non-value types: extern types, instance, component and core module types
# ---------------------------------------------------------------------------------------------
# What `component/validate.py` resolves a component's definitions to. An `Extern(kind, type)` is
# the type of an import or export (or of any item of an index space): kind "func" (a FuncType),
# "type" (a ValType, ResourceType, FuncType, InstanceType or ComponentType), "instance" (an
# InstanceType), "component" (a ComponentType) or "core module" (a CoreModuleType).
#
# Resource types are compared by identity. An instance or component *type* may declare abstract
# resources (`(export "r" (type (sub resource)))`, `(import "r" (type (sub resource)))`): those are
# bound in the type (its `resources`, `imported_resources`, `exported_resources`) and are replaced
# by fresh ResourceTypes (`substitute`) each time the type is imported or instantiated.

EXTERN_KINDS = ("func", "type", "instance", "component", "core module", "value")


@dataclass(frozen=True, slots=True)
class Extern:
    kind: str
    type: object

    def __str__(self) -> str:
        return f"{self.kind} {self.type}"


@dataclass(frozen=True, slots=True)
class InstanceType:
    exports: tuple[tuple[str, Extern], ...]
    resources: tuple[ResourceType, ...] = ()  # abstract resources it declares (bound in it)

    def export(self, name: str) -> Extern | None:
        for n, e in self.exports:
            if n == name:
                return e
        return None

    def __str__(self) -> str:
        return "instance { " + ", ".join(f"{n}: {e}" for n, e in self.exports) + " }"


@dataclass(frozen=True, slots=True)
class ComponentType:
    imports: tuple[tuple[str, Extern], ...]
    exports: tuple[tuple[str, Extern], ...]
    imported_resources: tuple[ResourceType, ...] = ()  # supplied by whoever instantiates it
    exported_resources: tuple[ResourceType, ...] = ()  # made afresh by each instantiation

    def import_(self, name: str) -> Extern | None:
        return next((e for n, e in self.imports if n == name), None)

    def export(self, name: str) -> Extern | None:
        return next((e for n, e in self.exports if n == name), None)

    def __str__(self) -> str:
        return ("component { " + ", ".join(f"import {n}: {e}" for n, e in self.imports)
                + "; " + ", ".join(f"export {n}: {e}" for n, e in self.exports) + " }")


@dataclass(frozen=True, slots=True)
class CoreExtern:
    """A core extern type: kind a `contract.types.EXTERN_*`, type the `contract.types` FuncType
    (functions and tags), TableType, MemoryType or GlobalType."""

    kind: int
    type: object


@dataclass(frozen=True, slots=True)
class CoreModuleType:
    imports: tuple[tuple[str, str, CoreExtern], ...]  # (module, name, type)
    exports: tuple[tuple[str, CoreExtern], ...]

    def export(self, name: str) -> CoreExtern | None:
        return next((e for n, e in self.exports if n == name), None)


@dataclass(frozen=True, slots=True)
class CoreInstanceType:
    exports: tuple[tuple[str, CoreExtern], ...]

    def export(self, name: str) -> CoreExtern | None:
        return next((e for n, e in self.exports if n == name), None)


def substitute(t, mapping, on_copy=None):
    """`t` (a value, function, instance, component or extern type) with every part `old` that
    `mapping` maps (a dict or (old, new) pairs, matched by identity: usually ResourceTypes) replaced
    by its `new`; parts that contain none are kept as they are (the same objects). `on_copy(old,
    new)` is told of every part rebuilt because something in it was replaced."""
    by_id = {id(k): v for k, v in (mapping.items() if isinstance(mapping, dict) else mapping)}
    if not by_id:
        return t
    memo: dict[int, object] = {}

    def sub(t):
        key = id(t)
        if key in by_id:
            return by_id[key]
        if key in memo:
            return memo[key]
        cls = type(t)
        if cls is ResourceType or cls is Prim or t is None or cls is Flags or cls is Enum:
            out = t
        elif cls is Own or cls is Borrow:
            out = cls(sub(t.resource))
        elif cls is Record:
            out = Record(tuple((n, sub(x)) for n, x in t.fields))
        elif cls is Variant:
            out = Variant(tuple((n, sub(x)) for n, x in t.cases))
        elif cls is List:
            out = List(sub(t.elem))
        elif cls is Tuple:
            out = Tuple(tuple(sub(x) for x in t.types))
        elif cls is Option:
            out = Option(sub(t.type))
        elif cls is Result:
            out = Result(sub(t.ok), sub(t.err))
        elif cls is FuncType:
            out = FuncType(tuple((n, sub(x)) for n, x in t.params), sub(t.result))
        elif cls is Extern:
            out = Extern(t.kind, sub(t.type))
        elif cls is InstanceType:
            out = InstanceType(tuple((n, sub(e)) for n, e in t.exports),
                               tuple(sub(r) for r in t.resources))
        elif cls is ComponentType:
            out = ComponentType(tuple((n, sub(e)) for n, e in t.imports),
                                tuple((n, sub(e)) for n, e in t.exports),
                                tuple(sub(r) for r in t.imported_resources),
                                tuple(sub(r) for r in t.exported_resources))
        else:  # core module types and anything without resources
            out = t
        if out is not t and _same_parts(out, t):
            out = t  # nothing inside changed: keep the original object
        elif out is not t and on_copy is not None:
            on_copy(t, out)
        memo[key] = out
        return out

    return sub(t)


def _parts(t) -> tuple:
    cls = type(t)
    if cls is Own or cls is Borrow:
        return (t.resource,)
    if cls is Record:
        return tuple(x for _, x in t.fields)
    if cls is Variant:
        return tuple(x for _, x in t.cases)
    if cls is List:
        return (t.elem,)
    if cls is Tuple:
        return t.types
    if cls is Option:
        return (t.type,)
    if cls is Result:
        return (t.ok, t.err)
    if cls is FuncType:
        return tuple(x for _, x in t.params) + (t.result,)
    if cls is Extern:
        return (t.type,)
    if cls is InstanceType:
        return tuple(e for _, e in t.exports) + t.resources
    if cls is ComponentType:
        return (tuple(e for _, e in t.imports + t.exports) + t.imported_resources + t.exported_resources)
    return ()


def _same_parts(a, b) -> bool:
    pa, pb = _parts(a), _parts(b)
    return len(pa) == len(pb) and all(x is y for x, y in zip(pa, pb))


def resources_in(t) -> list[ResourceType]:
    """The resource types `t` refers to (each once, in the order first met)."""
    seen: dict[int, ResourceType] = {}
    visited: set[int] = set()

    def walk(t):
        if t is None or id(t) in visited:
            return
        visited.add(id(t))
        cls = type(t)
        if cls is ResourceType:
            seen.setdefault(t.id, t)
        elif cls is Own or cls is Borrow:
            walk(t.resource)
        elif cls is Record:
            for _, x in t.fields:
                walk(x)
        elif cls is Variant:
            for _, x in t.cases:
                walk(x)
        elif cls is List:
            walk(t.elem)
        elif cls is Tuple:
            for x in t.types:
                walk(x)
        elif cls is Option:
            walk(t.type)
        elif cls is Result:
            walk(t.ok)
            walk(t.err)
        elif cls is FuncType:
            for _, x in t.params:
                walk(x)
            walk(t.result)
        elif cls is Extern:
            walk(t.type)
        elif cls is InstanceType:
            for _, e in t.exports:
                walk(e)
        elif cls is ComponentType:
            for _, e in t.imports + t.exports:
                walk(e)

    walk(t)
    return list(seen.values())


def contains(t, classes: tuple) -> bool:
    """Whether value type `t` contains (is, or has a part that is) an instance of one of `classes`
    (e.g. `(List,)`, `(Borrow,)`); Prim("string") counts as a List for `(List,)`."""
    visited: set[int] = set()

    def walk(t) -> bool:
        if t is None or id(t) in visited:
            return False
        visited.add(id(t))
        cls = type(t)
        if cls in classes or (cls is Prim and t.name == "string" and List in classes):
            return True
        if cls is Record:
            return any(walk(x) for _, x in t.fields)
        if cls is Variant:
            return any(walk(x) for _, x in t.cases)
        if cls is List:
            return walk(t.elem)
        if cls is Tuple:
            return any(walk(x) for x in t.types)
        if cls is Option:
            return walk(t.type)
        if cls is Result:
            return walk(t.ok) or walk(t.err)
        return False

    return walk(t)
