"""The canonical ABI (wasmbuild/component/canonical.py, handles.py) driving real guest code: the core
modules of ../shared/components/programs/wit (C with the canonical ABI written by hand, the core of
the textlist, shapes and counter components) compiled by wasmbuild, called through `FunctionAbi`
with the loader's `Memory`, the module's `cabi_realloc` and post-return functions, and for counter
`InstanceHandles` as its `[resource-new]` import and a Python `log` import lifted with `lift_args`.
Expected values are the ones test_wit.py there checks through wasmtime-py (in our value mapping).
"""

from __future__ import annotations

import os

import pytest

import wasmbuild
from conftest import need
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.component import canonical as C
from wasmbuild.component import handles as H
from wasmbuild.component import types as T
from wasmbuild.component import values as V
from wasmbuild.loader.runtime import Trap
from wasmbuild.testing import components_dir

COMPONENTS_DIR = components_dir()
WIT_DIR = need("component test programs", (lambda d: d if os.path.isdir(d) else None)(
    os.path.join(COMPONENTS_DIR, "programs", "wit")), f"programs/wit under {COMPONENTS_DIR}")
P = T.prim
S = P("string")


def _instance(tmp_path, name, imports=None):
    with open(os.path.join(WIT_DIR, name, f"{name}.core.wasm"), "rb") as f:
        data = f.read()
    image, _ = build_image([ModuleInput(name, data)], CompileSettings(opt_level=1))
    path = tmp_path / f"{name}.img"
    path.write_bytes(image)
    return wasmbuild.load(str(path), imports or {})


class Exports:
    """Calls lifted exports of one core instance, as a component runtime would."""

    def __init__(self, inst, iface, instance_handles=None):
        self.exports = inst.exports
        self.iface = iface
        memory, realloc = self.exports["memory"], self.exports["cabi_realloc"]
        self.memory = memory
        self.realloc = lambda *args: realloc.call_bits(list(args))[0]
        self.handles = instance_handles

    def options(self, name):
        post = self.exports.get(f"cabi_post_{self.iface}#{name}")
        return C.CanonOptions(self.memory, self.realloc, "utf8",
                              post_return=None if post is None else post.call_bits, instance=self.handles)

    def __call__(self, name, ft, *args):
        abi = C.function_abi(ft)
        flat, cx = abi.lower_args(self.options(name), args)
        return abi.lift_results(cx, self.exports[f"{self.iface}#{name}"].call_bits(flat))


def test_textlist(tmp_path):
    f = Exports(_instance(tmp_path, "textlist"), "wb:demo/text")
    reverse_words = T.FuncType((("s", S),), T.List(S))
    join = T.FuncType((("words", T.List(S)), ("sep", S)), S)
    total = T.FuncType((("xs", T.List(P("u32"))),), P("u64"))
    reverse_bytes = T.FuncType((("b", T.List(P("u8"))),), T.List(P("u8")))
    shout = T.FuncType((("s", S),), T.Tuple((S, P("u32"))))
    assert f("reverse-words", reverse_words, "  the quick  brown fox ") == ["fox", "brown", "quick", "the"]
    assert f("reverse-words", reverse_words, "") == []
    assert f("reverse-words", reverse_words, "één ☃ x") == ["x", "☃", "één"]
    assert f("join", join, ["a", "bc", "", "d"], ", ") == "a, bc, , d"
    assert f("join", join, [], "-") == ""
    assert f("sum", total, [1, 2, 3, 4000000000, 4000000000]) == 8000000006
    assert f("sum", total, []) == 0
    assert f("reverse-bytes", reverse_bytes, b"\x00\x01\x02abc") == b"cba\x02\x01\x00"
    assert f("shout", shout, "héllo, wörld ☃") == ("HéLLO, WöRLD ☃", 14)
    assert f("reverse-words", reverse_words, "w " * 50000) == ["w"] * 50000
    assert f("join", join, ["ab"] * 1000, "") == "ab" * 1000
    with pytest.raises(C.ComponentValueError, match="argument `xs`"):
        f("sum", total, [1, -1])


def test_shapes(tmp_path):
    f = Exports(_instance(tmp_path, "shapes"), "wb:demo/shapes")
    color = T.Enum(("red", "green", "blue"))
    perms = T.Flags(("read", "write", "exec"))
    point = T.Record((("x", P("s32")), ("y", P("s32"))))
    shape = T.Variant((("circle", P("f64")), ("rect", T.Tuple((P("f64"), P("f64")))), ("dot", None)))
    area = T.FuncType((("s", shape),), P("f64"))
    assert f("area", area, V.Variant("circle", 2.0)) == 12.0
    assert f("area", area, V.Variant("rect", (1.5, 4.0))) == 6.0
    assert f("area", area, V.Variant("dot")) == 0.0
    next_color = T.FuncType((("c", color),), color)
    assert f("next-color", next_color, "red") == "green"
    assert f("next-color", next_color, "blue") == "red"
    toggle = T.FuncType((("p", perms), ("bits", perms)), perms)
    assert f("toggle", toggle, {"read", "exec"}, {"exec", "write"}) == {"read", "write"}
    assert f("toggle", toggle, set(), set()) == set()
    translate = T.FuncType((("p", point), ("dx", P("s32")), ("dy", P("s32"))), point)
    assert f("translate", translate, V.Record(x=1, y=-2), 10, 20) == V.Record(x=11, y=18)
    parse_int = T.FuncType((("s", S),), T.Result(P("s64"), S))
    assert f("parse-int", parse_int, "42") == V.Ok(42)
    assert f("parse-int", parse_int, "-9223372036854775808") == V.Ok(-9223372036854775808)
    assert f("parse-int", parse_int, "9223372036854775808") == V.Err("too large")
    assert f("parse-int", parse_int, "") == V.Err("empty")
    assert f("parse-int", parse_int, "12a") == V.Err("not a number")
    find = T.FuncType((("xs", T.List(P("s32"))), ("x", P("s32"))), T.Option(P("u32")))
    assert f("find", find, [5, 7, 9, 7], 7) == 1
    assert f("find", find, [5], 1) is None
    initial = T.FuncType((("s", S),), T.Option(P("char")))
    assert f("initial", initial, "☃x") == "☃"
    assert f("initial", initial, "") is None
    describe = T.FuncType((("c", color), ("p", perms), ("at", T.Option(point))), S)
    assert f("describe", describe, "blue", {"read", "exec"}, V.Record(x=1, y=-2)) == "blue [read,exec] at (1,-2)"
    assert f("describe", describe, "red", set(), None) == "red [] nowhere"


def test_counter_resources_and_a_host_import(tmp_path):
    registry = H.ResourceRegistry()
    guest = H.InstanceHandles(registry, "counter")
    counter = T.ResourceType("counter")
    log = []
    memory = {}
    log_abi = C.function_abi(T.FuncType((("msg", S),), None))

    def host_log(*flat_args):  # `canon lower` of the host's log: lift the arguments, call, lower the result
        args, call = log_abi.lift_args(C.CanonOptions(memory["m"], instance=guest), flat_args)
        log.append(*args)
        return log_abi.lower_results(call, None, flat_args) or None

    imports = {"[export]wb:demo/counters": {"[resource-new]counter": lambda rep: guest.resource_new(counter, rep)},
               "wb:demo/host": {"log": host_log}}
    inst = _instance(tmp_path, "counter", imports)
    memory["m"] = inst.exports["memory"]
    dtor = inst.exports["wb:demo/counters#[dtor]counter"]
    registry.define(counter, guest, lambda rep: dtor.call_bits([rep]))
    f = Exports(inst, "wb:demo/counters", guest)
    own, borrow = T.Own(counter), T.Borrow(counter)
    new = T.FuncType((("name", S), ("start", P("s64"))), own)
    increment = T.FuncType((("self", borrow), ("by", P("s64"))), P("s64"))
    value = T.FuncType((("self", borrow),), P("s64"))
    name = T.FuncType((("self", borrow),), S)
    merge = T.FuncType((("a", borrow), ("b", borrow)), own)
    live = T.FuncType((), P("u32"))

    a = f("[constructor]counter", new, "a", 5)
    b = f("[constructor]counter", new, "b", -2)
    assert isinstance(a, H.Resource) and a.own and len(guest.table) == 0  # the host owns both
    assert f("[method]counter.increment", increment, a, 10) == 15
    assert f("[method]counter.value", value, b) == -2 and f("[method]counter.name", name, a) == "a"
    m = f("[static]counter.merge", merge, a, b)
    assert (f("[method]counter.name", name, m), f("[method]counter.value", value, m), f("live", live)) == ("a+b", 13, 3)
    a.close()  # runs the component's destructor
    assert f("live", live) == 2
    m.close()
    b.close()
    assert f("live", live) == 0
    assert log == ["new a 5", "new b -2", "new a+b 13", "drop a 15", "drop a+b 13", "drop b -2"]
    c = f("[constructor]counter", new, "c", 0)
    c.close()
    with pytest.raises(C.ComponentValueError, match="dropped"):
        f("[method]counter.value", value, c)
    # Handed to the guest as own (its table gets the handle), the guest can drop it there.
    d = f("[constructor]counter", new, "d", 1)
    flat, _ = C.function_abi(T.FuncType((("d", own),), None)).lower_args(f.options("x"), [d])
    assert guest.resource_rep(counter, flat[0]) == d._rep
    guest.resource_drop(counter, flat[0])
    assert log[-1] == "drop d 1" and f("live", live) == 0
    with pytest.raises(Trap, match="unknown handle index"):
        guest.resource_drop(counter, flat[0])
