"""The spec-test runner for component scripts (../shared/components/spec, its README describes them).

`ComponentScriptRunner(path, session=...)` runs one script as `wast.ScriptRunner` runs a core one,
giving the same `Outcome`s; `is_component_script(path)` tells the two kinds apart (the runner for a
script is chosen by `wast.run_paths`). Each component is built through the same path as `wasmbuild
build` (decode, validate, static instantiation, the core build) and instantiated with no host
imports but Wasmtime's test host (`wasmtime_test_host`, its core module given to the build:
`wasmtime_simple_module`), in a fresh store each time (a trap locks an instance down). As
Wasmtime's runner does, each named component instance (`module` with a name, `module_instance`) is
registered under its name with the core modules and resource types it exports (not its
functions): a later component may import them, `(import "NAME" (instance (export "m" (core
module))))` (the modules given to its build, the resource types to its instantiation).
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

from ..binary.encode import Code, ModuleWriter
from ..contract.types import I32
from ..errors import InvalidError, MalformedError, UnlinkableError, WasmbuildError
from ..loader.instance import load_image
from ..loader.runtime import Store, Trap
from ..wast import FAIL, PASS, ScriptRunner, _Skip
from . import types as ct
from .build import build_component, component_exported_modules
from .decode import decode_component, is_component
from .instantiate import ComponentUnsupportedError, component_graph
from .runtime import ExportedInstance, HostResourceType
from .scriptvalues import python_value, value_matches
from .validate import validate_component

# What a command may require and still run here: core proposals wasmbuild compiles, the Wasmtime
# test host (`wasmtime_test_host`) and Wasmtime's implicit registration of named instances.
SUPPORTED = frozenset(("exceptions", "function-references", "wasmtime-host", "wasmtime-implicit-register"))


def wasmtime_simple_module() -> bytes:
    """The test host's core module `host/simple-module`: `(module (global (export "g") i32
    (i32.const 100)) (func (export "f") (result i32) (i32.const 101)))`, given to builds (a host
    cannot give a core module at load time)."""
    w = ModuleWriter()
    w.export_global("g", w.global_i32(100))
    w.export_func("f", w.function([], [I32], [], Code().i32_const(101)))
    return w.to_bytes()


def wasmtime_test_host() -> dict:
    """The host Wasmtime's component tests import (spec/README.md, "The Wasmtime test host"), but
    for its core module `simple-module` (`wasmtime_simple_module`)."""
    state = {"drops": 0, "last_drop": 0}

    def drop1(rep):
        state["drops"] += 1
        state["last_drop"] = rep

    def check(cond: bool) -> None:
        if not cond:
            raise Trap("host assertion failed")

    def refuse_drop(rep):
        raise Trap("resource1-again shouldn't be destroyed")

    resource1 = HostResourceType("resource1", drop1)
    return {
        "host-echo-u32": lambda v: v,
        "host-return-two": lambda: 2,
        "host": {
            "return-three": lambda: 3,
            "nested": {"return-four": lambda: 4},
            "resource1": resource1,
            "resource2": HostResourceType("resource2"),
            "resource1-again": HostResourceType("resource1-again", refuse_drop, same_as=resource1),
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


def _exported_resources(exports: dict) -> dict:
    """The resource types among a component instance's exports, with the instances holding them."""
    out = {}
    for name, value in exports.items():
        if isinstance(value, ct.ResourceType):
            out[name] = value
        elif isinstance(value, ExportedInstance):
            out[name] = _exported_resources(value.exports)
    return out


class ComponentScriptRunner(ScriptRunner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Wasmtime's implicit registration: name -> ({export path: core module bytes}, {resources})
        self.registered: dict[str, tuple[dict, dict]] = {}

    def _provided(self) -> dict:
        """The core modules builds are given: the test host's, and the registered instances'."""
        provided = {("host", "simple-module"): wasmtime_simple_module()}
        for name, (modules, _) in self.registered.items():
            provided.update({(name,) + path: data for path, data in modules.items()})
        return provided

    def _register(self, name: str, instance, modules: dict | None) -> None:
        # (modules None: a component that cannot instantiate, so never gets here)
        self.registered[name] = (modules or {}, _exported_resources(instance.exports))

    def _exported_modules(self, cmd) -> dict:
        """The core modules the component a command names exports (bytes by export path)."""
        return component_exported_modules(self._read(cmd), cmd["filename"], self._provided(), self.features)

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
        image, _report = build_component(self.session, self._read(cmd), cmd["filename"], self._provided())
        return image

    def _instantiate_image(self, image: bytes, name: str):
        host = {n: resources for n, (_, resources) in self.registered.items()}
        host.update(wasmtime_test_host())
        return load_image(Store(), image, name).instantiate(host)

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
            self._register(cmd["name"], instance, self._exported_modules(cmd))
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
            self.definitions[name] = (image, cmd["filename"], self._exported_modules(cmd))
        return PASS, ""

    def _cmd_module_instance(self, cmd):
        self._check_requires(cmd)
        definition = self.definitions.get(cmd["module"])
        if not isinstance(definition, tuple):
            raise _Skip(definition or f"no definition {cmd['module']}")
        image, filename, modules = definition
        self.current = None
        try:
            instance = self._instantiate_image(image, filename)
        except WasmbuildError as e:
            return FAIL, str(e)
        self.current = self.named[cmd["instance"]] = instance
        self._register(cmd["instance"], instance, modules)
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
