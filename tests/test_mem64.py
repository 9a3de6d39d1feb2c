"""Tests of memory64, multi-memory and extended constant expressions.

Takes WebAssembly text (assembled by `wasm-tools parse`, which knows all three proposals), built
into images with both bounds-check modes, and wasmtime (with memory64 and multi-memory on) as the
reference where it helps.

Gives pass/fail on:
- 64-bit memories: i64 addresses and offsets up to 2^64 - 1 (no wrap-around: an access whose
  address plus offset plus size passes 2^64 traps), memory.size/grow with i64 results, bulk
  operations with i64 operands, growing a memory so that its mapping moves (contents kept; an
  access after a memory.grow in the same function uses the new base), explicit checks inside a
  guard-page image; the loader's size limit of 64-bit memories;
- 64-bit tables: table.get/set/size/grow/fill/copy and call_indirect with i64 indices;
- several memories: loads and stores with a memory index, memory.size/grow/fill/copy/init of any
  memory and copies between them, data segments for any memory, memories imported and exported;
- extended constant expressions: i32/i64 add/sub/mul and global.get of earlier globals in global
  initialisers and segment offsets;
- feature gating: with the features off, each construct is refused with the reason a 2.0 engine
  gives, and the message names the feature;
- images: the address type of memories and tables survives the image metadata; a memory import
  of the wrong address type is "incompatible import type";
- cache keys: they change with the address types of the memories and tables a function uses, not
  with unrelated items;
- other targets: a few memory64 and multi-memory spec scripts under qemu (aarch64 with guard
  pages, big-endian s390x), skipped without the emulators.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest

import wasmbuild
from wasmbuild.binary.decode import check_bodies, decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.contract import abi
from wasmbuild.contract import features as F
from wasmbuild.contract.records import ModuleRecord
from wasmbuild.contract.types import I32, I64, Limits, MemoryType, TableType
from wasmbuild.errors import InvalidError, MalformedError, UnlinkableError
from wasmbuild.image import read_image
from wasmbuild.loader.runtime import Memory, Store, Trap
from wasmbuild.valid import validate_module

BOUNDS = (abi.BOUNDS_GUARD, abi.BOUNDS_EXPLICIT)
U64 = (1 << 64) - 1


def assemble(text: str) -> bytes:
    tool = shutil.which("wasm-tools")
    if tool is None:
        pytest.skip("wasm-tools is not installed")
    proc = subprocess.run([tool, "parse", "-", "-o", "/dev/stdout"], input=text.encode(), capture_output=True)
    if proc.returncode != 0:
        raise AssertionError(f"wasm-tools rejected the test's module:\n{proc.stderr.decode()}\n{text}")
    return proc.stdout


def build(tmp_path, text: str, bounds: str = "", name: str = "m") -> str:
    settings = CompileSettings(opt_level=2, bounds_checks=bounds)
    image, _report = build_image([ModuleInput(name, assemble(text))], settings, jobs=1)
    path = os.path.join(str(tmp_path), f"{name}-{bounds or 'default'}.img")
    with open(path, "wb") as f:
        f.write(image)
    return path


def load(tmp_path, text: str, bounds: str = "", imports=None, store=None):
    return wasmbuild.load(build(tmp_path, text, bounds), imports, store).exports


def trap(fn, *args) -> str:
    with pytest.raises(Trap) as info:
        fn(*args)
    return info.value.message


OOB = "out of bounds memory access"

MEM64 = r"""
(module
  (memory $m (export "mem") i64 1 100)
  (func (export "load") (param i64) (result i64) (i64.load (local.get 0)))
  (func (export "load_far") (param i64) (result i32) (i32.load8_u offset=0xFFFFFFFFFFFFFFF0 (local.get 0)))
  (func (export "load_big") (param i64) (result i32) (i32.load offset=0x100000000 (local.get 0)))
  (func (export "store") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "store8") (param i64 i32) (i32.store8 offset=3 (local.get 0) (local.get 1)))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i64 i64) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i64 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
  (func (export "v128") (param i64) (result i64)
    (i64x2.extract_lane 1 (v128.load offset=8 (local.get 0))))
  (data $d "abcdefgh")
  (data (i64.const 0x10) "\01\02\03\04\05\06\07\08")
)
"""


@pytest.mark.parametrize("bounds", BOUNDS)
def test_memory64_accesses_and_bounds(tmp_path, bounds):
    e = load(tmp_path, MEM64, bounds)
    assert e["size"]() == 1
    assert e["load"](0x10) == 0x0807060504030201
    e["store"](65536 - 8, -1)
    assert e["load"](65536 - 8) == -1
    assert trap(e["load"], 65536 - 7) == OOB
    assert trap(e["store"], 65536 - 7, 0) == OOB
    assert e["load"](65536 - 8) == -1  # the refused store wrote nothing
    # Addresses near 2^64 and offsets beyond 32 bits: never wrap around.
    for address in (U64, U64 - 7, 1 << 63, 1 << 32, 0x10):
        assert trap(e["load_far"], address) == OOB
        assert trap(e["load_big"], address) == OOB
    assert trap(e["load"], -8) == OOB
    assert trap(e["store8"], U64 - 2, 1) == OOB
    assert trap(e["v128"], 65536 - 23) == OOB
    assert e["v128"](0x10 - 8) == 0


@pytest.mark.parametrize("bounds", BOUNDS)
def test_memory64_grow_moves_and_keeps_contents(tmp_path, bounds):
    e = load(tmp_path, MEM64, bounds)
    e["store"](8, 0x1122334455667788)
    sizes = [1]
    for delta in (1, 3, 7, 20):  # each grow may move the mapping (mremap)
        assert e["grow"](delta) == sizes[-1]
        sizes.append(sizes[-1] + delta)
        assert e["size"]() == sizes[-1]
        end = sizes[-1] * 65536
        e["store"](end - 8, delta)
        assert e["load"](end - 8) == delta
        assert trap(e["load"], end - 4) == OOB
        assert e["load"](8) == 0x1122334455667788
    assert e["grow"](100) == -1  # beyond the maximum
    assert e["grow"](U64) == -1
    assert e["grow"](0) == sizes[-1]
    mem = e["mem"]
    assert mem.addr == I64 and mem.size == sizes[-1] * 65536
    assert mem.read(8, 8) == (0x1122334455667788).to_bytes(8, "little")


GROW_IN_PLACE = r"""
(module
  (import "env" "mem" (memory i64 1))
  (func (export "grow_and_use") (param i64) (result i64 i64)
    (i64.store (i64.const 8) (i64.const 0x55))
    (drop (memory.grow (local.get 0)))
    (i64.store (i64.mul (memory.size) (i64.const 65536)) (i64.const 0))  ;; traps: past the end
    (i64.const 0) (i64.const 0))
  (func (export "grow_then_access") (param i64) (result i64 i64)
    (i64.store (i64.const 8) (i64.const 0x55))
    (drop (memory.grow (local.get 0)))
    (i64.store (i64.sub (i64.mul (memory.size) (i64.const 65536)) (i64.const 8)) (i64.const 7))
    (i64.load (i64.const 8))
    (i64.load (i64.sub (i64.mul (memory.size) (i64.const 65536)) (i64.const 8))))
)
"""


@pytest.mark.parametrize("bounds", BOUNDS)
def test_memory64_moved_by_a_grow_inside_a_function(tmp_path, bounds):
    import ctypes
    import mmap
    store = Store()
    mem = Memory(store, 1, None, I64)
    e = load(tmp_path, GROW_IN_PLACE, bounds, {"env": {"mem": mem}}, store)
    # Block the page after the mapping (unless something is there already), so that growing it
    # must move it.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    map_fixed_noreplace = 0x100000
    blocker = libc.mmap(mem.base + mem.reserved, mmap.PAGESIZE, 0, 0x22 | map_fixed_noreplace, -1, 0)
    if blocker != mem.base + mem.reserved:
        assert ctypes.get_errno() == errno.EEXIST, "could not place the blocking page"
        blocker = None
    before = mem.base
    try:
        assert e["grow_then_access"](3) == (0x55, 7)
        assert mem.base != before and mem.size == 4 * 65536
        assert trap(e["grow_and_use"], 1) == OOB
        assert mem.size == 5 * 65536 and mem.read(8, 1) == b"\x55"
    finally:
        if blocker is not None:
            libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
            libc.munmap(blocker, mmap.PAGESIZE)


@pytest.mark.parametrize("bounds", BOUNDS)
def test_memory64_bulk_operations(tmp_path, bounds):
    e = load(tmp_path, MEM64, bounds)
    e["fill"](100, 0xAB, 8)
    assert e["load"](100) == -0x5454545454545455
    e["copy"](200, 100, 8)
    assert e["load"](200) == e["load"](100)
    e["init"](300, 2, 4)
    assert e["mem"].read(300, 4) == b"cdef"
    for args in ((65536 - 4, 0, 5), (U64, 0, 1), (0, 0, U64), (1 << 63, 0, 1 << 63)):
        assert trap(e["fill"], *args) == OOB
        assert trap(e["copy"], args[0], 0, args[2]) == OOB
        assert trap(e["copy"], 0, args[0], args[2]) == OOB
    assert trap(e["init"], U64, 0, 1) == OOB
    e["fill"](65536, 0, 0)  # zero bytes at the end are in bounds
    assert trap(e["fill"], 65537, 0, 0) == OOB


def test_memory64_in_a_guard_image_is_checked_explicitly(tmp_path):
    path = build(tmp_path, MEM64, abi.BOUNDS_GUARD)
    with open(path, "rb") as f:
        image = read_image(f.read(), path)
    assert image.header.bounds_checks == abi.BOUNDS_GUARD
    (module,) = image.meta.modules
    assert module.memories == (MemoryType(Limits(1, 100), I64),)
    assert ModuleRecord.from_json(module.to_json()) == module
    e = wasmbuild.load(path).exports
    assert not e["mem"].guarded
    assert trap(e["load"], 1 << 40) == OOB


TABLE64 = r"""
(module
  (type $v (func (result i32)))
  (table $t (export "tab") i64 2 10 funcref)
  (table $u i64 4 funcref)
  (elem $seg func $f $g)
  (func $f (result i32) i32.const 7)
  (func $g (result i32) i32.const 9)
  (func (export "size") (result i64) (table.size $t))
  (func (export "grow") (param i64) (result i64) (table.grow $t (ref.func $f) (local.get 0)))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $v) (local.get 0)))
  (func (export "set_g") (param i64) (table.set $t (local.get 0) (ref.func $g)))
  (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "fill") (param i64 i64) (table.fill $t (local.get 0) (ref.func $g) (local.get 1)))
  (func (export "copy") (param i64 i64 i64) (table.copy $u $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "call_u") (param i64) (result i32) (call_indirect $u (type $v) (local.get 0)))
  (func (export "init") (param i64 i32 i32) (table.init $t $seg (local.get 0) (local.get 1) (local.get 2)))
)
"""


def test_table64(tmp_path):
    e = load(tmp_path, TABLE64)
    assert e["size"]() == 2
    assert e["is_null"](0) == 1
    assert trap(e["call"], 0) == "uninitialized element 0"
    assert trap(e["call"], 1 << 32) == "undefined element"
    assert trap(e["is_null"], U64) == "out of bounds table access"
    assert e["grow"](3) == 2 and e["size"]() == 5
    assert e["call"](4) == 7
    assert e["grow"](U64) == -1 and e["grow"](6) == -1
    e["set_g"](0)
    assert e["call"](0) == 9
    e["fill"](1, 2)
    assert e["call"](2) == 9
    assert trap(e["fill"], 4, U64) == "out of bounds table access"
    e["copy"](0, 1, 4)
    assert [e["call_u"](i) for i in range(4)] == [9, 9, 7, 7]
    assert trap(e["copy"], 1, 0, 4) == "out of bounds table access"
    e["init"](3, 0, 2)
    assert [e["call"](i) for i in (3, 4)] == [7, 9]
    assert trap(e["init"], U64, 0, 1) == "out of bounds table access"
    assert e["tab"].addr == I64


MULTI = r"""
(module
  (import "env" "shared" (memory $imp 1))
  (memory $a (export "a") 1 4)
  (memory $b (export "b") i64 2)
  (data (memory $a) (i32.const 16) "A-data")
  (data (memory $b) (i64.const 65536) "B-data")
  (data $p "passive")
  (func (export "load_imp") (param i32) (result i32) (i32.load8_u $imp (local.get 0)))
  (func (export "load_a") (param i32) (result i32) (i32.load8_u $a (local.get 0)))
  (func (export "load_b") (param i64) (result i32) (i32.load8_u $b (local.get 0)))
  (func (export "store_a") (param i32 i32) (i32.store16 $a offset=1 (local.get 0) (local.get 1)))
  (func (export "store_b") (param i64 i32) (i32.store $b (local.get 0) (local.get 1)))
  (func (export "sizes") (result i32 i32 i64) (memory.size $imp) (memory.size $a) (memory.size $b))
  (func (export "grow_a") (param i32) (result i32) (memory.grow $a (local.get 0)))
  (func (export "grow_b") (param i64) (result i64) (memory.grow $b (local.get 0)))
  (func (export "copy_b_to_a") (param i32 i64 i32) (memory.copy $a $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_a_to_b") (param i64 i32 i32) (memory.copy $b $a (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill_b") (param i64 i32 i64) (memory.fill $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_a") (param i32 i32 i32) (memory.init $a $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "v128_a") (param i32) (result i32)
    (i8x16.extract_lane_u 0 (v128.load $a offset=16 (local.get 0))))
)
"""


@pytest.mark.parametrize("bounds", BOUNDS)
def test_multi_memory(tmp_path, bounds):
    store = Store()
    shared = Memory(store, 1, None)
    shared.write(5, b"\x2a")
    e = load(tmp_path, MULTI, bounds, {"env": {"shared": shared}}, store)
    assert e["sizes"]() == (1, 1, 2)
    assert e["load_imp"](5) == 42 and e["load_a"](5) == 0
    assert e["a"].read(16, 6) == b"A-data" and e["b"].read(65536, 6) == b"B-data"
    e["store_a"](100, 0x0102)
    assert e["load_a"](101) == 2 and e["load_a"](102) == 1 and e["load_b"](101) == 0
    e["store_b"](200, 0x55)
    assert e["load_b"](200) == 0x55 and e["load_a"](200) == 0
    assert trap(e["store_a"], 65535 - 1, 0) == OOB
    assert trap(e["load_b"], 2 * 65536) == OOB
    assert e["grow_a"](1) == 1 and e["grow_b"](1) == 2
    assert e["sizes"]() == (1, 2, 3)
    e["copy_b_to_a"](1000, 65536, 6)
    assert e["a"].read(1000, 6) == b"B-data"
    e["copy_a_to_b"](3 * 65536 - 6, 16, 6)
    assert e["b"].read(3 * 65536 - 6, 6) == b"A-data"
    assert trap(e["copy_a_to_b"], 3 * 65536 - 5, 16, 6) == OOB
    assert trap(e["copy_b_to_a"], 2 * 65536 - 5, 0, 6) == OOB
    e["fill_b"](10, 0x61, 3)
    assert e["b"].read(9, 5) == b"\0aaa\0"
    e["init_a"](50, 1, 5)
    assert e["a"].read(50, 5) == b"assiv"
    assert e["v128_a"](0) == ord("A")
    assert shared.read(0, 8) == b"\0\0\0\0\0\x2a\0\0"


def test_multi_memory_against_wasmtime(tmp_path):
    wasmtime = pytest.importorskip("wasmtime")
    text = r"""
    (module
      (memory $a 1) (memory $b 1)
      (func (export "run") (param i32) (result i32 i32)
        (i32.store $b (local.get 0) (i32.mul (local.get 0) (i32.const 3)))
        (memory.copy $a $b (i32.const 8) (local.get 0) (i32.const 4))
        (i32.load $a (i32.const 8)) (i32.load $b (local.get 0))))
    """
    data = assemble(text)
    config = wasmtime.Config()
    config.wasm_multi_memory = True
    engine = wasmtime.Engine(config)
    wt_store = wasmtime.Store(engine)
    wt = wasmtime.Instance(wt_store, wasmtime.Module(engine, data), []).exports(wt_store)["run"]
    ours = load(tmp_path, text)["run"]
    for x in (0, 4, 100, 65532):
        assert tuple(ours(x)) == tuple(wt(wt_store, x))


EXTENDED = r"""
(module
  (import "env" "base" (global $base i32))
  (global $g1 i32 (i32.add (global.get $base) (i32.const 10)))
  (global $g2 i64 (i64.mul (i64.sub (i64.const 100) (i64.const 1)) (i64.const 3)))
  (global $g3 i32 (i32.mul (global.get $g1) (global.get $g1)))
  (memory 1)
  (memory $m64 i64 1)
  (data (offset (i32.sub (global.get $g1) (i32.const 2))) "x")
  (data (memory $m64) (offset (i64.add (global.get $g2) (i64.const 1))) "y")
  (table 20 funcref)
  (elem (offset (i32.add (global.get $base) (i32.const 1))) func $f)
  (func $f (result i32) (i32.const 77))
  (func (export "get") (result i32 i64 i32) (global.get $g1) (global.get $g2) (global.get $g3))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load64") (param i64) (result i32) (i32.load8_u $m64 (local.get 0)))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
)
"""


def test_extended_const(tmp_path):
    store = Store()
    from wasmbuild.loader.runtime import Global
    e = load(tmp_path, EXTENDED, imports={"env": {"base": Global(store, I32, False, 5)}}, store=store)
    assert e["get"]() == (15, 297, 225)
    assert e["load"](13) == ord("x")
    assert e["load64"](298) == ord("y")
    assert e["call"](6) == 77


def _decode_all(data: bytes, features):
    m = decode_module(data, "t.wasm", features=features)
    check_bodies(m)
    validate_module(m)
    return m


GATED = [
    # (module text, feature, error type, the 2.0 reason)
    ("(module (memory i64 1))", F.MEMORY64, MalformedError, "integer too large"),
    ("(module (table i64 1 funcref))", F.MEMORY64, MalformedError, "integer too large"),
    ("(module (memory 1) (memory 1))", F.MULTI_MEMORY, InvalidError, "multiple memories"),
    ("(module (memory 1) (memory 1) (func (drop (i32.load 1 (i32.const 0)))))", F.MULTI_MEMORY, MalformedError,
     "malformed memop flags"),
    ("(module (global i32 (i32.add (i32.const 1) (i32.const 2))))", F.EXTENDED_CONST, InvalidError,
     "constant expression required"),
    ("(module (global i32 (i32.const 1)) (global i32 (global.get 0)))", F.EXTENDED_CONST, InvalidError,
     "unknown global 0"),
]


@pytest.mark.parametrize("text,feature,error,reason", GATED)
def test_features_gate_each_construct(text, feature, error, reason):
    data = assemble(text)
    _decode_all(data, F.DEFAULT)
    _decode_all(data, F.DEFAULT - ({F.MEMORY64, F.MULTI_MEMORY, F.EXTENDED_CONST} - {feature}))
    with pytest.raises(error) as info:
        _decode_all(data, F.DEFAULT - {feature})
    assert info.value.reason.startswith(reason + ": ")
    assert f"({feature}), which is off" in info.value.reason
    with pytest.raises(error) as info:
        _decode_all(data, F.WASM2)
    assert info.value.reason.startswith(reason)


def test_memory_index_zero_is_a_byte_without_multi_memory():
    # memory.size with its memory index 0 written as a two-byte LEB128: valid in 3.0 only.
    body = bytes([0x00, 0x3F, 0x80, 0x00, 0x1A, 0x0B])
    data = (b"\0asm\x01\0\0\0" + bytes([1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1])
            + bytes([10, len(body) + 2, 1, len(body)]) + body)
    _decode_all(data, F.DEFAULT)
    with pytest.raises(MalformedError, match="zero byte expected"):
        _decode_all(data, F.WASM2)


@pytest.mark.parametrize("text,reason", [
    ("(module (memory 1) (func (drop (i32.load offset=0x100000000 (i32.const 0)))))", "offset out of range"),
    ("(module (memory i64 1) (func (drop (i32.load (i32.const 0)))))", "type mismatch"),
    ("(module (memory i64 1) (func (result i32) (memory.size)))", "type mismatch"),
    ("(module (table i64 1 funcref) (func (drop (table.get 0 (i32.const 0)))))", "type mismatch"),
    ("(module (memory 1) (memory i64 1) (func (memory.copy 0 1 (i32.const 0) (i64.const 0) (i64.const 0))))",
     "type mismatch"),
    ("(module (memory 1) (func (drop (i32.load 1 (i32.const 0)))))", "unknown memory 1"),
    ("(module (global i32 (global.get 1)) (global i32 (i32.const 0)))", "unknown global 1"),
    ("(module (global (mut i32) (i32.const 0)) (global i32 (global.get 0)))", "constant expression required"),
    ("(module (global i64 (i64.add (i64.const 0) (i32.const 0))))", "type mismatch"),
    ("(module (memory i64 1) (data (i32.const 0) \"\"))", "type mismatch"),
])
def test_validation(text, reason):
    with pytest.raises(InvalidError) as info:
        _decode_all(assemble(text), F.DEFAULT)
    assert info.value.reason.startswith(reason)


def test_copy_between_32_and_64_bit_memories_takes_an_i32_length():
    _decode_all(assemble("(module (memory 1) (memory i64 1) "
                         "(func (memory.copy 0 1 (i32.const 0) (i64.const 0) (i32.const 0))))"), F.DEFAULT)


def test_memory_import_needs_the_same_address_type(tmp_path):
    store = Store()
    importer = '(module (import "env" "m" (memory i64 1)))'
    with pytest.raises(UnlinkableError, match="incompatible import type"):
        load(tmp_path, importer, imports={"env": {"m": Memory(store, 1, None)}}, store=store)
    load(tmp_path, importer, imports={"env": {"m": Memory(store, 1, None, I64)}}, store=store)


def test_address_types_in_records():
    from wasmbuild.contract.records import ImportRecord
    from wasmbuild.contract.types import EXTERN_MEMORY, EXTERN_TABLE, FUNCREF
    for kind, desc in ((EXTERN_MEMORY, MemoryType(Limits(1, None), I64)),
                       (EXTERN_TABLE, TableType(FUNCREF, Limits(0, 5), I64)),
                       (EXTERN_MEMORY, MemoryType(Limits(1, 2)))):
        record = ImportRecord("a", "b", kind, desc)
        assert ImportRecord.from_json(record.to_json()) == record
    # A 32-bit memory's JSON is what it was before memory64.
    assert ImportRecord("a", "b", EXTERN_MEMORY, MemoryType(Limits(1, 2))).to_json() == \
        {"module": "a", "name": "b", "kind": "memory", "min": 1, "max": 2}


QEMU_SCRIPTS = ["memory64/address64", "memory64/endianness64", "memory64/memory_trap64", "memory64/table_get64",
                "multi-memory/load2", "multi-memory/store2", "multi-memory/memory_copy0", "multi-memory/data1"]


@pytest.mark.parametrize("arch", ["aarch64", "s390x"])
def test_spec3_scripts_run_under_qemu(arch, tmp_path):
    """aarch64 (guard pages: 64-bit memories still checked) and s390x (big-endian, explicit)."""
    from test_targets import TARGETS, _emulator

    from wasmbuild.testing import spec3_dir
    from wasmbuild.testing.qemu import prebuild_wast
    from wasmbuild.wast import find_scripts
    emu = _emulator(arch)
    scripts = find_scripts([os.path.join(spec3_dir(), s) for s in QEMU_SCRIPTS])
    assert len(scripts) == len(QEMU_SCRIPTS)
    prebuild_wast(scripts, CompileSettings(triple=TARGETS[arch][0]), str(tmp_path))
    r = emu.run_python(["-m", "wasmbuild.testing.qemu", "wast", str(tmp_path), *scripts], timeout=1200)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-3000:]
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    assert last.endswith(" 0 failed, 0 skipped") and int(last.split()[0]) > 500, last


def _keys(text: str) -> list[str]:
    from wasmbuild.binary.decode import decode_function
    from wasmbuild.keys import function_key
    from wasmbuild.valid import check_module_level
    m = decode_module(assemble(text), "k.wasm")
    ctx = check_module_level(m)
    settings = CompileSettings(opt_level=1).resolved()
    return [function_key(ctx, j, decode_function(m, j), settings)[0] for j in range(len(m.bodies))]


def test_cache_keys_follow_address_types_and_memory_indices():
    body = "(func (param i64) (result i32) (i32.load $b (local.get 0)))"
    base = _keys(f"(module (memory $a 1) (memory $b i64 1) {body})")
    assert _keys(f"(module (memory $a 1) (memory $b i64 1) (global i32 (i32.const 0)) {body})") == base
    assert _keys(f"(module (memory $a i64 1) (memory $b i64 1) {body})") != base  # memory 0 changed type
    other = "(func (param i64) (result i32) (i32.load $a (i32.wrap_i64 (local.get 0))))"
    assert _keys(f"(module (memory $a 1) (memory $b i64 1) {other})") != base
    # The same bytes, whose code depends on the address type of the table or memory they name.
    table = "(func (drop (table.size 1)))"
    assert _keys(f"(module (table 1 funcref) (table 1 funcref) {table})") != \
        _keys(f"(module (table 1 funcref) (table i64 1 funcref) {table})")
    size = "(func (drop (memory.size 1)))"
    assert _keys(f"(module (memory 1) (memory 1) {size})") != _keys(f"(module (memory 1) (memory i64 1) {size})")


def test_memory64_limit():
    from wasmbuild.errors import WasmbuildError
    from wasmbuild.loader.runtime import MEMORY64_LIMIT_PAGES
    store = Store()
    mem = Memory(store, 0, None, I64)
    assert mem.grow(MEMORY64_LIMIT_PAGES + 1) == -1 and mem.pages == 0
    assert mem.grow(1) == 0 and mem.grow(MEMORY64_LIMIT_PAGES) == -1 and mem.pages == 1
    with pytest.raises(WasmbuildError, match="MEMORY64_LIMIT_PAGES"):
        Memory(store, MEMORY64_LIMIT_PAGES + 1, None, I64)
