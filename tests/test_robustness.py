"""Mutation fuzzing of the decoder and validator, over every `.wasm` file of the spec suite's core.

Takes the spec suite (conftest's `spec_core()`) and gives a test that 10,000 deterministic
mutants (seed 1234, `wasmbuild.testing.mutate`) each either decode and validate or raise
`MalformedError`/`InvalidError`; any other exception fails the test and names the mutant (seed, index,
sub-seed, source file, edits), and so does a mutant that takes more than 5 s (a watchdog thread notices
it, no signals involved). It takes about two seconds and has no marker, so it is part of every run.
The harness itself is tested too: a planted crash and a planted hang must be reported.
"""

from __future__ import annotations

import hashlib
import random
import time

import pytest
from conftest import spec_core

from wasmbuild.testing import mutate

SEED = 1234
COUNT = 10_000
TIMEOUT = 5.0


@pytest.fixture(scope="module")
def corpus():
    core = spec_core()
    found = mutate.load_corpus(str(core))
    assert len(found) > 1000, f"only {len(found)} .wasm files under {core}"
    return found


def test_mutants_only_ever_raise_malformed_or_invalid(corpus):
    began = time.perf_counter()
    report = mutate.run(corpus, SEED, COUNT, timeout=TIMEOUT)
    assert report.hung is None, report.summary()
    assert not report.slow, report.summary()
    assert report.other == 0, report.summary() + "\n\n" + "\n\n".join(report.failures)
    assert report.tried == COUNT
    # The mutants reach every outcome, so decoding and validation are both exercised.
    assert report.outcomes["malformed"] > COUNT // 4, report.summary()
    assert report.outcomes["invalid"] > 50, report.summary()
    assert report.outcomes["valid"] > 50, report.summary()
    assert time.perf_counter() - began < 30


def _digest(ms) -> str:
    h = hashlib.sha256()
    for m in ms:
        h.update(f"{m.index} {m.sub_seed} {m.source} {m.edits}".encode())
        h.update(m.data)
    return h.hexdigest()


def test_mutants_are_deterministic_and_reproducible_one_by_one(corpus):
    first = list(mutate.mutants(corpus, SEED, 300))
    again = list(mutate.mutants(corpus, SEED, 300))
    assert _digest(first) == _digest(again)
    assert _digest(mutate.mutants(corpus, SEED + 1, 300)) != _digest(first)
    for index in (0, 1, 137, 299):
        assert mutate.mutant_at(corpus, SEED, index) == first[index]
    # Every kind of edit shows up.
    edits = " ".join(m.edits for m in first)
    for word in ("flip", "set", "truncate", "insert", "delete", "duplicate", "size byte"):
        assert word in edits, word
    originals = dict(corpus)
    assert sum(m.data != originals[m.source] for m in first) > 280


def test_mutate_changes_the_bytes():
    rng = random.Random(7)
    data = bytes(range(8, 200))
    changed = sum(mutate.mutate(data, rng)[0] != data for _ in range(200))
    assert changed > 190


def test_harness_reports_other_exceptions(monkeypatch, corpus):
    calls = []

    def flaky(data, filename="mutant.wasm"):
        calls.append(1)
        if len(calls) % 10 == 0:
            raise KeyError("planted")
        return "valid"

    monkeypatch.setattr(mutate, "check", flaky)
    report = mutate.run(corpus, SEED, 50, timeout=TIMEOUT)
    assert report.other == 5
    assert not report.ok
    assert "KeyError: 'planted'" in report.failures[0]
    assert f"seed {SEED} mutant 9 " in report.failures[0]
    assert "other exceptions   5" in report.summary()


def test_harness_reports_a_hang(monkeypatch, corpus):
    def stuck(data, filename="mutant.wasm"):
        time.sleep(1.0)
        return "valid"

    monkeypatch.setattr(mutate, "check", stuck)
    began = time.perf_counter()
    report = mutate.run(corpus, SEED, 5, timeout=0.2)
    assert time.perf_counter() - began < 0.9  # the caller did not wait for the stuck mutant
    assert report.hung is not None and "mutant 0 " in report.hung
    assert not report.ok
