"""Writing files so that a reader never sees half of one.

`atomic_write(path, data, durable=False)` takes a path and bytes and gives nothing: it writes the
bytes to a new temporary file in the same directory (`.<name>.<random>.tmp`, the name cut to 64
characters; mode 0o666 less the umask, as `open` would make it), then `os.replace`s it onto
`path`. A reader sees the old file or the new one, never a mix; on any failure (an interrupt too)
the temporary file is removed, `path` is left as it was and the error propagates. `durable` also
fsyncs the file before the rename and the directory after it, so the new file survives a power
failure: for outputs a user keeps (images, packages), not for cache entries, which are verified
when they are read instead.
"""

from __future__ import annotations

import os


def atomic_write(path: str, data: bytes, durable: bool = False) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        tmp = os.path.join(directory, f".{os.path.basename(path)[:64]}.{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
