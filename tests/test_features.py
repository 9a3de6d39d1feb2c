"""The WebAssembly feature setting: `contract.features` (parsing, the canonical text), and that the
setting reaches what it must: the cache key, the image header, the command line and SCons' flags.

Takes a small module written here; gives pass/fail on the parsed sets (written out here), on the
header of images built with different settings, on function keys, and on `wasmbuild check`/`build`
errors (one line, no traceback).
"""

import pytest
from conftest import wat
from test_cli import assert_user_error, cli

from wasmbuild.binary import decode_function, decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.contract import features as F
from wasmbuild.image import read_image
from wasmbuild.keys import function_key
from wasmbuild.valid import check_module_level

SMALL = wat('(module (func (export "f") (result i32) i32.const 7))')


@pytest.mark.parametrize("text, expected", [
    ("", F.DEFAULT),
    ("wasm3", F.DEFAULT),
    ("wasm2", frozenset()),
    ("wasm2,+multi-memory", frozenset({F.MULTI_MEMORY})),
    ("wasm2,multi-memory,memory64", frozenset({F.MULTI_MEMORY, F.MEMORY64})),
    ("-exceptions,-legacy-exceptions", F.DEFAULT - {F.EXCEPTIONS, F.LEGACY_EXCEPTIONS}),
    (" wasm3 , -threads ", F.DEFAULT - {F.THREADS}),
    ("+tail-call,wasm2", frozenset()),  # a preset replaces what came before it
])
def test_parse(text, expected):
    assert F.parse_features(text) == expected


@pytest.mark.parametrize("features, text", [
    (F.DEFAULT, "wasm3"),
    (frozenset(), "wasm2"),
    (F.DEFAULT - {F.THREADS}, "wasm3,-threads"),
    (frozenset({F.MULTI_MEMORY}), "wasm2,+multi-memory"),
])
def test_format_is_canonical_and_reads_back(features, text):
    assert F.format_features(features) == text
    assert F.parse_features(text) == features


@pytest.mark.parametrize("text, needle", [
    ("nonsense", "unknown wasm feature 'nonsense'"),
    ("+gc", "garbage collection (gc) is not supported yet"),
    ("wasm4", "unknown wasm feature 'wasm4'"),
])
def test_bad_settings(text, needle):
    with pytest.raises(F.FeatureError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        F.parse_features(text)


def test_require_keeps_the_2_0_reason_first():
    F.require(F.DEFAULT, F.EXCEPTIONS, "the tag section", reason="malformed section id", file="m.wasm", offset=9)
    with pytest.raises(F.MalformedError) as e:
        F.require(frozenset(), F.EXCEPTIONS, "the tag section", reason="malformed section id",
                  file="m.wasm", offset=9)
    assert e.value.reason == ("malformed section id: the tag section needs exception handling (exceptions), "
                              "which is off")
    assert str(e.value).startswith("m.wasm: offset 0x9: malformed: ")


def test_settings_resolve_to_the_canonical_text():
    assert CompileSettings().resolved().wasm_features == "wasm3"
    assert CompileSettings(wasm_features="wasm2").resolved().wasm_features == "wasm2"
    assert CompileSettings(wasm_features="wasm2,+memory64").resolved().wasm_feature_set == {F.MEMORY64}


def test_decoder_records_the_set():
    assert decode_module(SMALL).features == F.DEFAULT
    assert decode_module(SMALL, "m", frozenset()).features == frozenset()


def test_the_setting_is_in_the_cache_key():
    m = decode_module(SMALL, "m")
    ctx = check_module_level(m)
    code = decode_function(m, 0)
    keys = {function_key(ctx, 0, code, CompileSettings(wasm_features=text)) for text in ("wasm3", "wasm2")}
    assert len(keys) == 2


@pytest.mark.parametrize("text, recorded", [("", "wasm3"), ("wasm2", "wasm2"), ("-threads", "wasm3,-threads")])
def test_the_image_header_records_the_setting(text, recorded):
    image, _ = build_image([ModuleInput("m.wasm", SMALL)], CompileSettings(wasm_features=text))
    assert read_image(image).header.wasm_features == recorded
    assert read_image(image).header.settings["wasm_features"] == recorded


def test_command_line(tmp_path):
    (tmp_path / "m.wasm").write_bytes(SMALL)
    assert cli("check", "--wasm-features", "wasm2", tmp_path / "m.wasm").returncode == 0
    assert_user_error(cli("check", "--wasm-features", "+bogus", tmp_path / "m.wasm"), "unknown wasm feature 'bogus'")
    assert_user_error(cli("build", tmp_path / "m.wasm", "-o", tmp_path / "m.img", "--no-cache",
                          "--wasm-features", "+gc"), "not supported yet")
    assert not (tmp_path / "m.img").exists()


def test_scons_passes_the_setting():
    from SCons.Environment import Environment
    from wasmbuild import scons_tool
    env = Environment(tools=[])
    scons_tool.generate(env)
    env["WASMBUILD_WASM_FEATURES"] = "wasm2"
    assert "--wasm-features=wasm2" in scons_tool._build_flags([], [], env, for_signature=True)
    assert "WASMBUILD_WASM_FEATURES" in env["BUILDERS"]["WasmGraph"].action.varlist


def test_text_modules_are_read_with_the_setting(tmp_path):
    from wasmbuild.errors import ToolError
    from wasmbuild.wat import read_module_bytes, wabt_flags
    assert wabt_flags(F.DEFAULT) == ("--enable-threads", "--enable-function-references")
    assert "--disable-tail-call" in wabt_flags(F.WASM2) and "--enable-threads" not in wabt_flags(F.WASM2)
    assert "--disable-exceptions" not in wabt_flags(frozenset({F.LEGACY_EXCEPTIONS}))
    src = tmp_path / "tail.wat"
    src.write_text("(module (func $f (return_call $f)))")
    assert read_module_bytes(str(src)).startswith(b"\0asm")
    with pytest.raises(ToolError):
        read_module_bytes(str(src), F.WASM2)
