"""`wasi:io` 0.2 on the host: the `error`, `pollable`, `input-stream` and `output-stream` resources.

Takes host byte sources and sinks (a binary file object for stdio, an open host file and a
position for a file's streams) and gives the resource classes whose methods the interfaces of
`wasi2.interfaces()` name. Everything is single-threaded and synchronous: a stream on stdio or a
file is always ready (its pollable is ready at once, `read` may wait for stdin like
`blocking-read`), and only a clock's pollable is ever not ready (`Pollable.deadline`, in
monotonic nanoseconds).

Results follow WIT (`result<T, stream-error>`): `Ok(value)`, or `Err(Variant("closed"))` at the
end of a stream, or `Err(Variant("last-operation-failed", IoError))` when the host failed (the
stream is closed from then on). A read gives at most `MAX_READ` bytes at a time (WIT lets a read
give fewer bytes than asked). `write` and `blocking-write-and-flush` take any length (the bytes
are already in host memory); the `*-zeroes` forms, which make their bytes here, take at most
what `check-write` allows (`WRITE_PERMIT`), as WIT asks, and trap otherwise.
"""

from __future__ import annotations

import errno
import os
import time

from ...loader.runtime import Trap
from ..values import Err, Ok, Variant
from .errorcodes import error_code

MAX_READ = 1 << 20        # the most one read gives
WRITE_PERMIT = 1 << 20    # what check-write allows at a time
_MAX_SLEEP = 86400.0      # seconds: a long wait is slept a day at a time

CLOSED = Err(Variant("closed"))


class IoError:
    """`wasi:io/error.error`: what went wrong, and the filesystem `error-code` name when it came
    from a file (for `wasi:filesystem/types.filesystem-error-code`)."""

    def __init__(self, message: str, code: str | None = None):
        self.message = message
        self.code = code

    def to_debug_string(self) -> str:
        return self.message


def failed(error: OSError | ValueError) -> Err:
    """The `last-operation-failed` answer for a host error."""
    code = error_code(error) if isinstance(error, OSError) else None
    return Err(Variant("last-operation-failed", IoError(str(error), code)))


# --- pollables ------------------------------------------------------------------------------------

class Pollable:
    """`wasi:io/poll.pollable`: ready at once, or at `deadline` (monotonic ns) for a clock's."""

    def __init__(self, deadline: int | None = None):
        self.deadline = deadline

    def ready(self) -> bool:
        return self.deadline is None or time.monotonic_ns() >= self.deadline

    def block(self) -> None:
        if self.deadline is not None:
            sleep_until(self.deadline)


def sleep_until(deadline: int) -> None:
    while (left := deadline - time.monotonic_ns()) > 0:
        time.sleep(min(left / 1e9, _MAX_SLEEP))


def poll(pollables: list[Pollable]) -> list[int]:
    """`wasi:io/poll.poll`: the indices of the ready pollables, waiting for the first if none is
    (an empty list traps, as WIT says)."""
    if not pollables:
        raise Trap("poll: the list of pollables is empty")
    ready = [i for i, p in enumerate(pollables) if p.ready()]
    if not ready:
        sleep_until(min(p.deadline for p in pollables))
        ready = [i for i, p in enumerate(pollables) if p.ready()]
    return ready


# --- byte sources and sinks -----------------------------------------------------------------------

class HostFile:
    """An open host file owned by one resource (a duplicate of its descriptor's, so each closes
    its own); `files` is the set of those still open, for `Wasi2.close`."""

    def __init__(self, os_fd: int, files: set):
        self.os_fd: int | None = os_fd
        self._files = files
        files.add(self)

    def close(self) -> None:
        if self.os_fd is not None:
            os.close(self.os_fd)
            self.os_fd = None
        self._files.discard(self)

    def fd(self) -> int:
        if self.os_fd is None:
            raise OSError(errno.EBADF, "closed")
        return self.os_fd


class StdioSource:
    """Bytes from a binary file object (stdin)."""

    def __init__(self, stream):
        self.stream = stream

    def read(self, n: int) -> bytes:
        stream = self.stream
        return stream.read1(n) if hasattr(stream, "read1") else stream.read(n)

    def close(self) -> None:
        pass  # stdio belongs to whoever made the Wasi2


class FileSource:
    """Bytes from a host file, from a position of its own."""

    def __init__(self, file: HostFile, offset: int):
        self.file = file
        self.offset = offset

    def read(self, n: int) -> bytes:
        try:
            data = os.pread(self.file.fd(), n, self.offset)
        except OverflowError:  # an offset beyond any file
            raise OSError(errno.EINVAL, "offset too large") from None
        self.offset += len(data)
        return data

    def close(self) -> None:
        self.file.close()


class StdioSink:
    """Bytes to a binary file object (stdout, stderr)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data)  # a buffered stream takes it all

    def flush(self) -> None:
        if hasattr(self.stream, "flush"):
            self.stream.flush()

    def close(self) -> None:
        pass


class FileSink:
    """Bytes to a host file: from a position of its own, or at its end (`offset` None)."""

    def __init__(self, file: HostFile, offset: int | None):
        self.file = file
        self.offset = offset

    def write(self, data: bytes) -> None:
        fd = self.file.fd()
        view = memoryview(data)
        while view:
            at = os.fstat(fd).st_size if self.offset is None else self.offset
            try:
                done = os.pwrite(fd, view, at)
            except OverflowError:  # an offset beyond any file
                raise OSError(errno.EFBIG, "offset too large") from None
            if done == 0:
                raise OSError(errno.EIO, "nothing written")  # no progress: do not spin
            if self.offset is not None:
                self.offset += done
            view = view[done:]

    def flush(self) -> None:
        pass  # written straight to the host file

    def close(self) -> None:
        self.file.close()


# --- streams --------------------------------------------------------------------------------------

class InputStream:
    """`wasi:io/streams.input-stream` over a source (`read(n)` giving b"" at the end)."""

    def __init__(self, source):
        self.source = source
        self.closed = False

    def read(self, length: int):
        if self.closed:
            return CLOSED
        if length == 0:
            return Ok(b"")
        try:
            data = self.source.read(min(length, MAX_READ))
        except (OSError, ValueError) as e:
            self.closed = True
            return failed(e)
        if data is None:  # a non-blocking host stream with nothing in it yet
            return Ok(b"")
        if not data:
            self.closed = True
            return CLOSED
        return Ok(bytes(data))

    blocking_read = read  # always ready: a read waits for stdin as the blocking one does

    def skip(self, length: int):
        result = self.read(length)
        return Ok(len(result.value)) if isinstance(result, Ok) else result

    blocking_skip = skip

    def subscribe(self) -> Pollable:
        return Pollable()

    def drop(self) -> None:
        self.closed = True
        self.source.close()


class OutputStream:
    """`wasi:io/streams.output-stream` over a sink (`write(data)`, `flush()`)."""

    def __init__(self, sink):
        self.sink = sink
        self.closed = False

    def _do(self, step, *args):
        if self.closed:
            return CLOSED
        try:
            step(*args)
        except BrokenPipeError:
            self.closed = True
            return CLOSED
        except (OSError, ValueError) as e:  # ValueError: a Python file object closed under us
            self.closed = True
            return failed(e)
        return Ok(None)

    def check_write(self):
        return CLOSED if self.closed else Ok(WRITE_PERMIT)

    def write(self, contents: bytes):
        return self._do(self.sink.write, bytes(contents))

    def blocking_write_and_flush(self, contents: bytes):
        result = self.write(contents)
        return self.flush() if isinstance(result, Ok) else result

    def flush(self):
        return self._do(self.sink.flush)

    blocking_flush = flush

    def write_zeroes(self, length: int):
        if length > WRITE_PERMIT:
            raise Trap(f"output-stream.write-zeroes: {length} bytes, more than check-write allows "
                       f"({WRITE_PERMIT})")
        return self.write(bytes(length))

    def blocking_write_zeroes_and_flush(self, length: int):
        result = self.write_zeroes(length)
        return self.flush() if isinstance(result, Ok) else result

    def splice(self, src: InputStream, length: int):
        data = src.read(min(length, WRITE_PERMIT))
        if not isinstance(data, Ok):
            return data
        result = self.write(data.value)
        return Ok(len(data.value)) if isinstance(result, Ok) else result

    blocking_splice = splice

    def subscribe(self) -> Pollable:
        return Pollable()

    def drop(self) -> None:
        if not self.closed:
            try:
                self.sink.flush()
            except (OSError, ValueError):
                pass
        self.closed = True
        self.sink.close()
