"""Golden tests of the LLVM IR the translator emits, one small module per file (as wasmtime's
tests/disas).

Takes every `tests/golden/ir/NAME.wat` (assembled by WABT's wat2wasm through conftest's `wat`, with
the flags of a first line `;; wat2wasm: FLAGS`) and
translates each of its defined functions as `build.compile_function` does, before LLVM sees it:
validated, then `translate_function` into a fresh llvmlite module named by `function_symbol`, for a
little-endian target. Gives one test per file: the unoptimised IR text of its functions, in order,
must equal the checked-in `NAME.ll` beside it, or the test fails with a unified diff. With
`WASMBUILD_BLESS=1` set, each test writes `NAME.ll` instead (review the diff before committing
it); `test_every_golden_has_its_source` then still checks that no `.ll` is left without its `.wat`.
No LLVM compile is involved.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from conftest import wat
from llvmlite import ir

from wasmbuild.binary import decode_module
from wasmbuild.build.objects import SELF, function_symbol
from wasmbuild.translate.function import ModuleInfo, TranslateOptions, translate_function
from wasmbuild.valid import check_module_level, validate_function

GOLDEN = Path(__file__).resolve().parent / "golden" / "ir"
SOURCES = sorted(GOLDEN.glob("*.wat"))
BLESS = bool(os.environ.get("WASMBUILD_BLESS"))


def _wat2wasm_flags(text: str) -> tuple[str, ...]:
    """wat2wasm flags a source asks for on its first line, `;; wat2wasm: --enable-threads` (for
    proposals WABT has off by default)."""
    first = text.split("\n", 1)[0]
    return tuple(first.split(":", 1)[1].split()) if first.startswith(";; wat2wasm:") else ()


def module_ir(data: bytes, options: TranslateOptions = TranslateOptions(guard_memory=True)) -> str:
    """The IR text of every defined function of the module `data`, each in its own llvmlite module,
    translated with `options` (by default guard-page memories, as x86-64 and aarch64 builds are)."""
    module = decode_module(data, "golden.wasm")
    ctx = check_module_level(module)
    info = ModuleInfo.from_context(ctx, options)
    texts = []
    for j in range(len(module.bodies)):
        code = validate_function(ctx, j)
        llmodule = ir.Module(name=function_symbol(0, ctx.num_imported_funcs + j))
        translate_function(llmodule, SELF, info, j, code)
        texts.append(str(llmodule).rstrip("\n") + "\n")
    return "\n".join(texts)


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_ir_matches_golden(source: Path):
    # NAME-explicit.wat: translated with explicit bounds checks.
    options = TranslateOptions(guard_memory=not source.stem.endswith("-explicit"))
    text = source.read_text(encoding="utf-8")
    actual = module_ir(wat(text, extra=_wat2wasm_flags(text)), options)
    golden = source.with_suffix(".ll")
    if BLESS:
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.is_file(), f"{golden} is missing: WASMBUILD_BLESS=1 makes it"
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                            f"{golden.name} (expected)", f"{source.name} (translated)"))
        pytest.fail(f"the IR of {source.name} is not {golden.name} (WASMBUILD_BLESS=1 rewrites it):\n{diff}",
                    pytrace=False)


def test_every_golden_has_its_source():
    assert len(SOURCES) >= 30, f"only {len(SOURCES)} golden sources under {GOLDEN}"
    orphans = sorted(p.name for p in GOLDEN.glob("*.ll") if not p.with_suffix(".wat").is_file())
    assert not orphans, f"golden IR without its .wat: {orphans}"
