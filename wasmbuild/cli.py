"""The `wasmbuild` command line (also `python -m wasmbuild`).

Subcommands:
  check FILE...          decode and validate modules (.wasm, or .wat through WABT)
  wast PATH... [--json]  run spec scripts (JSON form) and print `N passed, M failed, K skipped`

User errors print one line each and exit 1; no tracebacks.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import __version__
from .binary import decode_module
from .errors import WasmbuildError
from .valid import validate_module
from .wat import read_module_bytes


def cmd_check(args) -> int:
    failures = 0
    for path in args.files:
        try:
            module = decode_module(read_module_bytes(path), path)
            validate_module(module)
        except WasmbuildError as e:
            failures += 1
            print(str(e) if e.file else f"{path}: {e}", file=sys.stderr)
            continue
        if args.verbose:
            print(f"{path}: ok ({len(module.bodies)} functions, {len(module.data)} bytes)")
    return 1 if failures else 0


def cmd_wast(args) -> int:
    from .wast import FAIL, SKIP, run_paths

    report = run_paths(args.paths)
    for o in report.outcomes:
        if o.status == FAIL or (args.verbose and o.status == SKIP):
            print(o)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report.breakdown(), f, indent=1, sort_keys=True)
            f.write("\n")
    print(report.summary_line())
    return 1 if report.counts()[FAIL] else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wasmbuild", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"wasmbuild {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="decode and validate WebAssembly modules")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="print a line for every valid file too")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("wast", help="run WebAssembly spec scripts (wast2json JSON form)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="script files or directories of them")
    p.add_argument("--json", metavar="FILE", help="write counts per directory, file and command kind")
    p.add_argument("-v", "--verbose", action="store_true", help="print skipped commands too")
    p.set_defaults(func=cmd_wast)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WasmbuildError as e:
        print(f"wasmbuild: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wasmbuild: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
