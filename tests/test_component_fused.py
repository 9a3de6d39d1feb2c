"""Fused adapters (component/adapters.py): calls from one component instance to another compiled
as core wasm, compared with the Python path (`WASMBUILD_PYTHON_ADAPTERS=1`) and with expected
values computed here by hand or by Python's own codecs.

The first test component (WAT made below, `wasm-tools parse`d) nests a callee and a caller
component: for each function X of the callee the caller exports `call-X` of the same type, whose core
code calls the lowered X (so every call from Python goes host -> caller -> adapter -> callee). The
callee's core functions give their results with junk where the canonical ABI ignores it (high bits
of small integers, bool as 2), so the adapter's conversions are seen; `raw-*` exports of the caller
hand unchecked core values (a bad char, a string out of bounds) to the adapter. Variants of it set
the string encodings (utf16 both sides, utf8 to utf16 and back). The second one (`compound_wat`)
moves compound values: through spilled arguments and results (a memory-to-memory echo) and as
flat arguments (the callee gives back what it got, as list<u64>).
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import subprocess

import pytest

import wasmbuild
from wasmbuild.component.adapters import PYTHON_ADAPTERS_ENV
from wasmbuild.component.decode import decode_component
from wasmbuild.component.instantiate import component_graph
from wasmbuild.component.validate import validate_component
from wasmbuild.errors import WasmbuildError
from wasmbuild.loader.runtime import Trap
from wasmbuild.testing import components_dir

WASM_TOOLS = shutil.which("wasm-tools")
pytestmark = pytest.mark.skipif(WASM_TOOLS is None, reason="wasm-tools is needed to make the test components")

REALLOC = """
    (global $bump (mut i32) (i32.const 1024))
    (func $realloc (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new i32)
                   (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $new)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.add (i32.shr_u (global.get $bump) (i32.const 16)) (i32.const 1))))))
      (if (local.get $old)  ;; keep what was there (the smaller of the two sizes)
        (then (memory.copy (local.get $p) (local.get $old)
                (select (local.get $old_size) (local.get $new) (i32.lt_u (local.get $old_size) (local.get $new))))))
      (local.get $p))
"""

# name: (component type of the params, result, core params, core result, callee core body)
# The bodies give junk in ignored bits: the adapter (or the Python path) must drop it.
SCALARS = {
    "bool": ("bool", "i32", "(i32.mul (local.get 0) (i32.const 2))"),
    "s8": ("s8", "i32", "(i32.add (local.get 0) (i32.const 0x10001))"),
    "u8": ("u8", "i32", "(i32.add (local.get 0) (i32.const 0x10001))"),
    "s16": ("s16", "i32", "(i32.add (local.get 0) (i32.const 0x10001))"),
    "u16": ("u16", "i32", "(i32.add (local.get 0) (i32.const 0x10001))"),
    "s32": ("s32", "i32", "(i32.add (local.get 0) (i32.const 1))"),
    "u32": ("u32", "i32", "(i32.add (local.get 0) (i32.const 1))"),
    "s64": ("s64", "i64", "(i64.add (local.get 0) (i64.const 1))"),
    "u64": ("u64", "i64", "(i64.add (local.get 0) (i64.const 1))"),
    "f32": ("f32", "f32", "(f32.add (local.get 0) (f32.const 1))"),
    "f64": ("f64", "f64", "(f64.add (local.get 0) (f64.const 1))"),
    "char": ("char", "i32", "(local.get 0)"),
}


def _wrap(bits: int, signed: bool, value: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if signed and value >> (bits - 1) else value


EXPECTED_SCALAR = {
    "bool": lambda x: x,
    "s8": lambda x: _wrap(8, True, x + 1), "u8": lambda x: _wrap(8, False, x + 1),
    "s16": lambda x: _wrap(16, True, x + 1), "u16": lambda x: _wrap(16, False, x + 1),
    "s32": lambda x: _wrap(32, True, x + 1), "u32": lambda x: _wrap(32, False, x + 1),
    "s64": lambda x: _wrap(64, True, x + 1), "u64": lambda x: _wrap(64, False, x + 1),
    "f32": lambda x: x + 1, "f64": lambda x: x + 1, "char": lambda x: x,
}
SCALAR_ARGS = {
    "bool": [True, False], "s8": [0, 127, -128, -1], "u8": [0, 255, 7], "s16": [32767, -32768, -2],
    "u16": [65535, 0], "s32": [2**31 - 1, -2**31, 5], "u32": [2**32 - 1, 0, 41], "s64": [2**63 - 1, -2**63],
    "u64": [2**64 - 1, 12345678901234], "f32": [0.5, -3.0, math.inf], "f64": [1e300, -0.25, math.inf],
    "char": ["a", "\u00e9", "\u2603", "\U0001f600", "\0"],
}


def _callee_funcs():
    """(export name, component func type, core func WAT, lift options) of the callee."""
    out = []
    for name, (ty, core, body) in SCALARS.items():
        out.append((f"echo-{name}", f'(func (param "x" {ty}) (result {ty}))',
                    f'(func (export "echo-{name}") (param {core}) (result {core}) {body})', ""))
    mem = '(memory (core memory $i "memory")) (realloc (core func $i "realloc"))'
    post = '(post-return (core func $i "post"))'
    # echo of a range: the callee's copy of the argument, given back through the result area at 16
    echo_range = ('(func (export "{n}") (param i32 i32) (result i32) '
                  '(i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1)) (i32.const 16))')
    for name, ty in (("echo-string", "string"), ("echo-bytes", "(list u8)"), ("echo-u32s", "(list u32)"),
                     ("echo-s64s", "(list s64)")):
        out.append((name, f'(func (param "x" {ty}) (result {ty}))', echo_range.format(n=name), f"{mem} {post}"))
    out += [
        ("add", '(func (param "a" u32) (param "b" u32) (result u32))',
         '(func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))', ""),
        ("second", '(func (param "a" string) (param "n" u8) (param "b" string) (result string))',
         '(func (export "second") (param i32 i32 i32 i32 i32) (result i32) '
         '(i32.store (i32.const 16) (local.get 3)) (i32.store (i32.const 20) (local.get 4)) (i32.const 16))',
         f"{mem} {post}"),
        ("length", '(func (param "s" string) (result u32))',
         '(func (export "length") (param i32 i32) (result i32) (local.get 1))', mem),
        ("sink", '(func (param "x" u32))',
         '(func (export "sink") (param i32) (global.set $sunk (local.get 0)))', ""),
        ("sunk", '(func (result u32))', '(func (export "sunk") (result i32) (global.get $sunk))', ""),
        ("posts", '(func (result u32))', '(func (export "posts") (result i32) (global.get $posts))', ""),
        ("bump", '(func (result u32))', '(func (export "bump") (result i32) (global.get $bump))', ""),
        # bad results
        ("bad-char", '(func (result char))', '(func (export "bad-char") (result i32) (i32.const 0xd800))', ""),
        ("bad-utf8", '(func (result string))',
         '(func (export "bad-utf8") (result i32) (i32.store (i32.const 16) (i32.const 8)) '
         '(i32.store (i32.const 20) (i32.const 2)) (i32.const 16))', mem),
        ("oob-string", '(func (result string))',
         '(func (export "oob-string") (result i32) (i32.store (i32.const 16) (i32.const 0xfff0)) '
         '(i32.store (i32.const 20) (i32.const 0x100)) (i32.const 16))', mem),
        ("unaligned-area", '(func (result string))',
         '(func (export "unaligned-area") (result i32) (i32.const 18))', mem),
        ("unaligned-list", '(func (result (list u32)))',
         '(func (export "unaligned-list") (result i32) (i32.store (i32.const 16) (i32.const 2)) '
         '(i32.store (i32.const 20) (i32.const 1)) (i32.const 16))', mem),
        ("bad-realloc", '(func (param "x" string))',
         '(func (export "bad-realloc") (param i32 i32))',
         '(memory (core memory $i "memory")) (realloc (core func $i "bad-realloc-fn"))'),
        ("leaving-realloc", '(func (param "x" string))',
         '(func (export "leaving-realloc") (param i32 i32))',
         '(memory (core memory $i "memory")) (realloc (core func $i "leaving-realloc-fn"))'),
        ("reenter", '(func)', '(func (export "reenter") (call $cb))', ""),
        ("trap", '(func)', '(func (export "trap") unreachable)', ""),
    ]
    return out


# caller exports handing raw core values to the adapter: (name, type, lowered import used, core WAT)
RAW = [
    ("raw-char", '(func (param "x" u32) (result char))', "echo-char",
     '(func (export "raw-char") (param i32) (result i32) (call $echo-char (local.get 0)))'),
    ("raw-string", '(func (param "p" u32) (param "n" u32) (result u32))', "length",
     '(func (export "raw-string") (param i32 i32) (result i32) (call $length (local.get 0) (local.get 1)))'),
    ("raw-utf8", '(func (param "n" u32) (result u32))', "length",
     '(func (export "raw-utf8") (param i32) (result i32) '
     '(i32.store (i32.const 100) (i32.const 0x80c3e9c3)) (call $length (i32.const 100) (local.get 0)))'),
]


def _core_sig(ft: str) -> str:
    """The lowered core signature of the WAT func type `ft` (only the shapes used here)."""
    import re
    params = re.findall(r'\(param "[^"]+" ([^()]+|\([^)]*\))\)', ft)
    result = re.search(r'\(result ([^()]+|\([^)]*\))\)', ft)
    flat = {"bool": "i32", "s8": "i32", "u8": "i32", "s16": "i32", "u16": "i32", "s32": "i32", "u32": "i32",
            "char": "i32", "s64": "i64", "u64": "i64", "f32": "f32", "f64": "f64"}
    ps = [flat.get(p, "i32 i32") for p in params]
    if result is None:
        return f"(param {' '.join(ps)})" if ps else ""
    r = result.group(1)
    if r in flat:
        return (f"(param {' '.join(ps)}) " if ps else "") + f"(result {flat[r]})"
    return f"(param {' '.join(ps + ['i32'])})"


def component_wat() -> str:
    funcs = _callee_funcs()
    core = "\n".join(body for _, _, body, _ in funcs)
    lifts = "\n".join(f'(func ${n} {ft[5:-1]} (canon lift (core func $i "{n}") {opts}))' for n, ft, _, opts in funcs)
    callee_exports = "\n".join(f'(export "{n}" (func ${n}))' for n, _, _, _ in funcs)
    instance_type = "\n".join(f'(export "{n}" {ft})' for n, ft, _, _ in funcs)
    lowers = "\n".join(f'(core func ${n} (canon lower (func $c "{n}") (memory (core memory $libc "memory")) '
                       f'(realloc (core func $libc "realloc"))))' for n, _, _, _ in funcs)
    imports = "\n".join(f'(import "c" "{n}" (func ${n} {_core_sig(ft)}))' for n, ft, _, _ in funcs)
    with_c = " ".join(f'(export "{n}" (func ${n}))' for n, _, _, _ in funcs)
    forwards, caller_lifts, caller_exports = [], [], []
    for n, ft, _, _ in funcs:
        sig = _core_sig(ft)
        spilled = "result" not in sig and ft.count("(result") > 0
        nparams = len(sig.split("(result")[0].replace("(param", "").replace(")", "").split()) - (1 if spilled else 0)
        args = " ".join(f"(local.get {k})" for k in range(nparams))
        core_params = " ".join(sig.split("(result")[0].replace("(param", "").replace(")", "").split()[:nparams])
        if spilled:
            forwards.append(f'(func (export "call-{n}") (param {core_params}) (result i32) '
                            f'(call ${n} {args} (i32.const 32)) (i32.const 32))')
        else:
            result = sig.split("(result")[1].strip(" )") if "(result" in sig else None
            forwards.append(f'(func (export "call-{n}") {"(param " + core_params + ")" if core_params else ""} '
                            f'{"(result " + result + ")" if result else ""} (call ${n} {args}))')
        caller_lifts.append(f'(func $call-{n} {ft[5:-1]} (canon lift (core func $main "call-{n}") '
                            f'(memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))')
        caller_exports.append(f'(export "call-{n}" (func $call-{n}))')
    for n, ft, _, body in RAW:
        forwards.append(body)
        caller_lifts.append(f'(func ${n} {ft[5:-1]} (canon lift (core func $main "{n}")))')
        caller_exports.append(f'(export "{n}" (func ${n}))')
    root_exports = "\n".join(f'(export "call-{n}" (func $caller "call-{n}"))' for n, _, _, _ in funcs)
    root_exports += "\n" + "\n".join(f'(export "{n}" (func $caller "{n}"))' for n, _, _, _ in RAW)
    root_exports += '\n(export "direct-reenter" (func $callee "reenter"))'
    root_exports += '\n(export "direct-echo-u32" (func $callee "echo-u32"))'
    import_named = caller_named = ""  # no nameable types here
    return f"""
(component
  (import "host-cb" (func $host-cb))
  (component $callee-c
    (import "cb" (func $cb))
    (core func $cb-lowered (canon lower (func $cb)))
    (core module $m
      (import "host" "cb" (func $cb))
      (memory (export "memory") 1)
      (data (i32.const 8) "\\ff\\fe")
      (global $sunk (mut i32) (i32.const 0))
      (global $posts (mut i32) (i32.const 0))
      {REALLOC}
      (func (export "post") (param i32) (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
      (func (export "bad-realloc-fn") (param i32 i32 i32 i32) (result i32) (i32.const 0xfffff))
      (func (export "leaving-realloc-fn") (param i32 i32 i32 i32) (result i32) (call $cb) (i32.const 64))
      {core})
    (core instance $i (instantiate $m (with "host" (instance (export "cb" (func $cb-lowered))))))
    {lifts}
    {callee_exports})
  (instance $callee (instantiate $callee-c (with "cb" (func $host-cb))))
  (component $caller-c
    (import "c" (instance $c {import_named} {instance_type}))
    {caller_named}
    (core module $libc-m (memory (export "memory") 1) {REALLOC})
    (core instance $libc (instantiate $libc-m))
    {lowers}
    (core module $main-m
      (import "libc" "memory" (memory 1))
      {imports}
      {chr(10).join(forwards)})
    (core instance $main (instantiate $main-m (with "libc" (instance $libc))
                                                (with "c" (instance {with_c}))))
    {chr(10).join(caller_lifts)}
    {chr(10).join(caller_exports)})
  (instance $caller (instantiate $caller-c (with "c" (instance $callee))))
  {root_exports})
"""


@pytest.fixture(scope="module")
def component_path(tmp_path_factory):
    base = tmp_path_factory.mktemp("fused")
    wat = base / "fused.wat"
    wat.write_text(component_wat(), encoding="utf-8")
    out = base / "fused.wasm"
    subprocess.run([WASM_TOOLS, "parse", str(wat), "-o", str(out)], check=True, capture_output=True)
    return str(out)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "component-cache"))


class HostCallback:
    def __init__(self):
        self.action = lambda: None

    def __call__(self):
        return self.action()


def load(path, python: bool, monkeypatch):
    if python:
        monkeypatch.setenv(PYTHON_ADAPTERS_ENV, "1")
    else:
        monkeypatch.delenv(PYTHON_ADAPTERS_ENV, raising=False)
    cb = HostCallback()
    app = wasmbuild.load(path, {"host-cb": cb})
    cb.app = app
    return app, cb


def adapter_count(path, monkeypatch, python=False) -> int:
    if python:
        monkeypatch.setenv(PYTHON_ADAPTERS_ENV, "1")
    else:
        monkeypatch.delenv(PYTHON_ADAPTERS_ENV, raising=False)
    with open(path, "rb") as f:
        data = f.read()
    component = decode_component(data, path)
    validate_component(component)
    inputs, graph, _ = component_graph(component, path)
    return sum(1 for s in graph.steps if s.kind == "instance" and s.name.startswith("fused"))


def test_every_call_is_fused(component_path, monkeypatch):
    # every lowered function of the caller but the ones with types not covered gets an adapter
    assert adapter_count(component_path, monkeypatch) == len(_callee_funcs())
    assert adapter_count(component_path, monkeypatch, python=True) == 0


def test_fused_adapters_dedupe_by_type(component_path, monkeypatch):
    monkeypatch.delenv(PYTHON_ADAPTERS_ENV, raising=False)
    with open(component_path, "rb") as f:
        data = f.read()
    component = decode_component(data, component_path)
    validate_component(component)
    inputs, _, _ = component_graph(component, component_path)
    adapters = [i for i in inputs if i.name.startswith("adapter")]
    # echo-string and the bad-result string functions differ in post-return; sunk and posts share one
    assert len({i.data for i in adapters}) == len(adapters) < len(_callee_funcs())


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_scalars(component_path, monkeypatch, python):
    app, _ = load(component_path, python, monkeypatch)
    for name, args in SCALAR_ARGS.items():
        f = app.exports[f"call-echo-{name}"]
        for x in args:
            got = f(x)
            want = EXPECTED_SCALAR[name](x)
            if name == "f32":
                want = struct.unpack("<f", struct.pack("<f", want))[0]
            assert got == want and type(got) is type(want), (name, x, got, want)
    assert app.exports["call-add"](2**32 - 1, 3) == 2
    assert app.exports["call-sink"](77) is None and app.exports["call-sunk"]() == 77


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_nan_is_canonical(component_path, monkeypatch, python):
    app, _ = load(component_path, python, monkeypatch)
    assert math.isnan(app.exports["call-echo-f32"](math.nan))
    assert math.isnan(app.exports["call-echo-f64"](math.nan))


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_strings_and_lists(component_path, monkeypatch, python):
    app, _ = load(component_path, python, monkeypatch)
    e = app.exports
    for s in ["", "x", "hello, world", "één ☃ \U0001f600", "a" * 70000]:
        assert e["call-echo-string"](s) == s
        assert e["call-length"](s) == len(s.encode())
    assert e["call-echo-bytes"](b"\x00\x01\xffabc") == b"\x00\x01\xffabc"
    assert e["call-echo-bytes"](b"") == b""
    assert e["call-echo-u32s"]([0, 1, 2**32 - 1]) == [0, 1, 2**32 - 1]
    assert e["call-echo-s64s"]([-2**63, 5, 2**63 - 1]) == [-2**63, 5, 2**63 - 1]
    assert e["call-second"]("first", 9, "zweite ☃") == "zweite ☃"
    # one post-return per call of a function that has one (`length` has none): 5 echo-string,
    # 2 + 1 + 1 list echoes, 1 second
    assert e["call-posts"]() == 10


def _trap_message(path, python, monkeypatch, export, *args, action=None):
    app, cb = load(path, python, monkeypatch)
    if action is not None:
        cb.action = lambda: action(app)
    with pytest.raises(Trap) as info:
        app.exports[export](*args)
    # the instance tree is locked after a trap
    with pytest.raises(WasmbuildError, match="cannot enter component instance"):
        app.exports["call-echo-u32"](1)
    return str(info.value)


TRAP_CASES = [
    ("call-bad-char", (), "invalid `char` bit pattern 0xd800"),
    ("call-bad-utf8", (), "invalid utf-8: invalid start byte at byte 0"),
    ("call-oob-string", (), "string content out-of-bounds"),
    ("call-unaligned-area", (), "unaligned pointer"),
    ("call-unaligned-list", (), "unaligned pointer"),
    ("call-bad-realloc", ("abc",), "realloc return: beyond end of memory"),
    ("call-trap", (), "unreachable"),
    ("raw-char", (0x110000,), "invalid `char` bit pattern 0x110000"),
    ("raw-char", (0xDFFF,), "invalid `char` bit pattern 0xdfff"),
    ("raw-string", (0xFFFF, 2), "string content out-of-bounds"),
    ("raw-string", (0, 1 << 28), "string content out-of-bounds"),
    ("raw-utf8", (4,), "invalid utf-8: invalid continuation byte at byte 0"),
    ("raw-utf8", (1,), "invalid utf-8: incomplete utf-8 byte sequence at byte 0"),
]


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
@pytest.mark.parametrize("export,args,message", TRAP_CASES)
def test_traps(component_path, monkeypatch, python, export, args, message):
    assert message in _trap_message(component_path, python, monkeypatch, export, *args)


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_utf8_accepted_at_the_edges(component_path, monkeypatch, python):
    app, _ = load(component_path, python, monkeypatch)
    # raw-utf8 passes 'é' + 'é' (c3 a9 c3 80 -> bytes 100..103: c3 e9 c3 80 is written little-endian
    # as 0x80c3e9c3): the first two bytes are c3 e9 (bad); length 0 is the empty string
    assert app.exports["raw-utf8"](0) == 0
    for s in ["\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0010ffff"]:
        assert app.exports["call-echo-string"](s) == s


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_reentrance(component_path, monkeypatch, python):
    # The callee calls the host, which calls the callee again: through the adapter (the callee was
    # entered from Python) and from Python (the callee was entered through the adapter).
    assert "cannot enter component instance" in _trap_message(
        component_path, python, monkeypatch, "direct-reenter", action=lambda app: app.exports["call-echo-u32"](1))
    assert "cannot enter component instance" in _trap_message(
        component_path, python, monkeypatch, "call-reenter", action=lambda app: app.exports["direct-echo-u32"](1))


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_realloc_cannot_leave(component_path, monkeypatch, python):
    assert "cannot leave component instance" in _trap_message(component_path, python, monkeypatch,
                                                               "call-leaving-realloc", "abc")


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_flags_are_restored(component_path, monkeypatch, python):
    # after a call through the adapter (realloc and post-return ran) both instances take calls again,
    # from the adapter and from Python
    app, cb = load(component_path, python, monkeypatch)
    assert app.exports["call-echo-string"]("x") == "x"
    assert app.exports["direct-echo-u32"](4) == 5
    # the callee calls the host, which calls the caller (not running): fine, and the flags are back
    inner = []
    cb.action = lambda: inner.append(app.exports["call-echo-string"]("no"))
    with pytest.raises(WasmbuildError, match="cannot enter component instance"):
        app.exports["call-reenter"]()  # the callee is running: the inner call through the adapter traps
    app, cb = load(component_path, python, monkeypatch)
    cb.action = lambda: inner.append(app.exports["call-length"]("four"))
    app.exports["direct-reenter"].component  # entered from Python: the inner call is refused too
    with pytest.raises(WasmbuildError, match="cannot enter component instance"):
        app.exports["direct-reenter"]()
    assert inner == []


def test_compose_programs_through_adapters(monkeypatch):
    wit = os.path.join(components_dir(), "programs", "wit", "compose")
    for name in ("composed.wasm", "outer.wasm"):
        assert adapter_count(os.path.join(wit, name), monkeypatch) == 2


# ---- compound types: a second test component, its types written as types.py values -------------

from wasmbuild.component import types as ct  # noqa: E402
from wasmbuild.component.canonical import flatten_functype  # noqa: E402
from wasmbuild.component.values import Err, Ok, Record, Some, Variant  # noqa: E402
from wasmbuild.contract.types import F32, F64, I32, I64  # noqa: E402

P = ct.prim
CORE_NAME = {I32: "i32", I64: "i64", F32: "f32", F64: "f64"}


def wat_type(t, named=True) -> str:
    """`t` in WAT; the nameable types (records, variants, enums, flags) by the name each component
    gives them (`NAMED`: exports of their own, as exported functions need)."""
    if named and t in NAMED:
        return f"${NAMED[t]}"
    if isinstance(t, ct.Prim):
        return t.name
    if isinstance(t, ct.Record):
        return "(record " + " ".join(f'(field "{n}" {wat_type(f)})' for n, f in t.fields) + ")"
    if isinstance(t, ct.Tuple):
        return "(tuple " + " ".join(map(wat_type, t.types)) + ")"
    if isinstance(t, ct.Variant):
        return "(variant " + " ".join(f'(case "{n}"' + ("" if c is None else " " + wat_type(c)) + ")"
                                      for n, c in t.cases) + ")"
    if isinstance(t, ct.List):
        return f"(list {wat_type(t.elem)})"
    if isinstance(t, ct.Option):
        return f"(option {wat_type(t.type)})"
    if isinstance(t, ct.Result):
        ok = "" if t.ok is None else " " + wat_type(t.ok)
        err = "" if t.err is None else f" (error {wat_type(t.err)})"
        return f"(result{ok}{err})"
    if isinstance(t, ct.Enum):
        return "(enum " + " ".join(f'"{n}"' for n in t.names) + ")"
    if isinstance(t, ct.Flags):
        return "(flags " + " ".join(f'"{n}"' for n in t.names) + ")"
    raise TypeError(t)


def wat_functype(ft: ct.FuncType) -> str:
    params = " ".join(f'(param "{n}" {wat_type(t)})' for n, t in ft.params)
    return f"(func {params}" + ("" if ft.result is None else f" (result {wat_type(ft.result)})") + ")"


def core_sig(ft: ct.FuncType, direction: str) -> str:
    core = flatten_functype(ft, direction)
    params = " ".join(CORE_NAME[t] for t in core.params)
    results = " ".join(CORE_NAME[t] for t in core.results)
    return (f"(param {params})" if params else "") + (f" (result {results})" if results else "")


RECORD = ct.Record((("a", P("u8")), ("b", P("string")), ("c", P("f64"))))
VARIANT = ct.Variant((("none", None), ("num", P("f32")), ("big", P("u64")), ("text", P("string"))))
ENUM = ct.Enum(("red", "green", "blue"))
FLAGS = ct.Flags(("x", "y", "z"))
PAD = ct.Tuple((P("u64"),) * 16)  # makes any parameter list spill (more than 16 flat values)
NAMED = {RECORD: "t-record", VARIANT: "t-variant", ENUM: "t-enum", FLAGS: "t-flags"}

# (name, type, values): each value goes through a memory echo (spilled arguments and result) and a
# flat call (the callee gives back its flat arguments as list<u64>)
COMPOUND = [
    ("record", RECORD, [Record(a=7, b="sieben ☃", c=-0.5), Record(a=255, b="", c=1e300)]),
    ("tuple", ct.Tuple((P("char"), P("bool"), P("s16"))), [("\U0001f600", True, -300), ("a", False, 32767)]),
    ("variant", VARIANT, [Variant("none", None), Variant("num", 1.5), Variant("big", 2**64 - 1),
                          Variant("text", "zeichen")]),
    ("option-string", ct.Option(P("string")), [None, "da"]),
    ("option-option", ct.Option(ct.Option(P("u32"))), [None, Some(None), Some(5)]),
    ("result", ct.Result(P("u32"), P("string")), [Ok(3), Err("schlecht")]),
    ("result-empty", ct.Result(None, None), [Ok(None), Err(None)]),
    ("result-err", ct.Result(None, P("u8")), [Ok(None), Err(200)]),
    ("enum", ENUM, ["red", "blue"]),
    ("flags", FLAGS, [set(), {"x", "z"}, {"x", "y", "z"}]),
    ("strings", ct.List(P("string")), [[], ["a", "", "ünï", "x" * 300]]),
    ("records", ct.List(RECORD), [[Record(a=1, b="eins", c=1.0), Record(a=2, b="zwei", c=2.0)]]),
    ("chars", ct.List(ct.Option(P("char"))), [["a", None, "\u2603"]]),
    ("nested", ct.List(ct.List(P("u8"))), [[b"", b"ab", b"\xff" * 20]]),
    ("variants", ct.List(VARIANT), [[Variant("text", "t"), Variant("num", -2.0), Variant("none", None)]]),
]


def compound_funcs():
    """(name, FuncType, callee core func, lift options) of the compound callee."""
    mem = '(memory (core memory $i "memory")) (realloc (core func $i "realloc"))'
    post = '(post-return (core func $i "post"))'
    out = []
    for name, t, _ in COMPOUND:
        ft = ct.FuncType((("x", t), ("pad", PAD)), ct.Tuple((t, PAD)))
        out.append((f"mem-{name}", ft, f'(func (export "mem-{name}") (param i32) (result i32) (local.get 0))',
                    f"{mem} {post}"))
        flat = flatten_functype(ct.FuncType((("x", t),), None), "lift").params
        stores = []
        for k, core in enumerate(flat):
            value = {I32: f"(i64.extend_i32_u (local.get {k}))", I64: f"(local.get {k})",
                     F32: f"(i64.extend_i32_u (i32.reinterpret_f32 (local.get {k})))",
                     F64: f"(i64.reinterpret_f64 (local.get {k}))"}[core]
            stores.append(f"(i64.store (i32.const {512 + 8 * k}) {value})")
        ft = ct.FuncType((("x", t),), ct.List(P("u64")))
        out.append((f"flat-{name}", ft, f'(func (export "flat-{name}") {core_sig(ft, "lift")} {" ".join(stores)} '
                    f'(i32.store (i32.const 16) (i32.const 512)) (i32.store (i32.const 20) (i32.const {len(flat)})) '
                    f'(i32.const 16))', f"{mem} {post}"))
    out += [
        ("echo-enum", ct.FuncType((("x", ENUM),), ENUM),
         '(func (export "echo-enum") (param i32) (result i32) (local.get 0))', ""),
        ("echo-flags", ct.FuncType((("x", FLAGS),), FLAGS),
         '(func (export "echo-flags") (param i32) (result i32) (i32.or (local.get 0) (i32.const 0xf0)))', ""),
        ("bad-enum", ct.FuncType((), ENUM), '(func (export "bad-enum") (result i32) (i32.const 3))', ""),
        ("bad-option", ct.FuncType((), ct.Option(P("u8"))),
         '(func (export "bad-option") (result i32) (i32.store8 (i32.const 16) (i32.const 2)) (i32.const 16))', mem),
        ("bad-chars", ct.FuncType((), ct.List(P("char"))),
         '(func (export "bad-chars") (result i32) (i32.store (i32.const 64) (i32.const 0x41)) '
         '(i32.store (i32.const 68) (i32.const 0xdc00)) (i32.store (i32.const 16) (i32.const 64)) '
         '(i32.store (i32.const 20) (i32.const 2)) (i32.const 16))', mem),
        ("bad-strings", ct.FuncType((), ct.List(P("string"))),
         '(func (export "bad-strings") (result i32) (i32.store (i32.const 64) (i32.const 0xfff0)) '
         '(i32.store (i32.const 68) (i32.const 0x100)) (i32.store (i32.const 16) (i32.const 64)) '
         '(i32.store (i32.const 20) (i32.const 1)) (i32.const 16))', mem),
    ]
    return out


def compound_wat() -> str:
    funcs = compound_funcs()
    core = "\n".join(body for _, _, body, _ in funcs)
    lifts = "\n".join(f'(func ${n} (type ${n}-t) (canon lift (core func $i "{n}") {opts}))' for n, _, _, opts in funcs)
    types = "\n".join(f"(type ${n}-t {wat_functype(ft)})" for n, ft, _, _ in funcs)
    callee_exports = "\n".join(f'(export "{n}" (func ${n}))' for n, _, _, _ in funcs)
    instance_type = "\n".join(f'(export "{n}" {wat_functype(ft)})' for n, ft, _, _ in funcs)
    lowers = "\n".join(f'(core func ${n} (canon lower (func $c "{n}") (memory (core memory $libc "memory")) '
                       f'(realloc (core func $libc "realloc"))))' for n, _, _, _ in funcs)
    imports = "\n".join(f'(import "c" "{n}" (func ${n} {core_sig(ft, "lower")}))' for n, ft, _, _ in funcs)
    with_c = " ".join(f'(export "{n}" (func ${n}))' for n, _, _, _ in funcs)
    forwards, caller_lifts, caller_exports = [], [], []
    for n, ft, _, _ in funcs:
        lift, lower = flatten_functype(ft, "lift"), flatten_functype(ft, "lower")
        args = " ".join(f"(local.get {k})" for k in range(len(lift.params)))
        if len(lower.params) > len(lift.params):  # a return pointer: the caller's area at 256
            body = f"(call ${n} {args} (i32.const 256)) (i32.const 256)"
        else:
            body = f"(call ${n} {args})"
        forwards.append(f'(func (export "call-{n}") {core_sig(ft, "lift")} {body})')
        caller_lifts.append(f'(func $call-{n} (type $call-{n}-t) (canon lift (core func $main "call-{n}") '
                            f'(memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))')
        caller_exports.append(f'(export "call-{n}" (func $call-{n}))')
    caller_types = "\n".join(f"(type $call-{n}-t {wat_functype(ft)})" for n, ft, _, _ in funcs)
    callee_named = "\n".join(f'(type ${n}-def {wat_type(t, False)}) (export ${n} "{n}" (type ${n}-def))'
                             for t, n in NAMED.items())
    import_named = "\n".join(f'(type ${n}-def {wat_type(t, False)}) (export "{n}" (type ${n} (eq ${n}-def)))'
                             for t, n in NAMED.items())
    caller_named = "\n".join(f'(alias export $c "{n}" (type ${n}-imp)) (export ${n} "{n}" (type ${n}-imp))'
                             for n in NAMED.values())
    root_named = "\n".join(f'(alias export $caller "{n}" (type ${n}-c)) (export ${n} "{n}" (type ${n}-c))'
                           for n in NAMED.values())
    # the root's exports ascribed with function types of its own exported types
    root_exports = "\n".join(f'(type $root-{n}-t {wat_functype(ft)}) '
                             f'(export "call-{n}" (func $caller "call-{n}") (func (type $root-{n}-t)))'
                             for n, ft, _, _ in funcs)
    return f"""
(component
  (component $callee-c
    (core module $m
      (memory (export "memory") 1)
      {REALLOC}
      (func (export "post") (param i32) (global.set $bump (i32.const 1024)))
      {core})
    (core instance $i (instantiate $m))
    {callee_named}
    {types}
    {lifts}
    {callee_exports})
  (instance $callee (instantiate $callee-c))
  (component $caller-c
    (import "c" (instance $c {import_named} {instance_type}))
    {caller_named}
    (core module $libc-m (memory (export "memory") 1) {REALLOC})
    (core instance $libc (instantiate $libc-m))
    {lowers}
    (core module $main-m
      (import "libc" "memory" (memory 1))
      {imports}
      {chr(10).join(forwards)})
    (core instance $main (instantiate $main-m (with "libc" (instance $libc))
                                                (with "c" (instance {with_c}))))
    {caller_types}
    {chr(10).join(caller_lifts)}
    {chr(10).join(caller_exports)})
  (instance $caller (instantiate $caller-c (with "c" (instance $callee))))
  {root_named}
  {root_exports})
"""


@pytest.fixture(scope="module")
def compound_path(tmp_path_factory):
    base = tmp_path_factory.mktemp("fused-compound")
    wat = base / "compound.wat"
    wat.write_text(compound_wat(), encoding="utf-8")
    out = base / "compound.wasm"
    subprocess.run([WASM_TOOLS, "parse", str(wat), "-o", str(out)], check=True, capture_output=True)
    return str(out)


def test_compound_calls_are_fused(compound_path, monkeypatch):
    assert adapter_count(compound_path, monkeypatch) == len(compound_funcs())


PAD_VALUE = tuple(range(1, 17))


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_compound_memory_echo(compound_path, monkeypatch, python):
    app, _ = load_plain(compound_path, python, monkeypatch)
    for name, _, values in COMPOUND:
        for v in values:
            assert app.exports[f"call-mem-{name}"](v, PAD_VALUE) == (v, PAD_VALUE), (name, v)


def load_plain(path, python, monkeypatch):
    if python:
        monkeypatch.setenv(PYTHON_ADAPTERS_ENV, "1")
    else:
        monkeypatch.delenv(PYTHON_ADAPTERS_ENV, raising=False)
    return wasmbuild.load(path), None


def test_compound_flat_values(compound_path, monkeypatch):
    """The callee's flat arguments are the same through both paths; a few are checked by hand."""
    fused, _ = load_plain(compound_path, False, monkeypatch)
    python, _ = load_plain(compound_path, True, monkeypatch)
    for name, _, values in COMPOUND:
        for v in values:
            a, b = fused.exports[f"call-flat-{name}"](v), python.exports[f"call-flat-{name}"](v)
            if name in ("record", "variant", "option-string", "result", "strings", "records", "chars", "nested",
                        "variants"):
                # pointers differ between the two instances' allocators: compare all but pointers
                assert len(a) == len(b), (name, v)
            else:
                assert a == b, (name, v)
    f = fused.exports
    # variant { none, num(f32), big(u64), text(string) } flattens to (i32, i64, i32): f32 1.5 in the
    # i64 slot as its bits, zero-extended; the unused slot 0
    assert f["call-flat-variant"](Variant("num", 1.5)) == [1, 0x3FC00000, 0]
    assert f["call-flat-variant"](Variant("big", 2**64 - 1)) == [2, 2**64 - 1, 0]
    assert f["call-flat-variant"](Variant("text", "zeichen"))[2] == 7
    assert f["call-flat-tuple"](("\U0001f600", True, -300)) == [0x1F600, 1, (-300) & 0xFFFFFFFF]
    assert f["call-flat-option-option"](Some(5)) == [1, 1, 5]
    assert f["call-flat-option-option"](Some(None)) == [1, 0, 0]
    assert f["call-flat-result-err"](Err(200)) == [1, 200]
    assert f["call-flat-flags"]({"x", "z"}) == [0b101]
    assert f["call-flat-enum"]("blue") == [2]


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_enum_and_flags(compound_path, monkeypatch, python):
    app, _ = load_plain(compound_path, python, monkeypatch)
    assert app.exports["call-echo-enum"]("green") == "green"
    assert app.exports["call-echo-flags"]({"y"}) == {"y"}  # the bits beyond the flags are dropped


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
@pytest.mark.parametrize("export,message", [
    ("call-bad-enum", "invalid variant discriminant: discriminant 3 out of range [0..3)"),
    ("call-bad-option", "invalid variant discriminant: discriminant 2 out of range [0..2)"),
    ("call-bad-chars", "invalid `char` bit pattern 0xdc00"),
    ("call-bad-strings", "string content out-of-bounds"),
])
def test_compound_traps(compound_path, monkeypatch, python, export, message):
    app, _ = load_plain(compound_path, python, monkeypatch)
    with pytest.raises(Trap) as info:
        app.exports[export]()
    assert message in str(info.value)
    with pytest.raises(WasmbuildError, match="cannot enter component instance"):
        app.exports["call-echo-enum"]("red")


def test_without_multi_memory_only_scalar_calls_are_fused(monkeypatch):
    # a build for Wasm 2.0 (no multi-memory) keeps the calls whose adapters need both memories in Python
    from wasmbuild.contract.features import WASM2
    monkeypatch.delenv(PYTHON_ADAPTERS_ENV, raising=False)
    path = os.path.join(components_dir(), "programs", "wit", "compose", "composed.wasm")
    with open(path, "rb") as f:
        component = decode_component(f.read(), path)
    validate_component(component)
    _, graph, record = component_graph(component, path, WASM2)
    fused = [s for s in graph.steps if s.kind == "instance" and s.name.startswith("fused")]
    assert len(fused) == 1  # gcd(u64, u64) -> u64; greeting(string) -> string goes through Python


def _caller_memory(app):
    """The caller's memory (the options of its lowered functions name it)."""
    return app.core(next(lowered.options.memory for lowered in app.record.lowered if lowered.lifted is not None))


def _python_utf8_verdict(data: bytes):
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as e:
        reason = "incomplete utf-8 byte sequence" if e.reason == "unexpected end of data" else e.reason
        return f"invalid utf-8: {reason} at byte {e.start}"


UTF8_BAD = [b"\x80", b"a\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80",
            b"\xed\xbf\xbf", b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
            b"\xff", b"ab\xe2\x82", b"\xe2\x28\xa1", b"\xf0\x9f\x98", b"x\xc3", b"\xe2\x82\x28", b"\xf0\x9f\x28\x80"]


def test_utf8_check_agrees_with_python(component_path, monkeypatch):
    import random
    rng = random.Random(19)
    app, _ = load(component_path, False, monkeypatch)
    memory = _caller_memory(app)
    good = [b"", b"\x7f", b"\xc2\x80", b"\xdf\xbf", b"\xe0\xa0\x80", b"\xed\x9f\xbf", b"\xee\x80\x80",
            b"\xef\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf"]
    good += ["".join(chr(rng.choice([rng.randrange(0x80), rng.randrange(0x80, 0x800), rng.randrange(0xE000, 0x10000),
                                     rng.randrange(0x10000, 0x110000)])) for _ in range(rng.randrange(1, 20))
                     ).encode() for _ in range(200)]
    for data in good:
        memory.write(4096, data)
        assert app.exports["raw-string"](4096, len(data)) == len(data), data
    bad = UTF8_BAD + [bytes(rng.randrange(256) for _ in range(6)) for _ in range(12)]
    for data in bad:
        verdict = _python_utf8_verdict(data)
        app, _ = load(component_path, False, monkeypatch)
        _caller_memory(app).write(4096, data)
        if verdict is None:
            assert app.exports["raw-string"](4096, len(data)) == len(data)
            continue
        with pytest.raises(Trap) as info:
            app.exports["raw-string"](4096, len(data))
        assert verdict in str(info.value), data


def encoded_component(base, caller: str, callee: str) -> str:
    """The first test component with the caller's and the callee's string encodings."""
    text = component_wat()
    for memory, encoding in (('(memory (core memory $i "memory"))', callee),
                             ('(memory (core memory $libc "memory"))', caller)):
        text = text.replace(memory, memory + f" string-encoding={encoding}")
    wat = base / f"{caller}-{callee}.wat"
    wat.write_text(text, encoding="utf-8")
    out = base / f"{caller}-{callee}.wasm"
    subprocess.run([WASM_TOOLS, "parse", str(wat), "-o", str(out)], check=True, capture_output=True)
    return str(out)


@pytest.fixture(scope="module")
def utf16_path(tmp_path_factory):
    return encoded_component(tmp_path_factory.mktemp("fused-utf16"), "utf16", "utf16")


TRANSCODED = ["", "x", "ascii only", "één ☃ \U0001f600", "\U0010ffff" * 3, "a" * 40000 + "é", "é" + "a" * 300,
              "\u07ff\u0800\uffff\U00010000", "latin-1: \xe9\xff\xa0", "\xff" * 50 + "\u0100", "abc\u0100def",
              "\xe9" * 1000]
ENCODINGS = ["utf8", "utf16", "latin1+utf16"]


@pytest.mark.parametrize("caller,callee", [(a, b) for a in ENCODINGS for b in ENCODINGS
                                           if a != b or a == "latin1+utf16"])
def test_transcoding(tmp_path_factory, monkeypatch, caller, callee):
    """Strings between components of different encodings (and latin1+utf16 to itself): the same
    strings, and the same lengths and allocations in the callee (its allocator's mark after the
    calls) as the Python path makes (the reference's)."""
    path = encoded_component(tmp_path_factory.mktemp("fused-encodings"), caller, callee)
    assert adapter_count(path, monkeypatch) == len(_callee_funcs())
    seen = []
    for python in (False, True):
        app, _ = load(path, python, monkeypatch)
        lengths = []
        for s in TRANSCODED:
            assert app.exports["call-echo-string"](s) == s
            lengths.append(app.exports["call-length"](s))
            if callee != "latin1+utf16":
                assert lengths[-1] == (len(s.encode("utf-16-le")) // 2 if callee == "utf16" else len(s.encode()))
        assert app.exports["call-second"]("first", 9, "zweite ☃") == "zweite ☃"
        seen.append((lengths, app.exports["call-bump"]()))
    assert seen[0] == seen[1]
    if callee == "latin1+utf16":  # latin-1 when it can be, else UTF-16 with the tag bit
        assert seen[0][0][TRANSCODED.index("latin-1: \xe9\xff\xa0")] == 12
        assert seen[0][0][TRANSCODED.index("abc\u0100def")] == 7 | (1 << 31)


@pytest.mark.parametrize("data", [b"\x00\xd8a\x00", b"\x00\xdca\x00", b"a\x00\x00\xd8", b"\x3d\xd8\x00\xde\x00\xdc",
                                  b"a\x00b\x00", b"\x3d\xd8\x00\xde"])
def test_utf16_check_agrees_with_python(utf16_path, monkeypatch, data):
    app, _ = load(utf16_path, False, monkeypatch)
    _caller_memory(app).write(4096, data)
    try:
        data.decode("utf-16-le")
        verdict = None
    except UnicodeDecodeError as e:
        reason = "incomplete utf-16 code unit sequence" if e.reason == "unexpected end of data" else e.reason
        verdict = f"invalid utf-16: {reason} at byte {e.start}"
    if verdict is None:
        assert app.exports["raw-string"](4096, len(data) // 2) == len(data) // 2
    else:
        with pytest.raises(Trap) as info:
            app.exports["raw-string"](4096, len(data) // 2)
        assert verdict in str(info.value)


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
def test_utf16_unaligned_string(utf16_path, monkeypatch, python):
    assert "unaligned pointer: string content at 0x1001" in _trap_message(utf16_path, python, monkeypatch,
                                                                          "raw-string", 0x1001, 1)


def test_adapters_are_cached_like_functions(component_path, tmp_path, monkeypatch):
    """The adapters are compiled once and taken from the cache after; their bytes are deterministic."""
    from wasmbuild.build import BuildSession
    from wasmbuild.cache import open_cache
    from wasmbuild.component.build import build_component
    monkeypatch.delenv(PYTHON_ADAPTERS_ENV, raising=False)
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path / "cache"))
    with open(component_path, "rb") as f:
        data = f.read()
    first = [build_component(BuildSession(jobs=1, cache=open_cache()), data, component_path)[1] for _ in range(2)]
    assert first[0].compiled > 0 and first[1].compiled == 0 and first[1].cached == first[0].functions

    def adapter_bytes():
        component = decode_component(data, component_path)
        validate_component(component)
        return [i.data for i in component_graph(component, component_path)[0] if i.name.startswith("adapter")]
    assert adapter_bytes() == adapter_bytes()


@pytest.mark.parametrize("text,expected", [("\xe9ab", 3), ("\u0100ab", 3 | (1 << 31)), ("", 0)])
def test_latin1_utf16_tagged_utf16_that_fits_latin1(tmp_path_factory, monkeypatch, text, expected):
    """A latin1+utf16 caller passing a UTF-16 string (the tag bit) to a latin1+utf16 callee: copied,
    then compacted to latin-1 when every code unit fits (the reference's `probably_utf16`)."""
    path = encoded_component(tmp_path_factory.mktemp("fused-lu"), "latin1+utf16", "latin1+utf16")
    marks = []
    for python in (False, True):
        app, _ = load(path, python, monkeypatch)
        _caller_memory(app).write(4096, text.encode("utf-16-le"))
        assert app.exports["raw-string"](4096, len(text) | (1 << 31)) == expected
        marks.append(app.exports["call-bump"]())
    assert marks[0] == marks[1]


@pytest.mark.parametrize("python", [False, True], ids=["fused", "python"])
@pytest.mark.parametrize("data,n,message", [
    (b"\x00\xd8a\x00", 2 | (1 << 31), "invalid utf-16: illegal UTF-16 surrogate at byte 0"),
    (b"ab", 2, None),  # latin-1: any bytes
    (None, 1, "unaligned pointer: string content at 0x1001"),  # latin-1 is 2-aligned too
    (None, (1 << 31) | (1 << 28), "string content out-of-bounds: 536870912 bytes is more than a string may have"),
])
def test_latin1_utf16_lifting(tmp_path_factory, monkeypatch, python, data, n, message):
    path = encoded_component(tmp_path_factory.mktemp("fused-lu"), "latin1+utf16", "utf8")
    app, _ = load(path, python, monkeypatch)
    ptr = 0x1001 if data is None and "unaligned" in (message or "") else 4096
    if data is not None:
        _caller_memory(app).write(4096, data)
    if message is None:
        assert app.exports["raw-string"](ptr, n) == len(data.decode("latin-1").encode())
        return
    with pytest.raises(Trap) as info:
        app.exports["raw-string"](ptr, n)
    assert message in str(info.value)


def test_manifest_compositions_call_through_adapters(tmp_path, monkeypatch):
    """A composition manifest (component/compose.py) wires a consumer's import to a provider's
    export: the calls go through fused adapters, with the results test_wit.py writes down."""
    from wasmbuild.component.compose import resolve_composition
    from wasmbuild.component.instantiate import composition_graph
    from wasmbuild.graph import load_manifest
    wit = os.path.join(components_dir(), "programs", "wit", "compose")
    manifest = tmp_path / "graph.toml"
    manifest.write_text("\n".join("[[step]]\n" + t + "\n" for t in (
        f'component = "provider"\npath = "{os.path.join(wit, "provider.wasm")}"',
        f'component = "consumer"\npath = "{os.path.join(wit, "consumer.wasm")}"',
        'instance = "p"\nof = "provider"', 'instance = "c"\nof = "consumer"\nimports = { "wb:demo/math" = "p" }',
        'export = "wb:demo/app"\nfrom = "c"')), encoding="utf-8")
    for python in (False, True):
        if python:
            monkeypatch.setenv(PYTHON_ADAPTERS_ENV, "1")
        else:
            monkeypatch.delenv(PYTHON_ADAPTERS_ENV, raising=False)
        comp = resolve_composition(load_manifest(str(manifest)))
        _, graph, _ = composition_graph(comp.path, [(w.name, w.component.component, w.imports)
                                                    for w in comp.instances], comp.exports)
        fused = sum(1 for s in graph.steps if s.kind == "instance" and s.name.startswith("fused"))
        assert fused == (0 if python else 2)
        app = wasmbuild.load(str(manifest)).exports["wb:demo/app"].exports
        assert app["gcd-all"]([84, 126, 210]) == 42 and app["gcd-all"]([2**63, 2**40 * 3]) == 2**40
        assert app["welcome"]("wörld") == "hello, wörld!" and app["welcome"]("") == "hello, !"
