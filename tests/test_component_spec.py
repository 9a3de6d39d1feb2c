"""The component-model spec scripts (../shared/components/spec) run by `wasmbuild wast`'s component
runner: every command passes except the ones `component_spec_not_passing.txt` lists (file:line and
why); a listed command that passes fails the test, so the list only shrinks. Commands whose
`requires` names what wasmbuild does not support (the async ABI, threading, maps, ...) are skipped
by the runner with that name; the test checks that nothing else is skipped but the text-format
modules (no component text parser). The Wasmtime test host and Wasmtime's implicit registration of
named instances are served (component/script.py)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from wasmbuild.testing import components_dir
from wasmbuild.wast import FAIL, PASS, SKIP, run_paths

SPEC = os.path.join(components_dir(), "spec")
NOT_PASSING_FILE = Path(__file__).with_name("component_spec_not_passing.txt")
# What a skipped command may require (README: the proposals beyond the synchronous component model).
UNSUPPORTED = {"cm-async", "cm-more-async-builtins", "cm-threading", "cm-async-stackful", "cm-map",
               "cm-implements", "cm-implements|cm-canon-names", "cm-fixed-length-lists", "gc",
               "wasm-tools-rejects"}
TEXT_SKIP = "a text component (no component text parser)"

def _listed() -> dict[str, str]:
    listed = {}
    for line in NOT_PASSING_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            where, _, reason = line.partition(" ")
            listed[where] = reason.strip()
    return listed


@pytest.fixture(scope="module")
def report():
    return run_paths([SPEC])


def _where(o) -> str:
    return f"{os.path.relpath(o.file, SPEC)}:{o.line}"


def test_suite_is_present(report):
    assert len({o.file for o in report.outcomes}) == 53
    assert len(report.outcomes) == 1586


def test_every_command_passes_but_the_listed(report):
    listed = _listed()
    failed = {_where(o): o.message for o in report.outcomes if o.status == FAIL}
    unexpected = {w: m for w, m in failed.items() if w not in listed}
    now_passing = sorted(w for w in listed if w not in failed)
    assert not unexpected, "\n".join(f"{w}: {m}" for w, m in sorted(unexpected.items()))
    assert not now_passing, f"listed in {NOT_PASSING_FILE.name} but passing now: {now_passing}"


def test_skips_are_only_for_unsupported_proposals(report):
    reasons = Counter(o.message for o in report.outcomes if o.status == SKIP)
    assert reasons.pop(TEXT_SKIP, 0) == 5
    bad = {r: n for r, n in reasons.items()
           if not r.startswith("requires ") or not set(r[len("requires "):].split(", ")) & UNSUPPORTED}
    assert not bad, bad


def test_baseline_commands_run(report):
    """The commands without `requires` (what a synchronous runtime must pass) are not skipped,
    but the 5 text-format ones."""
    counts = Counter(o.status for o in report.outcomes)
    assert counts[PASS] >= 1480
