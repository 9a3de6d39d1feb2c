"""The types of WebAssembly (2.0, and the reference types of typed function references) as plain
Python data, and the one codec of their names; memories and tables also carry their address type
(i32, or i64 with memory64).

Shared by the decoder, validator, compiler, linker and runtime (this package imports no llvmlite).
Value types are the small integers of their binary encoding (`I32 == 0x7F`, ...), which keeps the
decoder and the validator's hot loops free of lookups; so are the nullable abstract reference types
that have a one-byte shorthand (`FUNCREF`, `EXTERNREF`, `EXNREF`). Every other reference type is a
`RefType(nullable, heap)`, made only by `ref_type` (which gives the shorthand int where there is
one, so each type has one representation): `heap` is an abstract heap type (`HT_FUNC`, `HT_NOFUNC`,
... the byte of its encoding) or, for `(ref null? $t)`, the `FuncType` of `$t` itself, so that two
modules' references to structurally equal function types are equal types (before GC no function
type can refer to itself, and a type index is resolved when decoded). Types are hashable; `matches`
is the subtyping relation. Names: `type_name(I32) == "i32"`, `type_name(RefType(False, HT_FUNC)) ==
"(ref func)"` and back with `parse_type`; a signature's symbol-safe key `sig_key(ft) == "iI_f"` and
back with `parse_sig_key`; a signature as JSON `functype_to_json` / `functype_from_json`.
"""

from __future__ import annotations

from typing import NamedTuple

# Value types, by their binary encoding.
I32, I64, F32, F64, V128 = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B
FUNCREF, EXTERNREF = 0x70, 0x6F
EXNREF = 0x69  # exception handling: the nullable exnref shorthand, (ref null exn)
NUM_TYPES = frozenset((I32, I64, F32, F64))
VEC_TYPES = frozenset((V128,))
REF_TYPES = frozenset((FUNCREF, EXTERNREF, EXNREF))  # the one-byte reference types (see is_ref for all)
VAL_TYPES = NUM_TYPES | VEC_TYPES | REF_TYPES

# Abstract heap types, by the byte that encodes them (as a heap type, and as the shorthand of the
# nullable reference to them). GC's any/eq/i31/struct/array/none would join here.
HT_FUNC, HT_EXTERN, HT_EXN = FUNCREF, EXTERNREF, EXNREF
HT_NOFUNC, HT_NOEXTERN, HT_NOEXN = 0x73, 0x72, 0x74
ABSTRACT_HEAP_TYPES = frozenset((HT_FUNC, HT_EXTERN, HT_EXN, HT_NOFUNC, HT_NOEXTERN, HT_NOEXN))
# The abstract heap type each one is below (its hierarchy's top) and the bottom of each hierarchy.
_HEAP_TOP = {HT_FUNC: HT_FUNC, HT_NOFUNC: HT_FUNC, HT_EXTERN: HT_EXTERN, HT_NOEXTERN: HT_EXTERN,
             HT_EXN: HT_EXN, HT_NOEXN: HT_EXN}
_HEAP_BOTTOM = {HT_FUNC: HT_NOFUNC, HT_EXTERN: HT_NOEXTERN, HT_EXN: HT_NOEXN}
_SHORTHANDS = frozenset((HT_FUNC, HT_EXTERN, HT_EXN))  # nullable ones that are their shorthand byte

# The block type of a block without parameters or results (others are a value type or a type index).
EMPTY_BLOCK_TYPE = 0x40

VALTYPE_NAMES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128",
                 FUNCREF: "funcref", EXTERNREF: "externref", EXNREF: "exnref"}

# External kinds, by their binary encoding in imports and exports.
EXTERN_FUNC, EXTERN_TABLE, EXTERN_MEMORY, EXTERN_GLOBAL = 0, 1, 2, 3
EXTERN_TAG = 4  # exception handling: an exception tag (its type is a function type index)
EXTERN_NAMES = ("func", "table", "memory", "global", "tag")

PAGE_SIZE = 65536
MAX_PAGES = 65536
MAX_PAGES_64 = 1 << 48  # a 64-bit memory: 2^64 bytes


_HEAP_NAMES = {HT_FUNC: "func", HT_EXTERN: "extern", HT_EXN: "exn", HT_NOFUNC: "nofunc",
               HT_NOEXTERN: "noextern", HT_NOEXN: "noexn"}


def type_name(t) -> str:
    if type(t) is RefType:
        heap = t.heap
        heap_text = _HEAP_NAMES[heap] if type(heap) is int else _functype_text(heap)
        return f"(ref null {heap_text})" if t.nullable else f"(ref {heap_text})"
    return VALTYPE_NAMES.get(t, f"<type {t:#x}>" if type(t) is int else f"<type {t!r}>")


def _functype_text(ft) -> str:
    """`(func (param ...) (result ...))`, the text format's function type."""
    parts = ["func"]
    if ft.params:
        parts.append("(param " + " ".join(map(type_name, ft.params)) + ")")
    if ft.results:
        parts.append("(result " + " ".join(map(type_name, ft.results)) + ")")
    return "(" + " ".join(parts) + ")"


class FuncType(NamedTuple):
    """A function signature; hashable, so equal signatures can be canonicalised across modules."""

    params: tuple[int, ...]
    results: tuple[int, ...]

    def __str__(self) -> str:
        return "[{}] -> [{}]".format(" ".join(map(type_name, self.params)),
                                     " ".join(map(type_name, self.results)))


class RefType(NamedTuple):
    """A reference type without a one-byte shorthand: `(ref null? heap)`; make it with `ref_type`."""

    nullable: bool
    heap: object  # an abstract heap type (HT_*) or a FuncType


def ref_type(nullable: bool, heap) -> object:
    """The one representation of `(ref null? heap)`: FUNCREF, EXTERNREF or EXNREF for the nullable
    abstract types that have a shorthand, else a RefType."""
    if nullable and type(heap) is int and heap in _SHORTHANDS:
        return heap
    return RefType(nullable, heap)


def is_ref(t) -> bool:
    """Whether value type `t` is a reference type."""
    return type(t) is RefType or t in _SHORTHANDS


def ref_parts(t) -> tuple[bool, object]:
    """(nullable, heap type) of reference type `t`."""
    if type(t) is RefType:
        return t.nullable, t.heap
    return True, t


def heap_top(heap) -> int:
    """The top of the hierarchy heap type `heap` is in: HT_FUNC (function types too), HT_EXTERN, HT_EXN."""
    return HT_FUNC if type(heap) is not int else _HEAP_TOP[heap]


def heap_bottom(heap) -> int:
    """The bottom of `heap`'s hierarchy (what `ref.null` of a type in it is): HT_NOFUNC, ..."""
    return _HEAP_BOTTOM[heap_top(heap)]


def heap_matches(a, b) -> bool:
    """Heap subtyping: equal, below its hierarchy's top, or the hierarchy's bottom. (No declared
    subtypes before GC: distinct function types are unrelated.)"""
    if a == b:
        return True
    top_b = heap_top(b)
    if heap_top(a) != top_b:
        return False
    if b == top_b:
        return True
    return type(a) is int and a == _HEAP_BOTTOM[top_b]


def is_defaultable(t) -> bool:
    """Whether a local of type `t` starts with a value (numbers, vectors and nullable references do)."""
    return type(t) is not RefType or t.nullable


def matches(actual, expected) -> bool:
    """Whether a value of type `actual` can be used where `expected` is wanted (subtyping)."""
    if actual == expected:
        return True
    if not (is_ref(actual) and is_ref(expected)):
        return False
    n1, h1 = ref_parts(actual)
    n2, h2 = ref_parts(expected)
    return (n2 or not n1) and heap_matches(h1, h2)


class Limits(NamedTuple):
    min: int
    max: int | None


class TableType(NamedTuple):
    elem: int  # FUNCREF or EXTERNREF
    limits: Limits
    addr: int = I32  # the address type (memory64's table64): I32 or I64


class MemoryType(NamedTuple):
    limits: Limits
    addr: int = I32  # the address type: I32, or I64 for a 64-bit memory (memory64)
    shared: bool = False  # a shared memory (threads): has a maximum, may be used by several threads


class GlobalType(NamedTuple):
    valtype: int
    mutable: bool


_TYPES_BY_NAME = {name: t for t, name in VALTYPE_NAMES.items()}
_HEAPS_BY_NAME = {name: heap for heap, name in _HEAP_NAMES.items()}


def parse_type(name: str):
    """The value type named `name` ("i32", "funcref", "(ref null func)", "(ref (func (param i32)))",
    as `type_name` writes them); KeyError or ValueError for anything else."""
    if not name.startswith("("):
        return _TYPES_BY_NAME[name]
    tokens = name.replace("(", " ( ").replace(")", " ) ").split()
    t, end = _parse_ref(tokens, 0)
    if end != len(tokens):
        raise ValueError(f"not a type: {name!r}")
    return t


def _expect(tokens: list[str], i: int, token: str) -> int:
    if i >= len(tokens) or tokens[i] != token:
        raise ValueError(f"expected {token!r} in {' '.join(tokens)!r}")
    return i + 1


def _parse_valtype(tokens: list[str], i: int):
    if i < len(tokens) and tokens[i] == "(":
        return _parse_ref(tokens, i)
    if i >= len(tokens):
        raise ValueError("type expected")
    return _TYPES_BY_NAME[tokens[i]], i + 1


def _parse_ref(tokens: list[str], i: int):
    """`( ref [null] heap )` from tokens[i]; gives (type, index after it)."""
    i = _expect(tokens, _expect(tokens, i, "("), "ref")
    nullable = i < len(tokens) and tokens[i] == "null"
    i += nullable
    if i < len(tokens) and tokens[i] == "(":
        i = _expect(tokens, _expect(tokens, i, "("), "func")
        lists = {"param": [], "result": []}
        while tokens[i] == "(":
            kind = tokens[i + 1]
            if kind not in lists:
                raise ValueError(f"unexpected {kind!r} in a function type")
            i += 2
            while tokens[i] != ")":
                t, i = _parse_valtype(tokens, i)
                lists[kind].append(t)
            i += 1
        i = _expect(tokens, i, ")")
        heap = FuncType(tuple(lists["param"]), tuple(lists["result"]))
    else:
        heap = _HEAPS_BY_NAME[tokens[i]]
        i += 1
    return ref_type(nullable, heap), _expect(tokens, i, ")")


_SIG_LETTERS = {I32: "i", I64: "I", F32: "f", F64: "F", V128: "v", FUNCREF: "r", EXTERNREF: "x", EXNREF: "e"}
_TYPES_BY_LETTER = {letter: t for t, letter in _SIG_LETTERS.items()}
# Other reference types: "N" (nullable) or "R", then the heap type: a letter of an abstract one, or
# "T" + the key of the function type + "Z" (nested keys parse by recursive descent).
_HEAP_LETTERS = {HT_FUNC: "f", HT_EXTERN: "x", HT_EXN: "e", HT_NOFUNC: "F", HT_NOEXTERN: "X", HT_NOEXN: "E"}
_HEAPS_BY_LETTER = {letter: heap for heap, letter in _HEAP_LETTERS.items()}


def _type_letters(t) -> str:
    if type(t) is RefType:
        heap = t.heap
        heap_key = _HEAP_LETTERS[heap] if type(heap) is int else "T" + sig_key(heap) + "Z"
        return ("N" if t.nullable else "R") + heap_key
    return _SIG_LETTERS[t]


def sig_key(ft: FuncType) -> str:
    """A symbol-safe name for a signature, e.g. `iI_f` for [i32 i64] -> [f32]."""
    return "".join(map(_type_letters, ft.params)) + "_" + "".join(map(_type_letters, ft.results))


def parse_sig_key(key: str) -> FuncType:
    """The signature that `sig_key` gave `key`; KeyError or ValueError for anything else."""
    ft, end = _parse_sig(key, 0)
    if end != len(key):
        raise ValueError(f"not a signature key: {key!r}")
    return ft


def _parse_sig(key: str, i: int) -> tuple[FuncType, int]:
    lists: tuple[list, list] = ([], [])
    part = 0
    while i < len(key):
        c = key[i]
        if c == "_":
            if part:
                raise ValueError(f"not a signature key: {key!r}")
            part = 1
            i += 1
        elif c == "Z":
            break
        elif c in "NR":
            h = key[i + 1]
            if h == "T":
                heap, i = _parse_sig(key, i + 2)
                if i >= len(key) or key[i] != "Z":
                    raise ValueError(f"not a signature key: {key!r}")
                i += 1
            else:
                heap = _HEAPS_BY_LETTER[h]
                i += 2
            lists[part].append(ref_type(c == "N", heap))
        else:
            lists[part].append(_TYPES_BY_LETTER[c])
            i += 1
    if not part:
        raise ValueError(f"not a signature key: {key!r}")
    return FuncType(tuple(lists[0]), tuple(lists[1])), i


def functype_to_json(ft: FuncType) -> list:
    """[[param names], [result names]]."""
    return [[type_name(p) for p in ft.params], [type_name(r) for r in ft.results]]


def functype_from_json(value) -> FuncType:
    params, results = value
    return FuncType(tuple(map(parse_type, params)), tuple(map(parse_type, results)))
