"""Tail calls (return_call, return_call_indirect): constant stack, also between functions of
different signatures and across the modules of a graph; results compared with wasmtime where it is
installed; the feature gate; targets that cannot guarantee tail calls refuse them.

Modules are written as WAT and assembled with `wasm-tools parse` (the test's own helper: the
project's `wat()` turns the 3.0 proposals off, and `wat2wasm --enable-all` would use the compact
import encoding).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import textwrap

import pytest
from conftest import need_command

import wasmbuild
from wasmbuild.binary.decode import check_bodies, decode_function, decode_module
from wasmbuild.build import ModuleInput, build_graph, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.errors import MalformedError
from wasmbuild.loader.runtime import Trap
from wasmbuild.valid.validate import validate_module

O2 = CompileSettings(opt_level=2)
DEEP = 10_000_000  # far beyond what the 1 MiB stack budget allows for ordinary calls


def wat3(text: str) -> bytes:
    tool = need_command("wasm-tools", "wasm-tools (pip install wasm-tools, or cargo install wasm-tools)")
    with tempfile.TemporaryDirectory(prefix="wasmbuild-test-") as tmp:
        src, out = os.path.join(tmp, "m.wat"), os.path.join(tmp, "m.wasm")
        with open(src, "w") as f:
            f.write(textwrap.dedent(text))
        proc = subprocess.run([tool, "parse", src, "-o", out], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        with open(out, "rb") as f:
            return f.read()


def load(tmp_path, data: bytes, imports=None, opt_level: int = 2):
    image, _ = build_image([ModuleInput("m", data)], CompileSettings(opt_level=opt_level))
    path = tmp_path / "m.img"
    path.write_bytes(image)
    return wasmbuild.load(str(path), imports)


# Mutual recursion between functions of different signatures, directly and through a table, and
# a function returning two results; the same loop with ordinary calls must exhaust the stack.
MUTUAL = """
(module
  (type $odd_t (func (param i32 i64 f64) (result i64 i32)))
  (table 1 funcref)
  (elem (i32.const 0) $odd)
  (func $even (export "even") (param $n i64) (result i64 i32)
    (if (i64.eqz (local.get $n)) (then (return (i64.const 1) (i32.const 7))))
    (return_call_indirect (type $odd_t) (i32.const 3) (i64.sub (local.get $n) (i64.const 1)) (f64.const 0.5)
                          (i32.const 0)))
  (func $odd (param i32 i64 f64) (result i64 i32)
    (if (i64.eqz (local.get 1)) (then (return (i64.const 0) (local.get 0))))
    (return_call $even (i64.sub (local.get 1) (i64.const 1))))
  (func (export "plain") (param $n i64) (result i64)
    (if (i64.eqz (local.get $n)) (then (return (i64.const 0))))
    (i64.add (i64.const 1) (call 2 (i64.sub (local.get $n) (i64.const 1)))))
  (func $countdown (param i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)
    ;; nine parameters: some pass on the stack, and the callee below has fewer
    (if (i64.eqz (local.get 0)) (then (return (local.get 8))))
    (return_call $step (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 8) (local.get 1))))
  (func $step (param i64 i64) (result i64)
    (return_call $countdown (local.get 0) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)
                 (i64.const 6) (i64.const 7) (i64.const 8) (local.get 1)))
  (func (export "countdown") (param i64) (result i64)
    (return_call $countdown (local.get 0) (i64.const 2) (i64.const 0) (i64.const 0) (i64.const 0)
                 (i64.const 0) (i64.const 0) (i64.const 0) (i64.const 0)))
  (func (export "bad_index") (result i64 i32)
    (return_call_indirect (type $odd_t) (i32.const 0) (i64.const 0) (f64.const 0) (i32.const 5)))
)
"""


@pytest.fixture(scope="module")
def mutual(tmp_path_factory):
    return load(tmp_path_factory.mktemp("tail"), wat3(MUTUAL)).exports


@pytest.mark.parametrize("n, expected", [(0, [1, 7]), (1, [0, 3]), (2, [1, 7]), (7, [0, 3])])
def test_mutual_tail_calls_give_the_results(mutual, n, expected):
    assert list(mutual["even"](n)) == expected


def test_ten_million_mutual_tail_calls_of_different_signatures_run_in_constant_stack(mutual):
    assert list(mutual["even"](DEEP)) == [1, 7]
    assert list(mutual["even"](DEEP + 1)) == [0, 3]
    assert mutual["countdown"](DEEP) == 2 * DEEP
    with pytest.raises(Trap, match="call stack exhausted"):
        mutual["plain"](DEEP)  # the same depth with ordinary calls does not fit


def test_return_call_indirect_checks_the_element(mutual):
    with pytest.raises(Trap, match="undefined element"):
        mutual["bad_index"]()


def test_results_agree_with_wasmtime(mutual):
    wasmtime = pytest.importorskip("wasmtime")
    config = wasmtime.Config()
    config.wasm_tail_call = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, wat3(MUTUAL)), [])
    for n in (0, 1, 5, 1000, 12345):
        assert list(instance.exports(store)["even"](store, n)) == list(mutual["even"](n))
        assert instance.exports(store)["countdown"](store, n) == mutual["countdown"](n)


# Across modules: `a` tail-calls through its own table into `b`, `b` tail-calls `a`'s export
# (imported), with different signatures; `b` also tail-calls a host function.
GRAPH_A = """
(module
  (type $b_t (func (param i32 i64 f32) (result i64)))
  (table (export "t") 1 funcref)
  (func (export "a") (param $n i64) (result i64)
    (if (i64.eqz (local.get $n)) (then (return (i64.const 42))))
    (return_call_indirect (type $b_t) (i32.const 9) (i64.sub (local.get $n) (i64.const 1)) (f32.const 1)
                          (i32.const 0))))
"""
GRAPH_B = """
(module
  (import "a" "a" (func $a (param i64) (result i64)))
  (import "a" "t" (table 1 funcref))
  (import "env" "host" (func $host (param i64) (result i64)))
  (elem (i32.const 0) $b)
  (func $b (param i32 i64 f32) (result i64) (return_call $a (local.get 1)))
  (func (export "to_host") (param i64) (result i64) (return_call $host (local.get 0))))
"""
MANIFEST = """
[[step]]
import = "env"
[[step]]
module = "a"
path = "a.wasm"
[[step]]
module = "b"
path = "b.wasm"
[[step]]
instance = "ia"
of = "a"
[[step]]
instance = "ib"
of = "b"
imports = { a = "ia", env = "env" }
[[step]]
export = "a"
from = "ia.a"
[[step]]
export = "to_host"
from = "ib.to_host"
"""


def test_ten_million_tail_calls_across_the_modules_of_a_graph(tmp_path):
    (tmp_path / "a.wasm").write_bytes(wat3(GRAPH_A))
    (tmp_path / "b.wasm").write_bytes(wat3(GRAPH_B))
    (tmp_path / "graph.toml").write_text(MANIFEST)
    image, _ = build_graph(str(tmp_path / "graph.toml"), O2)
    (tmp_path / "g.img").write_bytes(image)
    graph = wasmbuild.load(str(tmp_path / "g.img"), {"env": {"host": lambda x: x * 3}})
    assert graph.exports["a"](DEEP) == 42
    assert graph.exports["a"](3) == 42
    assert graph.exports["to_host"](5) == 15


def test_tail_calls_are_malformed_with_the_feature_off():
    data = wat3("(module (func (result i32) (return_call 0)))")
    with pytest.raises(MalformedError, match=r"illegal opcode 12: instruction return_call needs tail calls "
                                             r"\(tail-call\), which is off"):
        check_bodies(decode_module(data, "m.wasm", features=frozenset()))
    validate_module(decode_module(data, "m.wasm"))  # on by default


def test_a_target_without_guaranteed_tail_calls_refuses_them():
    from llvmlite import ir

    from wasmbuild.translate.function import ModuleInfo, TranslateOptions, translate_function
    from wasmbuild.translate.tailcall import TailCallUnsupportedError
    ctx = validate_module(decode_module(wat3("(module (func (result i32) (return_call 0)))")))
    info = ModuleInfo.from_context(ctx, TranslateOptions(tail_calls=False, target_name="riscv64"))
    code = decode_function(ctx.module, 0)
    with pytest.raises(TailCallUnsupportedError, match="riscv64.*does not guarantee tail calls"):
        translate_function(ir.Module(), "f", info, 0, code)


def test_too_many_results_for_registers_are_refused_not_compiled_into_a_growing_stack(tmp_path):
    # Four i64 results are returned through memory on x86-64 (three fit in registers).
    text = """
    (module (func $f (export "f") (param i32) (result i64 i64 i64 i64)
      (return_call $f (local.get 0))))
    """
    with pytest.raises(Exception, match="cannot be tail-called on x86_64"):
        load(tmp_path, wat3(text))


def test_only_functions_that_make_tail_calls_are_compiled_with_tailcc():
    from llvmlite import ir

    from wasmbuild.translate.function import ModuleInfo, TranslateOptions, translate_function
    text = """(module (func $f (param i32) (result i32) (return_call $g (local.get 0)))
                      (func $g (param i32) (result i32) (call $g (local.get 0))))"""
    m = decode_module(wat3(text))
    ctx = validate_module(m)
    info = ModuleInfo.from_context(ctx, TranslateOptions())
    irs = []
    for j in range(2):
        lm = ir.Module()
        translate_function(lm, "f", info, j, decode_function(m, j))
        irs.append({fn.name: fn for fn in lm.functions if fn.blocks})
    tailing, plain = irs
    # $f: its body is the tailcc tail entry, jumping to $g's tail entry; its C entry calls it
    assert tailing["f.tail"].calling_convention == "tailcc" and tailing["f"].calling_convention == ""
    body = str(tailing["f.tail"])
    assert 'tail call tailcc i32 @"call.0.tail"' in body and "musttail" not in body
    assert 'call tailcc i32 @"f.tail"' in str(tailing["f"])
    # $g: C convention as in 2.0 (its ordinary call too), and a tailcc wrapper as its tail entry
    assert plain["f"].calling_convention == "" and 'call i32 @"call.0"' in str(plain["f"])
    assert plain["f.tail"].calling_convention == "tailcc" and 'call i32 @"f"' in str(plain["f.tail"])
