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
