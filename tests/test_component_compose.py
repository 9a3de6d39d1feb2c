"""Composition: manifests that instantiate and wire components (component/compose.py), `wasmbuild
manifest` (component/manifest.py), and wiring loaded components together from Python
(component/runtime.py). The expected results of the provider/consumer pair are those that
../shared/components/programs/wit/test_wit.py (check_app) writes down for wasmtime-py; the
counter's are its test_counter's; the components written here are small WAT made into binaries by
wasm-tools, with hand-computed results."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tomllib

import pytest

import wasmbuild
from wasmbuild.build import build_graph
from wasmbuild.cache import open_cache
from wasmbuild.cli import main
from wasmbuild.errors import UnlinkableError, WasmbuildError
from wasmbuild.graph import ManifestError
from wasmbuild.testing import components_dir

WIT = os.path.join(components_dir(), "programs", "wit")
PROVIDER = os.path.join(WIT, "compose", "provider.wasm")
CONSUMER = os.path.join(WIT, "compose", "consumer.wasm")
COUNTER = os.path.join(WIT, "counter", "counter.component.wasm")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("WASMBUILD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "component-cache"))


def check_app(app, greet="hello, "):
    """test_wit.py's check_app, in wasmbuild's Python API."""
    f = app.exports["wb:demo/app"].exports
    assert f["gcd-all"]([84, 126, 210]) == 42
    assert f["gcd-all"]([]) == 0
    assert f["gcd-all"]([2**63, 2**40 * 3]) == 2**40
    assert f["welcome"]("wörld") == greet + "wörld!"
    assert f["welcome"]("") == greet + "!"
    assert f["welcome"]("x" * 70000) == greet + "x" * 70000 + "!"


def write(path, text: str) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def steps(*tables: str) -> str:
    return "\n".join("[[step]]\n" + t.strip() + "\n" for t in tables)


def build(manifest, tmp_path, imports=None):
    image = os.path.join(tmp_path, "out.img")
    assert main(["build", str(manifest), "-o", image]) == 0
    return wasmbuild.load(image, imports)


def wat_component(tmp_path, name: str, text: str) -> str:
    """A component binary made from component text by wasm-tools (installed with the project)."""
    tool = shutil.which("wasm-tools")
    assert tool is not None, "wasm-tools is needed for these tests"
    source = write(os.path.join(tmp_path, name + ".wat"), text)
    out = os.path.join(tmp_path, name + ".wasm")
    subprocess.run([tool, "parse", source, "-o", out], check=True)
    return out


PAIR = steps(f'component = "provider"\npath = "{PROVIDER}"',
             f'component = "consumer"\npath = "{CONSUMER}"',
             'instance = "p"\nof = "provider"',
             'instance = "c"\nof = "consumer"\nimports = { "wb:demo/math" = "p" }',
             'export = "wb:demo/app"\nfrom = "c"')


# --- manifests ------------------------------------------------------------------------------------

def test_manifest_composes_provider_and_consumer(tmp_path):
    app = build(write(tmp_path / "graph.toml", PAIR), tmp_path)
    check_app(app)
    assert set(app.exports) == {"wb:demo/app"}


def test_explicit_export_names_and_load_of_a_manifest(tmp_path):
    text = PAIR.replace('imports = { "wb:demo/math" = "p" }', 'imports = { "wb:demo/math" = "p.wb:demo/math" }')
    text += steps('export = "math"\nfrom = "p.wb:demo/math"')
    app = wasmbuild.load(write(tmp_path / "graph.toml", text))  # a .toml is built first
    check_app(app)
    assert app.exports["math"].exports["gcd"](12, 18) == 6


def test_unwired_imports_come_from_the_host(tmp_path):
    text = PAIR.replace('imports = { "wb:demo/math" = "p" }', "")
    manifest = write(tmp_path / "graph.toml", text)
    check_app(build(manifest, tmp_path, {"wb:demo/math": {"gcd": math.gcd, "greeting": lambda n: "hi " + n}}),
              greet="hi ")
    with pytest.raises(UnlinkableError, match="wb:demo/math"):
        build(manifest, tmp_path)


def test_two_instances_of_one_component(tmp_path):
    # Each instance has its own memory and state: the second consumer's calls work after the first's.
    text = PAIR + steps('instance = "c2"\nof = "consumer"\nimports = { "wb:demo/math" = "p" }',
                        'export = "app2"\nfrom = "c2.wb:demo/app"')
    app = build(write(tmp_path / "graph.toml", text), tmp_path)
    check_app(app)
    f2 = app.exports["app2"].exports
    assert f2["welcome"]("two") == "hello, two!" and f2["gcd-all"]([9, 6]) == 3


def test_resources_and_shared_host_imports_across_components(tmp_path):
    user = wat_component(tmp_path, "user", USER_WAT)
    log_user = wat_component(tmp_path, "logger", LOGGER_WAT)
    text = steps(f'component = "counter"\npath = "{COUNTER}"',
                 f'component = "user"\npath = "{user}"',
                 f'component = "logger"\npath = "{log_user}"',
                 'instance = "k"\nof = "counter"',
                 'instance = "u"\nof = "user"\nimports = { "wb:demo/counters" = "k" }',
                 'instance = "l"\nof = "logger"',
                 'export = "wb:demo/user"\nfrom = "u"',
                 'export = "wb:demo/counters"\nfrom = "k"',
                 'export = "logger"\nfrom = "l.wb:demo/user"')
    log = []
    app = build(write(tmp_path / "graph.toml", text), tmp_path, {"wb:demo/host": {"log": log.append}})
    counters = app.exports["wb:demo/counters"].exports
    # run(7): a counter made in the counter component, incremented by 5 and read through borrows,
    # then dropped by the user component: the counter's destructor runs (live back to 0).
    assert app.exports["wb:demo/user"].exports["run"](7) == 12
    assert counters["live"]() == 0
    assert log == ["new u 7", "drop u 12"]
    # Both instances that left wb:demo/host to the host got the same host function.
    assert app.exports["logger"].exports["run"](0) == 0
    assert log[-1] == "user"


# --- wiring errors: one line naming the manifest, the step and the import ---------------------------

BAD_MATH_WAT = """
(component
  (core module $m (func (export "gcd") (param i32 i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func $gcd (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "gcd")))
  (instance $math (export "gcd" (func $gcd)))
  (export "wb:demo/math" (instance $math)))
"""


def manifest_error(tmp_path, text: str) -> str:
    manifest = write(tmp_path / "graph.toml", text)
    with pytest.raises(ManifestError) as info:
        build_graph(manifest, cache=open_cache())
    message = str(info.value)
    assert "\n" not in message and message.startswith(manifest + ": manifest: ")
    return message[len(manifest + ": manifest: "):]


def test_wiring_error_on_the_command_line(tmp_path, capsys):
    manifest = write(tmp_path / "graph.toml", PAIR.replace('= "p" }', '= "q" }'))
    assert main(["build", manifest, "-o", str(tmp_path / "x.img")]) == 1
    assert capsys.readouterr().err == (f"wasmbuild: {manifest}: manifest: step 4 (instance 'c'): "
                                       f"import wb:demo/math: unknown instance 'q'\n")


def test_wiring_errors(tmp_path):
    bad = wat_component(tmp_path, "badmath", BAD_MATH_WAT)
    wired = 'imports = { "wb:demo/math" = "p" }'
    cases = {
        'imports = { "wb:demo/math" = "q" }': "step 4 (instance 'c'): import wb:demo/math: unknown instance 'q'",
        'imports = { "wb:demo/math" = "p.wb:demo/maths" }':
            "step 4 (instance 'c'): import wb:demo/math: instance 'p' has no export 'wb:demo/maths'",
        'imports = { "wb:demo/mat" = "p" }':
            "step 4 (instance 'c'): component 'consumer' has no import 'wb:demo/mat' (its imports: wb:demo/math)",
        'imports = { "wb:demo/math" = "c" }':
            "step 4 (instance 'c'): import wb:demo/math: an instance cannot import from itself (a cycle)",
    }
    for replacement, expected in cases.items():
        assert manifest_error(tmp_path, PAIR.replace(wired, replacement)) == expected
    # the consumer wired to a consumer: no such export
    assert manifest_error(tmp_path, PAIR.replace('of = "provider"', 'of = "consumer"')) == (
        "step 4 (instance 'c'): import wb:demo/math: instance 'p' has no export named 'wb:demo/math' "
        "(write \"p.<export>\")")
    # defined later
    later = steps(f'component = "provider"\npath = "{PROVIDER}"', f'component = "consumer"\npath = "{CONSUMER}"',
                  'instance = "c"\nof = "consumer"\nimports = { "wb:demo/math" = "p" }',
                  'instance = "p"\nof = "provider"')
    assert "instance 'p' is defined later" in manifest_error(tmp_path, later)
    # a provider of the wrong type
    wrong = PAIR.replace(f'path = "{PROVIDER}"', f'path = "{bad}"')
    assert manifest_error(tmp_path, wrong) == (
        "step 4 (instance 'c'): import wb:demo/math: p.wb:demo/math does not match it: type mismatch in instance "
        "export `gcd`: type mismatch in function parameter `a`: expected primitive `u64` found primitive `u32`")
    # the right gcd, but no greeting
    no_greeting = wat_component(tmp_path, "nogreeting", BAD_MATH_WAT.replace("u32", "u64").replace("i32", "i64"))
    assert manifest_error(tmp_path, PAIR.replace(f'path = "{PROVIDER}"', f'path = "{no_greeting}"')) == (
        "step 4 (instance 'c'): import wb:demo/math: p.wb:demo/math does not match it: missing expected export "
        "`greeting`")
    # exports
    assert manifest_error(tmp_path, PAIR.replace('from = "c"', 'from = "p"')) == (
        "step 5 (export 'wb:demo/app'): instance 'p' has no export named 'wb:demo/app'")
    assert manifest_error(tmp_path, PAIR + steps('export = "wb:demo/app"\nfrom = "c"')) == (
        "step 6 (export 'wb:demo/app'): duplicate export name 'wb:demo/app'")
    assert manifest_error(tmp_path, PAIR.replace('instance = "c"', 'instance = "c.x"')).startswith(
        "step 4 (instance 'c.x'): an instance name is letters, digits")
    assert manifest_error(tmp_path, PAIR.replace('of = "consumer"', 'of = "nobody"')) == (
        "step 4 (instance 'c'): unknown component 'nobody'")


def test_shared_host_import_types_must_agree(tmp_path):
    other = wat_component(tmp_path, "otherhost", OTHER_HOST_WAT)
    text = steps(f'component = "counter"\npath = "{COUNTER}"', f'component = "other"\npath = "{other}"',
                 'instance = "k"\nof = "counter"', 'instance = "o"\nof = "other"')
    assert manifest_error(tmp_path, text).startswith(
        "step 4 (instance 'o'): import wb:demo/host: left to the host, which gives it with the type instance 'k' "
        "imports it with, and that does not match: ")


def test_mixed_and_malformed_manifests(tmp_path):
    core = write(tmp_path / "m.wat", "(module)")
    mixed = PAIR + steps(f'module = "m"\npath = "{core}"')
    assert "instantiates core modules or components, not both" in manifest_error(tmp_path, mixed)
    assert "has no import steps" in manifest_error(tmp_path, PAIR + steps('import = "env"'))
    with_core = PAIR.replace(f'path = "{PROVIDER}"', f'path = "{core}"')
    manifest = write(tmp_path / "graph.toml", with_core)
    with pytest.raises(WasmbuildError, match="step 1 .component 'provider'.: not a component binary"):
        build_graph(manifest)
    missing = PAIR.replace(f'path = "{PROVIDER}"', 'path = "nowhere.wasm"')
    with pytest.raises(WasmbuildError, match="cannot read component"):
        build_graph(write(tmp_path / "graph.toml", missing))


# --- wasmbuild manifest ---------------------------------------------------------------------------

def test_generated_manifest_builds_to_the_same_results(tmp_path):
    out = tmp_path / "gen.toml"
    assert main(["manifest", PROVIDER, CONSUMER, "-o", str(out)]) == 0
    doc = tomllib.loads(out.read_text())
    kinds = [(k, s[k]) for s in doc["step"] for k in ("component", "instance", "export") if k in s]
    assert kinds == [("component", "provider"), ("component", "consumer"), ("instance", "provider"),
                     ("instance", "consumer"), ("export", "wb:demo/app")]
    assert doc["step"][3]["imports"] == {"wb:demo/math": "provider"}
    check_app(build(out, tmp_path))


def test_generated_manifest_orders_providers_first(tmp_path):
    out = tmp_path / "gen.toml"
    assert main(["manifest", CONSUMER, PROVIDER, "-o", str(out)]) == 0
    doc = tomllib.loads(out.read_text())
    assert [s["instance"] for s in doc["step"] if "instance" in s] == ["provider", "consumer"]
    check_app(build(out, tmp_path))


def test_generated_manifest_comments_ambiguities(tmp_path):
    second = tmp_path / "provider2.wasm"
    shutil.copy(PROVIDER, second)
    out = tmp_path / "gen.toml"
    assert main(["manifest", CONSUMER, PROVIDER, str(second), COUNTER, "-o", str(out)]) == 0
    text = out.read_text()
    doc = tomllib.loads(text)
    consumer = next(s for s in doc["step"] if s.get("instance") == "consumer")
    assert "imports" not in consumer  # left to the host
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert any("import wb:demo/math: ambiguous, 2 candidates: provider.wb:demo/math, provider2.wb:demo/math"
               in c for c in comments), comments
    assert "# from the host: wb:demo/host" in comments
    # both candidates come before the consumer, so either can be wired by hand
    order = [s["instance"] for s in doc["step"] if "instance" in s]
    assert order.index("consumer") > max(order.index("provider"), order.index("provider2"))
    manifest = tmp_path / "amb.toml"
    wired = 'of = "consumer"\nimports = { "wb:demo/math" = "provider2" }\n'
    manifest.write_text(text.replace('of = "consumer"\n', wired))
    app = build(manifest, tmp_path, {"wb:demo/host": {"log": print}})
    check_app(app)
    assert "wb:demo/counters" in app.exports


def test_generated_manifest_to_standard_output(capsys):
    # Without -o the paths are relative to the working directory.
    assert main(["manifest", PROVIDER, CONSUMER]) == 0
    doc = tomllib.loads(capsys.readouterr().out)
    assert os.path.samefile(doc["step"][0]["path"], PROVIDER)


def test_manifest_command_errors(tmp_path, capsys):
    assert main(["manifest", str(tmp_path / "none.wasm")]) == 1
    assert "cannot read component" in capsys.readouterr().err
    assert main(["manifest", os.path.join(WIT, "compose", "provider.wat")]) == 1
    assert "not a component binary" in capsys.readouterr().err


# --- wiring loaded components from Python ----------------------------------------------------------

def test_python_wiring_of_an_exported_instance():
    provider = wasmbuild.load(PROVIDER)
    check_app(wasmbuild.load(CONSUMER, {"wb:demo/math": provider.exports["wb:demo/math"]}))
    math_ = provider.exports["wb:demo/math"]
    mixed = wasmbuild.load(CONSUMER, {"wb:demo/math": {"gcd": math_["gcd"], "greeting": lambda n: "hi " + n}})
    check_app(mixed, greet="hi ")


def test_python_wiring_is_type_checked():
    math_ = wasmbuild.load(PROVIDER).exports["wb:demo/math"]
    with pytest.raises(UnlinkableError, match=r"component import wb:demo/math/gcd: the ComponentFunction given "
                                              r"does not match: expected 2 parameters, found 1"):
        wasmbuild.load(CONSUMER, {"wb:demo/math": {"gcd": math_["greeting"], "greeting": str}})


def test_python_wiring_of_resources(tmp_path):
    log = []
    counter = wasmbuild.load(COUNTER, {"wb:demo/host": {"log": log.append}})
    counters = counter.exports["wb:demo/counters"]
    user = wasmbuild.load(wat_component(tmp_path, "user", USER_WAT), {"wb:demo/counters": counters})
    assert user.exports["wb:demo/user"].exports["run"](30) == 35
    assert counters["live"]() == 0  # the user's drop reached the counter component's destructor
    assert log == ["new u 30", "drop u 35"]
    # a counter made from Python and one made by the user component are the same kind of resource
    c = counters["[constructor]counter"]("py", 1)
    assert counters["[method]counter.value"](c) == 1
    c.close()
    assert counters["live"]() == 0


# The user of the counter component: run(start) makes counter "u" at `start`, increments it by 5,
# reads its value, drops it and returns the value.
USER_WAT = """
(component
  (import "wb:demo/counters" (instance $counters
    (export "counter" (type $counter (sub resource)))
    (export "[constructor]counter" (func (param "name" string) (param "start" s64) (result (own $counter))))
    (export "[method]counter.increment" (func (param "self" (borrow $counter)) (param "by" s64) (result s64)))
    (export "[method]counter.value" (func (param "self" (borrow $counter)) (result s64)))))
  (alias export $counters "counter" (type $counter))
  (core module $libc
    (memory (export "memory") 1)
    (data (i32.const 0) "u"))
  (core instance $libc (instantiate $libc))
  (core func $new (canon lower (func $counters "[constructor]counter") (memory (core memory $libc "memory"))))
  (core func $inc (canon lower (func $counters "[method]counter.increment")))
  (core func $value (canon lower (func $counters "[method]counter.value")))
  (core func $drop (canon resource.drop $counter))
  (core module $main
    (import "c" "new" (func $new (param i32 i32 i64) (result i32)))
    (import "c" "inc" (func $inc (param i32 i64) (result i64)))
    (import "c" "value" (func $value (param i32) (result i64)))
    (import "c" "drop" (func $drop (param i32)))
    (func (export "run") (param $start i64) (result i64)
      (local $h i32) (local $v i64)
      (local.set $h (call $new (i32.const 0) (i32.const 1) (local.get $start)))
      (drop (call $inc (local.get $h) (i64.const 5)))
      (local.set $v (call $value (local.get $h)))
      (call $drop (local.get $h))
      (local.get $v)))
  (core instance $main (instantiate $main (with "c" (instance
    (export "new" (func $new)) (export "inc" (func $inc)) (export "value" (func $value))
    (export "drop" (func $drop))))))
  (func $run (param "start" s64) (result s64) (canon lift (core func $main "run")))
  (instance $user (export "run" (func $run)))
  (export "wb:demo/user" (instance $user)))
"""

# Imports wb:demo/host as the counter does (log: func(msg: string)); run(x) logs "user", returns x.
LOGGER_WAT = """
(component
  (import "wb:demo/host" (instance $host (export "log" (func (param "msg" string)))))
  (core module $libc (memory (export "memory") 1) (data (i32.const 0) "user"))
  (core instance $libc (instantiate $libc))
  (core func $log (canon lower (func $host "log") (memory (core memory $libc "memory"))))
  (core module $main
    (import "h" "log" (func $log (param i32 i32)))
    (func (export "run") (param i64) (result i64)
      (call $log (i32.const 0) (i32.const 4))
      (local.get 0)))
  (core instance $main (instantiate $main (with "h" (instance (export "log" (func $log))))))
  (func $run (param "x" s64) (result s64) (canon lift (core func $main "run")))
  (instance $user (export "run" (func $run)))
  (export "wb:demo/user" (instance $user)))
"""

# Imports wb:demo/host with another type for log (a u32, not a string).
OTHER_HOST_WAT = """
(component
  (import "wb:demo/host" (instance $host (export "log" (func (param "msg" u32)))))
  (core func $log (canon lower (func $host "log")))
  (core module $main (import "h" "log" (func (param i32))))
  (core instance $main (instantiate $main (with "h" (instance (export "log" (func $log)))))))
"""


def test_package_with_composition_sources_rebuilds(tmp_path):
    from wasmbuild.package import open_package, rebuild_from_sources
    manifest = write(tmp_path / "graph.toml", PAIR)
    image = tmp_path / "app.img"
    assert main(["build", manifest, "-o", str(image)]) == 0
    package = tmp_path / "app.wbpkg"
    assert main(["package", str(image), "-o", str(package), "--sources", manifest]) == 0
    _image, meta, members = open_package(str(package))
    assert {"sources/graph.toml", "sources/provider.wasm", "sources/consumer.wasm"} <= set(members)
    rebuilt = tmp_path / "rebuilt.img"
    rebuilt.write_bytes(rebuild_from_sources(members, meta, str(package)))
    check_app(wasmbuild.load(str(rebuilt)))


def test_modules_are_shared_and_cached(tmp_path):
    # A second instance of the consumer uses the same graph modules: no more functions, and with
    # the cache of the first build none is compiled again.
    cache = open_cache(str(tmp_path / "cache"))
    _image, one = build_graph(write(tmp_path / "one.toml", PAIR), cache=cache)
    assert one.compiled == one.functions > 0
    two = PAIR + steps('instance = "c2"\nof = "consumer"\nimports = { "wb:demo/math" = "p" }')
    _image, report = build_graph(write(tmp_path / "two.toml", two), cache=cache)
    assert (report.functions, report.compiled, report.cached) == (one.functions, 0, one.functions)


def test_find_export_by_semver_line():
    from wasmbuild.component.compose import find_export
    names = ["wasi:io/streams@0.2.3", "wasi:io/streams@0.3.0", "wasi:cli/stdout@1.2.0", "x"]
    assert find_export(names, "wasi:io/streams@0.2.0") == ["wasi:io/streams@0.2.3"]
    assert find_export(names, "wasi:io/streams@0.3.1") == ["wasi:io/streams@0.3.0"]
    assert find_export(names, "wasi:io/streams@0.4.0") == []
    assert find_export(names, "wasi:cli/stdout@1.0.0") == ["wasi:cli/stdout@1.2.0"]
    assert find_export(names, "x") == ["x"] and find_export(names, "y") == []
    assert find_export(["a:b/c@0.2.1", "a:b/c@0.2.2"], "a:b/c@0.2.0") == ["a:b/c@0.2.1", "a:b/c@0.2.2"]


def test_versioned_interfaces_are_wired_within_a_semver_line(tmp_path):
    # provider.wat exporting wb:demo/math@0.2.3; consumer.wat importing wb:demo/math@0.2.0.
    with open(os.path.join(WIT, "compose", "provider.wat"), encoding="utf-8") as f:
        provider = wat_component(tmp_path, "vprovider", f.read().replace('(export "wb:demo/math"',
                                                                         '(export "wb:demo/math@0.2.3"'))
    with open(os.path.join(WIT, "compose", "consumer.wat"), encoding="utf-8") as f:
        consumer = wat_component(tmp_path, "vconsumer", f.read().replace('(import "wb:demo/math"',
                                                                         '(import "wb:demo/math@0.2.0"'))
    text = (PAIR.replace(PROVIDER, provider).replace(CONSUMER, consumer)
            .replace('"wb:demo/math" = "p"', '"wb:demo/math@0.2.0" = "p"'))
    check_app(build(write(tmp_path / "graph.toml", text), tmp_path))
    out = tmp_path / "gen.toml"
    assert main(["manifest", provider, consumer, "-o", str(out)]) == 0
    doc = tomllib.loads(out.read_text())
    assert doc["step"][3]["imports"] == {"wb:demo/math@0.2.0": "vprovider.wb:demo/math@0.2.3"}
    check_app(build(out, tmp_path))


# A component importing instance IMP { f: func() -> u32 } and exporting EXP { f: func() -> u32 }
# whose f returns N (the import is not used: it only makes the wiring).
PASS_WAT = """
(component
  (import "IMP" (instance $i (export "f" (func (result u32)))))
  (core module $m (func (export "f") (result i32) i32.const N))
  (core instance $c (instantiate $m))
  (func $f (result u32) (canon lift (core func $c "f")))
  (instance $e (export "f" (func $f)))
  (export "EXP" (instance $e)))
"""


def test_generated_manifest_breaks_cycles(tmp_path):
    a = wat_component(tmp_path, "a", PASS_WAT.replace("IMP", "wb:demo/y").replace("EXP", "wb:demo/x")
                      .replace("N", "1"))
    b = wat_component(tmp_path, "b", PASS_WAT.replace("IMP", "wb:demo/x").replace("EXP", "wb:demo/y")
                      .replace("N", "2"))
    out = tmp_path / "gen.toml"
    assert main(["manifest", a, b, "-o", str(out)]) == 0
    text = out.read_text()
    doc = tomllib.loads(text)
    instances = [s for s in doc["step"] if "instance" in s]
    assert [s["instance"] for s in instances] == ["a", "b"]
    assert "imports" not in instances[0] and instances[1]["imports"] == {"wb:demo/x": "a"}
    assert ("# import wb:demo/y: b.wb:demo/y matches, but wiring it would make a cycle; left to the host"
            in text.splitlines())
    # a's import of wb:demo/y comes from the host; b's export wb:demo/y is the graph's
    app = build(out, tmp_path, {"wb:demo/y": {"f": lambda: 7}})
    assert app.exports["wb:demo/y"].exports["f"]() == 2
    assert "wb:demo/x" not in app.exports  # consumed by b


def test_python_host_resources_handed_into_a_component(tmp_path):
    # The user component's wb:demo/counters served by Python: a class for the resource type, its
    # objects are the resources; the guest's drop of the last handle calls drop().
    events = []

    class Counter:
        def __init__(self, name, start):
            self.name, self.value = name, start
            events.append(f"new {name} {start}")

        def drop(self):
            events.append(f"drop {self.name} {self.value}")

    def increment(counter, by):
        counter.value += by
        return counter.value

    host = {"wb:demo/counters": {"counter": Counter, "[constructor]counter": Counter,
                                 "[method]counter.increment": increment,
                                 "[method]counter.value": lambda counter: counter.value}}
    user = wasmbuild.load(wat_component(tmp_path, "user", USER_WAT), host)
    assert user.exports["wb:demo/user"].exports["run"](-3) == 2
    assert events == ["new u -3", "drop u 2"]
    # a HostResourceType instead of a class: its drop(rep) gets the object
    from wasmbuild.component.runtime import HostResourceType
    dropped = []
    host["wb:demo/counters"]["counter"] = HostResourceType("counter", lambda obj: dropped.append(obj.name))
    user = wasmbuild.load(wat_component(tmp_path, "user", USER_WAT), host)
    assert user.exports["wb:demo/user"].exports["run"](0) == 5 and dropped == ["u"]


def test_instances_share_a_host_instance_with_a_resource(tmp_path):
    user = wat_component(tmp_path, "user", USER_WAT)
    text = steps(f'component = "user"\npath = "{user}"', 'instance = "u1"\nof = "user"', 'instance = "u2"\nof = "user"',
                 'export = "one"\nfrom = "u1.wb:demo/user"', 'export = "two"\nfrom = "u2.wb:demo/user"')
    events = []

    class Counter:
        def __init__(self, name, start):
            self.value = start
            events.append("new")

        def drop(self):
            events.append("drop")

    def increment(counter, by):
        counter.value += by
        return counter.value

    host = {"wb:demo/counters": {"counter": Counter, "[constructor]counter": Counter,
                                 "[method]counter.increment": increment,
                                 "[method]counter.value": lambda counter: counter.value}}
    app = build(write(tmp_path / "graph.toml", text), tmp_path, host)
    assert app.exports["one"].exports["run"](1) == 6 and app.exports["two"].exports["run"](10) == 15
    assert events == ["new", "drop", "new", "drop"]


# A core module and a component exported by one component and instantiated inside another: their
# code is the exporter's (the modules are compiled from the exporter's bytes).
MODULE_EXPORTER_WAT = """
(component
  (core module $m (func (export "f") (result i32) i32.const 41))
  (export "lib" (core module $m)))
"""
MODULE_IMPORTER_WAT = """
(component
  (import "lib" (core module $m (export "f" (func (result i32)))))
  (core instance $i (instantiate $m))
  (core module $w
    (import "l" "f" (func $f (result i32)))
    (func (export "g") (result i32) (i32.add (call $f) (i32.const 1))))
  (core instance $j (instantiate $w (with "l" (instance $i))))
  (func $g (result u32) (canon lift (core func $j "g")))
  (export "g" (func $g)))
"""
COMPONENT_EXPORTER_WAT = """
(component
  (component $inner
    (core module $m (func (export "f") (result i32) i32.const 40))
    (core instance $i (instantiate $m))
    (func $f (result u32) (canon lift (core func $i "f")))
    (export "f" (func $f)))
  (export "lib" (component $inner)))
"""
COMPONENT_IMPORTER_WAT = """
(component
  (import "lib" (component $c (export "f" (func (result u32)))))
  (instance $i (instantiate $c))
  (export "inner" (instance $i)))
"""


def test_core_modules_and_components_passed_between_components(tmp_path):
    for exporter, importer, export, call, expected in (
            (MODULE_EXPORTER_WAT, MODULE_IMPORTER_WAT, "g", lambda e: e(), 42),
            (COMPONENT_EXPORTER_WAT, COMPONENT_IMPORTER_WAT, "inner", lambda e: e.exports["f"](), 40)):
        text = steps(f'component = "exp"\npath = "{wat_component(tmp_path, "exp", exporter)}"',
                     f'component = "imp"\npath = "{wat_component(tmp_path, "imp", importer)}"',
                     'instance = "e"\nof = "exp"', 'instance = "i"\nof = "imp"\nimports = { lib = "e" }',
                     f'export = "{export}"\nfrom = "i"')
        assert call(wasmbuild.load(write(tmp_path / "graph.toml", text)).exports[export]) == expected
        unwired = text.replace('imports = { lib = "e" }', "")
        kind = "core module" if export == "g" else "component"
        assert manifest_error(tmp_path, unwired) == (
            f"step 4 (instance 'i'): import lib: the host cannot provide a {kind}; wire it to an instance's export")


def test_scons_scanner_names_the_components(tmp_path, monkeypatch):
    # WasmGraph's manifest scanner: the image depends on the component files too.
    from SCons.Environment import Environment
    from wasmbuild.scons_tool import _scan_manifest
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "graph.toml", steps('component = "a"\npath = "a.wasm"', 'component = "b"\npath = "sub/b.wasm"',
                                         'instance = "x"\nof = "a"'))
    env = Environment(tools=[])
    deps = _scan_manifest(env.File("graph.toml"), env, None)
    assert sorted(str(d) for d in deps) == ["a.wasm", os.path.join("sub", "b.wasm")]


def test_generated_manifest_of_a_wasi_reactor_and_the_counter(tmp_path):
    # greeter imports 13 WASI 0.2 interfaces (with resources), the counter wb:demo/host: all left
    # to the host, served by the WASI 0.2 host and a Python log; results as in test_wit.py.
    from wasmbuild.component.wasi2 import Wasi2
    greeter = os.path.join(WIT, "greeter", "greeter.component.wasm")
    out = tmp_path / "gen.toml"
    assert main(["manifest", greeter, COUNTER, "-o", str(out)]) == 0
    assert "# from the host: wasi:io/error@0.2.12, wasi:io/streams@0.2.12" in out.read_text()
    stdout_path = tmp_path / "stdout"
    log = []
    with open(stdout_path, "wb") as stdout:
        wasi = Wasi2(["greeter"], {}, {}, None, stdout, None)
        app = build(out, tmp_path, {**wasi.interfaces(), "wb:demo/host": {"log": log.append}})
        assert app.exports["greet"]("wörld") == "hello, wörld"
        counters = app.exports["wb:demo/counters"].exports
        with counters["[constructor]counter"]("a", 5) as a:
            assert counters["[method]counter.increment"](a, 10) == 15
        assert counters["live"]() == 0
        wasi.flush()
    assert stdout_path.read_text(encoding="utf-8") == "greeting wörld\n"
    assert log == ["new a 5", "drop a 15"]


def test_a_trap_locks_every_instance_of_the_image(tmp_path):
    from wasmbuild.loader.runtime import Trap
    trapper = wat_component(tmp_path, "trap", PASS_WAT.replace("IMP", "wb:demo/y").replace("EXP", "wb:demo/x")
                            .replace("i32.const N", "unreachable"))
    text = steps(f'component = "provider"\npath = "{PROVIDER}"', f'component = "trap"\npath = "{trapper}"',
                 'instance = "p"\nof = "provider"', 'instance = "t"\nof = "trap"',
                 'export = "wb:demo/math"\nfrom = "p"', 'export = "wb:demo/x"\nfrom = "t"')
    app = build(write(tmp_path / "graph.toml", text), tmp_path, {"wb:demo/y": {"f": lambda: 0}})
    gcd = app.exports["wb:demo/math"].exports["gcd"]
    assert gcd(12, 18) == 6
    with pytest.raises(Trap, match="unreachable"):
        app.exports["wb:demo/x"].exports["f"]()
    with pytest.raises(Trap, match="cannot enter component instance"):
        gcd(12, 18)
