"""Tests of `wasmbuild.testing.gen`, the module writer that tests and benchmarks rely on.

Its output is checked by independent tools: wasmtime (validation with post-2.0 proposals off, and
running the exported functions), WABT's wasm-validate and wasm-objdump (function and instruction
counts), and then by wasmbuild's own decoder and validator.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import WABT_HINT, need_command, need_module, objdump

from wasmbuild.binary import decode_module
from wasmbuild.testing import gen as g
from wasmbuild.valid import validate_module

wasmtime = need_module("wasmtime")  # an independent oracle here


def wasm2_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    for feature in ("wasm_multi_memory", "wasm_memory64", "wasm_tail_call", "wasm_threads",
                    "wasm_relaxed_simd", "wasm_exceptions", "wasm_gc", "wasm_function_references"):
        try:
            setattr(config, feature, False)
        except AttributeError:
            pass
    return wasmtime.Engine(config)


def wasm_validate(data: bytes, tmp_path) -> subprocess.CompletedProcess:
    tool = need_command("wasm-validate", WABT_HINT)
    path = tmp_path / "m.wasm"
    path.write_bytes(data)
    flags = ["--disable-tail-call", "--disable-memory64", "--disable-multi-memory",
             "--disable-extended-const", "--disable-relaxed-simd", "--disable-exceptions"]
    return subprocess.run([tool, *flags, os.fspath(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def generated():
    return g.generate_module(200, seed=11)


def test_leb_encoders_by_known_values():
    assert g.uleb(0) == b"\x00" and g.uleb(127) == b"\x7f" and g.uleb(128) == b"\x80\x01"
    assert g.uleb(624485) == bytes([0xE5, 0x8E, 0x26])
    assert g.uleb(2**32 - 1) == bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
    assert g.sleb(0) == b"\x00" and g.sleb(-1) == b"\x7f" and g.sleb(63) == b"\x3f"
    assert g.sleb(64) == b"\xc0\x00" and g.sleb(-64) == b"\x40" and g.sleb(-65) == b"\xbf\x7f"
    assert g.sleb(-123456) == bytes([0xC0, 0xBB, 0x78])
    assert g.sleb(-(2**31)) == bytes([0x80, 0x80, 0x80, 0x80, 0x78])
    assert g.i32_const(0xFFFF_FFFF) == b"\x41\x7f"  # unsigned input is wrapped to i32
    with pytest.raises(ValueError):
        g.uleb(-1)


def test_generated_module_is_valid_for_wasmtime_wabt_and_wasmbuild(generated, tmp_path):
    data, stats = generated
    wasmtime.Module.validate(wasm2_engine(), data)  # raises if invalid
    proc = wasm_validate(data, tmp_path)
    assert proc.returncode == 0, proc.stderr
    validate_module(decode_module(data, "gen.wasm"))
    assert stats.size == len(data) and stats.functions == 200


def test_generated_counts_match_objdump(generated):
    data, stats = generated
    dis = objdump(data)
    assert len(dis) == stats.functions  # defined functions (the import has no body)
    assert sum(len(f.instrs) for f in dis.values()) == stats.instructions
    assert stats.instructions > 30 * stats.functions  # bodies of realistic size


def test_generated_module_uses_the_promised_features(generated):
    data, _ = generated
    text = "\n".join(t for f in objdump(data).values() for _, t in f.instrs)
    for mnemonic in ("loop", "br_if", "br_table", "block", "if", "else", "call ", "call_indirect",
                     "i32.load", "i64.store", "f64.load", "global.get", "global.set", "local.tee",
                     "i64.mul", "f64.add", "select", "memory.init", "memory.fill"):
        assert mnemonic in text, mnemonic


def test_generation_is_deterministic():
    a, _ = g.generate_module(50, seed=3)
    b, _ = g.generate_module(50, seed=3)
    c, _ = g.generate_module(50, seed=4)
    assert a == b and a != c
    assert g.generate_module(0)[1].functions == 0


def test_generated_functions_run_without_trapping(generated):
    data, _ = generated
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, data)
    logged = []
    log = wasmtime.Func(store, wasmtime.FuncType([wasmtime.ValType.i32()], []), logged.append)
    instance = wasmtime.Instance(store, module, [log])
    exports = instance.exports(store)
    called = 0
    for export in module.exports:
        if not export.name.startswith("f"):
            continue
        func = exports[export.name]
        args = [3 if str(p) in ("i32", "i64") else 2.5 for p in func.type(store).params]
        func(store, *args)  # a trap raises
        called += 1
    assert called == 2  # every 100th function is exported


def test_module_builder_writes_sections_in_order(tmp_path):
    mb = g.ModuleBuilder()
    mb.import_func("env", "f", (g.I32,), ())
    mb.import_table("env", "t", g.FUNCREF, 1, 4)
    mb.import_global("env", "g", g.I32, False)
    mb.memory(1, 2)
    mb.table(g.EXTERNREF, 0)
    mb.global_(g.I64, True, g.i64_const(-5) + g.END)
    start = mb.func((), (), g.i32_const(1) + g.call(0) + g.END, export="start")
    mb.func((g.I32,), (g.I32,), g.local_get(0) + g.local_get(1) + b"\x6a" + g.END, [(1, g.I32)])
    mb.start = start
    mb.elem_active(0, [start])
    mb.elem_raw(b"\x05\x70" + g.vec([g.ref_func(start) + g.END]))
    mb.data_active(0, b"abc")
    mb.data_passive(b"xyz")
    mb.data_count = True
    mb.custom("note", b"hello", after=0)
    mb.custom("tail", b"", after=11)
    data = mb.build()
    wasmtime.Module.validate(wasm2_engine(), data)
    proc = wasm_validate(data, tmp_path)
    assert proc.returncode == 0, proc.stderr
    tool = need_command("wasm-objdump", WABT_HINT)
    path = tmp_path / "m.wasm"
    path.write_bytes(data)
    headers = subprocess.run([tool, "-h", os.fspath(path)], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in headers.splitlines() if "start=" in line]
    assert names == ["Custom", "Type", "Import", "Function", "Table", "Memory", "Global", "Export",
                     "Start", "Elem", "DataCount", "Code", "Data", "Custom"]
