"""The type helpers of `component.types` that validation and static instantiation use:
`contains` (on random types, against their text), `substitute` and `resources_in`. (The canonical
ABI's facts of a type, flattening, size and alignment, are `component.canonical`'s and tested in
test_component_canonical.py.)"""

from __future__ import annotations

import random

from wasmbuild.component import types as T


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


def test_contains():
    rng = random.Random(19)
    for _ in range(1500):
        t = random_type(rng)
        assert T.contains(t, (T.Borrow,)) == ("borrow<" in str(t)), t
        assert T.contains(t, (T.List,)) == ("list<" in str(t) or "string" in str(t)), t


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
