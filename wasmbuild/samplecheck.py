"""Check a built image against a file of expected results.

    python -m wasmbuild.samplecheck IMAGE EXPECTED [--stamp FILE]

Takes an image (made by `wasmbuild build`) and an expected-results file, one check per line:

    # comment lines and blank lines are ignored
    fac 20 => 2432902008176640000
    slow.next => 1
    div 1 0 => trap: integer divide by zero

The left side is an invocation `NAME ARG...`: NAME is a function the graph exports, or
`instance.func` for a function of an instance the graph exports whole; the arguments are integers
(decimal, or 0x hex) or, for f32/f64 parameters, floats. The right side is the output `wasmbuild run
--invoke` prints (the results separated by spaces; nothing for a function without results), or
`trap: MESSAGE` when the call must trap with that message. All checks run in order on one loaded
image, so state (globals, memory) carries from one line to the next.

For an image built from a component, NAME is `interface#func` (a function of an exported
interface, as in `wb:sample/geometry#area`; the core export names of the canonical ABI are
spelled so too) or `func` (a function the component exports itself), and the arguments and the
result are component values in the text syntax of `component/valuetext.py`, read as the
function's WIT type says:

    wb:sample/geometry#greet "world" => "hello, world!"
    wb:sample/geometry#area rect((3, 4.5)) => 13.5
    wb:sample/geometry#summarize [3, -7, 12] => {count: 3, total: 8, largest: some(12)}
    wb:sample/geometry#parse-number "12x" => err(bad-digit)

The result is compared as a value (so `[1,2]` and `[1, 2]` are the same); a function without a
result prints nothing. A trap locks a component instance (every later call would trap), so the
checks after a `trap:` line run on a fresh instance of the image.

The component's host imports are answered by `host` lines, a table per imported function (in any
place in the file; they are read before the first call):

    host wb:sample/units#factor "km" => 1000      # factor("km") gives 1000
    host wb:sample/units#notify "done" =>         # a function without a result

A call of an imported function with arguments that no `host` line lists traps ("host: no answer
for ..."), and so does the call of the export that made it.

EXPECTED may instead be a `.toml` file describing the run of a WASI program (arguments,
directories, expected exit code, stdout and written files; see `check_wasi`).

Gives exit status 0 and one line `IMAGE: N checks passed (EXPECTED)` when every check passes, and
then writes FILE (a stamp for build systems). Otherwise prints one line per failed check, naming the
file and line (`EXPECTED:LINE: INVOCATION: expected X, got Y`), and exits 1 without writing FILE.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from .errors import WasmbuildError



@dataclass
class Check:
    line: int
    name: str
    args: list[str]
    expected: str
    arg_text: str = ""  # the arguments as written (component values may hold blanks)
    expected_text: str = ""  # the output as written, trimmed

    @property
    def invocation(self) -> str:
        return " ".join([self.name, *self.args])


def parse_expected(text: str, path: str) -> list[Check]:
    """The checks of an expected-results file; a line that is not `INVOCATION => OUTPUT` raises
    `WasmbuildError` naming it."""
    checks = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        invocation, arrow, output = line.partition("=>")
        words = invocation.split()
        if not arrow or not words:
            raise WasmbuildError(f"line {number}: expected 'NAME ARGS... => OUTPUT', got {line!r}", file=path)
        arg_text = invocation.strip()[len(words[0]):].strip()
        checks.append(Check(number, words[0], words[1:], " ".join(output.split()), arg_text, output.strip()))
    if not checks:
        raise WasmbuildError("no checks (lines 'NAME ARGS... => OUTPUT')", file=path)
    return checks


def _format(result) -> str:
    if result is None:
        return ""
    return " ".join(str(v) for v in (result if isinstance(result, tuple) else (result,)))


def run_check(instance, check: Check) -> str | None:
    """Run one check on a loaded graph; gives None when it passes, else what went wrong."""
    from .api import find_export, parse_arg
    func = find_export(instance, check.name)
    if func is None or not hasattr(func, "type"):
        return f"no exported function {check.name!r}"
    params = func.type.params
    if len(check.args) != len(params):
        return f"{check.name} takes {len(params)} arguments, {len(check.args)} given"
    try:
        values = [parse_arg(t, a) for t, a in zip(params, check.args)]
    except ValueError as e:
        return f"bad argument: {e}"
    try:
        actual = _format(func(*values))
    except WasmbuildError as e:
        if e.phase != "trap":
            raise
        actual = f"trap: {e.reason}"
    if actual != check.expected:
        return f"expected {check.expected or '(no output)'}, got {actual or '(no output)'}"
    return None


def find_component_function(instance, name: str):
    """The lifted function NAME (`interface#func` or `func`) of a loaded component, or None."""
    iface, hash_, func = name.rpartition("#")
    exports = instance.exports
    if hash_:
        sub = exports.get(iface)
        exports = getattr(sub, "exports", None) or {}
    item = exports.get(func)
    return item if hasattr(item, "type") and hasattr(item.type, "params") and callable(item) else None


def run_component_check(instance, check: Check) -> str | None:
    """Run one check on a loaded component; gives None when it passes, else what went wrong."""
    from .component.valuetext import ValueTextError, format_value, parse_values
    func = find_component_function(instance, check.name)
    if func is None:
        return f"no exported function {check.name!r} (name it 'interface#func' or 'func')"
    ft = func.type
    try:
        values = parse_values(check.arg_text, [t for _, t in ft.params])
    except ValueTextError as e:
        return f"bad arguments for {ft}: {e}"
    try:
        result = func(*values)
        actual = "" if ft.result is None else format_value(result, ft.result)
    except WasmbuildError as e:
        if e.phase != "trap":
            raise
        actual = f"trap: {e.reason}"  # a formatted value never starts so (strings are quoted)
    want = check.expected_text
    if ft.result is not None and not want.startswith("trap:"):
        try:
            (expected,) = parse_values(want, [ft.result])
        except ValueTextError as e:
            return f"bad expected result for {ft}: {e}"
        want = format_value(expected, ft.result)
    else:
        want = " ".join(want.split())
    return None if actual == want else f"expected {want or '(no output)'}, got {actual or '(no output)'}"


def host_answers(checks: list[Check], imports: dict, path: str) -> tuple[dict, list[Check]]:
    """The host (as `wasmbuild.load` takes it) that the `host` lines of `checks` describe, for a
    component whose root imports are `imports` (the component record's: name -> ("func", FuncType)
    or ("instance", {...})), and the other checks. A bad `host` line raises `WasmbuildError`."""
    from .component.valuetext import ValueTextError, format_value, parse_values
    from .loader.runtime import Trap
    host: dict = {}
    tables: dict = {}
    calls = []
    for check in checks:
        if check.name != "host":
            calls.append(check)
            continue
        name, _, arg_text = check.arg_text.partition(" ")
        iface, hash_, func = name.rpartition("#")
        kind, body = imports.get(iface, (None, None)) if hash_ else ("instance", imports)
        extern = body.get(func) if kind == "instance" else None
        if extern is None or extern[0] != "func":
            raise WasmbuildError(f"line {check.line}: the component imports no function {name!r}", file=path)
        ft = extern[1]
        try:
            args = parse_values(arg_text, [t for _, t in ft.params])
            result = parse_values(check.expected_text, [ft.result])[0] if ft.result is not None else None
        except ValueTextError as e:
            raise WasmbuildError(f"line {check.line}: host {name}: {e}", file=path) from None
        if ft.result is None and check.expected_text:
            raise WasmbuildError(f"line {check.line}: host {name} has no result", file=path)
        key = tuple(format_value(a, t) for a, (_, t) in zip(args, ft.params))
        if name not in tables:
            tables[name] = {}

            def answer(*given, _name=name, _ft=ft, _table=tables[name]):
                key = tuple(format_value(a, t) for a, (_, t) in zip(given, _ft.params))
                if key not in _table:
                    raise Trap(f"host: no answer for {_name} {' '.join(key)}")
                return _table[key]
            (host.setdefault(iface, {}) if hash_ else host)[func] = answer
        tables[name][key] = result
    return host, calls


def check_wasi(image: str, expected: str) -> tuple[int, list[str]]:
    """Run a WASI program as `expected` (a TOML file) describes and compare what it did:

        args = ["/data/input.txt", "/data/report.txt"]   # the program's arguments
        dirs = { "/data" = "data" }     # guest path -> directory beside the TOML file; each is
                                        # copied to a temporary directory before the run
        env = { "KEY" = "VALUE" }
        exit_code = 0
        stdout = "..."                  # the exact output
        [files]                         # files the program must have written: "guest path" = text
        "/data/report.txt" = "..."
    """
    import io
    import os
    import shutil
    import tempfile
    import tomllib
    from .api import run_wasi
    try:
        with open(expected, "rb") as f:
            spec = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise WasmbuildError(f"cannot read expected results: {e}", file=expected) from None
    base = os.path.dirname(os.path.abspath(expected))
    failures = []
    with tempfile.TemporaryDirectory(prefix="wasmbuild-check-") as tmp:
        dirs = {}
        for i, (guest, host) in enumerate(sorted(spec.get("dirs", {}).items())):
            copy = os.path.join(tmp, f"dir{i}")
            shutil.copytree(os.path.join(base, host), copy)
            dirs[guest] = copy
        out = io.BytesIO()
        code = run_wasi(image, spec.get("args", []), spec.get("env", {}), dirs, io.BytesIO(), out, io.BytesIO())
        checks = 2
        if code != spec.get("exit_code", 0):
            failures.append(f"{expected}: exit code: expected {spec.get('exit_code', 0)}, got {code}")
        if "stdout" in spec and out.getvalue().decode("utf-8", "replace") != spec["stdout"]:
            failures.append(f"{expected}: stdout: expected {spec['stdout']!r}, got {out.getvalue().decode('utf-8', 'replace')!r}")
        for guest, text in sorted(spec.get("files", {}).items()):
            checks += 1
            root = next((g for g in dirs if guest.startswith(g.rstrip("/") + "/")), None)
            if root is None:
                failures.append(f"{expected}: file {guest} is in no preopened directory")
                continue
            host = os.path.join(dirs[root], guest[len(root.rstrip("/")) + 1:])
            try:
                with open(host, encoding="utf-8") as f:
                    actual = f.read()
            except OSError:
                actual = None
            if actual != text:
                failures.append(f"{expected}: file {guest}: expected {text!r}, got {actual!r}")
    return checks, failures


def check_image(image: str, expected: str) -> tuple[int, list[str]]:
    """Run every check of `expected` on `image`: (number of checks, failure messages). A `.toml`
    file describes the run of a WASI program instead (see `check_wasi`)."""
    from . import load
    if expected.endswith(".toml"):
        return check_wasi(image, expected)
    try:
        with open(expected, encoding="utf-8") as f:
            checks = parse_expected(f.read(), expected)
    except OSError as e:
        raise WasmbuildError(f"cannot read expected results: {e.strerror}", file=expected) from None
    from .api import read_runnable
    from .loader.instance import load_image
    from .loader.runtime import Store
    loaded = load_image(Store(), read_runnable(image), image)
    host, run = {}, run_check
    if loaded.meta.component is not None:
        from .component.record import ComponentRecord
        record, _ = ComponentRecord.from_json(loaded.meta.component)
        host, checks = host_answers(checks, record.imports, expected)
        run = run_component_check
        if not checks:
            raise WasmbuildError("no checks besides the host lines", file=expected)
    instance = loaded.instantiate(host)
    failures = []
    for check in checks:
        problem = run(instance, check)
        if problem is not None:
            failures.append(f"{expected}:{check.line}: {check.invocation}: {problem}")
        if run is run_component_check and check.expected_text.startswith("trap:"):
            instance = load(image, host)
    return len(checks), failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wasmbuild.samplecheck",
                                     description="check an image against expected results")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("expected", metavar="EXPECTED", help="lines 'NAME ARGS... => OUTPUT'")
    parser.add_argument("--stamp", metavar="FILE", help="written when every check passes")
    args = parser.parse_args(argv)
    try:
        count, failures = check_image(args.image, args.expected)
    except WasmbuildError as e:
        print(f"wasmbuild: {e}", file=sys.stderr)
        return 1
    for message in failures:
        print(message, file=sys.stderr)
    if failures:
        print(f"wasmbuild: {args.image}: {len(failures)} of {count} checks failed", file=sys.stderr)
        return 1
    print(f"{args.image}: {count} checks passed ({args.expected})")
    if args.stamp:
        with open(args.stamp, "w", encoding="utf-8") as f:
            f.write(f"{count} checks passed\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
