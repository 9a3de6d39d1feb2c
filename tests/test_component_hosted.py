"""Hosted calls (component/hosted.py): the host's calls of exports that need memory go through a
fused adapter whose caller side is the staging instance.

Takes the staging module (run by wasmtime, an independent engine, with expectations computed by
hand from the bump rule), ../shared/components/programs/wit/textlist and compose/provider.wasm
(loaded by wasmbuild; the plain path, `FunctionAbi.call` in Python, is the reference for the
hosted one, and wasmtime's results for the same calls are the expectations), and Python
stand-ins for the nesting rule.

Gives pass/fail on: the staging realloc (alignment, shrink in place, growth keeping contents,
sizes beyond 4 GiB trap); which exports are hosted (those with memory on the host's side, not
scalar ones); results equal to wasmtime's and to the plain path's for strings, lists and tuples,
large arguments that grow the staging memory, the staging `top` back at 0 after every call, also
after a refused argument; argument errors as the plain path words them; nested calls giving back
what each allocated.
"""

from __future__ import annotations

import os

import pytest

import wasmbuild
from wasmbuild.component import canonical as C
from wasmbuild.component import types as T
from wasmbuild.component.hosted import HostStaging, staging_module
from wasmbuild.testing import components_dir

wasmtime = pytest.importorskip("wasmtime", reason="wasmtime (the reference engine) is a test dependency")
import wasmtime.component as wc  # noqa: E402

WIT = os.path.join(components_dir(), "programs", "wit")
TEXTLIST = os.path.join(WIT, "textlist", "textlist.component.wasm")
PROVIDER = os.path.join(WIT, "compose", "provider.wasm")


def test_staging_realloc_follows_the_bump_rule():
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, staging_module()), [])
    realloc = instance.exports(store)["realloc"]
    top = instance.exports(store)["top"]
    memory = instance.exports(store)["memory"]
    assert memory.size(store) == 1 and top.value(store) == 0
    assert realloc(store, 0, 0, 4, 10) == 0 and top.value(store) == 10
    assert realloc(store, 0, 0, 8, 3) == 16 and top.value(store) == 19   # 10 rounded up to 8
    assert realloc(store, 16, 3, 1, 2) == 16 and top.value(store) == 19  # a shrink stays
    memory.write(store, b"abc", 16)
    assert realloc(store, 16, 3, 1, 70000) == 19                         # a grow moves and copies
    assert top.value(store) == 19 + 70000 and memory.size(store) == 2
    assert memory.read(store, 19, 22) == b"abc"
    with pytest.raises(wasmtime.Trap):
        realloc(store, 0, 0, 1, 0xFFFF_FFFF)                             # beyond 4 GiB


def _wasmtime_text():
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component.from_file(engine, TEXTLIST))
    ix = inst.get_export_index(store, "wb:demo/text")
    return lambda name: (lambda *a: inst.get_func(store, inst.get_export_index(store, name, ix))(store, *a))


def _plain(f):
    component = f.component
    return lambda *args: component.store.run_inside(component._call_plain, f.index, args, False)


TEXT_CALLS = [
    ("reverse-words", ("  the quick  brown fox ",)), ("reverse-words", ("",)), ("reverse-words", ("één ☃ x",)),
    ("reverse-words", ("w " * 50000,)),  # 100 kB in: the staging memory grows
    ("join", (["a", "bc", "", "d"], ", ")), ("join", ([], "-")), ("join", (["ab"] * 1000, "")),
    ("sum", ([1, 2, 3, 4000000000, 4000000000],)), ("sum", ([],)),
    ("reverse-bytes", (b"\x00\x01\x02abc",)), ("reverse-bytes", (bytes(range(256)) * 300,)),
    ("shout", ("héllo, wörld ☃",)),
]


def test_hosted_results_equal_wasmtime_and_the_plain_path():
    text = wasmbuild.load(TEXTLIST).exports["wb:demo/text"].exports
    component = text["join"].component
    hosted = component.record.hosted
    assert {name for name, f in text.items() if f.index in hosted} == {
        "reverse-words", "join", "sum", "reverse-bytes", "shout"}
    expected = _wasmtime_text()
    for name, args in TEXT_CALLS:
        want = expected(name)(*args)
        assert text[name](*args) == want, name
        assert _plain(text[name])(*args) == want, name
        assert component._staging.top.value == 0


def test_scalar_exports_are_not_hosted():
    math = wasmbuild.load(PROVIDER).exports["wb:demo/math"].exports
    hosted = math["gcd"].component.record.hosted
    assert math["greeting"].index in hosted and math["gcd"].index not in hosted
    assert math["gcd"](12, 18) == 6 and math["greeting"]("wörld") == "hello, wörld"


def test_argument_errors_are_the_plain_paths():
    math = wasmbuild.load(PROVIDER).exports["wb:demo/math"].exports
    greeting = math["greeting"]
    for bad in (5, "\ud800"):
        with pytest.raises(C.ComponentValueError) as hosted_error:
            greeting(bad)
        with pytest.raises(C.ComponentValueError) as plain_error:
            _plain(greeting)(bad)
        assert str(hosted_error.value) == str(plain_error.value)
        assert "name" in str(hosted_error.value) or "argument" in str(hosted_error.value)
    assert greeting.component._staging.top.value == 0
    assert greeting("again") == "hello, again" and not greeting.component.locked


class _Word:
    def __init__(self):
        self.value = 0


class _Memory:
    def __init__(self, size):
        self.data = bytearray(size)

    @property
    def size(self):
        return len(self.data)

    def grow(self, pages):
        self.data += bytes(pages * 65536)
        return len(self.data) // 65536 - pages

    def read(self, offset, n):
        return bytes(self.data[offset:offset + n])

    def write(self, offset, data):
        self.data[offset:offset + len(data)] = data

    def view(self):
        return memoryview(self.data)


def test_nested_calls_give_back_what_each_allocated():
    staging = HostStaging(_Memory(65536), _Word())
    abi = C.function_abi(T.FuncType((("s", T.prim("string")),), T.prim("string")))
    seen = []

    def adapter(ptr, n, ret, depth=[0]):
        # as the adapter: the argument is where Python put it; the result goes above `top`
        text = staging.memory.read(ptr, n).decode()
        if depth[0] == 0:
            depth[0] += 1
            seen.append(("inner", staging.call(abi, adapter, ("inner " + text,))))
            depth[0] -= 1
        out = text.upper().encode()
        at = staging.realloc(0, 0, 1, len(out))
        staging.memory.write(at, out)
        staging.memory.write(ret, at.to_bytes(4, "little") + len(out).to_bytes(4, "little"))
        return []

    top_before = staging.top.value
    assert staging.call(abi, adapter, ("outer",)) == "OUTER"
    assert seen == [("inner", "INNER OUTER")]
    assert staging.top.value == top_before == 0
    assert abi.call_hosted(staging, ("fast",), adapter) == "FAST" and staging.top.value == 0
