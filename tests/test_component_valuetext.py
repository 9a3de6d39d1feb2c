"""The text syntax of component values (`wasmbuild.component.valuetext`) and its use in samplecheck.

Takes hand-built types (component/types.py) and hand-written text with the Python values it stands
for (component/values.py, the mapping of docs/components.md); gives tests that each text reads as
that value, is written back as the canonical text, that malformed text and values out of range
are refused saying where, that samplecheck names component functions `interface#func`, and that
its `host` lines become answer tables for the imports (a call they do not list traps).
"""

from __future__ import annotations

import math
import re

import pytest

from wasmbuild.component import types as ct
from wasmbuild.component.valuetext import ValueTextError, format_value, parse_values
from wasmbuild.component.values import Err, Ok, Record, Some, Variant
from wasmbuild.samplecheck import find_component_function, parse_expected

P = ct.Prim
SHAPE = ct.Variant((("circle", P("f64")), ("rect", ct.Tuple((P("f64"), P("f64")))), ("dot", None)))
STATS = ct.Record((("count", P("u32")), ("total", P("s64")), ("largest-one", ct.Option(P("s32")))))
ACCESS = ct.Flags(("read", "write", "exec"))
COLOR = ct.Enum(("red", "green"))

# (type, text as written, Python value, canonical text)
CASES = [
    (P("bool"), "true", True, "true"),
    (P("u8"), "0xff", 255, "255"),
    (P("s64"), "-9223372036854775808", -(1 << 63), "-9223372036854775808"),
    (P("u32"), "0o755", 493, "493"),
    (P("f64"), "2", 2.0, "2.0"),
    (P("f64"), "-inf", -math.inf, "-inf"),
    (P("f32"), "0.1", 0.1, "0.1"),
    (P("char"), "'\\u{1f600}'", "\U0001f600", "'\U0001f600'"),
    (P("char"), "'\\''", "'", "'\\''"),
    (P("string"), '"a  \\"b\\"\\n\\\\"', 'a  "b"\n\\', '"a  \\"b\\"\\n\\\\"'),
    (P("string"), '""', "", '""'),
    (ct.List(P("u8")), "[1, 2,3]", b"\x01\x02\x03", "[1, 2, 3]"),
    (ct.List(P("string")), '["x", "y",]', ["x", "y"], '["x", "y"]'),
    (ct.List(P("s32")), "[ ]", [], "[]"),
    (ct.Tuple((P("u8"), P("string"))), '(1, "a")', (1, "a"), '(1, "a")'),
    (STATS, "{total: 8, largest-one: some(12), count: 3}",
     Record(count=3, total=8, largest_one=12), "{count: 3, total: 8, largest-one: some(12)}"),
    (SHAPE, "rect((3, 4.5))", Variant("rect", (3.0, 4.5)), "rect((3.0, 4.5))"),
    (SHAPE, "dot", Variant("dot"), "dot"),
    (COLOR, "%green", "green", "green"),
    (ct.Option(P("u32")), "none", None, "none"),
    (ct.Option(ct.Option(P("u32"))), "some(none)", Some(None), "some(none)"),
    (ct.Option(ct.Option(P("u32"))), "some(some(4))", Some(4), "some(some(4))"),
    (ct.Result(P("u32"), COLOR), "err(red)", Err("red"), "err(red)"),
    (ct.Result(None, None), "ok", Ok(None), "ok"),
    (ACCESS, "{exec, read}", {"read", "exec"}, "{read, exec}"),
    (ACCESS, "{}", set(), "{}"),
]


@pytest.mark.parametrize("t, text, value, canonical", CASES, ids=[c[1] for c in CASES])
def test_text_reads_as_the_value_and_is_written_canonically(t, text, value, canonical):
    (parsed,) = parse_values(text, [t])
    assert parsed == value and type(parsed) is type(value)
    assert format_value(parsed, t) == canonical
    assert parse_values(canonical, [t]) == [value]


def test_several_values_separated_by_blanks():
    assert parse_values(' "a b"  [1, 2] circle(1)', [P("string"), ct.List(P("u16")), SHAPE]) == [
        "a b", [1, 2], Variant("circle", 1.0)]
    assert parse_values("", []) == []


def test_nan_is_written_as_nan():
    (nan,) = parse_values("nan", [P("f32")])
    assert math.isnan(nan) and format_value(nan, P("f32")) == "nan"


BAD = [
    (P("u8"), "256", "at column 4: 256 is out of range for u8"),
    (P("s8"), "-129", "out of range for s8"),
    (P("bool"), "yes", "expected true or false, got 'yes'"),
    (P("string"), '"open', "unterminated"),
    (P("string"), "'x'", "expected '\"'"),
    (P("string"), '"\\q"', "unknown escape \\q"),
    (P("char"), "'ab'", "a char is one character"),
    (P("char"), "'\\u{d800}'", "surrogate"),
    (STATS, "{count: 1, total: 2}", "missing field 'largest-one'"),
    (STATS, "{count: 1, count: 1}", "field 'count' given twice"),
    (STATS, "{size: 1}", "no field 'size'"),
    (SHAPE, "square(1)", "no case 'square' (cases: circle, rect, dot)"),
    (SHAPE, "dot(1)", "dot has no payload"),
    (ACCESS, "{read, delete}", "no flag 'delete'"),
    (ct.Option(P("u8")), "3", "expected none or some(...), got '3'"),
    (ct.Result(P("u8"), None), "fine", "expected ok or err"),
    (ct.List(P("u8")), "[1 2]", "expected ','"),
    (P("u8"), "1 2", "more text than values"),
    (ct.Own(ct.ResourceType("r")), "1", "have no text"),
]


@pytest.mark.parametrize("t, text, message", BAD, ids=[b[1] for b in BAD])
def test_malformed_text_is_refused_saying_where(t, text, message):
    with pytest.raises(ValueTextError, match="at column \\d+: .*" if message.startswith("at") else None) as e:
        parse_values(text, [t])
    assert message in str(e.value)


def test_component_check_lines_keep_the_text_as_written():
    (check,) = parse_expected('wb:x/y#greet "a  b"  =>  "hello,  a  b!" \n', "e.txt")
    assert check.name == "wb:x/y#greet"
    assert check.arg_text == '"a  b"' and check.expected_text == '"hello,  a  b!"'


class _Func:
    type = ct.FuncType((), None)

    def __call__(self):
        return None


class _Exports:
    def __init__(self, exports):
        self.exports = exports


def test_component_functions_are_named_interface_hash_func():
    f, g = _Func(), _Func()
    instance = _Exports({"wb:x/y": _Exports({"f": f}), "g": g})
    assert find_component_function(instance, "wb:x/y#f") is f
    assert find_component_function(instance, "g") is g
    assert find_component_function(instance, "wb:x/y#g") is None
    assert find_component_function(instance, "wb:x/y.f") is None
    assert find_component_function(instance, "nosuch#f") is None


UNITS = {"wb:x/units": ("instance", {"factor": ("func", ct.FuncType((("unit", P("string")),), P("u32"))),
                                     "note": ("func", ct.FuncType((("s", P("string")),), None))}),
         "tick": ("func", ct.FuncType((), P("u64")))}


def test_host_lines_make_answer_tables():
    from wasmbuild.errors import WasmbuildError
    from wasmbuild.loader.runtime import Trap
    from wasmbuild.samplecheck import host_answers
    checks = parse_expected('host wb:x/units#factor "km" => 1000\nf 1 => 2\nhost wb:x/units#factor "m" => 1\n'
                            'host wb:x/units#note "hi" =>\nhost tick => 7\n', "e.txt")
    host, calls = host_answers(checks, UNITS, "e.txt")
    assert [c.line for c in calls] == [2]
    factor = host["wb:x/units"]["factor"]
    assert factor("km") == 1000 and factor("m") == 1
    assert host["wb:x/units"]["note"]("hi") is None and host["tick"]() == 7
    with pytest.raises(Trap, match='host: no answer for wb:x/units#factor "mile"'):
        factor("mile")
    for text, message in [('host wb:x/units#size "km" => 1', "line 1: the component imports no function 'wb:x/units#size'"),
                          ('host nosuch#f => 1', "imports no function 'nosuch#f'"),
                          ('host wb:x/units#factor km => 1', "line 1: host wb:x/units#factor: at column 1"),
                          ('host wb:x/units#factor "km" => -1', "out of range for u32"),
                          ('host wb:x/units#note "a" => 1', "host wb:x/units#note has no result")]:
        with pytest.raises(WasmbuildError, match=re.escape(message)):
            host_answers(parse_expected(text + "\n", "e.txt"), UNITS, "e.txt")
