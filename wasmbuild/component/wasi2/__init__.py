"""The WASI 0.2 host: the `wasi:cli/command` world and everything it imports, in Python.

`Wasi2(args, env, preopens, stdin, stdout, stderr)` holds a program's view of the world, as
`wasmbuild.wasi.Wasi` does for preview 1: its arguments (argv[0] included) and environment (a
dict, or (name, value) pairs), the host directories it may see (`preopens`: guest path -> host
path) and three binary file objects for stdio (default: the process's own). `close()` closes the
host files it opened; `run(run_export)` calls a command's `wasi:cli/run.run` and gives the exit
code.

The contract with the component runtime (`component/runtime.py`):

- `interfaces()` gives `{interface: {item: value}}`, the interface named without its version
  (`"wasi:io/streams"`; `interface_key("wasi:io/streams@0.2.9")` gives that key for any 0.2.x
  import, None for another major/minor version). Items are named as the component model names
  imports: plain functions by their WIT name (`"get-environment"`), resource methods
  `"[method]R.m"` (the resource first: `fn(stream, contents)`), and resource types `"R"`.
- A resource type is a Python class; its instances are the resources. The host makes them and
  gives them out as `own<R>` results; an `own<R>` or `borrow<R>` parameter arrives as the object
  itself. When the guest drops its last owning handle the runtime calls the object's `drop()`,
  if it has one (streams and descriptors close their host files there).
- Values are those of `component/values.py`: `Ok(x)`/`Err(e)` for a result (`Ok(None)` for
  `result<_, E>`), an enum case as its name (str), a `Variant(case, payload)`, a `Record` with
  the fields' attribute names, bytes for `list<u8>`, a list for other lists, a tuple for a
  tuple, None or the value for an option, a set of names for flags.
- `wasi:cli/exit.exit` raises `Wasi2Exit(code)` (ok -> 0, err -> 1; `exit-with-code` gives its
  code), which the runtime must let out of the guest to whoever called it. A guest misusing an
  interface as WIT says it must not (polling an empty list, writing more zeroes than check-write
  allows) or asking for more than a host gives (more random bytes than `MAX_RANDOM` at once) gets
  a `Trap`.

What each interface does: `io.py` (error, poll, streams: everything is always ready except a
clock's pollable; `poll` sleeps until the earliest is due), `filesystem.py` (descriptors, with
preview 1's sandbox), `sockets.py` (present, but every socket is refused: why there). Clocks
are the host's monotonic and wall clocks in nanoseconds; `random` and `insecure` give
`secrets`' bytes (`insecure-seed` is one random pair per Wasi2, the same at every call);
`initial-cwd` is none; no stream is a terminal unless the host file object is one (`isatty`).
"""

from __future__ import annotations

import os
import secrets
import sys
import time

from ... import sandbox
from ...loader.runtime import Trap
from ..values import Err, Record
from ..versions import compatible_line, split_version
from . import filesystem, io, sockets
from .filesystem import Descriptor, DirectoryEntryStream
from .io import InputStream, IoError, OutputStream, Pollable, StdioSink, StdioSource

__all__ = ["Wasi2", "Wasi2Exit", "interface_key", "MAX_RANDOM"]

WASI_LINE = ("0", "2")  # the WASI versions served: any 0.2.x
MAX_RANDOM = 1 << 26   # the most random bytes one call gives (64 MiB); more traps
_NS = 1_000_000_000
class Wasi2Exit(Exception):
    """Raised by `wasi:cli/exit`: the program ended with `code`."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class TerminalInput:
    """`wasi:cli/terminal-input.terminal-input` (no methods)."""


class TerminalOutput:
    """`wasi:cli/terminal-output.terminal-output` (no methods)."""


def interface_key(import_name: str) -> str | None:
    """The `interfaces()` key of an interface import name: "wasi:cli/stdin@0.2.9" (any 0.2.x,
    or no version) -> "wasi:cli/stdin"; None for another version."""
    base, version = split_version(import_name)
    if version is None:
        return import_name
    return base if compatible_line(version) == WASI_LINE else None


def _resource(name: str, cls, methods: str) -> dict:
    """The items of resource `name`: its type, and `[method]name.m` for each WIT method name in
    `methods` (the Python method is the name with '-' made '_')."""
    items = {name: cls}
    for method in methods.split():
        items[f"[method]{name}.{method}"] = getattr(cls, method.replace("-", "_"))
    return items


def _clock_resolution(clock: str) -> int:
    return max(1, round(time.get_clock_info(clock).resolution * _NS))


class Wasi2:
    def __init__(self, args: list[str] | None = None, env=None, preopens: dict[str, str] | None = None,
                 stdin=None, stdout=None, stderr=None):
        self.args = list(args or ["program"])
        self.env = list((env or {}).items() if isinstance(env, dict) or env is None else env)
        self.stdin = stdin or sys.stdin.buffer
        self.stdout = stdout or sys.stdout.buffer
        self.stderr = stderr or sys.stderr.buffer
        self.files: set = set()            # host files the guest's resources hold open
        self.preopens: list[tuple[int, str]] = []   # (host directory descriptor, guest path)
        self._seed = (secrets.randbits(64), secrets.randbits(64))
        for guest, host in (preopens or {}).items():
            try:
                self.preopens.append((sandbox.open_preopen(host), guest))
            except NotADirectoryError:
                self.close()
                raise

    # --- plumbing ---------------------------------------------------------------------------------
    def run(self, run) -> int:
        """Call a command's `run` export (a Python callable giving Ok/Err); the exit code."""
        try:
            result = run()
            return 1 if isinstance(result, Err) else 0
        except Wasi2Exit as e:
            return e.code
        finally:
            self.flush()

    def flush(self) -> None:
        for stream in (self.stdout, self.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass

    def close(self) -> None:
        """Close every host file still open: the preopens and what the guest did not drop."""
        for file in list(self.files):
            file.close()
        for os_fd, _ in self.preopens:
            os.close(os_fd)
        self.preopens = []

    # --- wasi:cli -------------------------------------------------------------------------------------
    def get_environment(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.env]

    def get_arguments(self) -> list[str]:
        return list(self.args)

    @staticmethod
    def initial_cwd():
        return None

    @staticmethod
    def exit(status) -> None:
        raise Wasi2Exit(1 if isinstance(status, Err) else 0)

    @staticmethod
    def exit_with_code(status_code: int) -> None:
        raise Wasi2Exit(status_code)

    def get_stdin(self) -> InputStream:
        return InputStream(StdioSource(self.stdin))

    def get_stdout(self) -> OutputStream:
        return OutputStream(StdioSink(self.stdout))

    def get_stderr(self) -> OutputStream:
        return OutputStream(StdioSink(self.stderr))

    @staticmethod
    def _is_terminal(stream) -> bool:
        try:
            return bool(stream.isatty())
        except (AttributeError, OSError, ValueError):
            return False

    def get_terminal_stdin(self):
        return TerminalInput() if self._is_terminal(self.stdin) else None

    def get_terminal_stdout(self):
        return TerminalOutput() if self._is_terminal(self.stdout) else None

    def get_terminal_stderr(self):
        return TerminalOutput() if self._is_terminal(self.stderr) else None

    # --- wasi:clocks ------------------------------------------------------------------------------
    @staticmethod
    def monotonic_now() -> int:
        return time.monotonic_ns()

    @staticmethod
    def monotonic_resolution() -> int:
        return _clock_resolution("monotonic")

    @staticmethod
    def subscribe_instant(when: int) -> Pollable:
        return Pollable(when)

    @staticmethod
    def subscribe_duration(when: int) -> Pollable:
        return Pollable(time.monotonic_ns() + when)

    @staticmethod
    def wall_now() -> Record:
        ns = max(0, time.time_ns())
        return Record(seconds=ns // _NS, nanoseconds=ns % _NS)

    @staticmethod
    def wall_resolution() -> Record:
        ns = _clock_resolution("time")
        return Record(seconds=ns // _NS, nanoseconds=ns % _NS)

    # --- wasi:random ------------------------------------------------------------------------------
    @staticmethod
    def get_random_bytes(length: int) -> bytes:
        if length > MAX_RANDOM:
            raise Trap(f"get-random-bytes: {length} bytes asked, at most {MAX_RANDOM} at a time")
        return secrets.token_bytes(length)

    @staticmethod
    def get_random_u64() -> int:
        return secrets.randbits(64)

    def insecure_seed(self) -> tuple[int, int]:
        return self._seed

    # --- wasi:filesystem/preopens ---------------------------------------------------------------
    def get_directories(self) -> list[tuple[Descriptor, str]]:
        return [(filesystem.preopen_descriptor(os_fd, self.files), guest) for os_fd, guest in self.preopens]

    # --- the interfaces -------------------------------------------------------------------------
    def interfaces(self) -> dict[str, dict]:
        return {
            "wasi:cli/environment": {"get-environment": self.get_environment,
                                     "get-arguments": self.get_arguments, "initial-cwd": self.initial_cwd},
            "wasi:cli/exit": {"exit": self.exit, "exit-with-code": self.exit_with_code},
            "wasi:cli/stdin": {"get-stdin": self.get_stdin},
            "wasi:cli/stdout": {"get-stdout": self.get_stdout},
            "wasi:cli/stderr": {"get-stderr": self.get_stderr},
            "wasi:cli/terminal-input": {"terminal-input": TerminalInput},
            "wasi:cli/terminal-output": {"terminal-output": TerminalOutput},
            "wasi:cli/terminal-stdin": {"get-terminal-stdin": self.get_terminal_stdin},
            "wasi:cli/terminal-stdout": {"get-terminal-stdout": self.get_terminal_stdout},
            "wasi:cli/terminal-stderr": {"get-terminal-stderr": self.get_terminal_stderr},
            "wasi:io/error": _resource("error", IoError, "to-debug-string"),
            "wasi:io/poll": {**_resource("pollable", Pollable, "ready block"), "poll": io.poll},
            "wasi:io/streams": {
                **_resource("input-stream", InputStream, "read blocking-read skip blocking-skip subscribe"),
                **_resource("output-stream", OutputStream,
                            "check-write write blocking-write-and-flush flush blocking-flush subscribe "
                            "write-zeroes blocking-write-zeroes-and-flush splice blocking-splice"),
            },
            "wasi:clocks/monotonic-clock": {"now": self.monotonic_now, "resolution": self.monotonic_resolution,
                                            "subscribe-instant": self.subscribe_instant,
                                            "subscribe-duration": self.subscribe_duration},
            "wasi:clocks/wall-clock": {"now": self.wall_now, "resolution": self.wall_resolution},
            "wasi:filesystem/types": {
                **_resource("descriptor", Descriptor,
                            "read-via-stream write-via-stream append-via-stream advise sync-data get-flags "
                            "get-type set-size set-times read write read-directory sync create-directory-at "
                            "stat stat-at set-times-at link-at open-at readlink-at remove-directory-at "
                            "rename-at symlink-at unlink-file-at is-same-object metadata-hash "
                            "metadata-hash-at"),
                **_resource("directory-entry-stream", DirectoryEntryStream, "read-directory-entry"),
                "filesystem-error-code": filesystem.filesystem_error_code,
            },
            "wasi:filesystem/preopens": {"get-directories": self.get_directories},
            "wasi:random/random": {"get-random-bytes": self.get_random_bytes,
                                   "get-random-u64": self.get_random_u64},
            "wasi:random/insecure": {"get-insecure-random-bytes": self.get_random_bytes,
                                     "get-insecure-random-u64": self.get_random_u64},
            "wasi:random/insecure-seed": {"insecure-seed": self.insecure_seed},
            **sockets.interfaces(),
        }
