"""The `wasmbuild` command line (also `python -m wasmbuild`).

Subcommands:
  check FILE...                  decode and validate modules (.wasm, or .wat through WABT)
  build MODULE|MANIFEST -o IMAGE compile a module or a graph into a loadable image
  run IMAGE --invoke NAME ARGS   load an image and call an exported function
  run IMAGE [--dir H::G] [--env K=V] [-- ARGS]   run a WASI program, exit with its code
  manifest COMPONENT... [-o M]   a starting manifest composing components (docs/manifest.md)
  inspect IMAGE|PACKAGE          show an image's header, modules, functions, trampolines, sections
  package IMAGE -o PACKAGE       one deployable file: image, manifest, checksums (and sources)
  cache stats|clear|prune        look after the per-function cache
  wast PATH... [--json]          run spec scripts (JSON form): `N passed, M failed, K skipped`

User errors print one line each and exit 1; no tracebacks. Ctrl-C (SIGINT) stops `run` at once with
exit status 130, even while the program loops in compiled code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from . import __version__
from .binary import decode_module
from .errors import WasmbuildError
from .valid import validate_module
from .wat import read_module_bytes


def cmd_check(args) -> int:
    from .contract.features import parse_features
    features = parse_features(args.wasm_features)
    failures = 0
    from .component.decode import decode_component, is_component
    from .component.validate import validate_component
    for path in args.files:
        try:
            data = read_module_bytes(path, features)
            if is_component(data):
                component = decode_component(data, path, features)
                validate_component(component)
                what = "a component"
            else:
                module = decode_module(data, path, features)
                validate_module(module)
                what = f"{len(module.bodies)} functions, {len(module.data)} bytes"
        except WasmbuildError as e:
            failures += 1
            print(str(e) if e.file else f"{path}: {e}", file=sys.stderr)
            continue
        if args.verbose:
            print(f"{path}: ok ({what})")
    return 1 if failures else 0


def _settings(args):
    import os
    from .compile import CompileSettings
    return CompileSettings(opt_level=args.opt_level,
                           triple=args.target or os.environ.get("WASMBUILD_TARGET", ""),
                           cpu=args.cpu or "", features=args.features or "",
                           bounds_checks=args.bounds_checks or "", wasm_features=args.wasm_features or "")


def _write_output(path: str, data: bytes) -> None:
    """Write an output file atomically and durably (a failed build leaves the previous file in
    place); a path that cannot be written is a user error."""
    from .fsutil import atomic_write
    try:
        atomic_write(path, data, durable=True)
    except OSError as e:
        raise WasmbuildError(f"cannot write {path}: {e.strerror or e}") from None


class _ProgressLine:
    """On a terminal, one line on stderr that says how many functions are done, rewritten at most
    five times a second while a build lasts, and gone when it ends."""

    def __init__(self, output: str):
        import time
        self.output = output
        self.clock = time.monotonic
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if total and (now - self.last >= 0.2 or done == total):
            self.last = now
            sys.stderr.write(f"\r\x1b[K{self.output}: {done}/{total} functions ({100 * done // total}%)")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def cmd_build(args) -> int:
    import os
    from .build import BuildSession, ModuleInput, build_graph, build_image
    from .component.build import build_component
    from .component.decode import is_component
    from .graph import is_manifest
    from .cache import open_cache
    cache = open_cache(args.cache_dir, enabled=not args.no_cache, remote_url=args.remote_cache,
                       read_only=True if args.remote_read_only else None)
    jobs = args.jobs or os.cpu_count() or 1
    progress = _ProgressLine(args.output) if sys.stderr.isatty() else None
    settings = _settings(args)
    try:
        if len(args.modules) == 1 and is_manifest(args.modules[0]):
            image, report = build_graph(args.modules[0], settings, jobs, cache, progress=progress)
        elif len(args.modules) == 1:
            path = args.modules[0]
            name = os.path.splitext(os.path.basename(path))[0]
            data = read_module_bytes(path, settings.wasm_feature_set)
            if is_component(data):
                image, report = build_component(BuildSession(settings, jobs, cache, progress), data, path)
            else:
                image, report = build_image([ModuleInput(name, data, path)], settings, jobs, cache=cache,
                                            progress=progress)
        else:
            raise WasmbuildError("give one module, or a manifest (.toml) for a graph of several")
    finally:
        if progress is not None:
            progress.clear()
    for message in report.warnings:
        print(f"wasmbuild: warning: {message}", file=sys.stderr)
    _write_output(args.output, image)
    if args.verbose:
        print(f"{args.output}: {report.summary()}")
    elif args.summary:
        print(f"{args.output}: {report.short()}")
    return 0


def cmd_manifest(args) -> int:
    import os
    from .component.manifest import starting_manifest
    out_dir = os.path.dirname(os.path.abspath(args.output)) if args.output else os.getcwd()
    text = starting_manifest(args.components, out_dir)
    if args.output:
        _write_output(args.output, text.encode())
    else:
        sys.stdout.write(text)
    return 0


def cmd_cache(args) -> int:
    from .cache import LocalStore, parse_size
    store = LocalStore(args.cache_dir)
    if args.action == "stats":
        entries, size = store.usage()
        print(f"{store.directory}: {entries} entries, {size / 1e6:.1f} MB "
              f"(limit {store.max_bytes / 1e6:.0f} MB)")
    elif args.action == "clear":
        print(f"removed {store.clear()} entries from {store.directory}")
    else:
        if not args.max_size:
            raise WasmbuildError("prune needs --max-size SIZE (e.g. 500M)")
        try:
            limit = parse_size(args.max_size)
        except ValueError as e:
            raise WasmbuildError(str(e)) from None
        removed, left = store.prune(limit)
        print(f"removed {removed} entries; {left / 1e6:.1f} MB left in {store.directory}")
    return 0


@contextlib.contextmanager
def _stop_native_code_on_interrupt():
    """While `run` runs: Ctrl-C (SIGINT) ends the process at once with status 130 if the main
    thread is inside compiled wasm code, where Python's own handler (KeyboardInterrupt) could only
    run once the code returned, perhaps never. Elsewhere (a host function, loading, --rebuild)
    KeyboardInterrupt unwinds as usual. Python's C-level handler writes the signal's number to a
    wakeup pipe even while compiled code runs; a thread reading it looks where the main thread is."""
    import os
    import signal
    import threading
    from .loader.runtime import ENTRY_FRAMES

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield  # Ctrl-C is not ours to handle (ignored, or taken by whoever called main)
        return
    native = ENTRY_FRAMES  # one of them is on top while compiled code runs
    main = threading.main_thread().ident

    def watch(read_end):
        while got := os.read(read_end, 64):
            frame = sys._current_frames().get(main)
            if signal.SIGINT in got and frame is not None and frame.f_code in native:
                os.write(2, b"wasmbuild: interrupted\n")
                os._exit(130)

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    watcher = threading.Thread(target=watch, args=(read_end,), name="wasmbuild-sigint", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(write_end)  # the watcher reads end-of-file and ends
        watcher.join()
        os.close(read_end)


def cmd_run(args) -> int:
    with _stop_native_code_on_interrupt():
        return _run(args)


def _run(args) -> int:
    from .api import find_export, load, parse_arg, run_wasi
    if not args.invoke:
        dirs = {}
        for spec in args.dir:
            host, _, guest = spec.partition("::")
            dirs[guest or host] = host
        env = {}
        for item in args.env:
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise WasmbuildError(f"--env wants KEY=VALUE, not {item!r}")
            env[key] = value
        try:
            return run_wasi(args.image, args.program_args, env, dirs, rebuild=args.rebuild)
        except NotADirectoryError as e:
            raise WasmbuildError(str(e)) from None
    instance = load(args.image, rebuild=args.rebuild)
    name, *texts = args.invoke
    func = find_export(instance, name)
    if func is None or not hasattr(func, "type"):
        raise WasmbuildError(f"no exported function {name!r}", file=args.image)
    params = func.type.params
    if len(texts) != len(params):
        raise WasmbuildError(f"{name} takes {len(params)} arguments, {len(texts)} given")
    try:
        values = [parse_arg(t, a) for t, a in zip(params, texts)]
    except ValueError as e:
        raise WasmbuildError(f"bad argument: {e}") from None
    result = func(*values)
    if result is not None:
        print(*(result if isinstance(result, tuple) else (result,)))
    return 0


def cmd_inspect(args) -> int:
    from .inspect import describe_image
    from .package import is_package, open_package
    if is_package(args.image):
        _image, manifest, _archive = open_package(args.image)
        print(json.dumps(manifest, indent=1, sort_keys=True))
        return 0
    print(describe_image(args.image), end="")
    return 0


def cmd_package(args) -> int:
    import os
    from .package import make_package
    name = args.name or os.path.splitext(os.path.basename(args.image))[0]
    _write_output(args.output, make_package(args.image, name, args.sources))
    return 0


def cmd_wast(args) -> int:
    from .wast import FAIL, SKIP, run_paths, suite_scripts

    if args.suite:
        from .testing import spec3_dir, spec_dir
        if args.paths:
            raise WasmbuildError("give either --suite or script paths, not both")
        if args.wasm_features is None:
            args.wasm_features = args.suite  # the 2.0 suite is a 2.0 engine's: its features off
        report = run_paths(suite_scripts(args.suite, spec_dir(), spec3_dir()), _settings(args), scripts_given=True)
    elif not args.paths:
        raise WasmbuildError("give script paths or --suite")
    else:
        report = run_paths(args.paths, _settings(args))
    for o in report.outcomes:
        if o.status == FAIL or (args.verbose and o.status == SKIP):
            print(o)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report.breakdown(), f, indent=1, sort_keys=True)
            f.write("\n")
    print(report.summary_line())
    return 1 if report.counts()[FAIL] else 0


def add_feature_option(p):
    p.add_argument("--wasm-features", metavar="LIST",
                   help="WebAssembly proposals accepted, comma-separated: a preset (wasm3, the default: "
                        "3.0 without GC, plus threads and legacy exceptions; wasm2) and/or +NAME / -NAME, "
                        "e.g. wasm2,+multi-memory, or --wasm-features=-exceptions (names: exceptions, legacy-exceptions, "
                        "tail-call, memory64, multi-memory, function-references, extended-const, "
                        "relaxed-simd, threads)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wasmbuild", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"wasmbuild {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="decode and validate WebAssembly modules")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="print a line for every valid file too")
    add_feature_option(p)
    p.set_defaults(func=cmd_check)

    def add_compile_options(p):
        p.add_argument("-O", dest="opt_level", type=int, default=2, choices=range(4),
                       help="LLVM optimisation level (default 2)")
        p.add_argument("--target", help="target triple, e.g. aarch64-unknown-linux-gnu, "
                                        "riscv64-unknown-linux-gnu, s390x-unknown-linux-gnu "
                                        "(default: $WASMBUILD_TARGET, else this machine)")
        p.add_argument("--cpu", help="target CPU (default: a baseline CPU of the target; 'native': this machine's)")
        p.add_argument("--features", help="LLVM target features, e.g. +sve or -c (default: the CPU's)")
        add_feature_option(p)
        p.add_argument("--bounds-checks", choices=("guard", "explicit"),
                       help="memory bounds: 'guard' (guard pages, no check in the code; the default where "
                            "the target supports it) or 'explicit' (a check before every access)")

    p = sub.add_parser("build", help="compile a module, or a graph (manifest .toml), into a loadable image")
    p.add_argument("modules", nargs="+", metavar="MODULE|MANIFEST")
    p.add_argument("-j", "--jobs", type=int, default=0, help="worker processes for compiling (default: all cores)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="per-function cache (default: $WASMBUILD_CACHE_DIR or ~/.cache/wasmbuild)")
    p.add_argument("--no-cache", action="store_true", help="compile everything, use no cache")
    p.add_argument("--remote-cache", metavar="URL",
                   help="shared HTTP cache (Bazel remote-cache layout; default $WASMBUILD_REMOTE_CACHE); "
                        "credentials only from the environment")
    p.add_argument("--remote-read-only", action="store_true", help="use the remote cache, never upload")
    p.add_argument("-o", "--output", required=True, metavar="IMAGE")
    p.add_argument("-v", "--verbose", action="store_true", help="print what was compiled and the time per phase")
    p.add_argument("--summary", action="store_true",
                   help="print one concise line: functions compiled and taken from the cache")
    add_compile_options(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("manifest", help="write a starting manifest that composes components (wires each import "
                                        "to the one matching export)")
    p.add_argument("components", nargs="+", metavar="COMPONENT")
    p.add_argument("-o", "--output", metavar="MANIFEST", help="the manifest to write (default: standard output)")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("run", help="load an image and call an exported function")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--invoke", nargs="+", metavar=("NAME", "ARG"),
                   help="exported function to call, then its arguments (ints, or floats for f32/f64); "
                        "without it, run the image as a WASI program")
    p.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                   help="WASI: preopen directory HOST, seen by the program as GUEST (default HOST)")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="WASI: environment variable")

    p.add_argument("--rebuild", action="store_true",
                   help="a package made for another machine: rebuild it here from its sources")
    p.set_defaults(func=cmd_run, program_args=[])

    p = sub.add_parser("package", help="package an image into one deployable file")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-o", "--output", required=True, metavar="PACKAGE")
    p.add_argument("--name", help="the package's name (default: the image's file name)")
    p.add_argument("--sources", metavar="MANIFEST|MODULE",
                   help="also pack the graph's manifest and modules (or the module), for --rebuild")
    p.set_defaults(func=cmd_package)

    p = sub.add_parser("cache", help="show, clear or prune the per-function cache")
    p.add_argument("action", choices=("stats", "clear", "prune"))
    p.add_argument("--max-size", metavar="SIZE", help="prune: keep at most SIZE (e.g. 500M, 2G)")
    p.add_argument("--cache-dir", metavar="DIR", help="the cache (default: $WASMBUILD_CACHE_DIR or ~/.cache/wasmbuild)")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser("inspect", help="describe an image or a package")
    p.add_argument("image", metavar="IMAGE")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("wast", help="run WebAssembly spec scripts (wast2json JSON form)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="script files or directories of them")
    p.add_argument("--suite", choices=("wasm2", "wasm3"),
                   help="a whole suite: wasm2 = the 2.0 suite ($WASMBUILD_SPEC_DIR, run with --wasm-features "
                        "wasm2 unless given); wasm3 = the 3.0 suite, the 2.0 files 3.0 did not change and "
                        "$WASMBUILD_SPEC3_DIR (default: spec3 beside the 2.0 suite)")
    p.add_argument("--json", metavar="FILE", help="write counts per directory, file and command kind")
    p.add_argument("-v", "--verbose", action="store_true", help="print skipped commands too")
    add_compile_options(p)
    p.set_defaults(func=cmd_wast)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" belongs to the WASI program that `run` starts.
    program_args = []
    if "--" in argv:
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1:]
    args = build_parser().parse_args(argv)
    if program_args:
        if args.command != "run":
            build_parser().error("arguments after -- are only for `run`")
        args.program_args = program_args
    try:
        return args.func(args)
    except WasmbuildError as e:
        print(f"wasmbuild: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wasmbuild: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error worth a traceback.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
