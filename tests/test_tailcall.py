"""Tail calls (return_call, return_call_indirect, return_call_ref): constant stack, also between
functions of different signatures and across the modules of a graph, also with more results than
the return registers hold (returned through a results area, irtypes.results_in_memory), on x86-64
and, under qemu where tools/setup-qemu.sh has set it up, aarch64; results compared with wasmtime
where it is installed; the feature gate; targets that cannot guarantee tail calls refuse them.

Modules are written as WAT and assembled with `wasm-tools parse` (the test's own helper: the
project's `wat()` turns the 3.0 proposals off, and `wat2wasm --enable-all` would use the compact
import encoding).
"""

from __future__ import annotations

import os
import re
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


# --- more results than the return registers hold ------------------------------------------------
# $r8 (two v128 among eight results) and the folded $out8 go through memory on x86-64 (more than
# 3 integers, 2 f32/f64 or 4 floats and vectors); $r9 (nine integers) there and on aarch64 (8).
# Mutual recursion through return_call, return_call_indirect and return_call_ref between
# functions of different parameters ends in $leaf, which makes no tail call (its tail entry is a
# wrapper); $plain is the same recursion with ordinary calls, which must exhaust the stack.
MANY = """
(module
  (type $r8 (func (param i64 f64) (result i32 i64 f64 v128 i32 i64 f64 v128)))
  (type $out8 (func (param i64) (result i32 i64 f64 i64 i32 i64 f64 i64)))
  (type $r6 (func (param i64) (result f64 i32 i64 f64 i64 f64)))
  (import "env" "h6" (func $h6 (type $r6)))
  (table 4 funcref)
  (elem (i32.const 0) $pong $ping $h6 $six)
  (elem declare func $pang)
  (func $leaf (param $n i64) (param $acc f64) (result i32 i64 f64 v128 i32 i64 f64 v128)
    (i32.wrap_i64 (local.get $n)) (local.get $n) (local.get $acc) (f64x2.splat (local.get $acc))
    (i32.const -1) (i64.const 0x123456789) (f64.neg (local.get $acc))
    (i64x2.replace_lane 1 (i64x2.splat (local.get $n)) (i64.const -5)))
  (func $ping (type $r8)
    (if (i64.eqz (local.get 0)) (then (return_call $leaf (i64.const 77) (local.get 1))))
    (return_call $pong (i32.wrap_i64 (local.get 0)) (i64.sub (local.get 0) (i64.const 1))
                 (f64.add (local.get 1) (f64.const 0.5)) (i64.const 3)))
  (func $pong (param $k i32) (param $n i64) (param $acc f64) (param $extra i64)
              (result i32 i64 f64 v128 i32 i64 f64 v128)
    (if (i32.and (local.get $k) (i32.const 1))
      (then (return_call_indirect (type $r8) (local.get $n)
                                  (f64.add (local.get $acc) (f64.convert_i64_s (local.get $extra))) (i32.const 1))))
    (return_call_ref $r8 (local.get $n) (local.get $acc) (ref.func $pang)))
  (func $pang (type $r8)
    (return_call $ping (local.get 0) (f64.sub (local.get 1) (f64.const 0.25))))
  (func $plain (type $r8)
    (if (i64.eqz (local.get 0)) (then (return (call $leaf (i64.const 77) (local.get 1)))))
    (call $plain (i64.sub (local.get 0) (i64.const 1)) (f64.add (local.get 1) (f64.const 0.5))))
  (func $fold (param i32 i64 f64 v128 i32 i64 f64 v128) (result i32 i64 f64 i64 i32 i64 f64 i64)
    (local.get 0) (local.get 1) (local.get 2)
    (i64.xor (i64x2.extract_lane 0 (local.get 3)) (i64.rotl (i64x2.extract_lane 1 (local.get 3)) (i64.const 7)))
    (local.get 4) (local.get 5) (local.get 6)
    (i64.xor (i64x2.extract_lane 0 (local.get 7)) (i64.rotl (i64x2.extract_lane 1 (local.get 7)) (i64.const 7))))
  (func (export "run8") (type $out8)
    (call $fold (call $ping (local.get 0) (f64.const 0))))
  (func (export "run8_indirect") (type $out8)
    (call $fold (call_indirect (type $r8) (local.get 0) (f64.const 0) (i32.const 1))))
  (func (export "run8_ref") (type $out8)
    (call $fold (call_ref $r8 (local.get 0) (f64.const 1) (ref.func $pang))))
  (func (export "tail8") (type $out8)
    (return_call $fold (call $ping (local.get 0) (f64.const 2))))
  (func (export "plain8") (type $out8)
    (call $fold (call $plain (local.get 0) (f64.const 0))))

  ;; nine integers; the two functions differ in their parameters
  (func $nine (export "nine") (param $n i64) (param $acc i64) (result i64 i64 i64 i64 i64 i64 i64 i64 i32)
    (if (i64.eqz (local.get $n))
      (then (return (local.get $acc) (i64.add (local.get $acc) (i64.const 1)) (i64.const 2) (i64.const 3)
                    (i64.const 4) (i64.const 5) (i64.const 6) (i64.mul (local.get $acc) (i64.const 3))
                    (i32.const 9))))
    (return_call $nine2 (i32.wrap_i64 (local.get $n)) (i64.sub (local.get $n) (i64.const 1))
                 (i64.add (local.get $acc) (local.get $n))))
  (func $nine2 (param i32 i64 i64) (result i64 i64 i64 i64 i64 i64 i64 i64 i32)
    (return_call $nine (local.get 1) (i64.xor (local.get 2) (i64.extend_i32_u (local.get 0)))))

  ;; four f64 (on x86-64 LLVM would return the last in x87's ST0, whose load quiets a signalling NaN)
  (func $f4 (param i64) (result f64 f64 f64 f64)
    (f64.reinterpret_i64 (local.get 0)) (f64.const 1) (f64.reinterpret_i64 (local.get 0))
    (f64.reinterpret_i64 (local.get 0)))
  (func $tf4 (param i64) (result f64 f64 f64 f64) (return_call $f4 (local.get 0)))
  (func (export "nan4") (param i64) (result i64 i64 i64 i64)
    (local f64 f64 f64 f64)
    (call $tf4 (local.get 0)) (local.set 4) (local.set 3) (local.set 2) (local.set 1)
    (i64.reinterpret_f64 (local.get 1)) (i64.reinterpret_f64 (local.get 2)) (i64.reinterpret_f64 (local.get 3))
    (i64.reinterpret_f64 (local.get 4)))

  ;; an f64 after two v128 (x86-64: it would be the third float register, so x87 again)
  (func $vvf (param i64) (result v128 v128 f64)
    (v128.const i64x2 1 2) (v128.const i64x2 3 4) (f64.reinterpret_i64 (local.get 0)))
  (func $tvvf (param i64) (result v128 v128 f64) (return_call $vvf (local.get 0)))
  (func (export "nan_vvf") (param i64) (result i64)
    (call $tvvf (local.get 0)) (i64.reinterpret_f64) (return))

  ;; a host function with six results: tail-called directly, through the table, and at the end
  ;; of a chain; and $six, whose results the entry trampoline takes from memory
  (func $six (export "six") (type $r6)
    (if (i64.eqz (local.get 0)) (then (return_call $h6 (i64.const 5))))
    (return_call $six2 (f32.const 1.5) (i64.sub (local.get 0) (i64.const 1)) (i32.const 2)))
  (func $six2 (param f32 i64 i32) (result f64 i32 i64 f64 i64 f64)
    (return_call_indirect (type $r6) (local.get 1) (i32.const 3)))
  (func (export "host6") (type $r6) (return_call $h6 (local.get 0)))
  (func (export "host6_indirect") (type $r6) (return_call_indirect (type $r6) (local.get 0) (i32.const 2)))
  (func (export "host6_call") (param i64) (result f64)
    (local f64 i32 i64 f64 i64 f64)
    (call_indirect (type $r6) (local.get 0) (i32.const 2))
    (local.set 6) (local.set 5) (local.set 4) (local.set 3) (local.set 2) (local.set 1)
    (f64.add (f64.add (local.get 1) (local.get 4))
             (f64.add (f64.convert_i64_s (i64.add (local.get 3) (local.get 5))) (f64.convert_i32_s (local.get 2)))))
)
"""
MANY_DEEP = 1_000_000


def host6(n):
    return n * 0.5, n + 1, n * 2, 1.25, -n, 3.0


# (export, arguments) of MANY, each run in both engines
MANY_CALLS = [("run8", (0,)), ("run8", (5,)), ("run8", (MANY_DEEP,)), ("run8_indirect", (7,)),
              ("run8_indirect", (MANY_DEEP + 1,)), ("run8_ref", (6,)), ("run8_ref", (MANY_DEEP,)),
              ("tail8", (1000,)), ("nine", (0, 4)), ("nine", (MANY_DEEP, 3)),
              ("nan4", (0x7FF0000000000001,)), ("nan4", (0xFFF4000000000000,)),
              ("nan_vvf", (0x7FF0000000000001,)), ("six", (0,)), ("six", (MANY_DEEP,)),
              ("host6", (4,)), ("host6_indirect", (9,)), ("host6_call", (3,))]


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _listed(value):
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    return load(tmp_path_factory.mktemp("many"), wat3(MANY), {"env": {"h6": host6}}).exports


def _wasmtime_many():
    wasmtime = pytest.importorskip("wasmtime")
    config = wasmtime.Config()
    config.wasm_tail_call = True
    config.wasm_function_references = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    v = wasmtime.ValType
    h6 = wasmtime.Func(store, wasmtime.FuncType([v.i64()], [v.f64(), v.i32(), v.i64(), v.f64(), v.i64(), v.f64()]),
                       host6)
    exports = wasmtime.Instance(store, wasmtime.Module(engine, wat3(MANY)), [h6]).exports(store)
    return lambda name, args: _plain(exports[name](store, *args))


def test_many_results_through_tail_calls_agree_with_wasmtime(many):
    # x86-64 returns these through a results area, the area passed on by every tail call: directly,
    # through tables and references, into and out of host functions, through entry trampolines
    wasmtime_call = _wasmtime_many()
    for name, args in MANY_CALLS:
        assert _plain(many[name](*args)) == wasmtime_call(name, args), (name, args)


def test_many_results_through_a_million_tail_calls_in_constant_stack(many):
    assert _plain(many["run8"](MANY_DEEP))[2] == 1875000.0
    with pytest.raises(Trap, match="call stack exhausted"):
        many["plain8"](MANY_DEEP)  # the same depth with ordinary calls does not fit


def test_results_beyond_two_floats_keep_signalling_nans(many):
    # On x86-64 LLVM would return f32/f64 results beyond the second in x87 registers, whose loads
    # quiet a signalling NaN: such result lists go through memory instead.
    assert _plain(many["nan4"](0x7FF0000000000001)) == [0x7FF0000000000001, 0x3FF0000000000000,
                                                          0x7FF0000000000001, 0x7FF0000000000001]
    assert many["nan_vvf"](0x7FF0000000000001) == 0x7FF0000000000001


def test_a_tail_call_with_results_in_memory_passes_its_own_area_on():
    from llvmlite import ir

    from wasmbuild.translate.function import ModuleInfo, TranslateOptions, translate_function
    text = """(module
      (func $f (param i32) (result i64 i64 i64 i64) (return_call $g (f32.const 1) (local.get 0)))
      (func $g (param f32 i32) (result i64 i64 i64 i64)
        (i64.const 1) (i64.const 2) (i64.const 3) (i64.extend_i32_s (local.get 1))))"""
    m = decode_module(wat3(text))
    info = ModuleInfo.from_context(validate_module(m), TranslateOptions())
    irs = []
    for j in range(2):
        lm = ir.Module()
        translate_function(lm, "f", info, j, decode_function(m, j))
        irs.append({fn.name: str(fn) for fn in lm.functions if fn.blocks})
    tailing, plain = irs
    # both entries of both: void (vmctx, results area, params...)
    assert 'define hidden tailcc void @"f.tail"(ptr %".1", ptr %".2", i32 %".3")' in tailing["f.tail"]
    assert re.search(r'tail call tailcc void @"call.0.tail"\(ptr %".1", ptr %".2", float [^,]+, i32 %"',
                     tailing["f.tail"])
    assert 'call tailcc void @"f.tail"(ptr %".1", ptr %".2", i32 %".3")' in tailing["f"]
    assert 'define hidden void @"f"(ptr %".1", ptr %".2", float %".3", i32 %".4")' in plain["f"]
    assert 'call void @"f"(ptr %".1", ptr %".2", float %".3", i32 %".4")' in plain["f.tail"]


# Across modules with six results: `a` tail-calls through its own table into `b`, `b` tail-calls
# `a`'s export (imported) and a host function.
GRAPH6_A = """
(module
  (type $b_t (func (param i32 i64 f32) (result f64 i32 i64 f64 i64 f64)))
  (table (export "t") 1 funcref)
  (func (export "a") (param $n i64) (result f64 i32 i64 f64 i64 f64)
    (if (i64.eqz (local.get $n))
      (then (return (f64.const 0.5) (i32.const 1) (i64.const 2) (f64.const 3.5) (i64.const 4) (f64.const 5.5))))
    (return_call_indirect (type $b_t) (i32.const 9) (i64.sub (local.get $n) (i64.const 1)) (f32.const 1)
                          (i32.const 0))))
"""
GRAPH6_B = """
(module
  (import "a" "a" (func $a (param i64) (result f64 i32 i64 f64 i64 f64)))
  (import "a" "t" (table 1 funcref))
  (import "env" "host" (func $host (param i64) (result f64 i32 i64 f64 i64 f64)))
  (elem (i32.const 0) $b)
  (func $b (param i32 i64 f32) (result f64 i32 i64 f64 i64 f64)
    (if (i64.eq (local.get 1) (i64.const 7)) (then (return_call $host (local.get 1))))
    (return_call $a (local.get 1)))
  (func (export "to_host") (param i64) (result f64 i32 i64 f64 i64 f64) (return_call $host (local.get 0))))
"""


def test_a_million_tail_calls_with_many_results_across_the_modules_of_a_graph(tmp_path):
    (tmp_path / "a.wasm").write_bytes(wat3(GRAPH6_A))
    (tmp_path / "b.wasm").write_bytes(wat3(GRAPH6_B))
    (tmp_path / "graph.toml").write_text(MANIFEST)
    image, _ = build_graph(str(tmp_path / "graph.toml"), O2)
    (tmp_path / "g.img").write_bytes(image)
    graph = wasmbuild.load(str(tmp_path / "g.img"), {"env": {"host": host6}})
    assert list(graph.exports["a"](MANY_DEEP)) == [3.5, 8, 14, 1.25, -7, 3.0]  # reaches $b with 7
    assert list(graph.exports["a"](5)) == [0.5, 1, 2, 3.5, 4, 5.5]
    assert list(graph.exports["to_host"](5)) == list(host6(5))


def _longest_register_lists(return_registers):
    """The result lists irtypes.results_in_memory keeps in registers and to which no result can be
    added (every list it keeps in registers is a prefix of one of them): all of them where they
    are few (x86-64: 140), else 40 made by random additions (aarch64: millions). Integers cycle
    through i32, i64 and funcref, floats through f32 and f64."""
    import random

    from wasmbuild.contract.types import F32, F64, FUNCREF, I32, I64, V128
    from wasmbuild.translate.irtypes import results_in_memory

    def longer(results):
        return [results + (t,) for t in (I64, F64, V128) if not results_in_memory(results + (t,), return_registers)]

    lists, todo = [], [()]
    while todo and len(lists) <= 1000:
        results = todo.pop()
        more = longer(results)
        if more:
            todo.extend(more)
        else:
            lists.append(results)
    if todo:  # too many
        rng, lists = random.Random(0), []
        for _ in range(40):
            results = ()
            while longer(results):
                results = rng.choice(longer(results))
            lists.append(results)
    vary = {I64: (I32, I64, FUNCREF), F64: (F32, F64), V128: (V128,)}
    return [tuple(vary[t][i % len(vary[t])] for i, t in enumerate(results)) for results in lists]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_result_lists_the_rule_keeps_in_registers_are_returned_in_registers(arch):
    # Target.return_registers, checked against LLVM: a function returning one of the longest lists
    # the rule keeps in registers, in either convention, stores nothing (no hidden results pointer)
    # and, on x86-64, loads nothing into x87 registers.
    from llvmlite import binding as llvm

    from wasmbuild.contract.targets import TARGETS
    from wasmbuild.translate.irtypes import LLVM_TYPES
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    triple = f"{arch}-unknown-linux-gnu"
    machine = llvm.Target.from_triple(triple).create_target_machine(reloc="pic", codemodel="small", opt=2)
    stores = re.compile(r"\s(mov\w*\s+[^,]+,\s*-?\d*\(%\w+\)|str|stp|st1)\b|\sfld")
    lists = _longest_register_lists(TARGETS[arch].return_registers)
    for cc in ("", "tailcc"):
        for results in lists:
            kinds = [str(LLVM_TYPES[t]) for t in results]
            st = "{" + ", ".join(kinds) + "}"
            body = "".join(f"  %p{i} = getelementptr i8, ptr %p, i64 {16 * i}\n  %l{i} = load {k}, ptr %p{i}\n"
                           f"  %a{i} = insertvalue {st} {'undef' if i == 0 else f'%a{i - 1}'}, {k} %l{i}, {i}\n"
                           for i, k in enumerate(kinds))
            mod = llvm.parse_assembly(f"define {cc} {st} @k(ptr %p) nounwind {{\n{body}"
                                      f"  ret {st} %a{len(kinds) - 1}\n}}")
            mod.triple = triple
            asm = machine.emit_assembly(mod)
            assert not stores.search(asm.split("k:", 1)[1]), (cc, st, asm)
    assert len(lists) == {"x86_64": 140, "aarch64": 40}[arch]  # x86-64: 4 orders of 4 floats, 35 places of 3 ints


def test_results_in_memory_follows_the_order_of_floats_and_vectors():
    from wasmbuild.contract.targets import TARGETS
    from wasmbuild.contract.types import F64, I32, I64, V128
    from wasmbuild.translate.irtypes import results_in_memory
    x86 = TARGETS["x86_64"].return_registers
    assert not results_in_memory((F64, V128, V128, V128), x86)
    assert results_in_memory((V128, V128, F64), x86)  # its f64 would be the third float register
    assert results_in_memory((F64, F64, F64), x86)
    assert results_in_memory((I32, I64, I32, I64), x86)
    assert not results_in_memory((I64,) * 8 + (V128,) * 8, TARGETS["aarch64"].return_registers)
    assert not results_in_memory((I64,) * 9, TARGETS["riscv64"].return_registers)  # LLVM's to lower


@pytest.mark.parametrize("arch", ["aarch64"])
def test_many_results_through_tail_calls_under_qemu(arch, tmp_path):
    # The calls of MANY without the host function, as a spec script with wasmtime's answers, built
    # here for `arch` and run by the loader in an emulated `arch` Python.
    from conftest import need

    from wasmbuild.testing.qemu import find_emulator, prebuild_wast
    emu = need(f"qemu-{arch}", find_emulator(arch), f"run tools/setup-qemu.sh {arch} as root")
    import json
    import struct
    wasmtime_call = _wasmtime_many()
    # without the host function (its own stands in), the calls that do not reach it
    (tmp_path / "many.wasm").write_bytes(wat3(MANY.replace(
        '(import "env" "h6" (func $h6 (type $r6)))', '(func $h6 (type $r6) (return_call $six (i64.const 0)))')))
    out8 = "i32 i64 f64 i64 i32 i64 f64 i64"
    results = {"run8": out8, "run8_indirect": out8, "run8_ref": out8, "tail8": out8,
               "nine": "i64 i64 i64 i64 i64 i64 i64 i64 i32", "nan4": "i64 i64 i64 i64",
               "nan_vvf": "i64"}

    def value(t, v):  # as wast2json writes it: the bits, unsigned
        bits = struct.unpack("<Q", struct.pack("<d", v))[0] if t == "f64" else v % (1 << int(t[1:]))
        return {"type": t, "value": str(bits)}

    commands = [{"type": "module", "line": 1, "filename": "many.wasm"}]
    for name, args in MANY_CALLS:
        if name in results:
            commands.append({"type": "assert_return", "line": len(commands) + 1, "action": {
                "type": "invoke", "field": name, "args": [value("i64", a) for a in args]},
                "expected": [value(t, v) for t, v in zip(results[name].split(), _listed(wasmtime_call(name, args)))]})
    commands.append({"type": "assert_exhaustion", "line": len(commands) + 1, "text": "call stack exhausted",
                     "action": {"type": "invoke", "field": "plain8", "args": [value("i64", MANY_DEEP)]},
                     "expected": []})
    script = tmp_path / "many.json"
    script.write_text(json.dumps({"source_filename": "many.wast", "commands": commands}))
    settings = CompileSettings(triple=f"{arch}-unknown-linux-gnu", opt_level=2)
    prebuild_wast([str(script)], settings, str(tmp_path / "images"))
    r = emu.run_python(["-m", "wasmbuild.testing.qemu", "wast", str(tmp_path / "images"), str(script)], timeout=1200)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-3000:]
    assert r.returncode == 0 and last == f"{len(commands)} passed, 0 failed, 0 skipped", \
        r.stdout[-5000:] + r.stderr[-3000:]
