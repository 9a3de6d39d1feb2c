"""The spec-test runner: runs WebAssembly spec scripts in the JSON form made by WABT's `wast2json`.

`run_paths(paths)` takes script files or directory trees and gives a `Report`: one `Outcome` per
command (passed, failed or skipped, with a message) and counts per directory, file and command kind.
`wasmbuild wast` prints the failures and the closing line `N passed, M failed, K skipped`.

Each script runs in its own `Store`. Each module is built into an image through the same path as
`wasmbuild build` (compiled at the runner's optimisation level, O2 by default), loaded and
instantiated; `register` makes an instance's exports importable by name, and the host module
`spectest` is always there. What each command checks:
  module                 decodes, validates, compiles and instantiates
  module_definition      decodes, validates and compiles; a named one is kept for module_instance,
                         which instantiates it anew each time (3.0)
  assert_malformed       binary: decoding fails with the expected reason; text: WABT rejects the
                         text (wasmbuild reads .wat through WABT) or, where WABT accepts it,
                         `wasm-tools parse` does (it reads the 3.0 text format); skipped when a
                         tool is absent
  assert_invalid         decoding succeeds and validation fails with the expected reason
  assert_malformed_custom, assert_invalid_custom
                         the module is rejected for the expected reason or accepted (the fault is
                         in a custom annotation, which an engine may ignore)
  assert_unlinkable      instantiation fails to link with the expected reason
  assert_uninstantiable  instantiation traps with the expected message
  action, assert_return, assert_trap, assert_exhaustion
                         the call's results (bit-exact, NaN patterns as the spec allows; `either`:
                         one of the alternatives) or trap
  assert_exception       the call ends with a wasm exception no handler caught
Modules are decoded with the settings' proposals (`--wasm-features`); `suite_scripts` gives the
scripts of a whole suite (`wasm2`, or `wasm3`: the 2.0 scripts 3.0 kept and the 3.0 directory).
Values of every type are handled (a reference result: null of any type, or any non-null one when
the script gives no value); a v128 (given as lanes of `lane_type`) is passed as a 128-bit
little-endian integer and an expected v128 is checked lane by lane, each float lane bit-exact or
matching its NaN pattern. Reasons and trap messages match when ours starts with the expected text,
as in the reference runner. A command that uses what wasmbuild cannot compile (an
`UnsupportedError`: GC) is skipped with that reason. A skipped command is
never counted as passed.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .binary import decode_module
from .build import BuildSession, ModuleInput
from .compile import CompileSettings
from .errors import InvalidError, MalformedError, ToolError, UnlinkableError, WasmbuildError
from .loader.instance import load_image
from .loader.runtime import Store, Trap, WasmException
from .spectest import spectest_exports
from .translate.function import UnsupportedError
from .valid import validate_module
from .wat import find_wat2wasm, text_rejected_by_wasm_tools, wat_to_wasm

PASS, FAIL, SKIP = "passed", "failed", "skipped"
# The reference types a script names in values: what it wrote, e.g. `ref.null none` is "nullref".
_REF_TYPES = frozenset(("funcref", "externref", "anyref", "exnref", "eqref", "i31ref", "structref",
                        "arrayref", "nullref", "nullfuncref", "nullexternref", "nullexnref", "refnull"))
_LANE_BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "f32": 32, "f64": 64}


def _lanes(bits: int, lane_type: str) -> list[int]:
    """The lanes (unsigned) of a v128 given as a 128-bit little-endian integer."""
    width = _LANE_BITS[lane_type]
    return [(bits >> (i * width)) & ((1 << width) - 1) for i in range(128 // width)]


def reason_matches(actual: str, expected: str) -> bool:
    """True if `actual` gives the reason `expected` (a prefix, as the reference runner checks)."""
    return actual.startswith(expected)


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


class _Extern:
    """A host value standing for the spec scripts' `ref.extern N`."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def __repr__(self) -> str:
        return f"ref.extern {self.n}"


class ScriptRunner:
    """Runs the commands of one script; keeps the per-script state: a store, the instances made so
    far (the current one, the named ones) and the registered import namespaces."""

    def __init__(self, script_path: str, settings: CompileSettings | None = None,
                 session: BuildSession | None = None):
        self.path = script_path
        self.base = os.path.dirname(script_path)
        self.wat_available = find_wat2wasm() is not None
        self.settings = settings
        self._session = session
        self.features = (session.settings if session else settings or CompileSettings()).wasm_feature_set
        self.store = Store()
        self.registry: dict[str, dict] = {"spectest": spectest_exports(self.store)}
        self.current = None  # the last instance made, or an error string saying why there is none
        self.named: dict[str, object] = {}
        self.definitions: dict[str, object] = {}  # module_definition name -> loaded image (or why not)
        self.externs: dict[int, _Extern] = {}

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
                status, message = SKIP, f"unknown command {kind}"
            else:
                try:
                    status, message = handler(cmd)
                except _Skip as e:
                    status, message = SKIP, str(e)
                except Exception as e:  # noqa: BLE001 - a bug must fail one command, not the run
                    status, message = FAIL, f"internal error: {e.__class__.__name__}: {e}"
            outcomes.append(Outcome(self.path, line, kind, status, message))
        return outcomes

    # --- helpers ---
    def _read(self, cmd) -> bytes:
        with open(os.path.join(self.base, cmd["filename"]), "rb") as f:
            return f.read()

    def _load(self, cmd):
        """Decode and validate the module file a command names; returns the Module."""
        module = decode_module(self._read(cmd), cmd["filename"], self.features)
        validate_module(module)
        return module

    def _build(self, cmd):
        """Compile the module a command names into a loaded image."""
        data = self._read(cmd)
        image, _report = self.session.build([ModuleInput(cmd["filename"], data, cmd["filename"])])
        return load_image(self.store, image, cmd["filename"])

    @property
    def session(self) -> BuildSession:
        """The build session, made on first use (a runner of prebuilt images never needs one)."""
        if self._session is None:
            self._session = BuildSession(self.settings)
        return self._session

    def _instantiate(self, cmd):
        # Host imports: the registered instances' exports and spectest, by namespace.
        return self._build(cmd).instantiate(self.registry)

    def _expect_failure(self, cmd, error_type, action=None, success="the module is valid"):
        """`action` (default: decode and validate) must fail with `error_type` and the reason."""
        try:
            (action or self._load)(cmd)
        except error_type as e:
            if reason_matches(e.reason, cmd["text"]):
                return PASS, ""
            return FAIL, f"expected {cmd['text']!r}, got {e}"
        except UnsupportedError as e:
            raise _Skip(f"module uses what is not supported yet: {e.reason}") from None
        except WasmbuildError as e:
            return FAIL, f"expected {error_type.phase} {cmd['text']!r}, got {e}"
        return FAIL, f"expected {error_type.phase} {cmd['text']!r}, but {success}"

    def _instance(self, name):
        inst = self.named.get(name) if name else self.current
        if inst is None:
            raise _Skip(f"no module {name or ''} to act on".replace("  ", " "))
        if isinstance(inst, str):
            raise _Skip(inst)
        return inst

    def _value_bits(self, v: dict) -> int:
        t = v["type"]
        if t in ("i32", "i64", "f32", "f64"):
            return int(v["value"])
        if t == "externref":
            return 0 if v["value"] == "null" else self.store.extern_handle(self._extern(int(v["value"])))
        if t in _REF_TYPES and v.get("value") == "null":
            return 0
        if t == "v128":
            width = _LANE_BITS[v["lane_type"]]
            bits = 0
            for i, lane in enumerate(v["value"]):
                bits |= (int(lane) & ((1 << width) - 1)) << (i * width)
            return bits
        raise _Skip(f"{t} values are not supported yet")

    def _extern(self, n: int) -> _Extern:
        e = self.externs.get(n)
        if e is None:
            e = self.externs[n] = _Extern(n)
        return e

    def _act(self, action: dict) -> list[int]:
        inst = self._instance(action.get("module"))
        field = action["field"]
        item = inst.exports.get(field)
        if item is None:
            raise WasmbuildError(f"no export {field!r}")
        if action["type"] == "get":
            return [item.bits]
        return item.call_bits([self._value_bits(a) for a in action.get("args", [])])

    def _matches(self, expected: dict, actual: int) -> bool:
        t = expected["type"]
        value = expected.get("value")
        if t == "v128":
            lane_type = expected["lane_type"]
            lanes = value if isinstance(value, list) else []
            actual_lanes = _lanes(actual, lane_type)
            if len(lanes) != len(actual_lanes):
                return False
            mask = (1 << _LANE_BITS[lane_type]) - 1
            return all(self._matches({"type": lane_type,
                                      "value": lane if lane_type[0] == "f" else str(int(lane) & mask)}, got)
                       for lane, got in zip(lanes, actual_lanes))
        if t in ("f32", "f64"):
            bits = 32 if t == "f32" else 64
            exp_bits = 23 if t == "f32" else 52
            is_nan = (actual >> exp_bits) & ((1 << (bits - 1 - exp_bits)) - 1) == (1 << (bits - 1 - exp_bits)) - 1 \
                and actual & ((1 << exp_bits) - 1)
            quiet = 1 << (exp_bits - 1)
            if value == "nan:canonical":
                return bool(is_nan) and actual & ((1 << exp_bits) - 1) == quiet
            if value == "nan:arithmetic":
                return bool(is_nan) and bool(actual & quiet)
            return actual == int(value)
        if t in ("i32", "i64", "i8", "i16"):
            return actual == int(value)
        if t in _REF_TYPES:
            if value == "null":
                return actual == 0  # a null of any type
            if t == "externref" and value is not None:
                return self.store.extern_value(actual) is self._extern(int(value))
            if t == "anyref" and value is not None:
                raise _Skip("host references in the any hierarchy (ref.host) need GC (issue 21)")
            return actual != 0  # no value (or wast2json's "0" for ref.func): any non-null reference
        raise _Skip(f"{t} results are not supported yet")

    # --- commands ---
    def _cmd_module(self, cmd):
        # Building the image decodes and validates the module, then compiles and links it.
        try:
            inst = self._instantiate(cmd)
        except UnsupportedError as e:
            self.current = f"module uses what is not supported yet: {e.reason}"
            if cmd.get("name"):
                self.named[cmd["name"]] = self.current
            return SKIP, self.current
        except WasmbuildError as e:
            self.current = f"module at line {cmd.get('line')} failed to instantiate"
            return FAIL, str(e)
        self.current = inst
        if cmd.get("name"):
            self.named[cmd["name"]] = inst
        return PASS, ""

    def _cmd_module_definition(self, cmd):
        # Decoded, validated and compiled, not instantiated; a named one can be instantiated later.
        try:
            image = self._build(cmd)
        except UnsupportedError as e:
            image = f"module uses what is not supported yet: {e.reason}"
            status = (SKIP, image)
        except WasmbuildError as e:
            image = f"module definition at line {cmd.get('line')} failed to build"
            status = (FAIL, str(e))
        else:
            status = (PASS, "")
        if cmd.get("name"):
            self.definitions[cmd["name"]] = image
        return status

    def _cmd_module_instance(self, cmd):
        image = self.definitions.get(cmd["module"])
        if image is None or isinstance(image, str):
            raise _Skip(image or f"no module definition {cmd['module']}")
        self.current = self.named[cmd["instance"]] = image.instantiate(self.registry)
        return PASS, ""

    def _cmd_register(self, cmd):
        inst = self._instance(cmd.get("name"))
        self.registry[cmd["as"]] = inst.exports
        return PASS, ""

    def _cmd_action(self, cmd):
        self._act(cmd["action"])
        return PASS, ""

    def _cmd_assert_return(self, cmd):
        try:
            results = self._act(cmd["action"])
        except Trap as e:
            return FAIL, f"unexpected trap: {e.message}"
        if "either" in cmd:  # one result, which must match one of the alternatives
            if len(results) != 1:
                return FAIL, f"expected 1 result, got {len(results)}"
            if any(self._matches(alternative, results[0]) for alternative in cmd["either"]):
                return PASS, ""
            return FAIL, (f"result 0: expected one of {[a.get('value') for a in cmd['either']]}, "
                          f"got {self._shown(cmd['either'][0], results[0])}")
        expected = cmd.get("expected", [])
        if len(results) != len(expected):
            return FAIL, f"expected {len(expected)} results, got {len(results)}"
        for i, (exp, got) in enumerate(zip(expected, results)):
            if not self._matches(exp, got):
                return FAIL, f"result {i}: expected {exp.get('value')} ({exp['type']}), got {self._shown(exp, got)}"
        return PASS, ""

    @staticmethod
    def _shown(expected: dict, actual: int):
        """`actual` as a message shows it: v128 as lanes of the expected lane type."""
        return _lanes(actual, expected["lane_type"]) if expected["type"] == "v128" else actual

    def _cmd_assert_trap(self, cmd):
        try:
            results = self._act(cmd["action"])
        except Trap as e:
            if e.message.startswith(cmd["text"]):
                return PASS, ""
            return FAIL, f"expected trap {cmd['text']!r}, got {e.message!r}"
        return FAIL, f"expected trap {cmd['text']!r}, got results {results}"

    _cmd_assert_exhaustion = _cmd_assert_trap

    def _cmd_assert_exception(self, cmd):
        """The call must end with a wasm exception that no handler caught (any tag and payload)."""
        try:
            results = self._act(cmd["action"])
        except WasmException:
            return PASS, ""
        except Trap as e:
            return FAIL, f"expected an uncaught exception, got trap {e.message!r}"
        return FAIL, f"expected an uncaught exception, got results {results}"

    def _text_verdict(self, cmd):
        """What the text tools make of the text module a command names: (True, None) if wat2wasm
        rejects it, or accepts it and `wasm-tools parse` (which reads the 3.0 text format:
        annotations, identifiers, which WABT lets through) rejects it; else (False, WABT's binary),
        or (None, WABT's binary) without wasm-tools."""
        if not self.wat_available:
            raise _Skip("text module and WABT's wat2wasm is not installed")
        path = os.path.join(self.base, cmd["filename"])
        try:
            data = wat_to_wasm(path, self.features)
        except ToolError:
            return True, None
        rejected = text_rejected_by_wasm_tools(path)
        return (True, None) if rejected else (rejected, data)

    def _cmd_assert_malformed(self, cmd):
        if cmd.get("module_type") == "text":
            rejected, _data = self._text_verdict(cmd)
            if rejected is None:
                return SKIP, "wat2wasm accepted the text and wasm-tools, the second text parser, is not installed"
            if rejected:
                return PASS, ""
            return FAIL, f"expected the text to be rejected ({cmd['text']!r}), but wat2wasm and wasm-tools accepted it"
        return self._expect_failure(cmd, MalformedError)

    def _cmd_assert_malformed_custom(self, cmd):
        # The fault is in a custom annotation or the custom section it makes, which an engine may
        # ignore: the module must be rejected for that reason or accepted, never fail otherwise.
        if cmd.get("module_type") == "text":
            rejected, data = self._text_verdict(cmd)
            if rejected:
                return PASS, ""  # a text tool processes the annotation and rejects it
            return self._custom_fault_ignored(cmd, lambda _cmd: validate_module(
                decode_module(data, cmd["filename"], self.features)))
        return self._custom_fault_ignored(cmd, self._load)

    def _cmd_assert_invalid_custom(self, cmd):
        return self._custom_fault_ignored(cmd, self._load)

    def _custom_fault_ignored(self, cmd, load):
        try:
            load(cmd)
        except WasmbuildError as e:
            if reason_matches(e.reason, cmd["text"]):
                return PASS, ""
            return FAIL, f"expected {cmd['text']!r} or the annotation ignored, got {e}"
        return PASS, ""

    def _cmd_assert_invalid(self, cmd):
        return self._expect_failure(cmd, InvalidError)

    def _cmd_assert_unlinkable(self, cmd):
        return self._expect_failure(cmd, UnlinkableError, self._instantiate, "it linked")

    def _cmd_assert_uninstantiable(self, cmd):
        try:
            self._instantiate(cmd)
        except Trap as e:
            if e.message.startswith(cmd["text"]):
                return PASS, ""
            return FAIL, f"expected trap {cmd['text']!r}, got {e.message!r}"
        except UnsupportedError as e:
            raise _Skip(f"module uses what is not supported yet: {e.reason}") from None
        return FAIL, f"expected instantiation to trap with {cmd['text']!r}, but it did not"


class _Skip(Exception):
    """A command that cannot be run yet; the message says why."""


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


SUITES = ("wasm2", "wasm3")


def suite_scripts(suite: str, spec2: str, spec3: str) -> list[str]:
    """The scripts of a whole suite. `wasm2`: `spec2`'s core and simd directories. `wasm3`: those
    without the scripts that 3.0 changed (the names that `spec3` has too), then all of `spec3`."""
    for base in (spec2,) + ((spec3,) if suite == "wasm3" else ()):
        if not os.path.isdir(base):
            raise WasmbuildError("the spec suite is not there", file=base)
    scripts2 = find_scripts([os.path.join(spec2, "core"), os.path.join(spec2, "simd")])
    if suite == "wasm2":
        return scripts2
    scripts3 = find_scripts([spec3])
    changed = {os.path.basename(os.path.dirname(s)) for s in scripts3}
    return [s for s in scripts2 if os.path.basename(os.path.dirname(s)) not in changed] + scripts3


def run_paths(paths: list[str], settings: CompileSettings | None = None, scripts_given: bool = False) -> Report:
    """Run the scripts that `paths` name (files, or directories searched; with `scripts_given`,
    exactly the script files listed)."""
    report = Report()
    session = BuildSession(settings)  # helpers and trampolines compiled once for every script
    from .component.script import ComponentScriptRunner, is_component_script
    for script in paths if scripts_given else find_scripts(paths):
        runner = ComponentScriptRunner if is_component_script(script) else ScriptRunner
        report.outcomes.extend(runner(script, session=session).run())
    return report
