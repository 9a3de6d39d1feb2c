"""The canonical ABI (wasmbuild/component/canonical.py, handles.py) against the component model's
executable reference, design-mvp/canonical-abi/definitions.py, used as an oracle: for seeded random
types and values, lowering must give the reference's flat values, memory bytes and realloc calls,
and lifting (from what was lowered, and from random memory) the reference's values or a trap where
it traps. Plus hand-written cases: trap wording, Python value errors, handles and resources, the
four call-boundary operations.

The reference is read from `$WASMBUILD_COMPONENTS_DIR` (default `<repo>/../shared/components`).
"""

from __future__ import annotations

import importlib.util
import math
import os
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

COMPONENTS_DIR = os.environ.get("WASMBUILD_COMPONENTS_DIR") or os.path.join(REPO_ROOT.parent, "shared", "components")
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

    def __init__(self, memory: bytearray, start: int = 0):
        self.memory = memory
        self.next = start
        self.calls = []

    def __call__(self, old, old_size, align, new_size):
        self.calls.append((old, old_size, align, new_size))
        if old and new_size <= old_size:
            return old
        ptr = -(-self.next // align) * align
        self.next = ptr + new_size
        if self.next > len(self.memory):
            raise Trap("out of heap (test allocator)")
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
        return ref.VariantType([ref.CaseType(label, None if p is None else to_ref_type(p, res)) for label, p in t.cases])
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
        return type(ours) is list and len(ours) == len(expected) and all(same(t.elem, a, b) for a, b in zip(ours, expected))
    if k is T.Record:
        return type(ours) is V.Record and all(same(ft, getattr(ours, V.field_attr(label)), getattr(expected, V.field_attr(label)))
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
            return T.Own(rng.choice(res.ours))
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
    if k is T.Own:
        rep = rng.randint(1, 1 << 31)
        resources.append((t.resource, rep))
        return rep  # a rep for now; made a Resource per side (each side consumes its own)
    raise AssertionError(t)


def resources_for(t, v, registry):
    """`v` with every rep of an own<R> made a fresh owned Resource (for one side)."""
    k = type(t)
    if k is T.Own:
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
    return ours, theirs, ref_t, got, expected


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
    for case in range(N_CASES):
        t = random_type(rng, res=res)
        v = random_value(rng, t, [])
        ours, theirs, ref_t, got, expected = _lower_both(t, v, encoding, res, flat)
        where = f"case {case}: {t} = {v!r}"
        assert got == expected, where
        assert ours.heap.calls == theirs.heap.calls, where
        assert ours.mem.data == theirs.mem.bytes, where
        assert len(ours.instance.table) == len([h for h in theirs.inst.handles.array if h is not None]), where
        # Lift it back with both.
        cx = ours.cx()
        if flat:
            lifted = C.lift_flat(cx, got, t)
            ref_lifted_v = ref.lift_flat(theirs.with_scope(ref.Subtask()), ref.CoreValueIter(bits_to_ref_flat(ref_t, got)), ref_t)
        else:
            lifted = C.load(cx, got[0], t)
            ref_lifted_v = ref.load(theirs.with_scope(ref.Subtask()), got[0], ref_t)
        assert same(t, lifted, ref_lifted(t, ref_lifted_v)), where
        assert len(ours.instance.table) == 0 or type(t) is not T.Own


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


@pytest.mark.parametrize("dst", ENCODINGS)
@pytest.mark.parametrize("src", ENCODINGS)
def test_transcoding_matches_reference(src, dst):
    """A string relayed from a component with encoding `src` into one with `dst`: the reference's
    allocation sizes, realloc sequence, bytes and (pointer, code units)."""
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
            got = C._store_string_into_range(ours.cx(), r)
            expected = ref.store_string_into_range(theirs.cx, (str(r), r.encoding, r.code_units))
            where = f"{s!r} {src} ({r.code_units:#x}) -> {dst}"
            assert got == expected, where
            assert ours.heap.calls == theirs.heap.calls, where
            assert ours.mem.data == theirs.mem.bytes, where
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
