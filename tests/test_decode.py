"""Tests of `wasmbuild.binary.decode_module`, `decode_function` and `check_bodies`.

Modules come from WABT's wat2wasm or are assembled by hand (with the encoders of
`wasmbuild.testing.gen`); expected values come from the text we wrote, from the bytes we assembled, or
from `wasm-objdump` and wasmtime, never from the decoder itself. Malformed inputs must raise
`MalformedError` with the spec's reason, the file name and the byte offset.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import tempfile

import pytest
from conftest import WABT_HINT, need_command, need_module, objdump, wat

from wasmbuild.binary import check_bodies, decode_function, decode_module
from wasmbuild.contract.features import WASM2
from wasmbuild.contract.types import (EXTERNREF, F32, F64, FUNCREF, HT_FUNC, I32, I64, GlobalType, Limits, MemoryType,
                                      RefType, TableType)
from wasmbuild.binary.types import ACTIVE, DECLARATIVE, PASSIVE
from wasmbuild.errors import InvalidError, MalformedError, WasmbuildError
from wasmbuild.testing import gen as g
from wasmbuild.valid import validate_module

wasmtime = need_module("wasmtime")  # an independent oracle here

HEADER = b"\0asm\x01\0\0\0"
IN_SECTION = "unexpected end of section or function"
END = 0x0B


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def wasmtime_accepts(data: bytes) -> bool:
    try:
        wasmtime.Module.validate(wasmtime.Engine(), data)
    except wasmtime.WasmtimeError:
        return False
    return True


def malformed(data: bytes, filename: str = "t.wasm") -> MalformedError:
    with pytest.raises(MalformedError) as info:
        decode_module(data, filename)
    return info.value


def assert_error(err: WasmbuildError, reason: str, offset: int, filename: str = "t.wasm") -> None:
    assert err.reason == reason
    assert err.offset == offset, f"offset {err.offset:#x} != {offset:#x}"
    assert err.file == filename
    text = str(err)
    assert filename in text and f"{offset:#x}" in text and reason in text, text


# ---------------------------------------------------------------------------------------------
# Module structure
# ---------------------------------------------------------------------------------------------

IMPORTS_WAT = """
(module
  (type $a (func))
  (type $b (func (param i32 f64) (result i64)))
  (import "env" "f" (func (type $b)))
  (import "env" "tab" (table 2 10 funcref))
  (import "mod ü" "mem" (memory 1))
  (import "env" "g" (global i32))
  (import "env" "gm" (global (mut f64)))
  (import "x" "ext" (table 0 externref))
  (import "env" "f2" (func (type $a)))
  (func (type $a))
)
"""


def test_imports_of_every_kind():
    data = wat(IMPORTS_WAT)
    m = decode_module(data, "imports.wasm")
    got = [(i.module, i.name, i.kind, i.desc) for i in m.imports]
    assert got == [
        ("env", "f", 0, 1),
        ("env", "tab", 1, TableType(FUNCREF, Limits(2, 10))),
        ("mod ü", "mem", 2, MemoryType(Limits(1, None))),
        ("env", "g", 3, GlobalType(I32, False)),
        ("env", "gm", 3, GlobalType(F64, True)),
        ("x", "ext", 1, TableType(EXTERNREF, Limits(0, None))),
        ("env", "f2", 0, 0),
    ]
    for imp in m.imports:  # each offset is where the entry (its module name) starts
        entry = g.name(imp.module) + g.name(imp.name) + bytes([imp.kind])
        assert data[imp.offset:imp.offset + len(entry)] == entry
    assert m.num_imported_funcs == 2
    assert m.all_func_types() == [1, 0, 0]
    assert len(m.all_tables()) == 2 and len(m.all_memories()) == 1 and len(m.all_globals()) == 2
    assert m.filename == "imports.wasm"


DEFS_WAT = """
(module
  (table 3 funcref)
  (table 1 5 externref)
  (memory 2 7)
  (global $a i32 (i32.const -5))
  (global $b (mut i64) (i64.const 0x7fffffffffffffff))
  (global $c f32 (f32.const 1.5))
  (global $d (mut f64) (f64.const -0.25))
  (global $e funcref (ref.func $start))
  (global $f externref (ref.null extern))
  (func $start)
  (func $other (param i32))
  (export "start" (func $start))
  (export "mem" (memory 0))
  (export "tab" (table 1))
  (export "glob" (global $b))
  (export "" (func $other))
  (start $start)
)
"""


def test_tables_memories_globals_exports_and_start():
    data = wat(DEFS_WAT)
    m = decode_module(data)
    assert m.tables == [TableType(FUNCREF, Limits(3, None)), TableType(EXTERNREF, Limits(1, 5))]
    assert m.memories == [MemoryType(Limits(2, 7))]
    assert [gl.type for gl in m.globals] == [GlobalType(I32, False), GlobalType(I64, True),
                                             GlobalType(F32, False), GlobalType(F64, True),
                                             GlobalType(FUNCREF, False), GlobalType(EXTERNREF, False)]
    inits = [[(i[0], i[1]) for i in gl.init.instrs] for gl in m.globals]
    assert inits == [
        [(0x41, -5)],
        [(0x42, 2**63 - 1)],
        [(0x43, struct.unpack("<I", struct.pack("<f", 1.5))[0])],
        [(0x44, struct.unpack("<Q", struct.pack("<d", -0.25))[0])],
        [(0xD2, 0)],
        [(0xD0, EXTERNREF)],
    ]
    for gl in m.globals:
        op, _, offset = gl.init.instrs[0]  # (op, immediate, offset), as function code gives them
        assert data[offset] == op  # offsets point at the opcode
        assert gl.init.offset == offset
    assert [(e.name, e.kind, e.index) for e in m.exports] == [
        ("start", 0, 0), ("mem", 2, 0), ("tab", 1, 1), ("glob", 3, 1), ("", 0, 1)]
    for e in m.exports:
        assert data[e.offset:].startswith(g.name(e.name) + bytes([e.kind]))
    assert m.start == 0
    assert data[m.start_offset - 2:m.start_offset + 1] == b"\x08\x01\x00"  # id, size, index
    assert m.func_type_indices == [0, 1] and len(m.bodies) == 2


def _objdump_elem_flags(data: bytes) -> list[tuple[int, int, int]]:
    """(flags, table, count) of each element segment, as `wasm-objdump -x` reports them."""
    tool = need_command("wasm-objdump", WABT_HINT)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.wasm")
        with open(path, "wb") as f:
            f.write(data)
        text = subprocess.run([tool, "-x", path], capture_output=True, text=True, check=True).stdout
    elem = text.split("Elem[", 1)[1].split("Code[", 1)[0]
    pattern = r"segment\[\d+\] flags=(\d+) table=(\d+) count=(\d+)"
    return [tuple(map(int, m)) for m in re.findall(pattern, elem)]


ELEM_WAT = """
(module
  (table $t0 4 funcref)
  (table $t1 4 funcref)
  (table $t2 4 externref)
  (func $f) (func $g)
  (elem (i32.const 0) func $f $g)
  (elem func $f)
  (elem (table $t1) (i32.const 1) func $g)
  (elem declare func $f)
  (elem (i32.const 2) funcref (ref.func $f) (ref.null func))
  (elem (table $t2) (i32.const 0) externref (ref.null extern))
)
"""


def test_elem_segments_from_wat2wasm_match_objdump():
    data = wat(ELEM_WAT)
    m = decode_module(data)
    flags = _objdump_elem_flags(data)
    assert [f for f, _, _ in flags] == [0, 1, 2, 3, 4, 6]  # what WABT chose to emit
    mode_of = {0: ACTIVE, 1: PASSIVE, 2: ACTIVE, 3: DECLARATIVE, 4: ACTIVE, 6: ACTIVE}
    assert [(s.mode, s.table, len(s.init), s.init_is_exprs) for s in m.elems] == [
        (mode_of[f], t if mode_of[f] == ACTIVE else 0, n, bool(f & 4)) for f, t, n in flags]
    for seg, (f, _, _) in zip(m.elems, flags):
        assert data[seg.offset] == f
    assert m.elems[0].init == (0, 1)
    assert m.elems[5].elem_type == EXTERNREF
    validate_module(m)


def _expr(instrs) -> list:
    return [(i[0], i[1]) for i in instrs]


def test_all_eight_elem_encodings_by_hand():
    segments = [
        bytes.fromhex("00 41 00 0b 02 00 01"),            # 0: active table 0, func indices
        bytes.fromhex("01 00 01 00"),                     # 1: passive, elemkind, func indices
        bytes.fromhex("02 01 41 01 0b 00 01 01"),         # 2: active table 1, elemkind, indices
        bytes.fromhex("03 00 01 00"),                     # 3: declarative, elemkind, indices
        bytes.fromhex("04 41 02 0b 02 d2 00 0b d0 70 0b"),  # 4: active table 0, exprs
        bytes.fromhex("05 70 01 d2 01 0b"),               # 5: passive, reftype, exprs
        bytes.fromhex("06 02 41 00 0b 6f 01 d0 6f 0b"),   # 6: active table 2, reftype, exprs
        bytes.fromhex("07 70 01 d2 01 0b"),               # 7: declarative, reftype, exprs
    ]
    data = module(
        g.section(1, g.vec([g.functype((), ())])),
        g.section(3, g.vec([b"\x00", b"\x00"])),
        g.section(4, g.vec([b"\x70\x00\x04", b"\x70\x00\x04", b"\x6f\x00\x04"])),
        g.section(9, g.vec(segments)),
        g.section(10, g.vec([g.code_entry([], b"\x0b"), g.code_entry([], b"\x0b")])),
    )
    assert wasmtime_accepts(data)
    # 3.0 types the segments of function indices (ref func), 2.0 funcref
    ref_func = decode_module(data).elems[0].elem_type
    assert ref_func == RefType(False, HT_FUNC)
    assert [s.elem_type for s in decode_module(data).elems[:4]] == [ref_func] * 4
    m = decode_module(data, features=frozenset())
    assert len(m.elems) == 8
    e = m.elems
    assert [(s.mode, s.table, s.elem_type, s.init_is_exprs) for s in e] == [
        (ACTIVE, 0, FUNCREF, False), (PASSIVE, 0, FUNCREF, False), (ACTIVE, 1, FUNCREF, False),
        (DECLARATIVE, 0, FUNCREF, False), (ACTIVE, 0, FUNCREF, True), (PASSIVE, 0, FUNCREF, True),
        (ACTIVE, 2, EXTERNREF, True), (DECLARATIVE, 0, FUNCREF, True)]
    assert [_expr(s.offset_expr.instrs) if s.offset_expr else None for s in e] == [
        [(0x41, 0)], None, [(0x41, 1)], None, [(0x41, 2)], None, [(0x41, 0)], None]
    assert e[0].init == (0, 1) and e[1].init == (0,) and e[2].init == (1,) and e[3].init == (0,)
    assert [_expr(x.instrs) for x in e[4].init] == [[(0xD2, 0)], [(0xD0, FUNCREF)]]
    assert [_expr(x.instrs) for x in e[5].init] == [[(0xD2, 1)]]
    assert [_expr(x.instrs) for x in e[6].init] == [[(0xD0, EXTERNREF)]]
    assert [_expr(x.instrs) for x in e[7].init] == [[(0xD2, 1)]]
    for seg, raw in zip(e, segments):
        assert data[seg.offset:seg.offset + len(raw)] == raw
    validate_module(m)


@pytest.mark.parametrize("flags", [8, 9, 0x80 | 0x08])
def test_elem_segment_flags_above_seven_are_malformed(flags):
    seg = g.uleb(flags) + bytes.fromhex("41 00 0b 00")
    data = module(g.section(9, g.vec([seg])))
    err = malformed(data)
    assert err.reason == "malformed elements segment kind"
    assert err.offset == len(HEADER) + 3  # id, size, count, then the flags


def test_data_segments_active_passive_and_with_memory_index():
    payloads = [b"hello", b"", b"passive \x00\xff", b"x" * 200]
    data = module(
        g.section(5, g.vec([g.limits(1)])),
        g.section(12, g.uleb(4)),
        g.section(11, g.vec([
            b"\x00" + g.i32_const(16) + b"\x0b" + g.uleb(5) + payloads[0],
            b"\x01" + g.uleb(0),
            b"\x01" + g.uleb(len(payloads[2])) + payloads[2],
            b"\x02\x00" + g.i32_const(1024) + b"\x0b" + g.uleb(200) + payloads[3],
        ])),
    )
    assert wasmtime_accepts(data)
    m = decode_module(data)
    assert m.data_count == 4
    assert [(d.mode, d.memory) for d in m.datas] == [(ACTIVE, 0), (PASSIVE, 0), (PASSIVE, 0), (ACTIVE, 0)]
    assert [data[d.data_start:d.data_end] for d in m.datas] == payloads
    assert _expr(m.datas[0].offset_expr.instrs) == [(0x41, 16)]
    assert _expr(m.datas[3].offset_expr.instrs) == [(0x41, 1024)]
    assert m.datas[1].offset_expr is None
    assert data[m.datas[3].offset] == 0x02


def test_data_count_from_wat2wasm():
    with_count = wat("""(module (memory 1) (data "a") (data "bc")
                          (func (data.drop 1)))""")
    without = wat('(module (memory 1) (data (i32.const 0) "a"))')
    assert decode_module(with_count).data_count == 2
    assert decode_module(without).data_count is None
    assert len(decode_module(without).datas) == 1


def test_custom_sections_are_kept_by_name_with_payload_offsets():
    mb = g.ModuleBuilder()
    mb.func((), (), b"\x0b")
    mb.custom("first", b"\x01\x02\x03", after=0)
    mb.custom("", b"", after=1)
    mb.custom("between", b"payload", after=3)
    mb.custom("ünïcode", bytes(range(256)), after=10)
    data = mb.build()
    assert wasmtime_accepts(data)
    m = decode_module(data)
    assert [c.name for c in m.customs] == ["first", "", "between", "ünïcode"]
    assert [data[c.start:c.end] for c in m.customs] == [b"\x01\x02\x03", b"", b"payload", bytes(range(256))]
    assert m.customs[0].start == len(HEADER) + 2 + len(g.name("first"))


def test_name_section_from_wat2wasm_is_a_custom_section():
    data = wat("(module (func $hello))", extra=("--debug-names",))
    m = decode_module(data)
    assert [c.name for c in m.customs] == ["name"]
    c = m.customs[0]
    assert c.end == len(data)  # the name section is the last thing in the file
    assert b"hello" in data[c.start:c.end]


def test_custom_section_name_longer_than_the_section_is_malformed():
    # Section size 3 but the name says 5 bytes; more bytes follow in the file.
    data = module(b"\x00\x03\x05abcdefgh")
    err = malformed(data)
    assert err.reason.startswith("unexpected end")  # the reference: skipping a negative size


# ---------------------------------------------------------------------------------------------
# Function bodies
# ---------------------------------------------------------------------------------------------

BODIES_WAT = """
(module
  (type $t (func (param i32) (result i32)))
  (import "env" "imp" (func $imp (param i32) (result i32)))
  (table 2 funcref)
  (memory 1)
  (global $g (mut i64) (i64.const 1))
  (func $a (param i32) (result i32) (local i64 i64 f32)
    (block $b (result i32)
      (br_table 0 0 0 0 0 0 0 0 0 0 0 0 0 (local.get 0) (local.get 0)))
    v128.const i32x4 1 2 3 4
    drop
    i64.const 0x7fffffffffffffff
    global.set $g
    (call_indirect (type $t) (i32.const 0) (i32.const 1))
    i32.add
    (i32.load offset=1000 align=2 (i32.const 0))
    i32.add)
  (func $b (param i32) (result i32)
    (loop $l (result i32)
      (if (result i32) (local.get 0)
        (then (br_if $l (i32.const 0)) (i32.const 1))
        (else (call $imp (i32.const 2)))))
    (memory.grow (i32.const 1)) i32.add)
  (func $c)
  (func $d (local f64) (local $x i32) (local.set $x (i32.const 300))
    (drop (select (i32.const 1) (i32.const 2) (i32.const 3)))
    (drop (f64.const -1.5)) (drop (ref.func $c)) (drop (table.size 0))
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 0)))
  (elem declare func $c)
)
"""


def _check_bodies_against_objdump(data: bytes) -> int:
    m = decode_module(data, "bodies.wasm")
    dis = objdump(data)
    nimp = m.num_imported_funcs
    assert sorted(dis) == list(range(nimp, nimp + len(m.bodies)))
    checked = 0
    for i, body in enumerate(m.bodies):
        d = dis[nimp + i]
        assert body.offset == d.start
        code = decode_function(m, i)
        assert [ins[2] for ins in code.instrs] == [off for off, _ in d.instrs]
        assert [ins[0] for ins in code.instrs][-1] == END
        assert body.end == d.instrs[-1][0] + 1  # the body ends with its final `end`
        assert m.body_bytes(i) == data[body.offset:body.end]
        assert data[body.end - 1] == END
        checked += len(code.instrs)
    return checked


def test_function_bodies_are_slices_with_objdump_offsets():
    data = wat(BODIES_WAT)
    assert _check_bodies_against_objdump(data) > 40


def test_function_bodies_with_five_byte_leb_sizes():
    text = BODIES_WAT
    data = wat(text, extra=("--no-canonicalize-leb128s",))
    short = wat(text)
    assert len(data) > len(short)  # the padded sizes really are longer
    _check_bodies_against_objdump(data)
    a, b = decode_module(data), decode_module(short)
    assert (a.types, [(i.module, i.name, i.desc) for i in a.imports], a.func_type_indices, a.tables,
            a.memories) == (b.types, [(i.module, i.name, i.desc) for i in b.imports], b.func_type_indices,
                            b.tables, b.memories)
    for i in range(len(a.bodies)):
        assert [x[:2] for x in decode_function(a, i).instrs] == [x[:2] for x in decode_function(b, i).instrs]


def test_generated_module_bodies_match_objdump():
    data, stats = g.generate_module(40, seed=5)
    assert _check_bodies_against_objdump(data) == stats.instructions


def test_locals_are_run_length_declarations():
    data = wat("""(module (func (param f32) (local i32 i32 i64) (local f64)
                   (local i32) (local v128)))""")
    m = decode_module(data)
    code = decode_function(m, 0)
    assert code.locals == ((2, I32), (1, I64), (1, F64), (1, I32), (1, 0x7B))
    assert code.num_locals == 6
    assert [ins[0] for ins in code.instrs] == [END]


def test_decode_module_leaves_bodies_alone_until_asked():
    # Body 1 holds an illegal opcode; decode_module does not look inside bodies.
    bodies = [g.code_entry([], b"\x01\x0b"), g.code_entry([], b"\x06\x0b")]
    data = module(g.section(1, g.vec([g.functype((), ())])), g.section(3, g.vec([b"\x00", b"\x00"])),
                  g.section(10, g.vec(bodies)))
    m = decode_module(data, "lazy.wasm")
    decode_function(m, 0)
    with pytest.raises(MalformedError):
        decode_function(m, 1)


# ---------------------------------------------------------------------------------------------
# Malformed modules
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data,reason,offset", [
    (b"", "unexpected end", 0),
    (b"\0as", "unexpected end", 3),
    (b"\0asm", "unexpected end", 4),
    (b"\0asm\x01\0\0", "unexpected end", 7),
    (b"asm\0\x01\0\0\0", "magic header not detected", 0),
    (b"\0asn\x01\0\0\0", "magic header not detected", 0),
    (b"\0ASM\x01\0\0\0", "magic header not detected", 0),
    (b"\x7fELF\x02\x01\x01\x00", "magic header not detected", 0),
    (b"\0asm\x02\0\0\0", "unknown binary version", 4),
    (b"\0asm\x00\0\0\0", "unknown binary version", 4),
    (b"\0asm\x01\0\0\x01", "unknown binary version", 4),
    (b"\0asm\x0d\0\x01\0", "unknown binary version", 4),
])
def test_bad_header(data, reason, offset):
    assert_error(malformed(data, "hdr.wasm"), reason, offset, "hdr.wasm")


def _small_module_sections() -> list[bytes]:
    return [
        g.section(1, g.vec([g.functype((), ()), g.functype((I32,), (I32,))])),
        g.section(2, g.vec([g.name("m") + g.name("g") + b"\x03\x7f\x00"])),
        g.section(3, g.vec([b"\x00", b"\x01"])),
        g.section(4, g.vec([b"\x70" + g.limits(1)])),
        g.section(5, g.vec([g.limits(1, 2)])),
        g.section(6, g.vec([b"\x7f\x01" + g.i32_const(7) + b"\x0b"])),
        g.section(7, g.vec([g.name("f") + b"\x00\x01"])),
        g.section(8, g.uleb(0)),
        g.section(9, g.vec([b"\x00" + g.i32_const(0) + b"\x0b" + g.vec([b"\x00"])])),
        g.section(12, g.uleb(1)),
        g.section(10, g.vec([g.code_entry([], b"\x01\x0b"),
                             g.code_entry([(1, I32)], b"\x20\x00\x20\x01\x6a\x0b")])),
        g.section(11, g.vec([b"\x00" + g.i32_const(0) + b"\x0b" + g.name(b"hi")])),
        g.custom_section("c", b"xyz"),
    ]


def test_small_module_is_valid():
    data = module(*_small_module_sections())
    assert wasmtime_accepts(data)
    validate_module(decode_module(data))


def test_every_truncation_of_a_small_module_is_malformed():
    sections = _small_module_sections()
    data = module(*sections)
    # Where each section ends, and which sections the prefix up to there holds.
    boundaries = {len(HEADER): set()}
    pos, present = len(HEADER), set()
    for sec in sections:
        pos += len(sec)
        present = present | {sec[0]}
        boundaries[pos] = present
    for length in range(len(data)):
        prefix = data[:length]
        if length in boundaries:
            have = boundaries[length]
            if 3 in have and 10 not in have:
                expected = "function and code section have inconsistent lengths"
            elif 12 in have and 11 not in have:
                expected = "data count and data section have inconsistent lengths"
            else:
                decode_module(prefix, "trunc.wasm")  # a shorter module, but a well-formed one
                continue
            err = malformed(prefix, "trunc.wasm")
            assert_error(err, expected, length, "trunc.wasm")
            continue
        try:
            decode_module(prefix, "trunc.wasm")
        except MalformedError as err:
            assert err.reason in ("unexpected end", IN_SECTION, "length out of bounds"), (length, err)
            assert err.file == "trunc.wasm"
            assert err.offset is not None and 0 <= err.offset <= length, (length, err)
        else:
            pytest.fail(f"prefix of {length} bytes decoded")


def test_section_size_mismatch():
    # Type section claims 5 bytes, its content (one type) takes 4; a byte follows.
    data = module(b"\x01\x05\x01\x60\x00\x00\x00")
    assert_error(malformed(data), "section size mismatch", len(HEADER) + 2)
    # Claims 3 bytes, the content takes 4.
    data = module(b"\x01\x03\x01\x60\x00\x00", g.section(3, g.vec([])))
    assert_error(malformed(data), "section size mismatch", len(HEADER) + 2)
    # A code entry whose size covers less than its instructions.
    entry = b"\x02\x00\x01\x0b"  # size 2: locals vector and `nop`, but the `end` lies outside
    data = module(g.section(1, g.vec([g.functype((), ())])), g.section(3, g.vec([b"\x00"])),
                  g.section(10, g.vec([entry])))
    with pytest.raises(MalformedError) as info:
        m = decode_module(data, "t.wasm")
        check_bodies(m)
    assert info.value.reason == "section size mismatch"


@pytest.mark.parametrize("order", [(3, 1), (1, 1), (10, 12), (11, 10), (7, 6), (5, 5), (12, 9)])
def test_misordered_or_duplicate_sections(order):
    payloads = {1: g.vec([g.functype((), ())]), 3: g.vec([]), 5: g.vec([]), 6: g.vec([]), 7: g.vec([]),
                9: g.vec([]), 10: g.vec([]), 11: g.vec([]), 12: g.uleb(0)}
    first, second = (g.section(s, payloads[s]) for s in order)
    data = module(first, g.custom_section("between", b""), second)
    err = malformed(data)
    assert_error(err, "unexpected content after last section", len(data) - len(second))


def test_sections_in_order_with_customs_anywhere_decode():
    payloads = [(1, g.vec([])), (2, g.vec([])), (3, g.vec([])), (4, g.vec([])), (5, g.vec([])),
                (6, g.vec([])), (7, g.vec([])), (9, g.vec([])), (12, g.uleb(0)), (10, g.vec([])),
                (11, g.vec([]))]
    parts = []
    for sid, payload in payloads:
        parts.append(g.custom_section(f"before {sid}", b""))
        parts.append(g.section(sid, payload))
    data = module(*parts)
    assert wasmtime_accepts(data)
    m = decode_module(data)
    assert len(m.customs) == len(payloads)


@pytest.mark.parametrize("sid", [14, 0x7F, 0x80, 0xFF])  # 13 is the tag section (tests/test_exceptions.py)
def test_unknown_section_id(sid):
    data = module(bytes([sid, 0]))
    assert_error(malformed(data), "malformed section id", len(HEADER))


def test_function_and_code_counts_must_agree():
    types = g.section(1, g.vec([g.functype((), ())]))
    two_funcs = g.section(3, g.vec([b"\x00", b"\x00"]))
    one_body = g.section(10, g.vec([g.code_entry([], b"\x0b")]))
    for data in (module(types, two_funcs, one_body), module(types, two_funcs),
                 module(types, g.section(10, g.vec([g.code_entry([], b"\x0b")])))):
        assert_error(malformed(data), "function and code section have inconsistent lengths", len(data))


def test_data_count_must_match_the_data_section():
    data = module(g.section(5, g.vec([g.limits(1)])), g.section(12, g.uleb(2)),
                  g.section(11, g.vec([b"\x01\x00"])))
    assert_error(malformed(data), "data count and data section have inconsistent lengths", len(data))


def _one_func_module(body: bytes, local_runs=(), extra_sections=(), with_import=True,
                     after_code=()) -> tuple[bytes, int]:
    """A module with an imported function and one defined function [] -> [] whose code is `body`
    (with its final end); returns the bytes and the offset where `body` starts."""
    sections = [g.section(1, g.vec([g.functype((), ())]))]
    if with_import:
        sections.append(g.section(2, g.vec([g.name("env") + g.name("f") + b"\x00\x00"])))
    sections.append(g.section(3, g.vec([b"\x00"])))
    sections.extend(extra_sections)
    entry = g.code_entry(local_runs, body)
    sections.append(g.section(10, g.vec([entry])))
    sections.extend(after_code)
    data = module(*sections)
    start = data.rindex(entry) + len(entry) - len(body)
    return data, start


def _body_error(data: bytes, features=None) -> MalformedError:
    m = decode_module(data, "t.wasm", features=features)  # bodies are decoded on demand
    with pytest.raises(MalformedError) as info:
        check_bodies(m)
    err = info.value
    with pytest.raises(MalformedError) as again:
        validate_module(decode_module(data, "t.wasm", features=features))
    assert (again.value.reason, again.value.offset, again.value.func) == (err.reason, err.offset, err.func)
    return err


@pytest.mark.parametrize("code,reason", [
    (b"\x17", "illegal opcode 17"),  # 0x06 is the legacy `try` (tests/test_exceptions.py)
    (b"\x27", "illegal opcode 27"),
    (b"\xc5", "illegal opcode c5"),
    (b"\xff", "illegal opcode ff"),
    (b"\xfc\x12", "illegal opcode fc 12"),
    (b"\xfd\x9a\x01", "illegal opcode fd 9a"),
])
def test_illegal_opcode(code, reason):
    body = b"\x01\x01" + code + b"\x0b"
    data, start = _one_func_module(body)
    err = _body_error(data)
    assert_error(err, reason, start + 2)
    assert err.func == 1  # the import is function 0


@pytest.mark.parametrize("code,zero_at", [
    (b"\x3f\x01\x1a", 1),                          # memory.size 1
    (b"\x41\x00\x40\x80\x00\x1a", 3),              # memory.grow with a padded zero
    (b"\x41\x00\x41\x00\x41\x00\xfc\x0b\x01", 8),  # memory.fill 1
    (b"\x41\x00\x41\x00\x41\x00\xfc\x0a\x00\x01", 9),  # memory.copy 0 1
])
def test_zero_byte_expected(code, zero_at):
    # The memory index of Wasm 2.0 (multi-memory off); with multi-memory it is a u32 index.
    body = code + b"\x0b"
    data, start = _one_func_module(body, extra_sections=[g.section(5, g.vec([g.limits(1)]))])
    err = _body_error(data, features=WASM2)
    assert err.reason.startswith("zero byte expected") and err.offset == start + zero_at
    m = decode_module(data, "t.wasm")
    check_bodies(m)  # well-formed in 3.0 (memory 1 is unknown, or the padded 0 is memory 0)


def test_too_many_locals():
    runs = [(0x8000_0000, I32), (0x8000_0000, I64)]
    data, start = _one_func_module(b"\x0b", local_runs=runs)
    err = _body_error(data)
    assert_error(err, "too many locals", start - len(g.vec(g.uleb(n) + bytes([t]) for n, t in runs)))
    assert err.func == 1


def test_most_locals_allowed_decodes_without_expanding_them():
    data, _ = _one_func_module(b"\x20\xfe\xff\xff\xff\x0f\x1a\x0b",  # local.get 2**32 - 2; drop
                               local_runs=[(0xFFFF_FFFF, I32)])
    m = decode_module(data)
    code = decode_function(m, 0)
    assert code.num_locals == 0xFFFF_FFFF
    with pytest.raises(InvalidError, match="too many locals"):  # well-formed, but past the 50,000 limit
        validate_module(m)


def test_data_count_section_required_for_data_drop():
    body = b"\xfc\x09\x00\x0b"  # data.drop 0
    data, start = _one_func_module(
        body, extra_sections=[g.section(5, g.vec([g.limits(1)]))],
        after_code=[g.section(11, g.vec([b"\x01\x00"]))])
    assert_error(_body_error(data), "data count section required", start)


def test_data_count_section_required_for_memory_init():
    body = b"\x41\x00\x41\x00\x41\x00\xfc\x08\x00\x00\x0b"  # memory.init 0
    data, start = _one_func_module(
        body, extra_sections=[g.section(5, g.vec([g.limits(1)]))],
        after_code=[g.section(11, g.vec([b"\x01\x00"]))])
    assert_error(_body_error(data), "data count section required", start + 6)


def test_end_of_body_before_end_opcode():
    data, start = _one_func_module(b"\x01\x01")  # nop nop, no end: the body runs out
    err = _body_error(data)
    assert err.reason.startswith("unexpected end") or err.reason == "section size mismatch"
    assert err.func == 1


def test_malformed_error_is_not_an_invalid_error():
    assert not issubclass(MalformedError, InvalidError) and not issubclass(InvalidError, MalformedError)


# --- agreement with the reference interpreter on lengths and counts ---

def test_data_segment_one_byte_short_is_unexpected_end():
    # binary.wast line 1069: a data segment of 7 bytes with only 6 left in the file.
    data = bytes.fromhex("0061736d01000000" "0503010001" "0b0c" "01004103" "0b07" "616263646566")
    assert malformed(data).reason == IN_SECTION


def test_vector_count_beyond_the_file_is_length_out_of_bounds():
    data = module(b"\x01\x06\xff\xff\xff\xff\x0f\x60")
    assert malformed(data).reason == "length out of bounds"
