"""The filesystem sandbox both WASI hosts share (preview 1 in `wasi.py`, 0.2 in `component/wasi2/`).

A program reaches files only through preopened directories. `open_preopen(host)` opens one (an
open host directory, not a path: renaming it afterwards changes nothing). `resolve(start, path,
follow)` walks a guest path from the open directory `start` one component at a time with
`openat`-style calls that never follow a symbolic link by themselves: a link is read and its
target walked in turn, so an absolute path, a `..` that would climb above `start` and a link
leading outside it raise `Escape`, whatever is renamed meanwhile. It gives (host directory
descriptor, name): the directory holding the path's last component, and that component ("." for
the directory itself); the caller does the one `*at` call on them. A path ending in "/" names a
directory, as in POSIX: a link in last place is followed, and a file there is ENOTDIR.

Other failures are `OSError`s with the host's errno, for the caller to translate: a NUL in the
path is EINVAL, an empty path ENOENT, more than `MAX_SYMLINKS` links in one path ELOOP, a missing
or non-directory component what `openat` says.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import contextmanager

MAX_SYMLINKS = 40   # links followed in one path, as Linux; more is ELOOP
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Escape(Exception):
    """The guest path leads outside the directory it is walked from."""


def open_preopen(host: str) -> int:
    """An open descriptor of the host directory `host` (NotADirectoryError naming it if it is none)."""
    if not os.path.isdir(host):
        raise NotADirectoryError(f"--dir {host}: not a directory")
    try:
        return os.open(host, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise NotADirectoryError(f"--dir {host}: cannot open: {e.strerror}") from None


@contextmanager
def resolve(start: int, path: str, follow: bool):
    """Walk `path` from the open directory `start`; gives (host directory descriptor, name). With
    `follow`, a symbolic link in last place is followed too, else the name may be a link.
    Descriptors opened on the way are closed when the block ends."""
    if "\0" in path:
        raise OSError(errno.EINVAL, "NUL in path")
    if not path:
        raise OSError(errno.ENOENT, "empty path")
    if path.startswith("/"):
        raise Escape(path)
    dir_only = path.endswith("/")  # as POSIX: a trailing slash follows a link and wants a directory
    opened: list[int] = []  # the directories walked into below `start`, innermost last
    try:
        at, name = _walk(start, path, follow or dir_only, opened)
        if dir_only and name != "." and not _is_dir_or_missing(at, name):
            raise OSError(errno.ENOTDIR, "not a directory")
        yield at, name
    finally:
        for fd in opened:
            os.close(fd)


def _is_dir_or_missing(at: int, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=at, follow_symlinks=False).st_mode)
    except OSError:
        return True  # not there (or not to be looked at): what is done with it will say so


def _walk(start: int, path: str, follow: bool, opened: list[int]) -> tuple[int, str]:
    pending = [part for part in reversed(path.split("/")) if part]  # next component last
    links = 0
    while pending:
        part = pending.pop()
        here = opened[-1] if opened else start
        if part == ".":
            continue
        if part == "..":
            if not opened:
                raise Escape(path)
            os.close(opened.pop())
            continue
        if not pending and not follow:
            return here, part
        try:
            target = os.readlink(part, dir_fd=here)
        except OSError:
            target = None  # not a link (or not there: what is done with it will say so)
        if target is not None:
            links += 1
            if links > MAX_SYMLINKS:
                raise OSError(errno.ELOOP, "too many symbolic links")
            if target.startswith("/"):
                raise Escape(path)
            pending += [p for p in reversed(target.split("/")) if p]
            continue
        if not pending:
            return here, part
        opened.append(os.open(part, _DIR_FLAGS, dir_fd=here))  # O_NOFOLLOW: a link swapped in is ELOOP
    return (opened[-1] if opened else start), "."
