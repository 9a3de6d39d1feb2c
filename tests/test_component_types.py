"""The Canonical ABI facts of component types (`component.types`: flatten, flatten_functype, size,
alignment, contains) against the executable reference `design-mvp/canonical-abi/definitions.py`
(loaded as an oracle, never copied), on random types; and `substitute`, `resources_in`."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

from conftest import need
from wasmbuild.component import types as T
from wasmbuild.contract.types import F32, F64, I32, I64
from wasmbuild.contract.types import FuncType as CoreFuncType
from wasmbuild.testing import components_dir

DEFINITIONS = Path(components_dir()) / "design-mvp" / "canonical-abi" / "definitions.py"
CORE_NAMES = {"i32": I32, "i64": I64, "f32": F32, "f64": F64}


@pytest.fixture(scope="module")
def ref():
    need("the canonical ABI reference", DEFINITIONS if DEFINITIONS.is_file() else None,
         f"not found at {DEFINITIONS}; set WASMBUILD_COMPONENTS_DIR")
    spec = importlib.util.spec_from_file_location("cabi_definitions", DEFINITIONS)
    module = importlib.util.module_from_spec(spec)
    sys.modules["cabi_definitions"] = module  # (its dataclasses look themselves up here)
    spec.loader.exec_module(module)
    return module


PRIMS = sorted(T.PRIM_NAMES)


def random_type(rng: random.Random, depth: int = 0) -> T.ValType:
    kinds = ["prim"] * 4 + (["list", "tuple", "record", "variant", "enum", "flags", "option", "result", "own",
                             "borrow"] if depth < 4 else [])
    kind = rng.choice(kinds)
    sub = lambda: random_type(rng, depth + 1)  # noqa: E731
    labels = lambda n: tuple(f"l{i}" for i in range(n))  # noqa: E731
    if kind == "prim":
        return T.prim(rng.choice(PRIMS))
    if kind == "list":
        return T.List(sub())
    if kind == "tuple":
        return T.Tuple(tuple(sub() for _ in range(rng.randint(1, 4))))
    if kind == "record":
        return T.Record(tuple((n, sub()) for n in labels(rng.randint(1, 4))))
    if kind == "variant":
        n = rng.choice([1, 2, 3, 5, 300])  # 300 cases: a two-byte discriminant
        return T.Variant(tuple((l, sub() if rng.random() < 0.5 and i < 6 else None)
                               for i, l in enumerate(labels(n))))
    if kind == "enum":
        return T.Enum(labels(rng.choice([1, 2, 255, 256, 257])))
    if kind == "flags":
        return T.Flags(labels(rng.randint(1, 32)))
    if kind == "option":
        return T.Option(sub())
    if kind == "result":
        return T.Result(sub() if rng.random() < 0.7 else None, sub() if rng.random() < 0.7 else None)
    return (T.Own if kind == "own" else T.Borrow)(T.ResourceType("r"))


def to_ref(ref, t):
    """Our type as the reference's."""
    cls = type(t)
    if t is None:
        return None
    if cls is T.Prim:
        name = {"bool": "Bool", "char": "Char", "string": "String"}.get(t.name, t.name.upper())
        return getattr(ref, f"{name}Type")()
    if cls is T.List:
        return ref.ListType(to_ref(ref, t.elem))
    if cls is T.Tuple:
        return ref.TupleType([to_ref(ref, x) for x in t.types])
    if cls is T.Record:
        return ref.RecordType([ref.FieldType(n, to_ref(ref, x)) for n, x in t.fields])
    if cls is T.Variant:
        return ref.VariantType([ref.CaseType(n, to_ref(ref, x)) for n, x in t.cases])
    if cls is T.Enum:
        return ref.EnumType(list(t.names))
    if cls is T.Flags:
        return ref.FlagsType(list(t.names))
    if cls is T.Option:
        return ref.OptionType(to_ref(ref, t.type))
    if cls is T.Result:
        return ref.ResultType(to_ref(ref, t.ok), to_ref(ref, t.err))
    return (ref.OwnType if cls is T.Own else ref.BorrowType)(None)


def ref_options(ref):
    return ref.CanonicalOptions(memory=ref.MemInst(bytearray(), "i32"))


def test_flatten_size_alignment_agree_with_the_reference(ref):
    rng = random.Random(19)
    opts = ref_options(ref)
    for _ in range(1500):
        t = random_type(rng)
        r = to_ref(ref, t)
        assert T.flatten(t) == tuple(CORE_NAMES[x] for x in ref.flatten_type(r, opts)), t
        assert T.size(t) == ref.elem_size(r, "i32"), t
        assert T.alignment(t) == ref.alignment(r, "i32"), t
        assert T.contains(t, (T.Borrow,)) == ("borrow<" in str(t)), t
        assert T.contains(t, (T.List,)) == ("list<" in str(t) or "string" in str(t)), t


def test_flatten_functype_agrees_with_the_reference(ref):
    rng = random.Random(1919)
    opts = ref_options(ref)
    for _ in range(600):
        params = tuple((f"p{i}", random_type(rng, 2)) for i in range(rng.choice([0, 1, 2, 5, 17])))
        result = random_type(rng, 2) if rng.random() < 0.7 else None
        ft = T.FuncType(params, result)
        rft = ref.FuncType([(n, to_ref(ref, x)) for n, x in params], [] if result is None else [to_ref(ref, result)])
        for context in ("lift", "lower"):
            want = ref.flatten_functype(opts, rft, context)
            assert T.flatten_functype(ft, context) == CoreFuncType(
                tuple(CORE_NAMES[x] for x in want.params), tuple(CORE_NAMES[x] for x in want.results)), (ft, context)


def test_hand_computed_facts():
    u8, u64, string = T.prim("u8"), T.prim("u64"), T.prim("string")
    # an enum of 70,000 cases has a 4-byte discriminant; 256 cases fit one byte, 257 need two
    assert [T.size(T.Enum(tuple(f"e{i}" for i in range(n)))) for n in (256, 257, 70000)] == [1, 2, 4]
    # record { a: u8, b: u64 }: b at offset 8, size 16, alignment 8
    assert T.size(T.Record((("a", u8), ("b", u64)))) == 16
    assert T.flatten(T.Result(T.prim("f32"), T.prim("u32"))) == (I32, I32)  # f32 and i32 join as i32
    assert T.flatten(T.Option(T.prim("f64"))) == (I32, F64)
    assert T.flatten(T.Variant((("a", T.prim("f32")), ("b", u64)))) == (I32, I64)
    # 17 flat parameters go through memory; two flat results too (lift: a returned pointer)
    many = T.FuncType(tuple((f"p{i}", u8) for i in range(17)), T.Tuple((u8, u8)))
    assert T.flatten_functype(many, "lift") == CoreFuncType((I32,), (I32,))
    assert T.flatten_functype(many, "lower") == CoreFuncType((I32, I32), ())
    assert T.flatten_functype(T.FuncType((("s", string),), string), "lower") == CoreFuncType((I32, I32, I32), ())


def test_substitute_and_resources_in():
    r, s = T.ResourceType("r"), T.ResourceType("s")
    point = T.Record((("x", T.prim("u32")),))
    ft = T.FuncType((("self", T.Borrow(r)), ("p", point)), T.Own(r))
    out = T.substitute(ft, {r: s})
    assert out == T.FuncType((("self", T.Borrow(s)), ("p", point)), T.Own(s))
    assert out.params[1][1] is point  # parts without the resource are kept, not copied
    assert T.substitute(ft, {}) is ft and T.substitute(ft, {T.ResourceType("t"): s}) is ft
    assert T.resources_in(ft) == [r] and T.resources_in(out) == [s]
    it = T.InstanceType((("r", T.Extern("type", r)), ("f", T.Extern("func", ft))), (r,))
    assert T.resources_in(T.substitute(it, {r: s})) == [s]
    # resource types are equal only to themselves
    assert T.Own(r) != T.Own(T.ResourceType("r")) and T.Own(r) == T.Own(r)
