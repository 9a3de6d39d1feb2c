"""The custom-WIT components of ../shared/components/programs/wit called through the Python API
(`wasmbuild.load` of the component binary), with the results that programs/wit/test_wit.py
writes down for wasmtime-py, in wasmbuild's value mapping (docs/components.md: `Variant` for
variants, `Ok`/`Err` for results, `Record` for records, `Resource` handles)."""

from __future__ import annotations

import math
import os

import pytest

import wasmbuild
from wasmbuild.component.values import Err, Ok, Record, Variant
from wasmbuild.errors import UnlinkableError, WasmbuildError
from wasmbuild.testing import components_dir

WIT = os.path.join(components_dir(), "programs", "wit")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "component-cache"))


def exports(path, iface, imports=None):
    instance = wasmbuild.load(os.path.join(WIT, path), imports)
    return instance.exports[iface].exports


def test_textlist():
    f = exports("textlist/textlist.component.wasm", "wb:demo/text")
    assert f["reverse-words"]("  the quick  brown fox ") == ["fox", "brown", "quick", "the"]
    assert f["reverse-words"]("") == []
    assert f["reverse-words"]("één ☃ x") == ["x", "☃", "één"]
    assert f["join"](["a", "bc", "", "d"], ", ") == "a, bc, , d"
    assert f["join"]([], "-") == ""
    assert f["sum"]([1, 2, 3, 4000000000, 4000000000]) == 8000000006
    assert f["sum"]([]) == 0
    assert f["reverse-bytes"](b"\x00\x01\x02abc") == b"cba\x02\x01\x00"
    assert f["shout"]("héllo, wörld ☃") == ("HéLLO, WöRLD ☃", 14)
    assert f["reverse-words"]("w " * 50000) == ["w"] * 50000
    assert f["join"](["ab"] * 1000, "") == "ab" * 1000


def test_shapes():
    f = exports("shapes/shapes.component.wasm", "wb:demo/shapes")
    assert f["area"](Variant("circle", 2.0)) == 12.0
    assert f["area"](Variant("rect", (1.5, 4.0))) == 6.0
    assert f["area"](Variant("dot")) == 0.0
    assert f["next-color"]("red") == "green"
    assert f["next-color"]("blue") == "red"
    assert f["toggle"]({"read", "exec"}, {"exec", "write"}) == {"read", "write"}
    assert f["toggle"](set(), set()) == set()
    p = Record(x=1, y=-2)
    q = f["translate"](p, 10, 20)
    assert (q.x, q.y) == (11, 18)
    assert f["parse-int"]("42") == Ok(42)
    assert f["parse-int"]("-9223372036854775808") == Ok(-9223372036854775808)
    assert f["parse-int"]("9223372036854775808") == Err("too large")
    assert f["parse-int"]("") == Err("empty")
    assert f["parse-int"]("12a") == Err("not a number")
    assert f["find"]([5, 7, 9, 7], 7) == 1
    assert f["find"]([5], 1) is None
    assert f["initial"]("☃x") == "☃"
    assert f["initial"]("") is None
    assert f["describe"]("blue", {"read", "exec"}, p) == "blue [read,exec] at (1,-2)"
    assert f["describe"]("red", set(), None) == "red [] nowhere"
    with pytest.raises(WasmbuildError, match="out of range"):
        f["translate"](p, 2**31, 0)  # an s32 parameter out of range: a clear error, no call


def test_counter():
    log = []
    f = exports("counter/counter.component.wasm", "wb:demo/counters", {"wb:demo/host": {"log": log.append}})
    new, inc = f["[constructor]counter"], f["[method]counter.increment"]
    value, name, merge, live = f["[method]counter.value"], f["[method]counter.name"], \
        f["[static]counter.merge"], f["live"]
    a = new("a", 5)
    b = new("b", -2)
    assert inc(a, 10) == 15
    assert value(b) == -2 and name(a) == "a"
    m = merge(a, b)
    assert (name(m), value(m), live()) == ("a+b", 13, 3)
    a.close()  # runs the component's destructor
    assert live() == 2
    m.close()
    b.close()
    assert live() == 0
    assert log == ["new a 5", "new b -2", "new a+b 13", "drop a 15", "drop a+b 13", "drop b -2"]
    c = new("c", 0)
    c.close()
    with pytest.raises(WasmbuildError):
        value(c)  # a dropped resource cannot be passed again


def test_greeter(tmp_path):
    """A WASI reactor with a custom export, its WASI imports served by the WASI 0.2 host."""
    from wasmbuild.component.wasi2 import Wasi2
    out = tmp_path / "stdout"
    with open(out, "wb") as stdout:
        wasi = Wasi2(["greeter"], {}, {}, None, stdout, None)
        instance = wasmbuild.load(os.path.join(WIT, "greeter/greeter.component.wasm"), wasi.interfaces())
        greet = instance.exports["greet"]
        assert greet("wörld") == "hello, wörld"
        assert greet("") == "hello, "
        assert greet("x" * 100000) == "hello, " + "x" * 100000
        wasi.flush()
    assert out.read_text(encoding="utf-8") == "greeting wörld\ngreeting \ngreeting " + "x" * 100000 + "\n"


def check_app(path, imports=None, greet="hello, "):
    f = exports(path, "wb:demo/app", imports)
    assert f["gcd-all"]([84, 126, 210]) == 42
    assert f["gcd-all"]([]) == 0
    assert f["gcd-all"]([2**63, 2**40 * 3]) == 2**40
    assert f["welcome"]("wörld") == greet + "wörld!"
    assert f["welcome"]("") == greet + "!"
    assert f["welcome"]("x" * 70000) == greet + "x" * 70000 + "!"


def test_compose():
    f = exports("compose/provider.wasm", "wb:demo/math")
    assert f["gcd"](12, 18) == 6 and f["greeting"]("x") == "hello, x"
    check_app("compose/composed.wasm")  # made by `wasm-tools compose`
    check_app("compose/outer.wasm")  # the hand-written outer component
    check_app("compose/consumer.wasm", {"wb:demo/math": {"gcd": math.gcd, "greeting": lambda n: "hi " + n}},
              greet="hi ")
    with pytest.raises(UnlinkableError, match="wb:demo/math"):
        wasmbuild.load(os.path.join(WIT, "compose/consumer.wasm"))

