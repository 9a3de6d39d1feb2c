"""Tests of `wasmbuild.valid.validate_module` on modules built by wat2wasm (or by hand).

Valid modules are built with wat2wasm's own 2.0 validation on, so an independent validator has
accepted them first. Invalid ones are built with `wat2wasm --no-check` and, where the rule exists in
WebAssembly 2.0 as wasmtime implements it, wasmtime (with post-2.0 proposals off) must reject them too.
Each error must carry the spec's reason, the index of the function (imports counted) and the offset
of the offending instruction as `wasm-objdump` reports it.
"""

from __future__ import annotations

import pytest
from conftest import need_module, objdump, wat

from wasmbuild.binary import decode_module
from wasmbuild.contract.types import F32, F64, I32, I64
from wasmbuild.contract.features import WASM2
from wasmbuild.errors import InvalidError
from wasmbuild.testing import gen as g
from wasmbuild.valid import validate_module

wasmtime = need_module("wasmtime")  # an independent oracle here


def wasm2_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    for feature in ("wasm_multi_memory", "wasm_memory64", "wasm_tail_call", "wasm_threads",
                    "wasm_relaxed_simd", "wasm_exceptions", "wasm_gc", "wasm_function_references",
                    "wasm_custom_page_sizes", "wasm_wide_arithmetic", "wasm_stack_switching"):
        try:  # the properties are write-only, so hasattr cannot tell which exist
            setattr(config, feature, False)
        except AttributeError:
            pass
    return wasmtime.Engine(config)


ENGINE = wasm2_engine()


def wasmtime_rejects(data: bytes) -> bool:
    try:
        wasmtime.Module.validate(ENGINE, data)
    except wasmtime.WasmtimeError:
        return True
    return False


def valid(text: str) -> None:
    data = wat(text)  # wat2wasm validated it (as 2.0)
    validate_module(decode_module(data, "valid.wasm"))


def invalid(data: bytes, oracle: bool = True, features=None) -> InvalidError:
    if oracle:
        assert wasmtime_rejects(data), "wasmtime accepts the module: the test's premise is wrong"
    with pytest.raises(InvalidError) as info:
        validate_module(decode_module(data, "bad.wasm", features=features))
    err = info.value
    assert err.file == "bad.wasm"
    return err


def instr_offset(data: bytes, func: int, mnemonic: str, nth: int = 0) -> int:
    """Offset of the nth instruction `mnemonic` of function `func`, by wasm-objdump."""
    found = [off for off, text in objdump(data)[func].instrs if text.split()[0] == mnemonic]
    return found[nth]


def section_payload(data: bytes, section_id: int) -> int:
    """Offset of the payload of the first section with this id (a small walker of our own)."""
    pos = 8
    while pos < len(data):
        sid = data[pos]
        pos += 1
        size = shift = 0
        while True:
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if sid == section_id:
            return pos
        pos += size
    raise LookupError(section_id)


# ---------------------------------------------------------------------------------------------
# Function bodies: the faulty function is function 2 (after an import and one good function)
# ---------------------------------------------------------------------------------------------

TEMPLATE = """
(module
  (import "env" "imp" (func $imp))
  (type $ii (func (param i32) (result i32)))
  (memory 1)
  (table $funcs 2 funcref)
  (table $ext 1 externref)
  (global $gi i32 (i32.const 0))
  (global $gm (mut i32) (i32.const 0))
  (func $ok (param i32) (result i32) local.get 0)
  (func $target {sig} {body})
  (func $after)
)
"""

# id: (signature, body, reason prefix, mnemonic where it is found, which occurrence)
BODY_CASES = {
    "operand of the wrong type": (
        "(result i32)", "i32.const 1 i64.const 2 i32.add", "type mismatch", "i32.add", 0),
    "operand missing": ("(result i32)", "i32.const 1 i32.add", "type mismatch", "i32.add", 0),
    "result of the wrong type": ("(result i32)", "i64.const 1", "type mismatch", "end", -1),
    "value left over": ("", "i32.const 1", "type mismatch", "end", -1),
    "result missing": ("(result i32 i64)", "i32.const 1", "type mismatch", "end", -1),
    "wrong type after unreachable": (
        "(result i32)", "unreachable i64.const 0 i32.add", "type mismatch", "i32.add", 0),
    "polymorphism stops at a new block": (
        "(result i32)", "unreachable (block (result i32) i32.add)", "type mismatch", "i32.add", 0),
    "wrong type after br": (
        "(result i32)", "(block (result i32) i32.const 1 br 0 f32.const 0 i32.eqz)", "type mismatch",
        "i32.eqz", 0),
    "wrong type after return": ("(result i32)", "i32.const 0 return f64.const 1 i32.eqz",
                                "type mismatch", "i32.eqz", 0),
    "untyped select of references": (
        "", "ref.null func ref.null func i32.const 1 select drop", "type mismatch", "select", 0),
    "untyped select of references after unreachable": (
        "", "unreachable ref.null func ref.null func i32.const 1 select drop", "type mismatch",
        "select", 0),
    "select operands differ": (
        "", "i32.const 1 i64.const 2 i32.const 0 select drop", "type mismatch", "select", 0),
    "typed select with two types": (
        "", "(drop (select (result i32 i32) (i32.const 1) (i32.const 2) (i32.const 0)))",
        "invalid result arity", "select", 0),
    "typed select of the wrong type": (
        "", "(drop (select (result i64) (i32.const 1) (i32.const 2) (i32.const 0)))", "type mismatch",
        "select", 0),
    "br_table labels of different arity": (
        "", "(block (result i32) (block (br_table 0 1 (i32.const 0) (i32.const 0))) i32.const 1) drop",
        "type mismatch", "br_table", 0),
    "br_table labels of different arity after unreachable": (
        "", "(block (result i32) (block unreachable (br_table 0 1 (i32.const 1))) i32.const 1) drop",
        "type mismatch", "br_table", 0),
    "br_table labels of different types": (
        "", "(block (result i64) (block (result i32) (br_table 0 1 (i32.const 5) (i32.const 0)))"
            " drop i64.const 0) drop", "type mismatch", "br_table", 0),
    "br_table index not i32": (
        "", "(block (br_table 0 (i64.const 0)))", "type mismatch", "br_table", 0),
    "block parameters missing": ("", "(block (param i32) drop)", "type mismatch", "block", 0),
    "block parameters of the wrong type": (
        "", "i64.const 1 (block (param i32) drop)", "type mismatch", "block", 0),
    "block results missing": (
        "(result i32 i32)", "(block (result i32 i32) i32.const 1) ", "type mismatch", "end", 0),
    "loop label takes the parameters": (
        "(result i32)", "i32.const 10 (loop (param i32) (result i32) i64.const 0 i32.const 0 br_if 0"
                        " drop)", "type mismatch", "br_if", 0),
    "if without else, result but no params": (
        "(param i32) (result i32)", "local.get 0 (if (result i32) (then i32.const 1))",
        "type mismatch", "end", 0),
    "if without else, params differ from results": (
        "(param i32) (result i64)", "i32.const 7 local.get 0 (if (param i32) (result i64)"
                                    " (then i64.extend_i32_u))", "type mismatch", "end", 0),
    "else branch of the wrong type": (
        "(param i32) (result i32)", "(if (result i32) (local.get 0) (then i32.const 1)"
                                    " (else i64.const 1))", "type mismatch", "end", 0),
    "if condition missing": ("", "(if (then nop))", "type mismatch", "if", 0),
    "ref.func of an undeclared function": (
        "", "(drop (ref.func $after))", "undeclared function reference", "ref.func", 0),
    "global.set of an immutable global": (
        "", "(global.set $gi (i32.const 1))", "immutable global", "global.set", 0),
    "unknown global": ("", "global.get 7 drop", "unknown global", "global.get", 0),
    "unknown function": ("", "call 9", "unknown function", "call", 0),
    "unknown label": ("", "(block br 2)", "unknown label", "br", 0),
    "unknown local": ("(param i32)", "local.get 1 drop", "unknown local", "local.get", 0),
    "unknown type in call_indirect": (
        "", "(call_indirect (type 9) (i32.const 0))", "unknown type", "call_indirect", 0),
    "call_indirect through an externref table": (
        "(result i32)", "(call_indirect $ext (type $ii) (i32.const 1) (i32.const 0))", "type mismatch",
        "call_indirect", 0),
    "alignment larger than natural": (
        "", "(drop (i32.load align=8 (i32.const 0)))", "alignment must not be larger than natural",
        "i32.load", 0),
    "alignment larger than natural (store8)": (
        "", "(i32.store8 align=2 (i32.const 0) (i32.const 0))",
        "alignment must not be larger than natural", "i32.store8", 0),
    "table.set of the wrong reference type": (
        "", "(table.set $ext (i32.const 0) (ref.null func))", "type mismatch", "table.set", 0),
    "table.copy between different element types": (
        "", "(table.copy $funcs $ext (i32.const 0) (i32.const 0) (i32.const 0))", "type mismatch",
        "table.copy", 0),
    "unknown elem segment": ("", "elem.drop 3", "unknown elem segment", "elem.drop", 0),
}


@pytest.mark.parametrize("case", list(BODY_CASES), ids=list(BODY_CASES))
def test_invalid_function_body(case):
    sig, body, reason, mnemonic, nth = BODY_CASES[case]
    data = wat(TEMPLATE.format(sig=sig, body=body), check=False)
    err = invalid(data)
    assert err.reason.startswith(reason), err.reason
    assert err.func == 2
    assert err.offset == instr_offset(data, 2, mnemonic, nth)
    assert "func 2" in str(err) and f"{err.offset:#x}" in str(err)


def test_immutable_global_in_2_0_words():
    data = wat(TEMPLATE.format(sig="", body="(global.set $gi (i32.const 1))"), check=False)
    assert invalid(data, oracle=False, features=WASM2).reason == "global is immutable"


def test_unknown_data_segment():
    data = wat('(module (memory 1) (data "x") (func $f) (func data.drop 1))', check=False)
    err = invalid(data)
    assert err.reason.startswith("unknown data segment")
    assert (err.func, err.offset) == (1, instr_offset(data, 1, "data.drop"))


def test_data_drop_without_any_data_is_an_unknown_data_segment():
    # No data count section and no data section: the spec tests (memory_init.wast, bulk.wast) expect
    # "unknown data segment" here, although WABT's reader calls the binary malformed.
    data = wat("(module (func data.drop 0))", check=False)
    err = invalid(data)
    assert err.reason.startswith("unknown data segment")
    assert err.offset == data.rindex(b"\xfc\x09\x00")


def test_memory_instruction_without_a_memory():
    data = wat("(module (func (drop (i32.load (i32.const 0)))))", check=False)
    err = invalid(data)
    assert err.reason.startswith("unknown memory")
    assert (err.func, err.offset) == (0, instr_offset(data, 0, "i32.load"))


VALID_BODIES = {
    "anything after unreachable": ("(result i32)", "unreachable i32.add"),
    "untyped select after unreachable": ("(result i32)", "unreachable select"),
    "values from below the frame after unreachable": ("(result i32)", "unreachable i32.const 1 i32.add"),
    "br with its value then dead code": ("(result i32)", "(block (result i32) i32.const 1 br 0 i32.add)"),
    "br_table meets different types in dead code": (
        "", "(block (result f64) (block (result f32) unreachable (br_table 0 1 1 (i32.const 1)))"
            " drop f64.const 0) drop"),
    "br_table with values": (
        "(result i32)", "(block (result i32) (block (result i32) (br_table 0 1 0 (i32.const 5)"
                        " (i32.const 1))) i32.const 1 i32.add)"),
    "multi-value results": ("(result i32 i64 f32)", "i32.const 1 i64.const 2 f32.const 3"),
    "block with params and results": (
        "(result i32)", "i32.const 1 i32.const 2 (block (param i32 i32) (result i32) i32.add)"),
    "loop branching with its params": (
        "(result i32)", "i32.const 10 (loop (param i32) (result i32) i32.const 0 br_if 0)"),
    "if without else when params equal results": (
        "(param i32) (result i32)", "i32.const 7 local.get 0 (if (param i32) (result i32)"
                                    " (then i32.const 1 i32.add))"),
    "if with multi-value else": (
        "(param i32) (result i32 i64)", "(if (result i32 i64) (local.get 0)"
                                        " (then i32.const 1 i64.const 1) (else i32.const 2 i64.const 2))"),
    "typed select of funcref": (
        "(result funcref)", "(select (result funcref) (ref.null func) (ref.func $ok) (i32.const 1))"),
    "untyped select of v128": (
        "(result v128)", "(select (v128.const i64x2 1 2) (v128.const i64x2 3 4) (i32.const 0))"),
    "ref.func of an exported function": ("", "(drop (ref.func $ok))"),
    "call_indirect": ("(result i32)", "(call_indirect $funcs (type $ii) (i32.const 1) (i32.const 0))"),
    "natural and smaller alignment": (
        "", "(drop (i64.load align=8 (i32.const 0))) (drop (i64.load align=1 (i32.const 0)))"),
    "return in nested blocks": (
        "(result i32)", "(block (result i32) (loop (result i32) (return (i32.const 1))))"),
}

VALID_TEMPLATE = TEMPLATE.replace("(func $after)", "(func $after) (export \"ok\" (func $ok))")


@pytest.mark.parametrize("case", list(VALID_BODIES), ids=list(VALID_BODIES))
def test_valid_function_body(case):
    sig, body = VALID_BODIES[case]
    valid(VALID_TEMPLATE.format(sig=sig, body=body))


def test_ref_func_declared_by_elem_export_or_global():
    for declaration in ('(elem declare func $f)', '(export "f" (func $f))',
                        '(global funcref (ref.func $f))', '(table 1 funcref) (elem (i32.const 0) $f)'):
        valid(f"(module (func $f) (func (drop (ref.func $f))) {declaration})")


def test_ref_func_in_a_function_does_not_declare_it():
    # A ref.func inside a body (or in the start function) is not a declaration.
    data = wat("(module (func $f (drop (ref.func $f))) (func (drop (ref.func $f))))", check=False)
    err = invalid(data)
    assert err.reason.startswith("undeclared function reference")
    assert (err.func, err.offset) == (0, instr_offset(data, 0, "ref.func"))


# ---------------------------------------------------------------------------------------------
# Huge local counts
# ---------------------------------------------------------------------------------------------

def _locals_module(runs, body: bytes, params=()) -> bytes:
    mb = g.ModuleBuilder()
    mb.import_func("env", "f")
    mb.func(params, (), body, runs)
    return mb.build()


def _local_error(data: bytes) -> InvalidError:
    with pytest.raises(InvalidError) as info:
        validate_module(decode_module(data, "locals.wasm"))
    return info.value


def test_50000_i64_locals():
    runs = [(50_000, I64)]  # the most a function may have
    ok = _locals_module(runs, g.local_get(49_999) + b"\x50\x1a" + g.local_get(0) + b"\x1a\x0b")
    validate_module(decode_module(ok))  # i64.eqz of local 49999, the last one
    for index in (50_000, 50_001, 2**32 - 1):
        body = b"\x01" + g.local_get(index) + b"\x1a\x0b"  # nop; local.get; drop; end
        data = _locals_module(runs, body)
        err = _local_error(data)
        assert err.reason.startswith("unknown local"), err.reason
        assert err.func == 1  # function 0 is the import
        assert err.offset == data.rindex(body) + 1  # the local.get, just after the nop


def test_local_types_across_run_boundaries():
    params = (F64, I32)
    runs = [(1, F32), (0, I32), (30_000, I64), (19_994, F64), (3, I32)]  # 50,000 with the params
    # Index: 0 f64, 1 i32 (params), 2 f32, 3..30002 i64, 30003..49996 f64, 49997..49999 i32.
    expect = {0: F64, 1: I32, 2: F32, 3: I64, 20_000: I64, 30_002: I64, 30_003: F64, 49_996: F64,
              49_997: I32, 49_999: I32}
    consumer = {I32: b"\x45", I64: b"\x50", F32: b"\x8c", F64: b"\x9a"}  # eqz / eqz / neg / neg
    for index, t in expect.items():
        good = _locals_module(runs, g.local_get(index) + consumer[t] + b"\x1a\x0b", params)
        validate_module(decode_module(good))
        wrong = I32 if t != I32 else I64
        bad = _locals_module(runs, g.local_get(index) + consumer[wrong] + b"\x1a\x0b", params)
        err = _local_error(bad)
        assert err.reason == "type mismatch", (index, err)
    err = _local_error(_locals_module(runs, g.local_get(50_000) + b"\x1a\x0b", params))
    assert err.reason.startswith("unknown local")


def test_local_set_and_tee_use_the_locals_type():
    runs = [(5000, I32), (5000, F32)]
    validate_module(decode_module(_locals_module(
        runs, g.f32_const(1.0) + g.local_tee(9999) + g.local_set(5000) + b"\x0b")))
    err = _local_error(_locals_module(runs, g.i32_const(1) + g.local_set(5000) + b"\x0b"))
    assert err.reason == "type mismatch"


# ---------------------------------------------------------------------------------------------
# Module level
# ---------------------------------------------------------------------------------------------

def test_const_expr_may_read_an_imported_immutable_global():
    valid('(module (import "env" "g" (global i32)) (global i32 (global.get 0))'
          ' (memory 1) (data (global.get 0) "x")'
          ' (table 1 funcref) (elem (global.get 0) func))')


def test_const_expr_reading_a_defined_global_is_unknown_global():
    # The 2.0 rule (extended-const off); 3.0 allows it (tests/test_mem64.py).
    data = wat("(module (global $a i32 (i32.const 0)) (global $b i32 (global.get $a)))", check=False)
    err = invalid(data, oracle=False, features=WASM2)  # wasmtime allows this (a later extension)
    assert err.reason.startswith("unknown global")
    assert err.offset == data.index(b"\x23\x00\x0b", section_payload(data, 6))
    validate_module(decode_module(data, "ok.wasm"))


def test_const_expr_reading_an_imported_mutable_global_is_not_constant():
    data = wat('(module (import "env" "g" (global (mut i32))) (global i32 (global.get 0)))', check=False)
    err = invalid(data)
    assert err.reason == "constant expression required"
    assert err.offset == data.index(b"\x23\x00\x0b", section_payload(data, 6))


@pytest.mark.parametrize("expr", ["(i32.add (i32.const 1) (i32.const 2))", "(nop) (i32.const 1)",
                                  "(local.get 0)", "(call 0)"])
def test_const_expr_with_other_instructions_is_not_constant(expr):
    data = wat(f"(module (func (result i32) i32.const 0) (global i32 {expr}))", check=False)
    assert invalid(data, oracle=False, features=WASM2).reason.startswith("constant expression required")
    if "i32.add" in expr:  # extended-const (3.0)
        validate_module(decode_module(data, "ok.wasm"))
    else:
        assert invalid(data, oracle=False).reason == "constant expression required"


@pytest.mark.parametrize("text", [
    "(module (global i32 (i64.const 0)))",
    "(module (global i32))",  # an empty initializer
    "(module (global i32 (i32.const 0) (i32.const 1)))",
    "(module (memory 1) (data (i64.const 0) \"\"))",
    "(module (global funcref (ref.null extern)))",
])
def test_const_expr_of_the_wrong_type(text):
    data = wat(text, check=False)
    assert invalid(data).reason == "type mismatch"


@pytest.mark.parametrize("text", [
    "(module (memory 1) (memory 1))",
    '(module (import "env" "m" (memory 1)) (memory 1))',
    '(module (import "env" "m" (memory 1)) (import "env" "n" (memory 1)))',
])
def test_multiple_memories(text):
    # The 2.0 rule (multi-memory off); 3.0 allows them (tests/test_mem64.py).
    data = wat(text, check=False)
    assert invalid(data, oracle=False, features=WASM2).reason.startswith("multiple memories")
    validate_module(decode_module(data, "ok.wasm"))


def test_multiple_tables_are_fine():
    valid("(module (table 1 funcref) (table 2 externref) (table 0 funcref))")


@pytest.mark.parametrize("text,reason", [
    ("(module (memory 2 1))", "size minimum must not be greater than maximum"),
    ("(module (memory 65537))", "memory size must be at most 65536 pages (4GiB)"),
    ("(module (memory 0 65537))", "memory size must be at most 65536 pages (4GiB)"),
    ('(module (import "env" "m" (memory 70000)))', "memory size must be at most 65536 pages (4GiB)"),
    ("(module (table 2 1 funcref))", "size minimum must not be greater than maximum"),
    ('(module (import "env" "t" (table 5 4 externref)))', "size minimum must not be greater than maximum"),
])
def test_limits(text, reason):
    data = wat(text, check=False)
    assert invalid(data).reason == reason


def test_largest_limits_are_valid():
    valid("(module (memory 65536 65536) (table 0xffffffff funcref))")


def test_duplicate_export_names():
    data = wat('(module (func $f) (memory 1) (export "a" (func $f)) (export "b" (memory 0))'
               ' (export "a" (memory 0)))', check=False)
    err = invalid(data)
    assert err.reason.startswith("duplicate export name")
    assert err.offset == data.rindex(g.name("a") + b"\x02")  # the second "a"


def test_same_name_different_import_and_export_is_fine():
    valid('(module (import "a" "a" (func)) (export "a" (func 0)) (export "b" (func 0)))')


@pytest.mark.parametrize("sig", ["(param i32)", "(result i32) i32.const 0"])
def test_start_function_must_take_and_return_nothing(sig):
    data = wat(f"(module (func $s {sig}) (start $s))", check=False)
    err = invalid(data)
    assert err.reason.startswith("start function")
    assert err.offset == section_payload(data, 8)


def test_unknown_start_function():
    data = wat("(module (func) (start 1))", check=False)
    assert invalid(data).reason.startswith("unknown function")


def test_imported_start_function_is_fine():
    valid('(module (import "env" "s" (func $s)) (start $s))')


def test_elem_segment_type_must_match_its_table():
    data = wat("(module (table 1 externref) (func $f) (elem (i32.const 0) func $f))", check=False)
    assert invalid(data).reason == "type mismatch"


def test_export_of_unknown_index():
    data = wat('(module (export "g" (global 3)))', check=False)
    assert invalid(data).reason.startswith("unknown global")


@pytest.mark.parametrize("what", ["memory limits", "table limits", "function type index"])
def test_module_level_errors_carry_an_offset(what):
    if what == "function type index":  # function 0 has type 5; there are no types
        data = (b"\0asm\x01\0\0\0" + g.section(3, g.vec([g.uleb(5)]))
                + g.section(10, g.vec([g.code_entry([], b"\x0b")])))
    else:
        data = wat("(module (memory 2 1))" if what == "memory limits" else "(module (table 3 2 funcref))",
                   check=False)
    err = invalid(data)
    assert err.offset is not None
