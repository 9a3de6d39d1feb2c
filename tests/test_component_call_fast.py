"""The whole-call path of a lifted export (component/canonical.py `FunctionAbi.call`, with its fast
path for string and integer signatures) and what the component layer runs it under
(loader/runtime.py `Store.run_inside`, `Function.bits_caller`).

Takes component function types, a Python memory and a recording bump realloc (as a component's
would be), a Python stand-in for the export's core function and a recording post-return; and
../shared/components/programs/wit/compose/provider.wasm (`greeting(string) -> string`) loaded by
wasmbuild.

Gives pass/fail on: the bytes realloc is asked for and the bytes written (UTF-8 of empty, non-ASCII
and long strings), the Python result read back, post-return called with the core results while
`may_leave` is cleared; the other encodings (UTF-16, latin1+utf16) and relaying through the general
path, stored as those encodings; bad Python values refused naming the parameter, before realloc for
strings; traps in realloc, realloc results out of bounds, traps in post-return, bad results (an
unaligned or out-of-bounds result area, string content out of bounds, invalid UTF-8) with the
flags restored; integer results; and on the provider: traps in its realloc and post-return lock the
instance, a second thread is refused while one is inside, the Ctrl-C watcher knows the new entry frame.
"""

from __future__ import annotations

import os
import struct
import threading

import pytest

import wasmbuild
from wasmbuild.component import canonical as C
from wasmbuild.component import handles as H
from wasmbuild.component import types as T
from wasmbuild.loader.runtime import ENTRY_FRAMES, Store, StoreBusyError, Trap
from wasmbuild.testing import components_dir

PROVIDER = os.path.join(components_dir(), "programs", "wit", "compose", "provider.wasm")
S, U32, S32 = T.prim("string"), T.prim("u32"), T.prim("s32")


class Memory:
    def __init__(self, size):
        self.data = bytearray(size)

    @property
    def size(self):
        return len(self.data)

    def read(self, offset, n):
        assert 0 <= offset and offset + n <= len(self.data)
        return bytes(self.data[offset:offset + n])

    def write(self, offset, data):
        assert 0 <= offset and offset + len(data) <= len(self.data)
        self.data[offset:offset + len(data)] = data


class Guest:
    """A memory, a bump realloc from 0x100 on (moving copies, shrinking stays), `may_leave`, and an export `echo(s: string, n: u32) -> string`
    giving back its string `n` times (written at 0x8000, its result area at 0x10)."""

    def __init__(self, encoding="utf8", size=1 << 20):
        self.mem = Memory(size)
        self.next = 16
        self.reallocs, self.posts, self.seen = [], [], []
        self.instance = H.InstanceHandles(H.ResourceRegistry(), "test")
        self.result_area = 0x10
        self.opts = C.CanonOptions(self.mem, self.realloc, encoding, self.post_return, self.instance)

    def realloc(self, old, old_size, align, new_size):
        self.reallocs.append(((old, old_size, align, new_size), self.instance.may_leave))
        if old and new_size <= old_size:
            return old
        ptr = -(-max(self.next, 0x100) // align) * align
        self.next = ptr + new_size
        self.mem.data[ptr:ptr + old_size] = self.mem.data[old:old + old_size]
        return ptr

    def post_return(self, flat):
        self.posts.append((list(flat), self.instance.may_leave))

    def echo(self, ptr, n, times):
        data = self.mem.read(ptr, n)
        self.seen.append(data)
        out = data * times
        self.mem.write(0x8000, out)
        self.mem.write(self.result_area, struct.pack("<II", 0x8000, len(out)))
        return [self.result_area]


ECHO = T.FuncType((("s", S), ("n", U32)), S)


@pytest.mark.parametrize("text", ["world", "", "é", "naïve ☃ 𝄞", "x" * 100_000], ids=["short", "empty", "e-acute", "non-ascii", "long"])
def test_utf8_strings(text):
    g = Guest()
    abi = C.function_abi(ECHO)
    assert abi.fast is not None  # the path under test
    assert abi.call(g.opts, (text, 2), g.echo) == text + text
    data = text.encode("utf-8")
    assert g.reallocs == [((0, 0, 1, len(data)), False)]
    assert g.seen == [data]
    assert g.posts == [([0x10], False)] and g.instance.may_leave


@pytest.mark.parametrize("encoding, text, stored", [
    ("utf16", "h☃", "h☃".encode("utf-16-le")),
    ("latin1+utf16", "héllo", "héllo".encode("latin-1")),
    ("latin1+utf16", "h☃", "h☃".encode("utf-16-le")),
])
def test_other_encodings_go_the_general_way(encoding, text, stored):
    g = Guest(encoding)
    seen = []

    def export(ptr, units):
        seen.append((g.mem.read(ptr, len(stored)), units))
        g.mem.write(0x8000, stored)
        g.mem.write(0x10, struct.pack("<II", 0x8000, units))
        return [0x10]

    assert C.function_abi(T.FuncType((("s", S),), S)).call(g.opts, (text,), export) == text
    assert seen[0][0] == stored and g.reallocs[0][0][2] == 2  # 2-aligned, as those encodings are
    assert g.posts == [([0x10], False)]


def test_relay_gives_an_encoded_string():
    g = Guest()
    result = C.function_abi(ECHO).call(g.opts, ("ab", 1), g.echo, relay=True)
    assert type(result) is C.EncodedString and result == "ab" and result.code_units == 2


def test_an_encoded_string_argument_is_transcoded():
    g = Guest("utf16")
    arg = C.EncodedString("a☃", "utf8", 4)  # from a UTF-8 component: 4 bytes

    def export(ptr, units, times):  # gives its argument back
        g.seen.append(g.mem.read(ptr, 2 * units))
        g.mem.write(0x10, struct.pack("<II", ptr, units))
        return [0x10]
    assert C.function_abi(ECHO).call(g.opts, (arg, 1), export) == "a☃"
    assert g.seen == ["a☃".encode("utf-16-le")]


@pytest.mark.parametrize("args, where", [
    ((5, 1), "argument `s`"),
    ((b"bytes", 1), "argument `s`"),
    (("\ud800", 1), "argument `s`"),
    (("ok", -1), "argument `n`"),
    (("ok", 2**32), "argument `n`"),
    (("ok", "1"), "argument `n`"),
    (("ok",), "takes 2 arguments, not 1"),
])
def test_bad_python_values(args, where):
    g = Guest()
    calls = []
    with pytest.raises(C.ComponentValueError, match=where):
        C.function_abi(ECHO).call(g.opts, args, lambda *flat: calls.append(flat))
    assert calls == [] and g.posts == [] and g.instance.may_leave
    if "`s`" in where:
        assert g.reallocs == []  # a bad string is refused before realloc is called


def test_trap_in_realloc():
    g = Guest()

    def realloc(*args):
        assert not g.instance.may_leave
        raise Trap("unreachable")
    g.opts.realloc = realloc
    with pytest.raises(Trap, match="unreachable"):
        C.function_abi(ECHO).call(g.opts, ("x", 1), g.echo)
    assert g.seen == [] and g.posts == [] and g.instance.may_leave


@pytest.mark.parametrize("ptr", [(1 << 20) - 2, 0xFFFFFFFF])
def test_realloc_result_out_of_bounds(ptr):
    g = Guest()
    g.opts.realloc = lambda *args: ptr
    with pytest.raises(Trap, match="realloc return: beyond end of memory"):
        C.function_abi(ECHO).call(g.opts, ("abc", 1), g.echo)
    assert g.seen == [] and g.instance.may_leave


def test_trap_in_post_return():
    g = Guest()

    def post_return(flat):
        assert not g.instance.may_leave and flat == [0x10]
        raise Trap("post-return trapped")
    g.opts.post_return = post_return
    with pytest.raises(Trap, match="post-return trapped"):
        C.function_abi(ECHO).call(g.opts, ("x", 1), g.echo)
    assert g.instance.may_leave


@pytest.mark.parametrize("area, pair, message", [
    (0x11, None, "unaligned pointer"),
    ((1 << 20) - 4, None, "result area out-of-bounds"),
    (0x10, (0x8000, 1 << 20), "string content out-of-bounds"),
    (0x10, (0xFFFFFFF0, 0x20), "string content out-of-bounds"),
    (0x10, (0x8000, 1 << 29), "string content out-of-bounds"),
    (0x10, (0x8000, 2), "invalid utf-8"),
])
def test_bad_results_trap(area, pair, message):
    g = Guest()

    def export(ptr, n, times):
        g.mem.write(0x8000, b"\xc3\x28")
        if pair is not None:
            g.mem.write(area, struct.pack("<II", *pair))
        return [area]
    with pytest.raises(Trap, match=message):
        C.function_abi(ECHO).call(g.opts, ("x", 1), export)
    assert g.posts == [] and g.instance.may_leave


def test_integer_signature():
    g = Guest()
    abi = C.function_abi(T.FuncType((("a", S32), ("b", U32)), S32))
    assert abi.fast is not None
    assert abi.call(g.opts, (-5, 7), lambda a, b: [(a + b) & 0xFFFFFFFF]) == 2
    assert abi.call(g.opts, (-5, 0), lambda a, b: [a]) == -5
    assert g.reallocs == [] and g.posts == [([2], False), ([0xFFFFFFFB], False)]


def test_without_an_instance_or_memory():
    mem = Memory(4096)
    opts = C.CanonOptions(mem, lambda *a: 256, "utf8")
    assert C.function_abi(T.FuncType((("s", S),), U32)).call(opts, ("abcd",), lambda p, n: [n]) == 4
    assert mem.data[256:260] == b"abcd"
    with pytest.raises(C.WasmbuildError, match="realloc"):
        C.function_abi(T.FuncType((("s", S),), U32)).call(C.CanonOptions(mem), ("abcd",), lambda p, n: [n])


# --- on a real component ------------------------------------------------------------------------

def _provider():
    """The provider's greeting called the plain way (`FunctionAbi.call`: realloc, the export and
    post-return, each a core call), not through its hosted adapter (test_component_hosted.py)."""
    app = wasmbuild.load(PROVIDER)
    export = app.exports["wb:demo/math"].exports["greeting"]
    component = export.component

    def greeting(*args):
        return component.store.run_inside(component._call_plain, export.index, args, False)
    assert greeting("world") == "hello, world"  # (its call plan and options are made)
    (opts,) = {id(o): o for o in component._options_made.values()}.values()
    return greeting, component, opts


def test_provider_trap_in_realloc_locks_the_instance():
    greeting, component, opts = _provider()
    opts.realloc = lambda *a: (_ for _ in ()).throw(Trap("unreachable"))
    with pytest.raises(Trap, match="unreachable"):
        greeting("x")
    with pytest.raises(Trap, match="cannot enter component instance"):
        greeting("x")


def test_provider_trap_in_post_return_locks_the_instance():
    greeting, component, opts = _provider()
    opts.post_return = lambda flat: (_ for _ in ()).throw(Trap("post-return trapped"))
    with pytest.raises(Trap, match="post-return trapped"):
        greeting("x")
    with pytest.raises(Trap, match="cannot enter component instance"):
        greeting("x")


def test_provider_another_thread_is_refused_while_one_is_inside():
    greeting, component, opts = _provider()
    store = component.store
    inside, release, answers = threading.Event(), threading.Event(), []

    def holder():
        store.run_inside(lambda: (inside.set(), release.wait(10)))

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert inside.wait(10)
        with pytest.raises(StoreBusyError):
            greeting("x")
    finally:
        release.set()
        t.join()
    answers.append(greeting("again"))  # neither the flags nor the claim were left set
    assert answers == ["hello, again"] and not component.locked


def test_run_inside_nests_and_releases():
    greeting, component, opts = _provider()
    store = component.store
    assert store.run_inside(lambda: store.run_inside(greeting, "a") + greeting("b")) == "hello, ahello, b"
    assert store._inside is None and not store._owner
    with pytest.raises(ZeroDivisionError):
        store.run_inside(lambda: 1 / 0)
    assert store._inside is None and greeting("c") == "hello, c"


def test_ctrl_c_watcher_knows_the_entry_frames():
    assert Store.call_entry.__code__ in ENTRY_FRAMES
    f = wasmbuild.load(PROVIDER).exports["wb:demo/math"].exports["greeting"]
    f("x")
    component = f.component
    component.store.run_inside(component._call_plain, f.index, ("x",), False)
    for caller in (component._lifted_calls[f.index][2], component._hosted_calls[f.index][1]):
        assert caller.__code__ in ENTRY_FRAMES
