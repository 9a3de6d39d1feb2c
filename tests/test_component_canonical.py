"""The canonical ABI (wasmbuild/component/canonical.py, handles.py) against the component model's
executable reference, design-mvp/canonical-abi/definitions.py, used as an oracle: for seeded random
types and values, lowering must give the reference's flat values, memory bytes and realloc calls,
and lifting (from what was lowered, and from random memory) the reference's values or a trap where
it traps. Plus hand-written cases: trap wording, Python value errors, handles and resources, the
four call-boundary operations.

The reference is read from `wasmbuild.testing.components_dir()` (`$WASMBUILD_COMPONENTS_DIR`, or
`../shared/components`).
"""

from __future__ import annotations

import importlib.util
import math
import os
import pickle
import random
import struct
import sys

import pytest

from conftest import REPO_ROOT, need
from wasmbuild.component import canonical as C
from wasmbuild.component import handles as H
from wasmbuild.component import types as T
from wasmbuild.component import values as V
from wasmbuild.contract.types import F32, F64, I32, I64
from wasmbuild.contract.types import FuncType as CoreFuncType
from wasmbuild.loader.runtime import Trap
from wasmbuild.testing import components_dir

COMPONENTS_DIR = components_dir()
_REF_PATH = os.path.join(COMPONENTS_DIR, "design-mvp", "canonical-abi", "definitions.py")


def _load_reference():
    if not os.path.isfile(_REF_PATH):
        return None
    spec = importlib.util.spec_from_file_location("cabi_reference_definitions", _REF_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    module.DETERMINISTIC_PROFILE = True  # NaNs lowered as the canonical NaN, as canonical.py does
    return module


ref = need("canonical ABI reference", _load_reference(), f"definitions.py under {COMPONENTS_DIR}/design-mvp")

P = T.prim
ENCODINGS = ("utf8", "utf16", "latin1+utf16")
_M32, _M64 = (1 << 32) - 1, (1 << 64) - 1


# ---- a memory and a realloc for both sides ----------------------------------------------------------

class FakeMemory:
    """bytearray-backed, with loader.runtime.Memory's read / write / size."""

    def __init__(self, data):
        self.data = bytearray(data)

    @property
    def size(self):
        return len(self.data)

    def read(self, offset, n):
        assert 0 <= offset and offset + n <= len(self.data), (offset, n)
        return bytes(self.data[offset:offset + n])

    def write(self, offset, data):
        assert 0 <= offset and offset + len(data) <= len(self.data), (offset, len(data))
        self.data[offset:offset + len(data)] = data


class BumpHeap:
    """A realloc over a bytearray: shrinking stays in place, growing moves to the bump pointer and
    copies; every call is recorded in `calls`."""

    def __init__(self, memory: bytearray, start: int = 0, copy: bool = True):
        self.memory = memory
        self.next = start
        self.copy = copy  # False: a realloc that moves without copying (what the reference reads back)
        self.calls = []

    def __call__(self, old, old_size, align, new_size):
        self.calls.append((old, old_size, align, new_size))
        if old and new_size <= old_size:
            return old
        ptr = -(-self.next // align) * align
        self.next = ptr + new_size
        if self.next > len(self.memory):
            raise Trap("out of heap (test allocator)")
        if self.copy:
            self.memory[ptr:ptr + min(old_size, new_size)] = self.memory[old:old + min(old_size, new_size)]
        return ptr


class Side:
    """A memory, its heap and canonical.py's options over them, for one encoding."""

    def __init__(self, size, encoding="utf8", start=0, fill=b""):
        self.mem = FakeMemory(fill.ljust(size, b"\0"))
        self.heap = BumpHeap(self.mem.data, start)
        self.registry = H.ResourceRegistry()
        self.instance = H.InstanceHandles(self.registry, "test")
        self.opts = C.CanonOptions(self.mem, self.heap, encoding, instance=self.instance)

    def cx(self, relay=False):
        return C.CallContext(self.opts, relay=relay)


class RefSide:
    """The reference's context over the same kind of memory and heap."""

    def __init__(self, size, encoding="utf8", start=0, fill=b""):
        self.mem = ref.MemInst(bytearray(fill.ljust(size, b"\0")), "i32")
        self.heap = BumpHeap(self.mem.bytes, start)
        heap = self.heap

        class Cx(ref.LiftLowerContext):
            def reallocate(self, old, old_len, align, new_len):
                return heap(old, old_len, align, new_len)  # the call itself, without a task

        opts = ref.CanonicalOptions(string_encoding=encoding, memory=self.mem, realloc=heap)
        self.inst = ref.ComponentInstance(ref.Store())
        self.cx = Cx(opts, self.inst)

    def with_scope(self, scope):
        self.cx.borrow_scope = scope
        return self.cx


# ---- our types and values <-> the reference's ---------------------------------------------------------

_REF_PRIMS = {"bool": "BoolType", "s8": "S8Type", "u8": "U8Type", "s16": "S16Type", "u16": "U16Type",
              "s32": "S32Type", "u32": "U32Type", "s64": "S64Type", "u64": "U64Type", "f32": "F32Type",
              "f64": "F64Type", "char": "CharType", "string": "StringType"}


class Resources:
    """Our resource types and the reference's, paired."""

    def __init__(self, n=2):
        self.ours = [T.ResourceType(f"r{i}") for i in range(n)]
        self.impl = ref.ComponentInstance(ref.Store())  # defines them (the lowering instance does not)
        self.theirs = {rt: ref.ResourceType(self.impl) for rt in self.ours}


def to_ref_type(t, res: Resources | None = None):
    k = type(t)
    if k is T.Prim:
        return getattr(ref, _REF_PRIMS[t.name])()
    if k is T.List:
        return ref.ListType(to_ref_type(t.elem, res))
    if k is T.Record:
        return ref.RecordType([ref.FieldType(label, to_ref_type(ft, res)) for label, ft in t.fields])
    if k is T.Tuple:
        return ref.TupleType([to_ref_type(m, res) for m in t.types])
    if k is T.Variant:
        return ref.VariantType([ref.CaseType(label, None if p is None else to_ref_type(p, res))
                                for label, p in t.cases])
    if k is T.Enum:
        return ref.EnumType(list(t.names))
    if k is T.Option:
        return ref.OptionType(to_ref_type(t.type, res))
    if k is T.Result:
        return ref.ResultType(None if t.ok is None else to_ref_type(t.ok, res),
                              None if t.err is None else to_ref_type(t.err, res))
    if k is T.Flags:
        return ref.FlagsType(list(t.names))
    if k is T.Own:
        return ref.OwnType(res.theirs[t.resource])
    if k is T.Borrow:
        return ref.BorrowType(res.theirs[t.resource])
    raise AssertionError(t)


def host_string(s, encoding):
    """The reference's string value for a Python str lowered into `encoding`: canonical.py treats it as
    coming from a component with that same encoding."""
    if encoding == "utf8":
        return (s, "utf8", len(s.encode("utf-8")))
    if encoding == "utf16":
        return (s, "utf16", len(s.encode("utf-16-le")) // 2)
    try:
        return (s, "latin1+utf16", len(s.encode("latin-1")))
    except UnicodeEncodeError:
        return (s, "latin1+utf16", (len(s.encode("utf-16-le")) // 2) | C.UTF16_TAG)


def to_ref_value(t, v, encoding):
    k = type(t)
    if k is T.Prim:
        return host_string(v, encoding) if t.name == "string" else v
    if k is T.List:
        return [to_ref_value(t.elem, e, encoding) for e in v]
    if k is T.Record:
        return {label: to_ref_value(ft, getattr(v, V.field_attr(label)), encoding) for label, ft in t.fields}
    if k is T.Tuple:
        return {str(i): to_ref_value(m, e, encoding) for i, (m, e) in enumerate(zip(t.types, v))}
    if k is T.Variant:
        payload_t = dict(t.cases)[v.case]
        return {v.case: None if payload_t is None else to_ref_value(payload_t, v.payload, encoding)}
    if k is T.Enum:
        return {v: None}
    if k is T.Option:
        if v is None:
            return {"none": None}
        inner = v.value if type(v) is V.Some else v
        return {"some": to_ref_value(t.type, inner, encoding)}
    if k is T.Result:
        case, pt = ("ok", t.ok) if type(v) is V.Ok else ("error", t.err)
        return {case: None if pt is None else to_ref_value(pt, v.value, encoding)}
    if k is T.Flags:
        return {name: name in v for name in t.names}
    if k in (T.Own, T.Borrow):
        return v  # random_value gives own<R> values as their reps
    raise AssertionError(t)


def from_ref_value(t, v):
    """The Python value canonical.py should lift for the reference's lifted value `v`."""
    k = type(t)
    if k is T.Prim:
        if t.name == "string":
            return v[0]
        return v
    if k is T.List:
        if t.elem == P("u8"):
            return bytes(v)
        return [from_ref_value(t.elem, e) for e in v]
    if k is T.Record:
        return V.Record(**{V.field_attr(label): from_ref_value(ft, v[label]) for label, ft in t.fields})
    if k is T.Tuple:
        return tuple(from_ref_value(m, v[str(i)]) for i, m in enumerate(t.types))
    [(case, payload)] = v.items()
    if k is T.Variant:
        pt = dict(t.cases)[case]
        return V.Variant(case, None if pt is None else from_ref_value(pt, payload))
    if k is T.Enum:
        return case
    if k is T.Option:
        if case == "none":
            return None
        inner = from_ref_value(t.type, payload)
        return V.Some(inner) if type(t.type) is T.Option else inner
    if k is T.Result:
        pt = t.ok if case == "ok" else t.err
        inner = None if pt is None else from_ref_value(pt, payload)
        return V.Ok(inner) if case == "ok" else V.Err(inner)
    raise AssertionError(t)


def flags_from_ref(t, v):
    return {name for name in t.names if v[name]}


def same(t, ours, expected) -> bool:
    """`ours` (our lifted value) equals `expected` (from_ref_value of the reference's), NaN == NaN,
    resources compared by rep."""
    k = type(t)
    if k is T.Prim:
        if t.name in ("f32", "f64"):
            return (math.isnan(ours) and math.isnan(expected)) or (ours == expected and
                                                                  math.copysign(1, ours) == math.copysign(1, expected))
        return type(ours) is type(expected) and ours == expected
    if k is T.List:
        if t.elem == P("u8"):
            return type(ours) is bytes and ours == expected
        return (type(ours) is list and len(ours) == len(expected)
                and all(same(t.elem, a, b) for a, b in zip(ours, expected)))
    if k is T.Record:
        return type(ours) is V.Record and all(
            same(ft, getattr(ours, V.field_attr(label)), getattr(expected, V.field_attr(label)))
            for label, ft in t.fields)
    if k is T.Tuple:
        return type(ours) is tuple and all(same(m, a, b) for m, a, b in zip(t.types, ours, expected))
    if k is T.Variant:
        pt = dict(t.cases)[expected.case]
        return (type(ours) is V.Variant and ours.case == expected.case and
                (pt is None and ours.payload is None or pt is not None and same(pt, ours.payload, expected.payload)))
    if k is T.Enum:
        return ours == expected
    if k is T.Option:
        if expected is None:
            return ours is None
        if type(t.type) is T.Option:
            return type(ours) is V.Some and same(t.type, ours.value, expected.value)
        return same(t.type, ours, expected)
    if k is T.Result:
        pt = t.ok if type(expected) is V.Ok else t.err
        return type(ours) is type(expected) and (pt is None and ours.value is None or
                                                 pt is not None and same(pt, ours.value, expected.value))
    if k is T.Flags:
        return ours == expected
    if k in (T.Own, T.Borrow):
        return isinstance(ours, H.Resource) and ours.rep == expected
    raise AssertionError(t)


def ref_lifted(t, v):
    """The reference's lifted value as ours (flags and resources need the type)."""
    if type(t) is T.Flags:
        return flags_from_ref(t, v)
    if type(t) in (T.Own, T.Borrow):
        return v
    k = type(t)
    if k is T.List:
        if t.elem == P("u8"):
            return bytes(v)
        return [ref_lifted(t.elem, e) for e in v]
    if k is T.Record:
        return V.Record(**{V.field_attr(label): ref_lifted(ft, v[label]) for label, ft in t.fields})
    if k is T.Tuple:
        return tuple(ref_lifted(m, v[str(i)]) for i, m in enumerate(t.types))
    if k in (T.Variant, T.Option, T.Result):
        [(case, payload)] = v.items()
        if k is T.Variant:
            pt = dict(t.cases)[case]
            return V.Variant(case, None if pt is None else ref_lifted(pt, payload))
        if k is T.Option:
            if case == "none":
                return None
            inner = ref_lifted(t.type, payload)
            return V.Some(inner) if type(t.type) is T.Option else inner
        pt = t.ok if case == "ok" else t.err
        inner = None if pt is None else ref_lifted(pt, payload)
        return V.Ok(inner) if case == "ok" else V.Err(inner)
    return from_ref_value(t, v)


def ref_flat_bits(ref_t, ref_vals):
    """The reference's flat values (floats as floats) as raw bits."""
    types = ref.flatten_type(ref_t, ref.CanonicalOptions(memory=ref.MemInst(bytearray(), "i32")))
    out = []
    for ct, v in zip(types, ref_vals, strict=True):
        if ct == "f32":
            out.append(struct.unpack("<I", struct.pack("<f", v))[0])
        elif ct == "f64":
            out.append(struct.unpack("<Q", struct.pack("<d", v))[0])
        else:
            out.append(v)
    return out


def bits_to_ref_flat(ref_t, bits):
    types = ref.flatten_type(ref_t, ref.CanonicalOptions(memory=ref.MemInst(bytearray(), "i32")))
    out = []
    for ct, b in zip(types, bits, strict=True):
        if ct == "f32":
            out.append(struct.unpack("<f", struct.pack("<I", b))[0])
        elif ct == "f64":
            out.append(struct.unpack("<d", struct.pack("<Q", b))[0])
        else:
            out.append(b)
    return out


# ---- random types and values ----------------------------------------------------------------------------

_PRIMS = ("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char", "string")
_CHARS = "aZ\x00\x7f\x80\xe9\xff\u0100\u01ff\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0001f600\U0010ffff"


def random_label(rng, i):
    return rng.choice(("a", "b-c", "xy", "long-name", "q")) + f"-{i}"


def random_type(rng, depth=0, res: Resources | None = None):
    leaf = depth >= 3 or rng.random() < 0.35
    if leaf:
        if res is not None and rng.random() < 0.08:
            return rng.choice((T.Own, T.Borrow))(rng.choice(res.ours))
        return P(rng.choice(_PRIMS))
    kind = rng.choice(("list", "record", "tuple", "variant", "enum", "option", "result", "flags", "list-u8"))
    sub = lambda: random_type(rng, depth + 1, res)  # noqa: E731
    if kind == "list":
        return T.List(sub())
    if kind == "list-u8":
        return T.List(P("u8"))
    if kind == "record":
        return T.Record(tuple((random_label(rng, i), sub()) for i in range(rng.randint(1, 4))))
    if kind == "tuple":
        return T.Tuple(tuple(sub() for _ in range(rng.randint(1, 4))))
    if kind == "variant":
        n = rng.choice((1, 2, 3, 5, 256, 257)) if rng.random() < 0.1 else rng.randint(1, 5)
        return T.Variant(tuple((f"c{i}", sub() if rng.random() < 0.7 and i < 6 else None) for i in range(n)))
    if kind == "enum":
        return T.Enum(tuple(f"e{i}" for i in range(rng.choice((1, 2, 3, 200, 256, 257, 300)))))
    if kind == "option":
        return T.Option(sub())
    if kind == "result":
        return T.Result(sub() if rng.random() < 0.7 else None, sub() if rng.random() < 0.7 else None)
    return T.Flags(tuple(f"f{i}" for i in range(rng.choice((1, 3, 8, 9, 16, 17, 32)))))


def random_int(rng, name):
    lo, hi = T.INT_RANGES[name]
    return rng.choice((lo, hi, 0, rng.randint(lo, hi), rng.randint(lo, hi)))


def random_float(rng, name):
    special = (0.0, -0.0, math.inf, -math.inf, math.nan, 1.5, -2.25)
    if rng.random() < 0.3:
        return rng.choice(special)
    if name == "f32":
        return struct.unpack("<f", struct.pack("<I", rng.getrandbits(32)))[0]
    return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]


def random_string(rng):
    pools = ("ascii", "latin1", "mixed")
    pool = rng.choice(pools)
    n = rng.choice((0, 1, 2, 5, 13))
    if pool == "ascii":
        return "".join(rng.choice("abcxyz019 -") for _ in range(n))
    if pool == "latin1":
        return "".join(rng.choice("ab\x80\xe9\xff") for _ in range(n))
    return "".join(rng.choice(_CHARS) for _ in range(n))


def random_value(rng, t, resources: list):
    k = type(t)
    if k is T.Prim:
        name = t.name
        if name == "bool":
            return rng.random() < 0.5
        if name in T.INT_RANGES:
            return random_int(rng, name)
        if name in ("f32", "f64"):
            return random_float(rng, name)
        if name == "char":
            return rng.choice(_CHARS)
        return random_string(rng)
    if k is T.List:
        n = rng.choice((0, 1, 2, 3))
        items = [random_value(rng, t.elem, resources) for _ in range(n)]
        return bytes(items) if t.elem == P("u8") and rng.random() < 0.5 else items
    if k is T.Record:
        return V.Record(**{V.field_attr(label): random_value(rng, ft, resources) for label, ft in t.fields})
    if k is T.Tuple:
        return tuple(random_value(rng, m, resources) for m in t.types)
    if k is T.Variant:
        case, pt = rng.choice(t.cases)
        return V.Variant(case, None if pt is None else random_value(rng, pt, resources))
    if k is T.Enum:
        return rng.choice(t.names)
    if k is T.Option:
        if rng.random() < 0.3:
            return None
        inner = random_value(rng, t.type, resources)
        return V.Some(inner) if type(t.type) is T.Option else inner
    if k is T.Result:
        ok = rng.random() < 0.5
        pt = t.ok if ok else t.err
        inner = None if pt is None else random_value(rng, pt, resources)
        return V.Ok(inner) if ok else V.Err(inner)
    if k is T.Flags:
        return {name for name in t.names if rng.random() < 0.4}
    if k in (T.Own, T.Borrow):
        rep = rng.randint(1, 1 << 31)
        resources.append((t.resource, rep))
        return rep  # a rep for now; made a Resource per side (each side consumes its own)
    raise AssertionError(t)


def resources_for(t, v, registry):
    """`v` with every rep of an own<R> made a fresh owned Resource (for one side)."""
    k = type(t)
    if k in (T.Own, T.Borrow):
        return registry.new(t.resource, v)
    if k is T.List:
        if t.elem == P("u8"):
            return v
        return [resources_for(t.elem, e, registry) for e in v]
    if k is T.Record:
        return V.Record(**{V.field_attr(label): resources_for(ft, getattr(v, V.field_attr(label)), registry)
                           for label, ft in t.fields})
    if k is T.Tuple:
        return tuple(resources_for(m, e, registry) for m, e in zip(t.types, v))
    if k is T.Variant:
        pt = dict(t.cases)[v.case]
        return v if pt is None else V.Variant(v.case, resources_for(pt, v.payload, registry))
    if k is T.Option:
        if v is None:
            return None
        if type(v) is V.Some:
            return V.Some(resources_for(t.type, v.value, registry))
        return resources_for(t.type, v, registry)
    if k is T.Result:
        pt = t.ok if type(v) is V.Ok else t.err
        return v if pt is None else type(v)(resources_for(pt, v.value, registry))
    return v


# ---- the oracle tests --------------------------------------------------------------------------------------

MEM_SIZE = 1 << 16
N_CASES = 500


def _lower_both(t, v, encoding, res, flat):
    """Lower `v` with both implementations (flat, or stored at a fresh pointer); the two sides."""
    ours, theirs = Side(MEM_SIZE, encoding, start=16), RefSide(MEM_SIZE, encoding, start=16)
    ref_t = to_ref_type(t, res)
    ours_v = resources_for(t, v, ours.registry)
    ref_v = to_ref_value(t, v, encoding)
    cx = ours.cx()
    theirs.with_scope(ref.Task(None, None, None, None, None))  # where lowered borrows are counted
    if flat:
        got = C.lower_flat(cx, ours_v, t)
        expected = ref_flat_bits(ref_t, ref.lower_flat(theirs.cx, ref_v, ref_t))
    else:
        size, align = ref.elem_size(ref_t, "i32"), ref.alignment(ref_t, "i32")
        ptr, ref_ptr = ours.heap(0, 0, align, size), theirs.heap(0, 0, align, size)
        assert ptr == ref_ptr
        C.store(cx, ours_v, t, ptr)
        ref.store(theirs.cx, ref_v, ref_t, ref_ptr)
        got = expected = [ptr]
    return ours, theirs, ref_t, got, expected, cx


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("flat", [True, False], ids=["flat", "memory"])
def test_type_facts_match_reference(encoding, flat):
    rng = random.Random(f"facts-{encoding}-{flat}")
    res = Resources()
    opts = ref.CanonicalOptions(memory=ref.MemInst(bytearray(), "i32"))
    names = {I32: "i32", I64: "i64", F32: "f32", F64: "f64"}
    for _ in range(300):
        t = random_type(rng, res=res)
        ref_t = to_ref_type(t, res)
        assert C.alignment(t) == ref.alignment(ref_t, "i32"), t
        assert C.elem_size(t) == ref.elem_size(ref_t, "i32"), t
        assert [names[ct] for ct in C.flatten_type(t)] == ref.flatten_type(ref_t, opts), t


def test_flatten_functype_matches_reference():
    rng = random.Random("functype")
    res = Resources()
    names = {I32: "i32", I64: "i64", F32: "f32", F64: "f64"}
    opts = ref.CanonicalOptions(memory=ref.MemInst(bytearray(), "i32"))
    for _ in range(300):
        params = tuple((f"p{i}", random_type(rng, 1, res)) for i in range(rng.choice((0, 1, 2, 5, 9, 17))))
        result = random_type(rng, 1, res) if rng.random() < 0.7 else None
        ft = T.FuncType(params, result)
        ref_ft = ref.FuncType([(n, to_ref_type(pt, res)) for n, pt in params],
                              [] if result is None else [to_ref_type(result, res)])
        for direction in ("lift", "lower"):
            core = C.flatten_functype(ft, direction)
            expected = ref.flatten_functype(opts, ref_ft, direction)
            assert isinstance(core, CoreFuncType)
            assert [names[x] for x in core.params] == expected.params, (ft, direction)
            assert [names[x] for x in core.results] == expected.results, (ft, direction)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("flat", [True, False], ids=["flat", "memory"])
def test_lower_then_lift_matches_reference(encoding, flat):
    """Lowering gives the reference's flat values, bytes and realloc calls; lifting what was lowered
    gives the reference's values (and for own handles the same table indices)."""
    rng = random.Random(f"roundtrip-{encoding}-{flat}")
    res = Resources()
    borrows_seen = 0
    for case in range(N_CASES):
        t = random_type(rng, res=res)
        v = random_value(rng, t, [])
        ours, theirs, ref_t, got, expected, lower_cx = _lower_both(t, v, encoding, res, flat)
        where = f"case {case}: {t} = {v!r}"
        assert got == expected, where
        assert ours.heap.calls == theirs.heap.calls, where
        assert ours.mem.data == theirs.mem.bytes, where
        assert len(ours.instance.table) == len([h for h in theirs.inst.handles.array if h is not None]), where
        assert lower_cx.scope.borrows == theirs.cx.borrow_scope.num_borrows, where
        # Lift it back with both.
        cx = ours.cx()
        if flat:
            lifted = C.lift_flat(cx, got, t)
            ref_lifted_v = ref.lift_flat(theirs.with_scope(ref.Subtask()),
                                         ref.CoreValueIter(bits_to_ref_flat(ref_t, got)), ref_t)
        else:
            lifted = C.load(cx, got[0], t)
            ref_lifted_v = ref.load(theirs.with_scope(ref.Subtask()), got[0], ref_t)
        assert same(t, lifted, ref_lifted(t, ref_lifted_v)), where
        assert len(ours.instance.table) == len([h for h in theirs.inst.handles.array if h is not None]), where
        lends = [h.lends for h in ours.instance.table.entries if h is not None]
        assert lends == [h.num_lends for h in theirs.inst.handles.array if h is not None], where
        borrows_seen += bool(cx.scope.lenders)
    assert borrows_seen >= 5  # (lists may be empty, options none...)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_relayed_strings_keep_their_encoding(encoding):
    """Lifted with `relay`, a string is an EncodedString with the reference's (text, encoding,
    tagged code units)."""
    rng = random.Random(f"relay-{encoding}")
    for _ in range(200):
        s = random_string(rng)
        ours, theirs = Side(4096, encoding), RefSide(4096, encoding)
        got = C.lower_flat(ours.cx(), s, P("string"))
        # The reference lifts from its own copy of the same bytes.
        theirs.mem.bytes[:] = ours.mem.data
        ref_v = ref.lift_flat(theirs.cx, ref.CoreValueIter(list(got)), ref.StringType())
        lifted = C.lift_flat(ours.cx(relay=True), got, P("string"))
        assert type(lifted) is C.EncodedString
        assert (str(lifted), lifted.encoding, lifted.code_units) == ref_v
        assert C.lift_flat(ours.cx(), got, P("string")) == s
        copied = pickle.loads(pickle.dumps(lifted))
        assert (copied, copied.encoding, copied.code_units) == (lifted, lifted.encoding, lifted.code_units)


@pytest.mark.parametrize("copying", [True, False], ids=["copying-realloc", "moving-realloc"])
@pytest.mark.parametrize("dst", ENCODINGS)
@pytest.mark.parametrize("src", ENCODINGS)
def test_transcoding_matches_reference(src, dst, copying):
    """A string relayed from a component with encoding `src` into one with `dst`: the reference's
    allocation sizes, realloc sequence, bytes and (pointer, code units), also with a realloc that
    does not copy what it moves (the transcoders read back what realloc left)."""
    rng = random.Random(f"transcode-{src}-{dst}")
    samples = ["", "a", "hi", "\x00", "\x80", "\x80b", "ab\xefc", "\u01ffy", "xy\u01ff", "a\ud7ffb",
               "\uf123\uf123abc", "abcdef\uf123", "\U0001f600x", "\xff" * 7 + "\u0100"]
    samples += [random_string(rng) for _ in range(150)]
    for s in samples:
        # Store s in the source's encoding (as a host string), lift it as a relay.
        source = Side(4096, src)
        ptr_units = C.lower_flat(source.cx(), s, P("string"))
        relayed = [C.lift_flat(source.cx(relay=True), ptr_units, P("string"))]
        if src == "latin1+utf16" and not relayed[0].code_units & C.UTF16_TAG:
            # A latin1+utf16 component may hold a latin-1 string as UTF-16 too.
            source = Side(4096, src)
            data = s.encode("utf-16-le")
            source.mem.write(0, data)
            relayed.append(C.lift_flat(source.cx(relay=True), [0, len(data) // 2 | C.UTF16_TAG], P("string")))
        for r in relayed:
            ours, theirs = Side(8192, dst, start=8), RefSide(8192, dst, start=8)
            ours.heap.copy = theirs.heap.copy = copying
            got = C._store_string_into_range(ours.cx(), r)
            expected = ref.store_string_into_range(theirs.cx, (str(r), r.encoding, r.code_units))
            where = f"{s!r} {src} ({r.code_units:#x}) -> {dst}"
            assert got == expected, where
            assert ours.heap.calls == theirs.heap.calls, where
            assert ours.mem.data == theirs.mem.bytes, where
            if copying:
                assert C.lift_flat(ours.cx(), list(got), P("string")) == s, where


def _garbage(rng, size):
    """Memory of small words and bytes, so that pointers and lengths in it are often in bounds."""
    out = bytearray()
    while len(out) < size:
        r = rng.random()
        if r < 0.4:
            out += struct.pack("<I", rng.randrange(0, size + 8))
        elif r < 0.6:
            out += struct.pack("<I", rng.randrange(0, 8))
        elif r < 0.7:
            out += struct.pack("<I", rng.getrandbits(32))
        else:
            out += bytes([rng.choice((0, 1, 2, 0x41, 0x80, 0xC3, 0xE9, 0xFF, 0xD8, 0xDC))])
    return bytes(out[:size])


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_lift_from_random_memory_matches_reference(encoding):
    """Random bytes lifted: where the reference traps we trap, elsewhere we get its value."""
    rng = random.Random(f"garbage-{encoding}")
    traps = 0
    for case in range(1500):
        t = random_type(rng)
        size = 512
        fill = _garbage(rng, size)
        ours, theirs = Side(size, encoding, fill=fill), RefSide(size, encoding, fill=fill)
        ptr = C.align_to(rng.randrange(0, 64), C.alignment(t))
        try:
            expected = ref_lifted(t, ref.load(theirs.cx, ptr, to_ref_type(t)))
        except ref.Trap:
            expected = Trap
        where = f"case {case}: {t} at {ptr}"
        if expected is Trap:
            traps += 1
            with pytest.raises(Trap):
                C.load(ours.cx(), ptr, t)
        else:
            assert same(t, C.load(ours.cx(), ptr, t), expected), where
    assert 200 < traps < 1300  # both outcomes are well represented


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_lift_flat_from_random_values_matches_reference(encoding):
    rng = random.Random(f"flat-garbage-{encoding}")
    traps = 0
    for case in range(1500):
        t = random_type(rng)
        ref_t = to_ref_type(t)
        fill = _garbage(rng, 512)
        ours, theirs = Side(512, encoding, fill=fill), RefSide(512, encoding, fill=fill)
        kinds = C.flatten_type(t)
        special = (0xD800, 0xDFFF, 0x10FFFF, 0x110000, 0x7FC00001, 0xFF800001, 1 << 32, (1 << 32) + 1)
        bits = [rng.choice((0, 1, 2, 3, rng.randrange(0, 520), rng.choice(special),
                            rng.getrandbits(32 if k in (I32, F32) else 64))) & (_M32 if k in (I32, F32) else _M64)
                for k in kinds]
        try:
            expected = ref_lifted(t, ref.lift_flat(theirs.cx, ref.CoreValueIter(bits_to_ref_flat(ref_t, bits)), ref_t))
        except ref.Trap:
            expected = Trap
        if expected is Trap:
            traps += 1
            with pytest.raises(Trap):
                C.lift_flat(ours.cx(), bits, t)
        else:
            assert same(t, C.lift_flat(ours.cx(), bits, t), expected), f"case {case}: {t} from {bits}"
    assert 100 < traps < 1400


@pytest.mark.parametrize("seed", range(3))
def test_call_boundary_operations_match_reference(seed):
    """lower_args / lift_args / lower_results / lift_results of random function types (spilling to
    memory past 16 flat parameters or 1 flat result) against the reference's lower_flat_values and
    lift_flat_values."""
    rng = random.Random(f"calls-{seed}")
    for case in range(150):
        encoding = rng.choice(ENCODINGS)
        params = tuple((f"p{i}", random_type(rng, 1)) for i in range(rng.choice((0, 1, 3, 8, 17))))
        result = random_type(rng, 1) if rng.random() < 0.8 else None
        ft = T.FuncType(params, result)
        abi = C.function_abi(ft)
        ref_params = [to_ref_type(t) for _, t in params]
        args = [random_value(rng, t, []) for _, t in params]
        where = f"case {case}: {ft}"

        # host -> lifted export: arguments
        ours, theirs = Side(MEM_SIZE, encoding, start=8), RefSide(MEM_SIZE, encoding, start=8)
        flat_args, cx = abi.lower_args(ours.opts, args)
        ref_vals = [to_ref_value(t, a, encoding) for (_, t), a in zip(params, args)]
        expected = ref.lower_flat_values(theirs.cx, C.MAX_FLAT_PARAMS, ref_vals, ref_params)
        if abi.spill_params:
            ref_bits = expected  # [the pointer]: the bytes it points to are compared below
        else:
            ref_bits = ref_flat_bits(ref.TupleType(ref_params), expected) if params else []
        assert flat_args == ref_bits, where
        assert ours.heap.calls == theirs.heap.calls and ours.mem.data == theirs.mem.bytes, where
        assert len(flat_args) == len(abi.lift_type.params), where

        # guest -> lowered import: the same core arguments lifted back
        lifted, call = abi.lift_args(ours.opts, flat_args + ([0] if abi.spill_result else []))
        ref_lifted_args = ref.lift_flat_values(theirs.with_scope(ref.Subtask()), C.MAX_FLAT_PARAMS,
                                               ref.CoreValueIter(bits_to_ref_flat(ref.TupleType(ref_params), flat_args)
                                                                 if not abi.spill_params else flat_args), ref_params)
        for (_, t), a, b in zip(params, lifted, ref_lifted_args):
            assert same(t, a, ref_lifted(t, b)), where
        if result is None:
            assert abi.lower_results(call, None, flat_args) == []
            continue

        # the import's result, lowered (through the return pointer when it spills)
        value = random_value(rng, result, [])
        ref_t = to_ref_type(result)
        ours, theirs = Side(MEM_SIZE, encoding, start=4096), RefSide(MEM_SIZE, encoding, start=4096)
        retptr = C.align_to(8, C.alignment(result))
        _, call = abi.lift_args(ours.opts, [0] * len(abi.lower_type.params))
        flat_results = abi.lower_results(call, value, [retptr])
        out_param = ref.CoreValueIter([retptr])
        expected = ref.lower_flat_values(theirs.with_scope(ref.Task(None, None, None, None, None)), C.MAX_FLAT_RESULTS,
                                         [to_ref_value(result, value, encoding)], [ref_t], out_param)
        if abi.spill_result:
            assert flat_results == expected == [], where
        else:
            assert flat_results == ref_flat_bits(ref_t, expected), where
        assert ours.heap.calls == theirs.heap.calls and ours.mem.data == theirs.mem.bytes, where
        assert len(flat_results) == len(abi.lower_type.results), where

        # ... and lifted as an export's results (from the return area when it spills)
        lifted_results = [retptr] if abi.spill_result else flat_results
        _, cx = abi.lower_args(ours.opts, args)
        got = abi.lift_results(cx, lifted_results)
        ref_got = ref.lift_flat_values(theirs.cx, C.MAX_FLAT_RESULTS,
                                       ref.CoreValueIter(lifted_results if abi.spill_result else
                                                         bits_to_ref_flat(ref_t, lifted_results)), [ref_t])
        assert same(result, got, ref_lifted(result, ref_got[0])), where


# ---- hand-written cases ----------------------------------------------------------------------------

def _cx(encoding="utf8", size=256, fill=b"", realloc=None):
    side = Side(size, encoding, fill=fill)
    if realloc is not None:
        side.opts.realloc = realloc
    return side, side.cx()


def _value_error(t, v, *words):
    with pytest.raises(C.ComponentValueError) as info:
        C.lower_flat(_cx()[1], v, t)
    message = str(info.value)
    for word in words:
        assert word in message, message
    return info.value


def test_python_value_errors_name_the_type_and_the_value():
    e = _value_error(P("u8"), 256, "256", "u8", "0..255")
    assert isinstance(e, TypeError) and isinstance(e, ValueError) and isinstance(e, C.WasmbuildError)
    assert str(e).startswith("value: ")
    _value_error(P("s8"), -129, "-129", "s8")
    _value_error(P("u32"), -1, "-1", "u32")
    _value_error(P("u64"), 1 << 64, "u64")
    _value_error(P("s64"), 1 << 63, "s64")
    _value_error(P("u32"), True, "True", "integer")
    _value_error(P("u32"), 1.0, "1.0", "integer")
    _value_error(P("u32"), "1", "'1'", "integer")
    _value_error(P("bool"), 1, "1", "bool")
    _value_error(P("f32"), "x", "'x'", "f32")
    _value_error(P("f64"), None, "None", "f64")
    _value_error(P("char"), "ab", "'ab'", "char")
    _value_error(P("char"), "", "char")
    _value_error(P("char"), "\ud800", "char", "surrogate")
    for encoding in ENCODINGS:
        with pytest.raises(C.ComponentValueError, match="string"):
            C.lower_flat(_cx(encoding)[1], "a\udc00", P("string"))
    _value_error(P("string"), b"abc", "string")
    _value_error(T.Enum(("a", "b")), "c", "'c'", "enum")
    _value_error(T.Variant((("a", None), ("b", P("u8")))), V.Variant("z"), "no case 'z'")
    _value_error(T.Variant((("a", None), ("b", P("u8")))), V.Variant("a", 1), "no payload")
    _value_error(T.Variant((("a", None),)), "a", "Variant")
    _value_error(T.Option(T.Option(P("u8"))), 5, "Some")
    _value_error(T.Result(None, P("u8")), 5, "Ok")
    _value_error(T.Result(None, P("u8")), V.Ok(1), "no payload")
    _value_error(T.Flags(("a", "b")), {"c"}, "no flag 'c'")
    _value_error(T.Flags(("a", "b")), "a", "set")
    _value_error(T.Record((("x", P("u8")), ("y-z", P("u8")))), V.Record(x=1), "y_z")
    _value_error(T.Tuple((P("u8"), P("u8"))), (1,), "tuple of 2")
    _value_error(T.List(P("u32")), b"\x01\x02", "list")
    _value_error(T.List(P("u8")), [1, 300], "300", "u8")
    _value_error(T.Own(T.ResourceType("r")), 5, "Resource")


def test_python_values_accepted():
    side, cx = _cx()
    assert C.lower_flat(cx, 1.0e300, P("f32")) == [0x7F800000]  # rounds beyond the largest f32
    assert C.lower_flat(cx, -1.0e300, P("f32")) == [0xFF800000]
    assert C.lower_flat(cx, 3, P("f32")) == [0x40400000]
    assert C.lower_flat(cx, math.nan, P("f32")) == [C.CANONICAL_NAN32]
    assert C.lower_flat(cx, -math.nan, P("f64")) == [C.CANONICAL_NAN64]
    assert C.lower_flat(cx, -1, P("s32")) == [0xFFFFFFFF]
    assert C.lower_flat(cx, -1, P("s64")) == [(1 << 64) - 1]
    assert C.lower_flat(cx, "\U0010ffff", P("char")) == [0x10FFFF]
    rec = T.Record((("x", P("u8")), ("y-z", P("u8"))))
    assert C.lower_flat(cx, V.Record(x=1, y_z=2), rec) == C.lower_flat(cx, {"x": 1, "y-z": 2}, rec) == [1, 2]
    oo = T.Option(T.Option(P("u8")))
    assert C.lower_flat(cx, None, oo) == [0, 0, 0]
    assert C.lower_flat(cx, V.Some(None), oo) == [1, 0, 0]
    assert C.lower_flat(cx, V.Some(7), oo) == [1, 1, 7]
    assert C.lift_flat(cx, [1, 0, 9], oo) == V.Some(None)
    assert C.lift_flat(cx, [1, 1, 9], oo) == V.Some(9)
    assert C.lower_flat(cx, V.Some(4), T.Option(P("u8"))) == C.lower_flat(cx, 4, T.Option(P("u8"))) == [1, 4]
    assert C.lift_flat(cx, [1, 4], T.Option(P("u8"))) == 4
    assert C.lift_flat(cx, [0, 4], T.Option(P("u8"))) is None
    flags = T.Flags(tuple(f"f{i}" for i in range(9)))
    assert C.lower_flat(cx, ["f0", "f8"], flags) == [0x101]
    assert C.lift_flat(cx, [0xFFFF_FF01], flags) == {"f0"} | {f"f{i}" for i in range(8, 9)}  # extra bits ignored
    # list<u8>: bytes, bytearray, memoryview or a list in; bytes out
    for given in (b"\x01\x02\xff", bytearray(b"\x01\x02\xff"), memoryview(b"\x01\x02\xff"), [1, 2, 255]):
        flat = C.lower_flat(cx, given, T.List(P("u8")))
        assert C.lift_flat(cx, flat, T.List(P("u8"))) == b"\x01\x02\xff"
    assert C.lift_flat(cx, C.lower_flat(cx, [], T.List(P("u32"))), T.List(P("u32"))) == []


def _trap(fn, *words):
    with pytest.raises(Trap) as info:
        fn()
    for word in words:
        assert word in info.value.message, info.value.message
    return info.value


def test_guest_traps_use_the_spec_wording():
    side, cx = _cx(size=64)
    _trap(lambda: C.lift_flat(cx, [0xD800], P("char")), "invalid `char` bit pattern")
    _trap(lambda: C.lift_flat(cx, [0x110000], P("char")), "invalid `char` bit pattern")
    _trap(lambda: C.lift_flat(cx, [60, 5], P("string")), "string content out-of-bounds")
    _trap(lambda: C.lift_flat(cx, [0, 1 << 28], P("string")), "string content out-of-bounds")
    _trap(lambda: C.lift_flat(cx, [64, 1], T.List(P("u8"))), "list content out-of-bounds")
    _trap(lambda: C.lift_flat(cx, [2, 1], T.List(P("u32"))), "unaligned pointer")
    _trap(lambda: C.lift_flat(cx, [0, 1 << 27], T.List(P("u32"))), "list content out-of-bounds")
    _trap(lambda: C.lift_flat(cx, [2, 0], T.Option(P("u8"))), "invalid variant discriminant")
    _trap(lambda: C.lift_flat(cx, [3], T.Enum(("a", "b", "c"))), "invalid variant discriminant")
    _trap(lambda: C.lift_flat(cx, [2, 0], T.Result(P("u8"), None)), "invalid variant discriminant")
    for enc in ("utf16", "latin1+utf16"):
        side16, cx16 = _cx(enc, size=64)
        tag = C.UTF16_TAG if enc != "utf16" else 0
        _trap(lambda: C.lift_flat(cx16, [1, 1 | tag], P("string")), "unaligned pointer")
        side16.mem.write(0, "\ud800".encode("utf-16-le", "surrogatepass"))
        _trap(lambda: C.lift_flat(cx16, [0, 1 | (C.UTF16_TAG if enc != "utf16" else 0)], P("string")), "invalid utf-16")
    side.mem.write(0, b"\xc3\x28")
    _trap(lambda: C.lift_flat(cx, [0, 2], P("string")), "invalid utf-8")
    side.mem.write(0, b"\xc3")
    _trap(lambda: C.lift_flat(cx, [0, 1], P("string")), "invalid utf-8", "incomplete utf-8 byte sequence")
    # Wasmtime's wording too, where it has its own
    _trap(lambda: C.lift_flat(cx, [60, 5], P("string")), "string pointer/length out of bounds of memory")
    _trap(lambda: C.lift_flat(cx, [2, 0], T.Option(P("u8"))), "discriminant 2 out of range [0..2)")
    _trap(lambda: C.lift_flat(_cx("utf16")[1], [1, 1], P("string")), "string pointer not aligned to 2")
    # the reference traps in every one of these too
    rcx = RefSide(64).cx
    for vals, t in (([0xD800], ref.CharType()), ([60, 5], ref.StringType()), ([2, 1], ref.ListType(ref.U32Type())),
                    ([2, 0], ref.OptionType(ref.U8Type()))):
        with pytest.raises(ref.Trap):
            ref.lift_flat(rcx, ref.CoreValueIter(vals), t)


def test_realloc_results_are_checked():
    _, cx = _cx(size=64, realloc=lambda *a: 2)
    _trap(lambda: C.lower_flat(cx, [1, 2], T.List(P("u32"))), "realloc return: result not aligned", "unaligned pointer")
    _, cx = _cx(size=64, realloc=lambda *a: 0xFFFFFFFC)
    _trap(lambda: C.lower_flat(cx, [1, 2], T.List(P("u32"))), "realloc return: beyond end of memory")
    _trap(lambda: C.lower_flat(cx, [], T.List(P("u32"))), "realloc return: beyond end of memory")  # even for 0 bytes
    _trap(lambda: C.lower_flat(cx, "", P("string")), "realloc return: beyond end of memory")
    _, cx = _cx(size=64, realloc=lambda *a: -1)  # i32 -1 is 0xFFFFFFFF: misaligned first
    _trap(lambda: C.lower_flat(cx, [1, 2], T.List(P("u32"))), "realloc return: result not aligned")
    _, cx = _cx("utf16", size=64, realloc=lambda *a: 3)
    _trap(lambda: C.lower_flat(cx, "ab", P("string")), "unaligned pointer")
    side = Side(64)
    side.opts.realloc = None
    with pytest.raises(C.WasmbuildError, match="`realloc` is required"):
        C.lower_flat(side.cx(), "x", P("string"))


def test_joined_flat_slots_are_narrowed_as_the_reference_does():
    """A variant's case read from a slot joined to i64: the upper bits are dropped."""
    t = T.Variant((("a", P("bool")), ("b", P("u64")), ("c", P("f32")), ("d", P("s8"))))
    _, cx = _cx()
    ref_t = to_ref_type(t)
    for vals in ([0, 1 << 32], [0, (1 << 32) | 1], [2, (1 << 32) | 0x3F800000], [3, (1 << 40) | 0xFF], [1, 1 << 63]):
        ours = C.lift_flat(cx, vals, t)
        expected = ref_lifted(t, ref.lift_flat(RefSide(16).cx, ref.CoreValueIter(vals), ref_t))
        assert same(t, ours, expected), vals
    assert C.lift_flat(cx, [0, 1 << 32], t) == V.Variant("a", False)
    assert C.lift_flat(cx, [2, (1 << 32) | 0x3F800000], t) == V.Variant("c", 1.0)
    assert C.lower_flat(cx, V.Variant("c", 1.0), t) == [2, 0x3F800000]
    assert C.lower_flat(cx, V.Variant("d", -1), t) == [3, 0xFFFFFFFF]


# -- handles and resources

def test_handle_table_reserves_zero_and_reuses_freed_indices_last_in_first_out():
    table = H.HandleTable()
    rt = T.ResourceType("r")
    assert [table.add(H.ResourceHandle(rt, i, True)) for i in range(3)] == [1, 2, 3]
    _trap(lambda: table.get(0), "unknown handle index 0")
    _trap(lambda: table.get(4), "unknown handle index 4")
    _trap(lambda: table.get(-1), "unknown handle index -1")  # not the last entry
    table.remove(2)
    _trap(lambda: table.get(2), "unknown handle index 2")
    assert table.add(H.ResourceHandle(rt, 9, True)) == 2
    table.remove(1)
    table.remove(3)
    assert table.add(H.ResourceHandle(rt, 8, True)) == 3
    assert table.add(H.ResourceHandle(rt, 7, True)) == 1
    assert table.add(H.ResourceHandle(rt, 6, True)) == 4
    assert len(table) == 4


def test_resource_new_rep_drop():
    registry = H.ResourceRegistry()
    inst = H.InstanceHandles(registry)
    rt, other = T.ResourceType("r"), T.ResourceType("other")
    dropped = []
    registry.define(rt, inst, dropped.append)
    i = inst.resource_new(rt, 42)
    j = inst.resource_new(rt, 43)
    assert (i, j) == (1, 2)
    assert inst.resource_rep(rt, j) == 43
    _trap(lambda: inst.resource_rep(other, j), "handle index 2 used with the wrong type, expected host-defined "
          "resource but found guest-defined resource")
    third = T.ResourceType("third")
    registry.define(third, inst, None)
    _trap(lambda: inst.resource_rep(third, j), "expected guest-defined resource but found a different "
          "guest-defined resource")
    _trap(lambda: inst.resource_drop(other, j), "used with the wrong type")
    inst.resource_drop(rt, j)
    assert dropped == [43]
    _trap(lambda: inst.resource_drop(rt, j), "unknown handle index 2")
    _trap(lambda: inst.resource_rep(rt, 0), "unknown handle index 0")
    inst.may_leave = False
    _trap(lambda: inst.resource_new(rt, 1), "cannot leave component instance")
    _trap(lambda: inst.resource_drop(rt, i), "cannot leave component instance")


def _resource_world():
    registry = H.ResourceRegistry()
    guest = H.InstanceHandles(registry, "guest")
    rt = T.ResourceType("thing")
    dropped = []
    registry.define(rt, guest, dropped.append)
    side = Side(256)
    side.instance = side.opts.instance = guest
    side.registry = registry
    return side, guest, rt, dropped


def test_own_handles_move_between_host_and_guest():
    side, guest, rt, dropped = _resource_world()
    take = C.function_abi(T.FuncType((("t", T.Own(rt)),), None))
    give = C.function_abi(T.FuncType((), T.Own(rt)))
    # the guest makes one and returns it: the host owns it, the guest's handle is gone
    index = guest.resource_new(rt, 7)
    _, cx = give.lower_args(side.opts, [])
    r = give.lift_results(cx, [index])
    assert isinstance(r, H.Resource) and r.own and r.rep == 7 and len(guest.table) == 0
    # the host passes it back as own: a new guest handle, the host's is moved
    flat, cx = take.lower_args(side.opts, [r])
    assert guest.table.get(flat[0]).rep == 7 and guest.table.get(flat[0]).own
    with pytest.raises(C.ComponentValueError, match="moved"):
        r.rep
    with pytest.raises(C.ComponentValueError, match="moved"):
        take.lower_args(side.opts, [r])
    # the guest drops it: the destructor runs
    guest.resource_drop(rt, flat[0])
    assert dropped == [7]
    # one the host closes: the destructor runs once
    r2 = give.lift_results(give.lower_args(side.opts, [])[1], [guest.resource_new(rt, 8)])
    with r2:
        pass
    r2.close()
    assert dropped == [7, 8]
    _trap(lambda: give.lift_results(give.lower_args(side.opts, [])[1], [5]), "unknown handle index 5")
    with pytest.raises(C.ComponentValueError, match="type"):
        take.lower_args(side.opts, [side.registry.new(T.ResourceType("else"), 1)])


def test_borrows_given_to_a_callee_must_be_dropped_before_it_returns():
    registry = H.ResourceRegistry()
    host_rt = T.ResourceType("host-thing")
    closed = []
    registry.define(host_rt, None, closed.append)
    guest = H.InstanceHandles(registry, "guest")
    side = Side(256)
    side.opts.instance = guest
    use = C.function_abi(T.FuncType((("t", T.Borrow(host_rt)),), P("u32")))
    thing = registry.new(host_rt, {"state": 1})
    flat, cx = use.lower_args(side.opts, [thing])
    handle = guest.table.get(flat[0])
    assert not handle.own and handle.rep == {"state": 1} and cx.scope.borrows == 1
    _trap(lambda: use.lift_results(cx, [0]), "borrow handles still remain")
    flat, cx = use.lower_args(side.opts, [thing])
    guest.resource_drop(host_rt, flat[0])  # dropping a borrow: no destructor
    assert closed == [] and cx.scope.borrows == 0
    assert use.lift_results(cx, [5]) == 5
    assert thing.alive
    # a host resource moved into the guest as own: the guest's drop runs the host's destructor
    keep = C.function_abi(T.FuncType((("t", T.Own(host_rt)),), None))
    flat, _ = keep.lower_args(side.opts, [thing])
    guest.resource_drop(host_rt, flat[0])
    assert closed == [{"state": 1}]


def test_borrow_lowered_into_the_defining_instance_is_its_rep():
    side, guest, rt, _ = _resource_world()
    use = C.function_abi(T.FuncType((("t", T.Borrow(rt)),), None))
    r = C.function_abi(T.FuncType((), T.Own(rt))).lift_results(C.CallContext(side.opts), [guest.resource_new(rt, 77)])
    flat, cx = use.lower_args(side.opts, [r])
    assert flat == [77] and len(guest.table) == 0 and cx.scope.borrows == 0
    use.lift_results(cx, [])


def test_borrows_lent_to_the_host_block_drops_until_the_call_returns():
    side, guest, rt, dropped = _resource_world()
    imp = C.function_abi(T.FuncType((("t", T.Borrow(rt)),), P("u32")))
    index = guest.resource_new(rt, 5)
    (view,), call = imp.lift_args(side.opts, [index])
    assert not view.own and view.rep == 5 and guest.table.get(index).lends == 1
    _trap(lambda: guest.resource_drop(rt, index), "cannot remove owned resource while borrowed")
    take = C.function_abi(T.FuncType((("t", T.Own(rt)),), None))
    _trap(lambda: take.lift_args(side.opts, [index]), "cannot remove owned resource while borrowed")
    assert imp.lower_results(call, 3, [index]) == [3]
    assert guest.table.get(index).lends == 0
    with pytest.raises(C.ComponentValueError, match="expired"):
        view.rep
    view.close()  # nothing: the borrow has ended
    guest.resource_drop(rt, index)
    assert dropped == [5]
    _trap(lambda: imp.lift_args(side.opts, [index]), f"unknown handle index {index}")
    # a borrow handle is not an own
    other = H.InstanceHandles(side.registry)
    host_rt = T.ResourceType("h")
    i = other.give_borrow(host_rt, 1, H.BorrowScope())
    _trap(lambda: other.take_own(i, host_rt), "borrow")


def test_realloc_may_not_leave_the_instance():
    side, guest, rt, _ = _resource_world()

    def realloc(*args):
        guest.resource_new(rt, 1)
        return 0

    side.opts.realloc = realloc
    _trap(lambda: C.lower_flat(C.CallContext(side.opts), "x", P("string")), "cannot leave component instance")
    assert guest.may_leave


# -- the call-boundary operations by hand

def test_spilled_parameters_and_results():
    side = Side(1024, start=16)
    ft = T.FuncType(tuple((f"p{i}", P("u32")) for i in range(17)), T.Tuple((P("u8"), P("string"))))
    abi = C.function_abi(ft)
    assert abi.lift_type == CoreFuncType((I32,), (I32,))
    assert abi.lower_type == CoreFuncType((I32, I32), ())
    flat, cx = abi.lower_args(side.opts, list(range(100, 117)))
    assert side.heap.calls == [(0, 0, 4, 68)] and flat == [16]
    assert struct.unpack("<17I", side.mem.read(16, 68)) == tuple(range(100, 117))
    args, call = abi.lift_args(side.opts, [16, 200])
    assert args == list(range(100, 117))
    assert abi.lower_results(call, (9, "hé"), [16, 200]) == []
    ptr, n = struct.unpack("<II", side.mem.read(204, 8))
    assert side.mem.read(200, 1) == b"\x09" and side.mem.read(ptr, n) == "hé".encode()
    posts = []
    side.opts.post_return = lambda flat_results: posts.append((flat_results, side.instance.may_leave))
    _, cx = abi.lower_args(side.opts, list(range(17)))
    assert abi.lift_results(cx, [200]) == (9, "hé")
    assert posts == [([200], False)] and side.instance.may_leave
    _trap(lambda: abi.lift_results(abi.lower_args(side.opts, list(range(17)))[1], [201]), "unaligned pointer")
    _trap(lambda: abi.lift_results(abi.lower_args(side.opts, list(range(17)))[1], [1020]), "out-of-bounds")
    _trap(lambda: abi.lift_args(side.opts, [1022, 0]), "unaligned pointer")
    _trap(lambda: abi.lower_results(abi.lift_args(side.opts, [16, 0])[1], (1, ""), [16, 1021]), "unaligned pointer")


def test_argument_errors_name_the_parameter():
    abi = C.function_abi(T.FuncType((("x", P("u8")), ("name", P("string"))), None))
    side = Side(256)
    with pytest.raises(C.ComponentValueError, match="argument `name` of func.*: 5 is not a value of string"):
        abi.lower_args(side.opts, [1, 5])
    with pytest.raises(C.ComponentValueError, match="takes 2 arguments, not 1"):
        abi.lower_args(side.opts, [1])
    _, call = abi.lift_args(side.opts, [1, 0, 0])
    with pytest.raises(C.ComponentValueError, match="has no result"):
        abi.lower_results(call, 3, [])
    res = C.function_abi(T.FuncType((), P("u8")))
    with pytest.raises(C.ComponentValueError, match="result of func.*: 300 is not a value of u8"):
        res.lower_results(res.lift_args(side.opts, [])[1], 300, [])


def test_type_facts_need_no_loader():
    import subprocess
    code = ("import sys, wasmbuild.component.canonical as c, wasmbuild.component.types as t;"
            "c.flatten_functype(t.FuncType((('s', t.prim('string')),), None), 'lower');"
            "print(sorted(m for m in sys.modules if m.startswith('wasmbuild.loader')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_a_lowering_that_fails_gives_the_handles_back():
    """A bad argument after an own and a borrow: the guest's table is as before and the host still
    owns what it passed; the same when realloc traps."""
    registry = H.ResourceRegistry()
    host_rt = T.ResourceType("h")
    registry.define(host_rt, None, None)
    guest = H.InstanceHandles(registry, "guest")
    side = Side(256)
    side.opts.instance = guest
    abi = C.function_abi(T.FuncType((("a", T.Own(host_rt)), ("b", T.Borrow(host_rt)), ("c", P("u8")),
                                     ("d", P("string"))), None))
    a, b = registry.new(host_rt, "A"), registry.new(host_rt, "B")
    with pytest.raises(C.ComponentValueError, match="argument `c`"):
        abi.lower_args(side.opts, [a, b, 300, "x"])
    assert len(guest.table) == 0 and a.alive and a.rep == "A" and b.alive

    def failing_realloc(*args):
        raise Trap("unreachable")

    side.opts.realloc = failing_realloc
    with pytest.raises(Trap, match="unreachable"):
        abi.lower_args(side.opts, [a, b, 1, "x"])
    assert len(guest.table) == 0 and a.alive
    side.opts.realloc = side.heap
    flat, cx = abi.lower_args(side.opts, [a, b, 1, "x"])
    assert not a.alive and len(guest.table) == 2 and cx.scope.borrows == 1
    # a host function's bad result: the own handle it returned is taken back too
    give = C.function_abi(T.FuncType((), T.Tuple((T.Own(host_rt), P("u8")))))
    c = registry.new(host_rt, "C")
    _, call = give.lift_args(side.opts, [])
    with pytest.raises(C.ComponentValueError, match="result of"):
        give.lower_results(call, (c, -1), [16])
    assert c.alive and len(guest.table) == 2


def test_a_trap_while_lifting_arguments_ends_the_lends_made():
    side, guest, rt, _ = _resource_world()
    imp = C.function_abi(T.FuncType((("t", T.Borrow(rt)), ("c", P("char"))), None))
    index = guest.resource_new(rt, 5)
    _trap(lambda: imp.lift_args(side.opts, [index, 0xD800]), "invalid `char` bit pattern")
    assert guest.table.get(index).lends == 0


def test_value_errors_say_where_in_the_value():
    t = T.Record((("name", P("string")), ("tags", T.List(T.Variant((("a", None), ("n", P("u8"))))))))
    abi = C.function_abi(T.FuncType((("r", t),), None))
    side = Side(1024)
    bad = V.Record(name="x", tags=[V.Variant("a"), V.Variant("n", 300)])
    with pytest.raises(C.ComponentValueError) as info:
        abi.lower_args(side.opts, [bad])
    assert info.value.reason.startswith("argument `r` of func")
    assert info.value.reason.endswith(": field `tags`: element 1: case `n`: 300 is not a value of u8: out of range 0..255")
    with pytest.raises(C.ComponentValueError, match=r"element 2: -1 is not a value of u32"):
        C.lower_flat(side.cx(), [1, 2, -1], T.List(P("u32")))
    calls = len(side.heap.calls)
    with pytest.raises(C.ComponentValueError, match=r"element 0: True is not a value of u16"):
        C.lower_flat(side.cx(), [True], T.List(P("u16")))
    assert len(side.heap.calls) == calls  # integer lists are checked before anything is allocated
    with pytest.raises(C.ComponentValueError, match=r"element 1: error: 'x' is not a value of u8"):
        C.lower_flat(side.cx(), (V.Ok(), V.Err("x")), T.Tuple((T.Result(None, P("u8")), T.Result(None, P("u8")))))


def test_lifting_is_limited_to_a_number_of_list_elements_per_call(monkeypatch):
    """A guest describing millions of tiny records in little memory cannot make the host build them
    all: past MAX_LIFTED_ELEMENTS elements in one call, the call traps."""
    monkeypatch.setattr(C, "MAX_LIFTED_ELEMENTS", 1000)
    side, cx = _cx(size=4096)
    t = T.List(T.Record((("a", P("u8")),)))
    assert len(C.lift_flat(cx, [0, 1000], t)) == 1000
    _trap(lambda: C.lift_flat(cx, [0, 1], t), "too large for the host", "MAX_LIFTED_ELEMENTS")  # the same call
    assert len(C.lift_flat(side.cx(), [0, 600], t)) == 600  # a new call starts again
    nested = T.List(T.List(P("u32")))
    side.mem.write(0, struct.pack("<II", 64, 600) * 2)
    _trap(lambda: C.lift_flat(side.cx(), [0, 2], nested), "too large for the host")  # 2 + 600 + 600
    assert len(C.lift_flat(side.cx(), [0, 4000], T.List(P("u8")))) == 4000  # bytes are not counted


def test_an_encoded_string_must_hold_what_it_says():
    side = Side(256, "utf16")
    for bad in (C.EncodedString("abc", "utf8", 2), C.EncodedString("é", "latin1+utf16", 2),
                C.EncodedString("€", "latin1+utf16", 1), C.EncodedString("ab", "utf16", 3)):
        with pytest.raises(C.ComponentValueError, match="code units were announced|not in range"):
            C.lower_flat(side.cx(), bad, P("string"))
    assert side.heap.calls == []
    assert C.lift_flat(side.cx(), C.lower_flat(side.cx(), C.EncodedString("€", "latin1+utf16", 1 | C.UTF16_TAG),
                                               P("string")), P("string")) == "€"


def test_a_failed_lowering_leaves_the_defining_instance_alone():
    """A borrow lowered into the instance that defines its type is the rep itself, not a handle: a
    failure afterwards must not take back the handle whose index happens to equal that rep."""
    side, guest, rt, _ = _resource_world()
    index = guest.resource_new(rt, 7)
    r = H.Resource(rt, index, own=True, registry=side.registry)  # its rep equals that index
    abi = C.function_abi(T.FuncType((("t", T.Borrow(rt)), ("n", P("u8"))), None))
    with pytest.raises(C.ComponentValueError):
        abi.lower_args(side.opts, [r, 300])
    assert guest.table.get(index).rep == 7
