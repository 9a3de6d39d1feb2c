"""Typed function references: the reference types (representation, subtyping, names, signature
keys), their decoding behind the feature gate, validation (subtyping, uninitialised locals,
tables of non-null references), and running call_ref, return_call_ref, ref.as_non_null,
br_on_null, br_on_non_null and table initialisers; canonical types across the modules of a graph.

Modules are WAT assembled with `wasm-tools parse` (test_tailcall.wat3).
"""

from __future__ import annotations

import random

import pytest
from test_tailcall import DEEP, load, wat3

import wasmbuild
from wasmbuild.binary.decode import decode_module
from wasmbuild.build import build_graph
from wasmbuild.compile import CompileSettings
from wasmbuild.contract.types import (EXNREF, EXTERNREF, F32, F64, FUNCREF, HT_EXTERN, HT_FUNC, HT_NOEXTERN,
                                      HT_NOFUNC, I32, I64, V128, FuncType, RefType, functype_from_json,
                                      functype_to_json, matches, parse_sig_key, parse_type, ref_type, sig_key,
                                      type_name)
from wasmbuild.errors import InvalidError, MalformedError, UnlinkableError, WasmbuildError
from wasmbuild.loader.runtime import Trap
from wasmbuild.valid.validate import validate_module

T0 = FuncType((I32,), (I64,))


# --- the types -----------------------------------------------------------------------------

def test_nullable_abstract_references_keep_their_shorthand_ints():
    assert ref_type(True, HT_FUNC) is FUNCREF and ref_type(True, HT_EXTERN) is EXTERNREF
    assert ref_type(True, 0x69) == EXNREF
    assert ref_type(False, HT_FUNC) == RefType(False, HT_FUNC)
    # two modules' (ref $t) of equal function types are one type, hashable
    assert ref_type(False, FuncType((I32,), (I64,))) == ref_type(False, T0)
    assert len({ref_type(False, T0), ref_type(False, FuncType((I32,), (I64,)))}) == 1


@pytest.mark.parametrize("sub, sup, ok", [
    (RefType(False, HT_FUNC), FUNCREF, True),
    (FUNCREF, RefType(False, HT_FUNC), False),
    (RefType(False, T0), RefType(False, HT_FUNC), True),
    (RefType(True, T0), FUNCREF, True),
    (RefType(True, T0), RefType(False, HT_FUNC), False),
    (RefType(True, HT_NOFUNC), RefType(True, T0), True),
    (RefType(False, HT_NOFUNC), RefType(False, T0), True),
    (RefType(True, HT_NOFUNC), EXTERNREF, False),
    (RefType(True, HT_NOEXTERN), EXTERNREF, True),
    (EXTERNREF, FUNCREF, False),
    (RefType(False, T0), RefType(False, FuncType((I32,), (I32,))), False),
    (I32, I64, False),
    (I32, I32, True),
    (RefType(False, HT_EXTERN), I64, False),
])
def test_subtyping(sub, sup, ok):
    assert matches(sub, sup) is ok


def _random_type(rng: random.Random, depth: int = 0):
    choice = rng.randrange(10 if depth < 2 else 8)
    if choice < 5:
        return (I32, I64, F32, F64, V128)[choice]
    if choice < 8:
        return ref_type(rng.random() < 0.5, rng.choice((HT_FUNC, HT_EXTERN, HT_NOFUNC, HT_NOEXTERN, 0x69, 0x74)))
    return ref_type(rng.random() < 0.5, _random_functype(rng, depth + 1))


def _random_functype(rng: random.Random, depth: int = 0) -> FuncType:
    return FuncType(tuple(_random_type(rng, depth) for _ in range(rng.randrange(4))),
                    tuple(_random_type(rng, depth) for _ in range(rng.randrange(3))))


def test_names_signature_keys_and_json_round_trip():
    rng = random.Random(18)
    keys = set()
    for _ in range(500):
        ft = _random_functype(rng)
        key = sig_key(ft)
        assert all(c.isalnum() or c == "_" for c in key)  # symbol-safe
        assert parse_sig_key(key) == ft
        assert functype_from_json(functype_to_json(ft)) == ft
        for t in ft.params + ft.results:
            assert parse_type(type_name(t)) == t
        keys.add((key, ft))
    assert len({k for k, _ in keys}) == len({ft for _, ft in keys})  # distinct types, distinct keys
    assert type_name(RefType(False, T0)) == "(ref (func (param i32) (result i64)))"
    assert sig_key(FuncType((RefType(False, HT_FUNC),), ())) != sig_key(FuncType((FUNCREF,), ()))
    with pytest.raises((KeyError, ValueError)):
        parse_sig_key("iNT_Z")  # an unterminated nested key


# --- decoding and validation ---------------------------------------------------------------

REF_PARAM = "(module (type $t (func)) (func (param (ref $t)) (param (ref null func))))"


def test_reference_types_are_malformed_with_the_feature_off():
    data = wat3(REF_PARAM)
    with pytest.raises(MalformedError, match=r"malformed value type: a \(ref \.\.\.\) type needs typed function "
                                             r"references \(function-references\), which is off"):
        decode_module(data, "m.wasm", features=frozenset())
    m = decode_module(data, "m.wasm")
    assert m.types[1].params == (RefType(False, FuncType((), ())), FUNCREF)


def test_a_reference_to_an_unknown_type_is_invalid():
    # (type 0) refers to type 1, defined after it
    data = bytes.fromhex("0061736d01000000" "0109" "02" "6001640100" "600000")
    with pytest.raises(InvalidError, match="unknown type 1"):
        decode_module(data, "m.wasm")


@pytest.mark.parametrize("body, reason", [
    ("(local (ref func)) (drop (local.get 0))", "uninitialized local"),
    ("(local (ref func)) (block (local.set 0 (ref.func $f))) (drop (local.get 0))", "uninitialized local"),
    ("(local (ref func)) (local.set 0 (ref.func $f)) (block (drop (local.get 0)))", None),
    ("(local (ref null func)) (drop (local.get 0))", None),
    ("(call_ref $t (ref.null func))", "type mismatch"),  # funcref is not (ref null $t)
    ("(call_ref $t (ref.null $t))", None),
    ("(call_ref $t (ref.func $f))", None),
    ("(drop (ref.as_non_null (i32.const 0)))", "type mismatch"),
    ("(local (ref $t)) (local.set 0 (ref.as_non_null (ref.null $t)))", None),
    ("(local (ref $t)) (local.set 0 (ref.null $t))", "type mismatch"),
])
def test_validation(body, reason):
    text = f"(module (type $t (func)) (func $f (type $t)) (elem declare func $f) (func {body}))"
    m = decode_module(wat3(text) if reason is None else _unchecked(text), "m.wasm")
    if reason is None:
        validate_module(m)
    else:
        with pytest.raises(InvalidError, match=reason):
            validate_module(m)


def _unchecked(text: str) -> bytes:
    """Invalid modules: wasm-tools parse does not validate."""
    return wat3(text)


def test_a_table_of_non_null_references_needs_an_initialiser():
    with pytest.raises(InvalidError, match="type mismatch"):
        validate_module(decode_module(wat3("(module (table 1 (ref func)))"), "m.wasm"))
    validate_module(decode_module(wat3("(module (func $f) (table 1 (ref func) (ref.func $f)))"), "m.wasm"))


# --- running -------------------------------------------------------------------------------

RUN = """
(module
  (type $ii (func (param i32) (result i32)))
  (type $loop2 (func (param i64) (result i64)))
  (type $loop (func (param i64 (ref $loop2)) (result i64)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (table $t 3 (ref $ii) (ref.func $inc))
  (elem (table $t) (i32.const 1) (ref $ii) (ref.func $dbl))
  (elem declare func $inc $dbl $down)
  (global $g (ref $ii) (ref.func $dbl))
  (func (export "call_ref") (param i32 i32) (result i32)
    (call_ref $ii (local.get 1) (select (result (ref $ii)) (ref.func $inc) (ref.func $dbl) (local.get 0))))
  (func (export "call_null") (result i32) (call_ref $ii (i32.const 1) (ref.null $ii)))
  (func (export "table") (param i32 i32) (result i32) (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "global") (param i32) (result i32) (call_ref $ii (local.get 0) (global.get $g)))
  (func (export "as_non_null") (param i32) (result i32)
    (local $r (ref null $ii))
    (if (local.get 0) (then (local.set $r (ref.func $inc))))
    (call_ref $ii (i32.const 10) (ref.as_non_null (local.get $r))))
  (func (export "on_null") (param i32) (result i32)
    (local $r (ref null $ii))
    (if (local.get 0) (then (local.set $r (ref.func $dbl))))
    (block $null
      (return (call_ref $ii (i32.const 21) (br_on_null $null (local.get $r)))))
    (i32.const -1))
  (func (export "on_non_null") (param i32) (result i32)
    (local $r (ref null $ii))
    (if (local.get 0) (then (local.set $r (ref.func $inc))))
    (call_ref $ii (i32.const 41)
      (block $some (result (ref $ii))
        (br_on_non_null $some (local.get $r))
        (return (i32.const -2)))))
  (func $down (type $loop2) (param i64) (result i64)
    (if (i64.eqz (local.get 0)) (then (return (i64.const 99))))
    (return_call_ref $loop (i64.sub (local.get 0) (i64.const 1)) (ref.func $down) (ref.func $bounce)))
  (func $bounce (type $loop) (return_call_ref $loop2 (local.get 0) (local.get 1)))
  (elem declare func $bounce)
  (func (export "down") (param i64) (result i64) (call $down (local.get 0)))
)
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return load(tmp_path_factory.mktemp("funcref"), wat3(RUN)).exports


def test_call_ref(run):
    assert run["call_ref"](1, 5) == 6 and run["call_ref"](0, 5) == 10
    with pytest.raises(Trap, match="null function reference"):
        run["call_null"]()


def test_tables_and_globals_of_typed_references(run):
    assert [run["table"](i, 7) for i in range(3)] == [8, 14, 8]  # element 0 and 2 from the initialiser
    with pytest.raises(Trap, match="undefined element"):
        run["table"](3, 7)
    assert run["global"](4) == 8


def test_ref_as_non_null_and_branches_on_null(run):
    assert run["as_non_null"](1) == 11
    with pytest.raises(Trap, match="null reference"):
        run["as_non_null"](0)
    assert (run["on_null"](1), run["on_null"](0)) == (42, -1)
    assert (run["on_non_null"](1), run["on_non_null"](0)) == (42, -2)


def test_ten_million_return_call_refs_run_in_constant_stack(run):
    assert run["down"](DEEP) == 99


def test_results_agree_with_wasmtime(run):
    wasmtime = pytest.importorskip("wasmtime")
    config = wasmtime.Config()
    config.wasm_tail_call = True
    config.wasm_function_references = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    exports = wasmtime.Instance(store, wasmtime.Module(engine, wat3(RUN)), []).exports(store)
    for name, args in (("call_ref", (1, 5)), ("call_ref", (0, 9)), ("table", (2, 3)), ("global", (4,)),
                       ("as_non_null", (1,)), ("on_null", (0,)), ("on_null", (1,)), ("on_non_null", (0,)),
                       ("on_non_null", (1,)), ("down", (1000,))):
        assert exports[name](store, *args) == run[name](*args), (name, args)


def test_a_non_nullable_parameter_refuses_none_from_python(tmp_path):
    text = """(module (type $t (func)) (func (export "f") (param (ref $t)) (result i32) (i32.const 1))
                      (func $g (export "g")) (elem declare func $g))"""
    exports = load(tmp_path, wat3(text)).exports
    with pytest.raises(WasmbuildError, match="not nullable"):
        exports["f"](None)
    assert exports["f"](exports["g"]) == 1


# --- across modules --------------------------------------------------------------------------

PROVIDER = """
(module
  (type $t (func (param i32) (result i32)))
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (elem declare func $sq)
  (table (export "tab") 2 funcref)
  (func $takes (param (ref $t)) (result i32) (call_ref $t (i32.const 3) (local.get 0)))
  (elem (i32.const 0) $sq $takes)
  (func (export "apply") (param (ref $t) i32) (result i32) (call_ref $t (local.get 1) (local.get 0)))
  (func (export "get") (result (ref $t)) (ref.func $sq)))
"""
# Its own type index numbering, and an extra type before: the types are equal structurally.
USER = """
(module
  (type $other (func (param f32)))
  (type $u (func (param i32) (result i32)))
  (import "p" "apply" (func $apply (param (ref $u) i32) (result i32)))
  (import "p" "get" (func $get (result (ref $u))))
  (import "p" "tab" (table 2 funcref))
  (type $refarg (func (param (ref $u)) (result i32)))
  (type $nullarg (func (param (ref null $u)) (result i32)))
  (func (export "run") (param i32) (result i32) (call $apply (call $get) (local.get 0)))
  (func (export "via_table") (param i32) (result i32) (call_indirect (type $u) (local.get 0) (i32.const 0)))
  (func (export "right_sig") (result i32) (call_indirect (type $refarg) (call $get) (i32.const 1)))
  (func (export "wrong_sig") (result i32)
    ;; element 1 is [(ref $t)] -> [i32]: this type differs from it only in nullability
    (call_indirect (type $nullarg) (call $get) (i32.const 1))))
"""
MISMATCHED = """
(module
  (type $u (func (param i32) (result i32)))
  (import "p" "apply" (func $apply (param (ref null $u) i32) (result i32))))
"""


def _graph(tmp_path, user: str):
    (tmp_path / "p.wasm").write_bytes(wat3(PROVIDER))
    (tmp_path / "u.wasm").write_bytes(wat3(user))
    (tmp_path / "graph.toml").write_text(
        '[[step]]\nmodule = "p"\npath = "p.wasm"\n[[step]]\nmodule = "u"\npath = "u.wasm"\n'
        '[[step]]\ninstance = "ip"\nof = "p"\n[[step]]\ninstance = "iu"\nof = "u"\nimports = { p = "ip" }\n'
        '[[step]]\nexport = "u"\nfrom = "iu"\n')
    image, _ = build_graph(str(tmp_path / "graph.toml"), CompileSettings(opt_level=1))
    (tmp_path / "g.img").write_bytes(image)
    return wasmbuild.load(str(tmp_path / "g.img"))


def test_typed_references_are_canonical_across_modules(tmp_path):
    exports = _graph(tmp_path, USER).exports["u"].exports
    assert exports["run"](7) == 49
    assert exports["via_table"](6) == 36
    assert exports["right_sig"]() == 9
    with pytest.raises(Trap, match="indirect call type mismatch"):
        exports["wrong_sig"]()


def test_an_import_differing_only_in_nullability_does_not_link(tmp_path):
    with pytest.raises((UnlinkableError, WasmbuildError), match="apply"):
        _graph(tmp_path, MISMATCHED)


def test_types_naming_types_are_bounded_so_hashing_them_stays_cheap():
    # each type names the one before twice: without a bound its size would double per type
    # (and a long chain of single references would crash hashing by recursion depth)
    from wasmbuild.binary.decode import MAX_TYPE_SIZE
    from wasmbuild.testing import gen as g
    types = [bytes.fromhex("600000")] + [bytes.fromhex("6002") + bytes([0x64, i, 0x64, i]) + b"\x00"
                                         for i in range(0, 40)]
    data = b"\0asm\1\0\0\0" + g.section(1, g.vec(types))
    with pytest.raises(InvalidError, match=f"type too large: .* at most {MAX_TYPE_SIZE}"):
        decode_module(data, "m.wasm")
    ok = b"\0asm\1\0\0\0" + g.section(1, g.vec(types[:6]))
    assert len(decode_module(ok, "m.wasm").types) == 6
