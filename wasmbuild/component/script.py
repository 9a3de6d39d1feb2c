"""The spec-test runner for component scripts (../shared/components/spec, its README describes them).

`ComponentScriptRunner(path, session=...)` runs one script as `wast.ScriptRunner` runs a core one,
giving the same `Outcome`s; `is_component_script(path)` tells the two kinds apart (the runner for a
script is chosen by `wast.run_paths`). Each component is built through the same path as `wasmbuild
build` (decode, validate, static instantiation, the core build) and instantiated with no host
imports but Wasmtime's test host (`wasmtime_test_host`), in a fresh store each time (a trap locks an
instance down).
  module, module_definition, module_instance
                         as for core scripts (a definition is built once, instantiated anew)
  assert_return / assert_trap
                         call a top-level export with the script's values converted by its type
                         (`scriptvalues.py`); the result compared by type; a trap message is not
                         compared (the README: "a runner should check that it trapped")
  assert_invalid, assert_malformed (binary)
                         decoding, or validation, must fail; text modules are skipped (no
                         component text parser). Wasmtime's implementation restrictions, which
                         its tests check as invalid ("... is not supported"), pass when wasmbuild
                         refuses the construct as unsupported too
  assert_unlinkable, assert_uninstantiable
                         instantiating must fail to link / must trap
A command whose `requires` names something unsupported is skipped with that name (`SUPPORTED`: the
core proposals wasmbuild has).
"""

from __future__ import annotations

import json
import os

from ..errors import InvalidError, MalformedError, UnlinkableError, WasmbuildError
from ..loader.instance import load_image
from ..loader.runtime import Store, Trap
from ..wast import FAIL, PASS, ScriptRunner, _Skip
from .build import build_component
from .decode import decode_component, is_component
from .instantiate import ComponentUnsupportedError, component_graph
from .runtime import HostResourceType
from .scriptvalues import python_value, value_matches
from .validate import validate_component

# What a command may require and still run here: core proposals wasmbuild compiles, and the
# Wasmtime test host (`wasmtime_test_host`).
SUPPORTED = frozenset(("exceptions", "function-references", "wasmtime-host"))


def wasmtime_test_host() -> dict:
    """The host Wasmtime's component tests import (spec/README.md, "The Wasmtime test host"), but
    for its core module `simple-module`, which a host cannot give a wasmbuild component."""
    state = {"drops": 0, "last_drop": 0}

    def drop1(rep):
        state["drops"] += 1
        state["last_drop"] = rep

    def check(cond: bool) -> None:
        if not cond:
            raise Trap("host assertion failed")

    def refuse_drop(rep):
        raise Trap("resource1-again shouldn't be destroyed")

    return {
        "host-echo-u32": lambda v: v,
        "host-return-two": lambda: 2,
        "host": {
            "return-three": lambda: 3,
            "nested": {"return-four": lambda: 4},
            "resource1": HostResourceType("resource1", drop1),
            "resource2": HostResourceType("resource2"),
            "resource1-again": HostResourceType("resource1-again", refuse_drop),
            "[constructor]resource1": lambda rep: rep,
            "[static]resource1.assert": lambda r, rep: check(r == rep),
            "[static]resource1.last-drop": lambda: state["last_drop"],
            "[static]resource1.drops": lambda: state["drops"],
            "[method]resource1.simple": lambda r, rep: check(r == rep),
            "[method]resource1.take-borrow": lambda a, b: None,
            "[method]resource1.take-own": lambda a, b: None,
            "return-hi": lambda: "hi",
        },
    }


def is_component_script(path: str) -> bool:
    """Whether the script at `path` is about components: a binary it names is one."""
    try:
        with open(path, encoding="utf-8") as f:
            commands = json.load(f).get("commands", [])
    except (OSError, ValueError, AttributeError):
        return False
    base = os.path.dirname(path)
    for cmd in commands:
        name = cmd.get("filename") if cmd.get("module_type", "binary") == "binary" else None
        if name and cmd.get("type") != "assert_malformed":
            try:
                with open(os.path.join(base, name), "rb") as f:
                    return is_component(f.read(8))
            except OSError:
                return False
    return False


class ComponentScriptRunner(ScriptRunner):
    def _check_requires(self, cmd) -> None:
        missing = [r for r in cmd.get("requires", ()) if r not in SUPPORTED]
        if missing:
            raise _Skip(f"requires {', '.join(missing)}")

    def _load(self, cmd):
        """Decode and validate the component a command names, and instantiate it statically (which
        refuses what wasmbuild does not support)."""
        component = decode_component(self._read(cmd), cmd["filename"], self.features)
        validate_component(component)
        component_graph(component, cmd["filename"])
        return component

    def _build(self, cmd):
        image, _report = build_component(self.session, self._read(cmd), cmd["filename"])
        return image

    def _instantiate_image(self, image: bytes, name: str):
        return load_image(Store(), image, name).instantiate(wasmtime_test_host())

    # --- commands ---
    def _cmd_module(self, cmd):
        self._check_requires(cmd)
        self.current = None
        try:
            instance = self._instantiate_image(self._build(cmd), cmd["filename"])
        except WasmbuildError as e:
            self.current = f"the component failed: {e}"
            return FAIL, str(e)
        self.current = instance
        if cmd.get("name"):
            self.named[cmd["name"]] = instance
        return PASS, ""

    def _cmd_module_definition(self, cmd):
        self._check_requires(cmd)
        name = cmd.get("name")
        try:
            image = self._build(cmd)
        except WasmbuildError as e:
            if name:
                self.definitions[name] = f"its definition failed: {e}"
            return FAIL, str(e)
        if name:
            self.definitions[name] = (image, cmd["filename"])
        return PASS, ""

    def _cmd_module_instance(self, cmd):
        self._check_requires(cmd)
        definition = self.definitions.get(cmd["module"])
        if not isinstance(definition, tuple):
            raise _Skip(definition or f"no definition {cmd['module']}")
        self.current = None
        try:
            instance = self._instantiate_image(*definition)
        except WasmbuildError as e:
            return FAIL, str(e)
        self.current = self.named[cmd["instance"]] = instance
        return PASS, ""

    def _call(self, cmd):
        action = cmd["action"]
        if action.get("type") != "invoke":
            raise _Skip(f"action {action.get('type')}")
        instance = self._instance(action.get("module"))
        if isinstance(instance, str):
            raise _Skip(instance)
        func = instance.exports.get(action["field"])
        if func is None or not hasattr(func, "type"):
            return None, f"no exported function {action['field']!r}"
        ft = func.type
        if len(action["args"]) != len(ft.params):
            return None, f"{len(action['args'])} arguments for {ft}"
        args = [python_value(a, t) for a, (_, t) in zip(action["args"], ft.params)]
        return func, args

    def _cmd_assert_return(self, cmd):
        self._check_requires(cmd)
        func, args = self._call(cmd)
        if func is None:
            return FAIL, args
        try:
            result = func(*args)
        except WasmbuildError as e:
            return FAIL, f"the call failed: {e}"
        expected = cmd["expected"]
        ft = func.type
        if not expected:
            return (PASS, "") if result is None else (FAIL, f"expected no result, got {result!r}")
        if ft.result is None or not value_matches(expected[0], result, ft.result):
            return FAIL, f"expected {expected[0]['value']!r}, got {result!r}"
        return PASS, ""

    def _cmd_assert_trap(self, cmd):
        self._check_requires(cmd)
        func, args = self._call(cmd)
        if func is None:
            return FAIL, args
        try:
            result = func(*args)
        except Trap:
            return PASS, ""
        except WasmbuildError as e:
            return FAIL, f"expected a trap ({cmd['text']!r}), got {e}"
        return FAIL, f"expected a trap ({cmd['text']!r}), got {result!r}"

    def _must_fail(self, cmd, action, errors, what: str, success: str):
        """`action()` must raise one of `errors` (the message is not compared: the scripts' texts
        are their authors' wording); `what` and `success` word the failure."""
        try:
            action()
        except errors:
            return PASS, ""
        except WasmbuildError as e:
            return FAIL, f"expected {what} {cmd['text']!r}, got {e}"
        return FAIL, f"expected {what} {cmd['text']!r}, but {success}"

    def _cmd_assert_invalid(self, cmd):
        try:
            self._load(cmd)
        except ComponentUnsupportedError as e:
            # Wasmtime's own restrictions, which its tests check as invalid: passes when wasmbuild
            # does not support the construct either.
            if "not supported" in cmd["text"] or "not implemented" in cmd["text"]:
                return PASS, ""
            return FAIL, f"expected invalid {cmd['text']!r}, got {e}"
        except (InvalidError, MalformedError):
            return PASS, ""
        except WasmbuildError as e:
            return FAIL, f"expected invalid {cmd['text']!r}, got {e}"
        return FAIL, f"expected invalid {cmd['text']!r}, but the component is valid"

    def _cmd_assert_malformed(self, cmd):
        if cmd.get("module_type") == "text":
            raise _Skip("a text component (no component text parser)")
        return self._must_fail(cmd, lambda: decode_component(self._read(cmd), cmd["filename"], self.features),
                               MalformedError, "malformed", "it decodes")

    def _instantiate_command(self, cmd):
        self._check_requires(cmd)
        return lambda: self._instantiate_image(self._build(cmd), cmd["filename"])

    def _cmd_assert_unlinkable(self, cmd):
        return self._must_fail(cmd, self._instantiate_command(cmd), UnlinkableError, "unlinkable", "it instantiated")

    def _cmd_assert_uninstantiable(self, cmd):
        return self._must_fail(cmd, self._instantiate_command(cmd), Trap, "a trap at instantiation",
                               "it instantiated")
