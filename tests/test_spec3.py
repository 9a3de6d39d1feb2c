"""The WebAssembly 3.0 spec suite (marked `spec`): the scripts of `../shared/spec3` (new and changed
in 3.0, with the threads proposal) and the 2.0 scripts that 3.0 did not change, all run with the
default features (`contract.features.DEFAULT`).

Every script must pass completely (no failure, no skip) unless `spec3_not_passing.txt` lists it with
the reason; a listed script is reported as an expected failure, and fails the test run as soon as it
passes, so the list only ever shrinks to what is really still missing.
"""

import os
from pathlib import Path

import pytest
from conftest import WABT_HINT, need_command
from test_spec import run_all_passing

from wasmbuild.build import BuildSession
from wasmbuild.testing import spec3_dir, spec_dir
from wasmbuild.wast import PASS, ScriptRunner, suite_scripts

NOT_PASSING_FILE = Path(__file__).with_name("spec3_not_passing.txt")


def _not_passing() -> dict[str, str]:
    """script id (group/name) -> why it does not pass yet."""
    listed = {}
    for line in NOT_PASSING_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            script, _, reason = line.partition(" ")
            listed[script] = reason.strip()
    return listed


NOT_PASSING = _not_passing()


def _script_id(path: str) -> str:
    return "/".join(Path(path).parts[-3:-1])


def _params():
    if not (os.path.isdir(spec3_dir()) and os.path.isdir(spec_dir())):
        return []
    return [pytest.param(s, id=_script_id(s)) for s in suite_scripts("wasm3", spec_dir(), spec3_dir())]


SCRIPTS = _params()


def test_suite_is_present():
    groups = {Path(s.values[0]).parts[-3] for s in SCRIPTS}
    assert {"core", "simd", "core3", "eh", "eh-legacy", "tail-call", "gc", "funcref", "memory64",
            "multi-memory", "relaxed-simd", "extended-const", "threads"} <= groups, \
        f"3.0 suite incomplete under {spec3_dir()} (WASMBUILD_SPEC3_DIR)"
    assert len(SCRIPTS) == 90 + 58 - 36 + 156


def test_list_names_only_scripts_of_the_suite():
    ids = {_script_id(s.values[0]) for s in SCRIPTS}
    assert not set(NOT_PASSING) - ids


@pytest.fixture(scope="module")
def session():
    return BuildSession()


@pytest.mark.spec
@pytest.mark.parametrize("script", SCRIPTS)
def test_script(script, session):
    reason = NOT_PASSING.get(_script_id(script))
    if reason is None:
        run_all_passing(script, session)
        return
    need_command("wat2wasm", WABT_HINT)
    outcomes = ScriptRunner(script, session=session).run()
    passed = sum(o.status == PASS for o in outcomes)
    if passed == len(outcomes):
        pytest.fail(f"{_script_id(script)} passes now: take it off {NOT_PASSING_FILE.name}")
    pytest.xfail(f"{reason} ({passed} of {len(outcomes)} commands pass)")
