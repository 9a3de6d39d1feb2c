"""Core modules given to a component's build for its root imports of core modules
(`component/build.py`, `provided`), the resource-type equality the loader checks for what another
loaded component gives (`runtime._check_same_resource`), and the Wasmtime test host's core module
(`script.wasmtime_simple_module`). The components are small WAT made into binaries by wasm-tools;
the expected results are written by hand."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from wasmbuild.build import BuildSession
from wasmbuild.cache import open_cache
from wasmbuild.component.build import build_component
from wasmbuild.component.runtime import HostResourceType
from wasmbuild.component.script import wasmtime_simple_module
from wasmbuild.errors import UnlinkableError
from wasmbuild.loader.instance import load_image
from wasmbuild.loader.runtime import Store

WASM_TOOLS = shutil.which("wasm-tools")
pytestmark = pytest.mark.skipif(WASM_TOOLS is None, reason="wasm-tools is needed to make the test components")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "register-cache"))


def parse(tmp_path, name: str, text: str) -> bytes:
    source = tmp_path / f"{name}.wat"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / f"{name}.wasm"
    subprocess.run([WASM_TOOLS, "parse", str(source), "-o", str(out)], check=True)
    return out.read_bytes()


def build(data: bytes, provided=None, path="test.wasm") -> bytes:
    image, _report = build_component(BuildSession(jobs=1, cache=open_cache()), data, path, provided)
    return image


def load(image: bytes, host=None):
    return load_image(Store(), image, "test.img").instantiate(host or {})


ANSWER = "(module (func (export \"f\") (result i32) i32.const 42))"

# Imports a module exporting `f: [] -> [i32]`, instantiates it twice and exports the sum of both
# instances' `f` plus one.
TOP = """(component
  (import "m" (core module $m (export "f" (func (result i32)))))
  (core instance $a (instantiate $m))
  (core instance $b (instantiate $m))
  (core module $sum
    (import "a" "f" (func $a (result i32)))
    (import "b" "f" (func $b (result i32)))
    (func (export "sum") (result i32) call $a call $b i32.add i32.const 1 i32.add))
  (core instance $s (instantiate $sum (with "a" (instance $a)) (with "b" (instance $b))))
  (func (export "get") (result u32) (canon lift (core func $s "sum")))
)"""

# The module inside an imported instance, given a function it imports.
NESTED = """(component
  (import "lib" (instance $lib
    (export "m" (core module
      (import "env" "seven" (func (result i32)))
      (export "f" (func (result i32)))))))
  (alias export $lib "m" (core module $m))
  (core module $env (func (export "seven") (result i32) i32.const 7))
  (core instance $env (instantiate $env))
  (core instance $i (instantiate $m (with "env" (instance $env))))
  (func (export "get") (result u32) (canon lift (core func $i "f")))
)"""

TIMES = """(module
  (import "env" "seven" (func $seven (result i32)))
  (func (export "f") (result i32) call $seven i32.const 6 i32.mul))"""


def test_provided_module_is_compiled_into_the_image(tmp_path):
    image = build(parse(tmp_path, "top", TOP), {"m": parse(tmp_path, "answer", ANSWER)})
    assert load(image).exports["get"]() == 85


def test_provided_module_inside_an_imported_instance(tmp_path):
    image = build(parse(tmp_path, "nested", NESTED), {("lib", "m"): parse(tmp_path, "times", TIMES)})
    assert load(image).exports["get"]() == 42


def test_provided_paths_not_importing_a_module_are_ignored(tmp_path):
    answer = parse(tmp_path, "answer", ANSWER)
    image = build(parse(tmp_path, "top", TOP), {"m": answer, ("m", "x"): answer, "other": answer})
    assert load(image).exports["get"]() == 85


def test_module_not_provided_fails_to_link(tmp_path):
    image = build(parse(tmp_path, "top", TOP))
    with pytest.raises(UnlinkableError, match="component import m: the host provides no core module"):
        load(image)


@pytest.mark.parametrize("module,why", [
    ("(module (func (export \"f\") (result i64) i64.const 42))",
     "type mismatch in export `f`: it has type [] -> [i64], the import wants [] -> [i32]"),
    ("(module (global (export \"f\") i32 (i32.const 1)))",
     "type mismatch in export `f`: it is a global, the import wants a func"),
    ("(module)", "missing expected export `f`"),
    ("(module (import \"env\" \"x\" (func)) (func (export \"f\") (result i32) i32.const 1))",
     "missing expected import `env::x`"),
])
def test_provided_module_of_another_type_is_one_line_error(tmp_path, module, why):
    with pytest.raises(UnlinkableError) as e:
        build(parse(tmp_path, "top", TOP), {"m": parse(tmp_path, "wrong", module)}, path="top.wasm")
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("top.wasm")
    assert message.endswith(f"component import m: the module given for import m does not match: {why}")


def test_provided_bytes_that_are_no_module_are_one_line_error(tmp_path):
    with pytest.raises(UnlinkableError) as e:
        build(parse(tmp_path, "top", TOP), {"m": b"\0asm\x01\0\0\0\x01"}, path="top.wasm")
    assert "\n" not in str(e.value)
    assert "component import m: the module given for import m is not a valid module" in str(e.value)


def test_simple_module_is_the_wat_of_the_wasmtime_host(tmp_path):
    wat = '(module (global (export "g") i32 (i32.const 100)) (func (export "f") (result i32) (i32.const 101)))'
    mine = tmp_path / "mine.wasm"
    mine.write_bytes(wasmtime_simple_module())
    parse(tmp_path, "simple", wat)
    printed = [subprocess.run([WASM_TOOLS, "print", str(p)], check=True, capture_output=True, text=True).stdout
               for p in (mine, tmp_path / "simple.wasm")]
    assert printed[0] == printed[1]


RESOURCE = """(component
  (type $r (resource (rep i32)))
  (export "r" (type $r))
)"""

# Two imported instances whose resources are declared equal.
SAME = """(component
  (import "a" (instance $a (export "r" (type (sub resource)))))
  (alias export $a "r" (type $r))
  (import "b" (instance (export "r" (type (eq $r)))))
)"""


def test_resource_types_declared_equal_must_be_the_same(tmp_path):
    provider = build(parse(tmp_path, "resource", RESOURCE))
    one, two = load(provider), load(provider)
    consumer = build(parse(tmp_path, "same", SAME))
    load(consumer, {"a": {"r": one.exports["r"]}, "b": {"r": one.exports["r"]}})
    load(consumer, {"a": {"r": one.exports["r"]}})  # an equal type need not be given
    with pytest.raises(UnlinkableError, match="component import b/r: mismatched resource types"):
        load(consumer, {"a": {"r": one.exports["r"]}, "b": {"r": two.exports["r"]}})


def test_host_resource_types_declared_equal(tmp_path):
    consumer = build(parse(tmp_path, "same", SAME))
    r = HostResourceType("r")
    load(consumer, {"a": {"r": r}, "b": {"r": HostResourceType("r-again", same_as=r)}})
    with pytest.raises(UnlinkableError, match="component import b/r: mismatched resource types"):
        load(consumer, {"a": {"r": r}, "b": {"r": HostResourceType("other")}})
    # Python classes are not compared (told apart by where they are imported)
    load(consumer, {"a": {"r": type("R", (), {})}, "b": {"r": type("S", (), {})}})


def test_exported_core_modules(tmp_path):
    from wasmbuild.component.build import component_exported_modules
    from wasmbuild.binary.decode import decode_module
    text = """(component
      (core module $a (func (export "x")))
      (import "m" (core module $m))
      (instance $i (export "inner" (core module $a)) (export "given" (core module $m)))
      (export "i" (instance $i))
      (export "a" (core module $a))
    )"""
    data = parse(tmp_path, "exports", text)
    assert component_exported_modules(data, "exports.wasm") is None  # "m" not given: cannot instantiate
    answer = parse(tmp_path, "answer", ANSWER)
    found = component_exported_modules(data, "exports.wasm", {"m": answer})
    assert sorted(found) == [("a",), ("i", "given"), ("i", "inner")]
    assert found[("i", "given")] == answer
    assert found[("a",)] == found[("i", "inner")]
    assert [e.name for e in decode_module(found[("a",)]).exports] == ["x"]
