"""The WebAssembly spec suite, one test per script (marked `spec`).

Every command the project can run today must pass: each `module` decodes and validates, each binary
`assert_malformed` and each `assert_invalid` fails with the expected reason, and text-form
`assert_malformed` is rejected by WABT (wasmbuild's reader for .wat). Commands that need running code
are skipped by the runner; this test checks that none of the kinds above were skipped.
"""

import json
import os

import pytest

from wasmbuild.wast import FAIL, PASS, ScriptRunner
from wasmbuild.wat import find_wat2wasm

from wasmbuild.testing import spec_dir

FRONT_END_KINDS = {"module", "assert_malformed", "assert_invalid"}


def _scripts():
    root = spec_dir()
    if not os.path.isdir(root):
        return []
    found = []
    for suite in ("core", "simd"):
        base = os.path.join(root, suite)
        if os.path.isdir(base):
            for name in sorted(os.listdir(base)):
                script = os.path.join(base, name, name + ".json")
                if os.path.isfile(script):
                    found.append(pytest.param(script, id=f"{suite}/{name}"))
    return found


SCRIPTS = _scripts()


def test_spec_suite_is_present():
    assert SCRIPTS, f"no spec scripts under {spec_dir()} (set WASMBUILD_SPEC_DIR)"
    assert len(SCRIPTS) >= 148


@pytest.mark.spec
@pytest.mark.parametrize("script", SCRIPTS)
def test_spec_script(script):
    outcomes = ScriptRunner(script).run()
    failures = [str(o) for o in outcomes if o.status == FAIL]
    assert not failures, "\n".join(failures[:20])

    with open(script, encoding="utf-8") as f:
        commands = json.load(f)["commands"]
    wat_ok = find_wat2wasm() is not None
    expected = sum(1 for c in commands if c["type"] in FRONT_END_KINDS
                   and (wat_ok or c.get("module_type") != "text"))
    passed = sum(1 for o in outcomes if o.kind in FRONT_END_KINDS and o.status == PASS)
    assert passed == expected
