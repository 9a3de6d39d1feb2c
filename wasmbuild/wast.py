"""The spec-test runner: runs WebAssembly spec scripts in the JSON form made by WABT's `wast2json`.

`run_paths(paths)` takes script files or directory trees and gives a `Report`: one `Outcome` per
command (passed, failed or skipped, with a message) and counts per directory, file and command kind.
`wasmbuild wast` prints the failures and the closing line `N passed, M failed, K skipped`.

What each command checks today:
  module                 decodes and validates
  assert_malformed       binary: decoding fails with the expected reason; text: WABT rejects the
                         text (wasmbuild reads .wat through WABT), skipped when WABT is absent
  assert_invalid         decoding succeeds and validation fails with the expected reason
  assert_unlinkable,     the module must decode and validate; linking and instantiating are not
  assert_uninstantiable  implemented yet, so these count as skipped
  register, action, assert_return, assert_trap, assert_exhaustion
                         skipped: running code is not implemented yet
A skipped command is never counted as passed.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .binary import decode_module
from .errors import InvalidError, MalformedError, ToolError, WasmbuildError
from .valid import validate_module
from .wat import find_wat2wasm, wat_to_wasm

PASS, FAIL, SKIP = "passed", "failed", "skipped"

# Reasons that different decoders word differently for the same condition, "the input ended
# before the construct did". The reference interpreter's choice among them depends on how far it
# has read past a section's declared end; a decoder that stops at the declared end cannot and need
# not reproduce that, so any of them matches any other.
_EQUIVALENT_REASONS = (
    frozenset({"unexpected end", "unexpected end of section or function", "length out of bounds"}),
)

NOT_RUNNABLE = "running code is not implemented yet"


def reason_matches(actual: str, expected: str) -> bool:
    """True if `actual` gives the reason `expected` (a prefix, as the reference runner checks)."""
    if actual.startswith(expected):
        return True
    for family in _EQUIVALENT_REASONS:
        if expected in family and any(actual.startswith(r) for r in family):
            return True
    return False


@dataclass
class Outcome:
    file: str
    line: int
    kind: str
    status: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.status}: {self.message}"


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self, outcomes=None) -> dict[str, int]:
        c = Counter(o.status for o in (self.outcomes if outcomes is None else outcomes))
        return {PASS: c[PASS], FAIL: c[FAIL], SKIP: c[SKIP]}

    def summary_line(self) -> str:
        c = self.counts()
        return f"{c[PASS]} passed, {c[FAIL]} failed, {c[SKIP]} skipped"

    def breakdown(self) -> dict:
        """Counts per directory, per file and per command kind (what `--json` writes)."""
        groups: dict[str, dict[str, list[Outcome]]] = {
            "directories": defaultdict(list), "files": defaultdict(list), "kinds": defaultdict(list)}
        for o in self.outcomes:
            groups["directories"][os.path.dirname(os.path.dirname(o.file)) or "."].append(o)
            groups["files"][o.file].append(o)
            groups["kinds"][o.kind].append(o)
        result: dict = {"total": self.counts()}
        for name, table in groups.items():
            result[name] = {key: self.counts(items) for key, items in sorted(table.items())}
        skip_reasons = Counter(o.message for o in self.outcomes if o.status == SKIP)
        result["skip_reasons"] = dict(skip_reasons.most_common())
        return result


class ScriptRunner:
    """Runs the commands of one script; keeps the per-script state (the current module)."""

    def __init__(self, script_path: str):
        self.path = script_path
        self.base = os.path.dirname(script_path)
        self.wat_available = find_wat2wasm() is not None

    def run(self) -> list[Outcome]:
        try:
            with open(self.path, encoding="utf-8") as f:
                script = json.load(f)
            commands = script["commands"]
        except (OSError, ValueError, KeyError) as e:
            return [Outcome(self.path, 0, "script", FAIL, f"cannot read script: {e}")]
        outcomes = []
        for cmd in commands:
            kind = cmd.get("type", "?")
            line = cmd.get("line", 0)
            handler = getattr(self, "_cmd_" + kind, None)
            if handler is None:
                status, message = SKIP, NOT_RUNNABLE
            else:
                status, message = handler(cmd)
            outcomes.append(Outcome(self.path, line, kind, status, message))
        return outcomes

    # --- helpers ---
    def _load(self, cmd):
        """Decode and validate the module file a command names; returns the Module."""
        with open(os.path.join(self.base, cmd["filename"]), "rb") as f:
            data = f.read()
        module = decode_module(data, cmd["filename"])
        validate_module(module)
        return module

    def _expect_failure(self, cmd, error_type):
        try:
            self._load(cmd)
        except error_type as e:
            if reason_matches(e.reason, cmd["text"]):
                return PASS, ""
            return FAIL, f"expected {cmd['text']!r}, got {e}"
        except WasmbuildError as e:
            return FAIL, f"expected {error_type.phase} {cmd['text']!r}, got {e}"
        return FAIL, f"expected {error_type.phase} {cmd['text']!r}, but the module is valid"

    # --- commands ---
    def _cmd_module(self, cmd):
        try:
            self._load(cmd)
        except WasmbuildError as e:
            return FAIL, str(e)
        return PASS, ""

    def _cmd_assert_malformed(self, cmd):
        if cmd.get("module_type") == "text":
            if not self.wat_available:
                return SKIP, "text module and WABT's wat2wasm is not installed"
            try:
                wat_to_wasm(os.path.join(self.base, cmd["filename"]))
            except ToolError:
                return PASS, ""
            return FAIL, f"expected the text to be rejected ({cmd['text']!r}), but wat2wasm accepted it"
        return self._expect_failure(cmd, MalformedError)

    def _cmd_assert_invalid(self, cmd):
        return self._expect_failure(cmd, InvalidError)

    def _skip_after_validation(self, cmd):
        try:
            self._load(cmd)
        except WasmbuildError as e:
            return FAIL, f"module should be valid: {e}"
        return SKIP, "linking and instantiation are not implemented yet"

    _cmd_assert_unlinkable = _skip_after_validation
    _cmd_assert_uninstantiable = _skip_after_validation


def find_scripts(paths: list[str]) -> list[str]:
    """Script files named by `paths`: files as given, directories searched for *.json (sorted)."""
    scripts = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                scripts.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".json"))
        elif os.path.isfile(p):
            scripts.append(p)
        else:
            raise WasmbuildError("no such file or directory", file=p)
    return scripts


def run_paths(paths: list[str]) -> Report:
    report = Report()
    for script in find_scripts(paths):
        report.outcomes.extend(ScriptRunner(script).run())
    return report
