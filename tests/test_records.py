"""The typed image records (`wasmbuild.contract.records`): every record survives its JSON codec, the
metadata an image holds is exactly what its records serialise to, and metadata of the wrong shape
is refused by the codec (so the loader never meets it)."""

from __future__ import annotations

import json

import pytest

from conftest import wat
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.contract import records as R
from wasmbuild.contract.types import (EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, EXTERNREF, F64,
                                      FUNCREF, I32, I64, V128, FuncType, GlobalType, Limits, MemoryType,
                                      TableType)
from wasmbuild.image import SECTION_HEADER, SECTION_META, ImageError, _sections, read_image
from wasmbuild.link.layout import VMLayout

# A module with something of every kind the records describe: imports of each kind, defined
# tables, memory, globals with each kind of initialiser, element segments in every mode and both
# encodings, active and passive data, exports of each kind, and a start function.
EVERYTHING = """
(module
  (type $t (func (param i32) (result i32)))
  (import "env" "f" (func $f (type $t)))
  (import "env" "tab" (table 1 10 funcref))
  (import "env" "mem" (memory 1 2))
  (import "env" "g" (global $g i64))
  (table $own 3 externref)
  (global $a (mut i32) (i32.const -5))
  (global $b f64 (f64.const 1.5))
  (global $c v128 (v128.const i32x4 1 2 3 4))
  (global $d funcref (ref.func $h))
  (global $e i64 (global.get $g))
  (global $n externref (ref.null extern))
  (func $h (type $t) (local.get 0))
  (func $start)
  (elem (i32.const 0) $h)
  (elem func $h $f)
  (elem declare func $start)
  (elem funcref (ref.func $h) (ref.null func))
  (data (i32.const 8) "hello")
  (data "passive")
  (export "h" (func $h))
  (export "own" (table $own))
  (export "a" (global $a))
  (export "mem" (memory 0))
  (start $start)
)
"""


@pytest.fixture(scope="module")
def image_bytes() -> bytes:
    data = wat(EVERYTHING)
    image, _ = build_image([ModuleInput("everything", data)])
    return image


def _round_trip(record):
    value = json.loads(json.dumps(record.to_json()))  # through JSON text, as the image stores it
    back = type(record).from_json(value) if not isinstance(record, R.ImportStep | R.InstantiateStep
                                                              | R.ExportStep) else R.initializer_from_json(value)
    assert back == record, f"{type(record).__name__} changed in its codec"
    assert R.canonical_json(back.to_json()) == R.canonical_json(value)


def test_every_record_of_an_image_round_trips(image_bytes):
    image = read_image(image_bytes)
    meta, header = image.meta, image.header
    seen = set()
    for record in (header, header.target, header.layout, meta, *meta.entry_trampolines, *meta.host_trampolines,
                   *meta.initializers):
        _round_trip(record)
        seen.add(type(record))
    for module in meta.modules:
        _round_trip(module)
        for record in (*module.imports, *module.functions, *module.globals, *module.exports, *module.elems,
                       *module.datas):
            _round_trip(record)
            seen.add(type(record))
        seen.add(type(module))
    wanted = {R.ImageHeader, R.TargetRecord, R.CodeLayout, R.ImageMeta, R.Trampoline, R.ModuleRecord,
              R.ImportRecord, R.FunctionRecord, R.GlobalRecord, R.ExportRecord, R.ElemRecord, R.DataRecord,
              R.ImportStep, R.InstantiateStep, R.ExportStep}
    assert wanted <= seen, f"the test image has no {wanted - seen}"


def test_the_stored_metadata_is_what_the_records_serialise_to(image_bytes):
    sections = _sections(image_bytes)
    image = read_image(image_bytes)
    assert image.meta.to_bytes() == sections[SECTION_META]
    assert image.header.to_bytes() == sections[SECTION_HEADER]


def test_records_describe_the_module(image_bytes):
    """What the records say, checked against the module text above (not against the codec)."""
    (module,) = read_image(image_bytes).meta.modules
    kinds = [(i.module, i.name, i.kind) for i in module.imports]
    assert kinds == [("env", "f", EXTERN_FUNC), ("env", "tab", EXTERN_TABLE), ("env", "mem", EXTERN_MEMORY),
                     ("env", "g", EXTERN_GLOBAL)]
    assert module.imports[1].desc == TableType(FUNCREF, Limits(1, 10))
    assert module.imports[2].desc == MemoryType(Limits(1, 2))
    assert module.imports[3].desc == GlobalType(I64, False)
    assert module.tables == (TableType(EXTERNREF, Limits(3, None)),)
    assert [g.type for g in module.globals][:3] == [GlobalType(I32, True), GlobalType(F64, False),
                                                   GlobalType(V128, False)]
    assert module.globals[0].init == (("i32.const", -5),)
    assert module.globals[4].init == (("global.get", 0),)
    assert module.globals[5].init == (("ref.null", "externref"),)
    assert [e.mode for e in module.elems] == ["active", "passive", "declarative", "passive"]
    assert module.elems[0].items == ((("ref.func", 1),),)
    assert module.elems[3].items == ((("ref.func", 1),), (("ref.null", "funcref"),))
    assert [(d.mode, d.length) for d in module.datas] == [("active", 5), ("passive", 7)]
    assert module.start == 2 and len(module.functions) == 2
    assert module.func_type_id(0) == module.func_type_id(1) == module.type_ids[0]


def test_hand_made_records_round_trip():
    ft = FuncType((I32, I64), (F64,))
    layout = VMLayout(size=64, import_slots={0: 16}, funcrefs={1: 32}, global_ptrs=[56], table_ptrs=[],
                      data_slots=[], elem_slots=[], type_ids=[])
    for record in (
        R.Trampoline(ft, "wb_entry_iI_F", ("m:func 1",)),
        R.ImportSource(R.HOST, "env", "x"),
        R.InstantiateStep("i", 0, (R.ImportSource(R.INSTANCE, "j", "y"),)),
        R.ExportStep("whole", "i", None),
        R.ImportStep("env"),
        R.DataRecord("passive", 0, None, 3, 4),
        R.ElemRecord("active", 0, FUNCREF, (("i32.const", 0),), ((("ref.func", 1),),)),
        R.ModuleRecord("m", (0,), (), (R.FunctionRecord("wasm0_f0", 0),), (), (MemoryType(Limits(0, None)),),
                       (), (R.ExportRecord("f", EXTERN_FUNC, 0),), (), (), None, layout),
    ):
        _round_trip(record)


@pytest.mark.parametrize("edit", [
    lambda m: m["modules"][0]["imports"][0].update(kind="gadget"),
    lambda m: m["modules"][0]["functions"][0].__setitem__(1, "0"),
    lambda m: m["modules"][0]["memories"].append({"min": -1, "max": None}),
    lambda m: m["types"].append([["i33"], []]),
    lambda m: m["initializers"].append({"op": "explode"}),
    lambda m: m["trampolines"]["entry"].append({"signature": "q_", "symbol": "x", "users": []}),
    lambda m: m.pop("symbols"),
], ids=["kind", "type-id", "limits", "type-name", "initializer", "signature", "missing"])
def test_metadata_of_the_wrong_shape_is_refused(image_bytes, edit):
    meta = json.loads(_sections(image_bytes)[SECTION_META])
    edit(meta)
    with pytest.raises((ValueError, KeyError, TypeError)):
        R.ImageMeta.from_json(meta)


def test_damaged_header_is_an_image_error_not_a_traceback(image_bytes):
    offset = image_bytes.index(b'"format":')
    damaged = image_bytes[:offset] + b'"formax":' + image_bytes[offset + 9:]
    with pytest.raises(ImageError):
        read_image(damaged, "x.img")
