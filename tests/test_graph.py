"""Module-linking graphs: manifests, wiring errors, initializers, graph-wide trampolines, samples.

Graphs are written as manifests in tmp_path with .wat modules, built with `build_graph` (no cache)
and run with `wasmbuild.load`. Expected trampoline sets are computed here from the test's own
description of the modules, not from the image.
"""

import os
import subprocess
import sys
import textwrap

import pytest

import wasmbuild
from wasmbuild.build import build_graph
from wasmbuild.contract.types import sig_key
from wasmbuild.compile import CompileSettings
from wasmbuild.graph import ManifestError
from wasmbuild.image import read_image

O1 = CompileSettings(opt_level=1)


def write(tmp_path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return str(tmp_path / "graph.toml")


def build(tmp_path, files, name="g.img"):
    manifest = write(tmp_path, files)
    image, report = build_graph(manifest, O1)
    path = tmp_path / name
    path.write_bytes(image)
    return str(path), report


LIB = """
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "neg") (param i64) (result i64) (i64.sub (i64.const 0) (local.get 0))))
"""
USER = """
(module
  (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
"""


def steps(*blocks: str) -> str:
    return "\n".join(textwrap.dedent(b) for b in blocks)


BASE = steps('''
    [[step]]
    module = "lib"
    path = "lib.wat"
    [[step]]
    module = "user"
    path = "user.wat"
    [[step]]
    instance = "l"
    of = "lib"
''')


def test_library_shared_by_an_instance_and_whole_instance_export(tmp_path):
    path, _ = build(tmp_path, {"lib.wat": LIB, "user.wat": USER, "graph.toml": BASE + steps('''
        [[step]]
        instance = "u"
        of = "user"
        imports = { lib = "l" }
        [[step]]
        export = "twice"
        from = "u.twice"
        [[step]]
        export = "lib"
        from = "l"
    ''')})
    g = wasmbuild.load(path)
    assert g.exports["twice"](21) == 42
    assert g.exports["lib"].exports["add"](2, 3) == 5
    assert g.exports["lib"].exports["neg"](5) == -5


def test_module_instantiated_twice_keeps_separate_state(tmp_path):
    counter = """
    (module
      (import "cfg" "step" (func $step (result i32)))
      (global $n (mut i32) (i32.const 0))
      (func (export "next") (result i32)
        (global.set $n (i32.add (global.get $n) (call $step))) (global.get $n)))
    """
    path, report = build(tmp_path, {
        "counter.wat": counter,
        "three.wat": '(module (func (export "step") (result i32) (i32.const 3)))',
        "graph.toml": steps('''
            [[step]]
            module = "counter"
            path = "counter.wat"
            [[step]]
            module = "three"
            path = "three.wat"
            [[step]]
            import = "host"
            [[step]]
            instance = "t"
            of = "three"
            [[step]]
            instance = "a"
            of = "counter"
            imports = { "cfg.step" = "t.step" }
            [[step]]
            instance = "b"
            of = "counter"
            imports = { cfg = "host" }
            [[step]]
            export = "a"
            from = "a"
            [[step]]
            export = "b"
            from = "b"
        ''')})
    # counter is compiled once although it is instantiated twice.
    assert report.functions == 2
    g = wasmbuild.load(path, imports={"host": {"step": lambda: 100}})
    a, b = g.exports["a"].exports["next"], g.exports["b"].exports["next"]
    assert [a(), a(), b(), a(), b()] == [3, 6, 100, 9, 200]


def _sig_module(i: int, sigs: list[tuple[str, str]]) -> str:
    funcs = []
    for k, (params, results) in enumerate(sigs):
        ps = " ".join(f"(param {p})" for p in params.split())
        rs = " ".join(f"(result {r})" for r in results.split())
        body = " ".join(f"({r}.const {k})" for r in results.split())
        funcs.append(f'(func (export "f{k}") {ps} {rs} {body})')
    return f"(module {' '.join(funcs)})"


def test_trampolines_one_per_escaping_signature_over_the_whole_graph(tmp_path):
    # Ten modules whose exported functions share a few signatures; all are exported by the graph.
    palette = [("i32", "i32"), ("i32 i32", "i32"), ("i64", ""), ("", "f64"), ("f32 f32", "f32 f32")]
    files, manifest = {}, []
    expected = set()
    for i in range(10):
        sigs = [palette[(i + k) % len(palette)] for k in range(2)]
        expected.update(sigs)
        files[f"m{i}.wat"] = _sig_module(i, sigs)
        manifest.append(f'[[step]]\nmodule = "m{i}"\npath = "m{i}.wat"\n'
                        f'[[step]]\ninstance = "i{i}"\nof = "m{i}"\n'
                        f'[[step]]\nexport = "e{i}"\nfrom = "i{i}"\n')
    # One more signature used only inside the graph: exported by `inner`, imported by `outer`.
    files["inner.wat"] = '(module (func (export "g") (param f64 i64) (result i32) (i32.const 7)))'
    files["outer.wat"] = """(module (import "x" "g" (func $g (param f64 i64) (result i32)))
      (func (export "call_g") (result i32) (call $g (f64.const 0) (i64.const 0))))"""
    manifest.append('[[step]]\nmodule = "inner"\npath = "inner.wat"\n[[step]]\nmodule = "outer"\npath = "outer.wat"\n'
                    '[[step]]\ninstance = "inner"\nof = "inner"\n'
                    '[[step]]\ninstance = "outer"\nof = "outer"\nimports = { x = "inner" }\n'
                    '[[step]]\nexport = "call_g"\nfrom = "outer.call_g"\n')
    expected.add(("", "i32"))  # call_g
    files["graph.toml"] = "\n".join(manifest)
    path, report = build(tmp_path, files)
    image = read_image(open(path, "rb").read(), path)
    letters = {"i32": "i", "i64": "I", "f32": "f", "f64": "F"}
    want = {"".join(letters[t] for t in p.split()) + "_" + "".join(letters[t] for t in r.split())
            for p, r in expected}
    got = [sig_key(t.signature) for t in image.meta.entry_trampolines]
    assert sorted(got) == sorted(want)
    assert len(got) == len(set(got))
    assert "FI_i" not in got  # the internal-only signature
    assert image.meta.host_trampolines == ()
    g = wasmbuild.load(path)
    assert g.exports["call_g"]() == 7
    # Module 3 got palette[3] ([] -> [f64]) and palette[4] ([f32 f32] -> [f32 f32]); k is the constant.
    assert g.exports["e3"].exports["f0"]() == 0.0
    assert g.exports["e3"].exports["f1"](2.5, 3.5) == (1.0, 1.0)


@pytest.mark.parametrize("extra,message", [
    ('[[step]]\ninstance = "u"\nof = "nosuch"\n', "unknown module 'nosuch'"),
    ('[[step]]\ninstance = "u"\nof = "user"\nimports = { lib = "nobody" }\n',
     "import lib.add: unknown instance or host import 'nobody'"),
    ('[[step]]\ninstance = "u"\nof = "user"\n', "import lib.add is not wired"),
    ('[[step]]\ninstance = "u"\nof = "user"\nimports = { "lib.add" = "l.nope" }\n',
     "import lib.add: instance 'l' has no export 'nope'"),
    ('[[step]]\ninstance = "u"\nof = "user"\nimports = { "lib.add" = "l.neg" }\n',
     "import lib.add: l.neg has type [i64] -> [i64], the import wants [i32 i32] -> [i32]"),
    ('[[step]]\ninstance = "u"\nof = "user"\nimports = { lib = "u" }\n', "cannot import from itself"),
    ('[[step]]\ninstance = "u"\nof = "user"\nimports = { lib = "later" }\n[[step]]\ninstance = "later"\nof = "lib"\n',
     "instance 'later' is defined later"),
    ('[[step]]\ninstance = "l"\nof = "lib"\n', "duplicate name 'l'"),
    ('[[step]]\nexport = "x"\nfrom = "l.add"\n[[step]]\nexport = "x"\nfrom = "l.neg"\n', "duplicate export name 'x'"),
    ('[[step]]\nexport = "x"\nfrom = "l.missing"\n', "instance 'l' has no export 'missing'"),
])
def test_miswired_manifests_are_reported_with_manifest_step_and_import(tmp_path, extra, message):
    manifest = write(tmp_path, {"lib.wat": LIB, "user.wat": USER, "graph.toml": BASE + extra})
    with pytest.raises(ManifestError) as info:
        build_graph(manifest, O1)
    text = str(info.value)
    assert message in text
    assert manifest in text and "step " in text


@pytest.mark.parametrize("content,message", [
    ("[[step]\n", "not valid TOML"),
    ("title = 1\n", "unknown top-level key"),
    ('[[step]]\nmodule = "a"\n', "needs path"),
    ('[[step]]\nmodule = "a"\npath = "a.wat"\ninstance = "b"\n', "exactly one of"),
    ('[[step]]\ninstance = "b"\nof = "a"\ncolour = "red"\n', "unknown key 'colour'"),
])
def test_broken_manifest_files(tmp_path, content, message):
    manifest = write(tmp_path, {"graph.toml": content})
    with pytest.raises(ManifestError) as info:
        build_graph(manifest, O1)
    assert message in str(info.value) and manifest in str(info.value)


def test_cli_reports_manifest_errors_in_one_line(tmp_path):
    manifest = write(tmp_path, {"lib.wat": LIB, "user.wat": USER,
                                "graph.toml": BASE + '[[step]]\ninstance = "u"\nof = "user"\n'})
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "build", manifest, "-o", str(tmp_path / "x.img"),
                           "--no-cache"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "is not wired" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.img").exists()


SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples")


@pytest.mark.parametrize("sample", sorted(d for d in os.listdir(SAMPLES)
                                          if os.path.isfile(os.path.join(SAMPLES, d, "graph.toml"))))
def test_samples_give_their_expected_output(tmp_path, sample):
    from wasmbuild.samplecheck import check_image
    image, _ = build_graph(os.path.join(SAMPLES, sample, "graph.toml"), O1)
    path = tmp_path / "s.img"
    path.write_bytes(image)
    expected = next(os.path.join(SAMPLES, sample, name) for name in ("expected.txt", "expected.toml")
                    if os.path.exists(os.path.join(SAMPLES, sample, name)))
    count, failures = check_image(str(path), expected)
    assert count > 0 and not failures, failures
