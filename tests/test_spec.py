"""The WebAssembly 2.0 spec suite, one test per script (marked `spec`).

Core and SIMD scripts alike: every command must pass and none may be skipped (text-form
`assert_malformed` modules are read with WABT's wat2wasm, which must be there). Modules are compiled
at the default optimisation level (O2), with the proposals beyond 2.0 turned off (`wasm2`: some 2.0
scripts expect what 3.0 changed, e.g. `global.get` of a defined global in a constant expression to be
invalid), and run. The 3.0 suite is tests/test_spec3.py.
"""

import json
import os

import pytest
from conftest import WABT_HINT, need_command

from wasmbuild.build import BuildSession
from wasmbuild.compile import CompileSettings
from wasmbuild.testing import spec_dir
from wasmbuild.wast import FAIL, SKIP, ScriptRunner


def _scripts(suite):
    base = os.path.join(spec_dir(), suite)
    if not os.path.isdir(base):
        return []
    return [pytest.param(os.path.join(base, name, name + ".json"), id=f"{suite}/{name}")
            for name in sorted(os.listdir(base)) if os.path.isfile(os.path.join(base, name, name + ".json"))]


CORE = _scripts("core")
SIMD = _scripts("simd")


def test_spec_suite_is_present():
    assert len(CORE) == 90 and len(SIMD) == 58, f"spec suite incomplete under {spec_dir()} (WASMBUILD_SPEC_DIR)"


@pytest.fixture(scope="module")
def session():
    """One build session for the module's scripts: helpers and trampolines compiled once."""
    return BuildSession(CompileSettings(wasm_features="wasm2"))


def run_all_passing(script, session):
    need_command("wat2wasm", WABT_HINT)
    outcomes = ScriptRunner(script, session=session).run()
    failures = [str(o) for o in outcomes if o.status == FAIL]
    assert not failures, "\n".join(failures[:20])
    with open(script, encoding="utf-8") as f:
        commands = json.load(f)["commands"]
    assert len(outcomes) == len(commands)
    skipped = [str(o) for o in outcomes if o.status == SKIP]
    assert not skipped, "\n".join(skipped[:20])


@pytest.mark.spec
@pytest.mark.parametrize("script", CORE)
def test_core_script(script, session):
    run_all_passing(script, session)


@pytest.mark.spec
@pytest.mark.parametrize("script", SIMD)
def test_simd_script(script, session):
    run_all_passing(script, session)
