"""Component values as the component spec scripts write them (../shared/components/spec/README.md,
"Values"), converted to and compared with the Python values of `component/values.py`.

`python_value(v, t)` gives the Python value of script value `v` of type `t`; `value_matches(v, x, t)`
says whether Python value `x` (a call's result) is the script value `v`. Script values are not
self-describing, so both are guided by the component type `t`: integers are decimal strings, floats
bit patterns (any NaN matches a NaN), an option is null or its payload, a result {"Ok": x} or
{"Err": x}, a record a list of [label, value] pairs, flags a list of names (compared as a set).
"""

from __future__ import annotations

import math
import struct

from . import types as ct
from .values import Err, Ok, Record, Some, Variant, field_attr


def _float(t: ct.Prim, bits: str) -> float:
    if t.name == "f32":
        return struct.unpack("<f", struct.pack("<I", int(bits)))[0]
    return struct.unpack("<d", struct.pack("<Q", int(bits)))[0]


def python_value(v: dict, t: ct.ValType):
    value = v["value"]
    if isinstance(t, ct.Prim):
        if t.name == "bool" or t.name in ("char", "string"):
            return value
        if t.name in ("f32", "f64"):
            return _float(t, value)
        return int(value)
    if isinstance(t, ct.List):
        if t.elem == ct.prim("u8"):
            return bytes(int(e["value"]) for e in value)
        return [python_value(e, t.elem) for e in value]
    if isinstance(t, ct.Tuple):
        return tuple(python_value(e, et) for e, et in zip(value, t.types))
    if isinstance(t, ct.Record):
        types = dict(t.fields)
        return Record(**{field_attr(name): python_value(e, types[name]) for name, e in value})
    if isinstance(t, ct.Variant):
        payload_type = dict(t.cases)[value["case"]]
        payload = value.get("payload")
        return Variant(value["case"], None if payload is None else python_value(payload, payload_type))
    if isinstance(t, ct.Enum):
        return value
    if isinstance(t, ct.Option):
        if value is None:
            return None
        inner = python_value(value, t.type)
        return Some(inner) if isinstance(t.type, ct.Option) else inner
    if isinstance(t, ct.Result):
        (case, payload), = value.items()
        side = t.ok if case == "Ok" else t.err
        inner = None if payload is None else python_value(payload, side)
        return Ok(inner) if case == "Ok" else Err(inner)
    if isinstance(t, ct.Flags):
        return set(value)
    raise ValueError(f"the scripts have no value syntax for {t}")


def value_matches(v: dict, x, t: ct.ValType) -> bool:
    value = v["value"]
    if isinstance(t, ct.Prim):
        if t.name in ("f32", "f64"):
            if not isinstance(x, float):
                return False
            want = _float(t, value)
            if math.isnan(want):
                return math.isnan(x)
            fmt, ifmt = ("<f", "<I") if t.name == "f32" else ("<d", "<Q")
            return struct.pack(fmt, x) == struct.pack(fmt, want)
        if t.name in ("bool", "char", "string"):
            return type(x) is type(value) and x == value
        return type(x) is int and x == int(value)
    if isinstance(t, ct.List):
        items = list(x) if isinstance(x, (bytes, list)) else None
        return items is not None and len(items) == len(value) and all(
            value_matches(e, i, t.elem) for e, i in zip(value, items))
    if isinstance(t, ct.Tuple):
        return isinstance(x, tuple) and len(x) == len(value) and all(
            value_matches(e, i, et) for e, i, et in zip(value, x, t.types))
    if isinstance(t, ct.Record):
        types = dict(t.fields)
        return isinstance(x, Record) and all(
            value_matches(e, getattr(x, field_attr(name), None), types[name]) for name, e in value)
    if isinstance(t, ct.Variant):
        if not isinstance(x, Variant) or x.case != value["case"]:
            return False
        payload_type = dict(t.cases)[x.case]
        if payload_type is None:
            return x.payload is None
        return value_matches(value["payload"], x.payload, payload_type)
    if isinstance(t, ct.Enum):
        return x == value
    if isinstance(t, ct.Option):
        if value is None:
            return x is None
        if isinstance(t.type, ct.Option):
            return isinstance(x, Some) and value_matches(value, x.value, t.type)
        return x is not None and value_matches(value, x, t.type)
    if isinstance(t, ct.Result):
        (case, payload), = value.items()
        cls, side = (Ok, t.ok) if case == "Ok" else (Err, t.err)
        if not isinstance(x, cls):
            return False
        return x.value is None if payload is None else value_matches(payload, x.value, side)
    if isinstance(t, ct.Flags):
        return isinstance(x, (set, frozenset)) and set(x) == set(value)
    return False
