"""The types of WebAssembly 2.0 as plain Python data, and the one codec of their names.

Shared by the decoder, validator, compiler, linker and runtime (this package imports no llvmlite).
Value types are the small integers of their binary encoding (`I32 == 0x7F`, ...), which keeps the
decoder and the validator's hot loops free of lookups. Names: `type_name(I32) == "i32"` and back with
`parse_type`; a signature's symbol-safe key `sig_key(ft) == "iI_f"` and back with `parse_sig_key`;
a signature as JSON `functype_to_json` / `functype_from_json`.
"""

from __future__ import annotations

from typing import NamedTuple

# Value types, by their binary encoding.
I32, I64, F32, F64, V128 = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B
FUNCREF, EXTERNREF = 0x70, 0x6F
NUM_TYPES = frozenset((I32, I64, F32, F64))
VEC_TYPES = frozenset((V128,))
REF_TYPES = frozenset((FUNCREF, EXTERNREF))
VAL_TYPES = NUM_TYPES | VEC_TYPES | REF_TYPES

# The block type of a block without parameters or results (others are a value type or a type index).
EMPTY_BLOCK_TYPE = 0x40

VALTYPE_NAMES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128",
                 FUNCREF: "funcref", EXTERNREF: "externref"}

# External kinds, by their binary encoding in imports and exports.
EXTERN_FUNC, EXTERN_TABLE, EXTERN_MEMORY, EXTERN_GLOBAL = 0, 1, 2, 3
EXTERN_NAMES = ("func", "table", "memory", "global")

PAGE_SIZE = 65536
MAX_PAGES = 65536


def type_name(t: int) -> str:
    return VALTYPE_NAMES.get(t, f"<type {t:#x}>")


class FuncType(NamedTuple):
    """A function signature; hashable, so equal signatures can be canonicalised across modules."""

    params: tuple[int, ...]
    results: tuple[int, ...]

    def __str__(self) -> str:
        return "[{}] -> [{}]".format(" ".join(map(type_name, self.params)),
                                     " ".join(map(type_name, self.results)))


class Limits(NamedTuple):
    min: int
    max: int | None


class TableType(NamedTuple):
    elem: int  # FUNCREF or EXTERNREF
    limits: Limits


class MemoryType(NamedTuple):
    limits: Limits


class GlobalType(NamedTuple):
    valtype: int
    mutable: bool


def matches(actual, expected) -> bool:
    """Whether a value of type `actual` can be used where `expected` is wanted (subtyping)."""
    return actual == expected


_TYPES_BY_NAME = {name: t for t, name in VALTYPE_NAMES.items()}


def parse_type(name: str) -> int:
    """The value type named `name` ("i32", "funcref", ...); KeyError for anything else."""
    return _TYPES_BY_NAME[name]


_SIG_LETTERS = {I32: "i", I64: "I", F32: "f", F64: "F", V128: "v", FUNCREF: "r", EXTERNREF: "x"}
_TYPES_BY_LETTER = {letter: t for t, letter in _SIG_LETTERS.items()}


def sig_key(ft: FuncType) -> str:
    """A symbol-safe name for a signature, e.g. `iI_f` for [i32 i64] -> [f32]."""
    return "".join(_SIG_LETTERS[t] for t in ft.params) + "_" + "".join(_SIG_LETTERS[t] for t in ft.results)


def parse_sig_key(key: str) -> FuncType:
    """The signature that `sig_key` gave `key`; KeyError or ValueError for anything else."""
    params, results = key.split("_")
    return FuncType(tuple(_TYPES_BY_LETTER[c] for c in params), tuple(_TYPES_BY_LETTER[c] for c in results))


def functype_to_json(ft: FuncType) -> list:
    """[[param names], [result names]]."""
    return [[type_name(p) for p in ft.params], [type_name(r) for r in ft.results]]


def functype_from_json(value) -> FuncType:
    params, results = value
    return FuncType(tuple(map(parse_type, params)), tuple(map(parse_type, results)))
