"""`wasi:filesystem` 0.2 on the host: the `descriptor` and `directory-entry-stream` resources.

Takes open host directories (the preopens) and gives descriptors whose methods the
`wasi:filesystem/types` items of `wasi2.interfaces()` name. The sandbox is preview 1's
(`wasmbuild/sandbox.py`): a descriptor holds an open host file or directory, never a path, and
every guest path is walked from a directory descriptor one component at a time, so an absolute
path, `..` above the directory and a symbolic link leading outside are refused with
`not-permitted` (the code wasmtime gives for them). A symbolic link made by `symlink-at` may not
have an absolute target (`not-permitted`), so the guest leaves no link to outside for the host's
own users to follow either.

Every method answers `Ok(value)` or `Err(error-code)` (the WIT enum case name: "no-entry",
"not-directory", ...; `error_code` maps a host errno), never a Python exception. The codes, and
which flags a descriptor gets, are those wasmtime's host gives (tests/test_component_wasi2.py
compares them on some 3,700 operations): a file is opened for writing when `write` is asked or it
is to be created or truncated, and for reading when `read` is asked or `write` is not; `read` and
`write` through a descriptor not opened for them are `bad-descriptor`, its streams fail on their
first use instead; a directory used as a file is `bad-descriptor` (`is-directory` for
`read-via-stream`), a file used as a directory `not-directory`. Every directory may be changed:
preopens are read-write, as `--dir` makes them (a preopen's flags are `read` and
`mutate-directory`, an opened directory's `read`). Streams of a descriptor hold their own
duplicate of its host file, so dropping the descriptor first is harmless.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import struct
import time
from contextlib import contextmanager

from ... import sandbox
from ..values import Err, Ok, Record, Variant
from .errorcodes import error_code
from .io import MAX_READ, FileSink, FileSource, HostFile, InputStream, IoError, OutputStream

ESCAPE = "not-permitted"   # a path or link leading outside the sandbox

_MAX_FILESIZE = (1 << 63) - 1

_TYPES = ((stat.S_ISDIR, "directory"), (stat.S_ISREG, "regular-file"), (stat.S_ISLNK, "symbolic-link"),
          (stat.S_ISCHR, "character-device"), (stat.S_ISBLK, "block-device"), (stat.S_ISFIFO, "fifo"),
          (stat.S_ISSOCK, "socket"))


def descriptor_type(mode: int) -> str:
    for test, name in _TYPES:
        if test(mode):
            return name
    return "unknown"


def datetime(ns: int):
    """A `wall-clock.datetime` record of nanoseconds since the epoch (None before it: a datetime
    has no sign)."""
    return None if ns < 0 else Record(seconds=ns // 1_000_000_000, nanoseconds=ns % 1_000_000_000)


def descriptor_stat(st: os.stat_result) -> Record:
    return Record(type=descriptor_type(st.st_mode), link_count=st.st_nlink, size=st.st_size,
                  data_access_timestamp=datetime(st.st_atime_ns),
                  data_modification_timestamp=datetime(st.st_mtime_ns),
                  status_change_timestamp=datetime(st.st_ctime_ns))


def metadata_hash(st: os.stat_result) -> Record:
    """Two u64 that are equal for the same file and differ for another (from device and inode;
    the preview-1 adapter gives the lower half as the inode number)."""
    digest = hashlib.blake2b(struct.pack("<QQ", st.st_dev, st.st_ino), digest_size=16).digest()
    lower, upper = struct.unpack("<QQ", digest)
    return Record(lower=lower, upper=upper)


def _answer(method):
    """Make a method answer `Ok(its value)` or `Err(error-code)` instead of raising."""
    @functools.wraps(method)
    def call(*args):
        try:
            return Ok(method(*args))
        except _Refused as e:
            return Err(e.code)
        except sandbox.Escape:
            return Err(ESCAPE)
        except OSError as e:
            return Err(error_code(e))
        except (OverflowError, ValueError):  # a size, offset or time no host call takes
            return Err("invalid")
    return call


class _Refused(Exception):
    def __init__(self, code: str):
        self.code = code


class Descriptor:
    """`wasi:filesystem/types.descriptor`: an open host file or directory. `flags` is the set of
    its `descriptor-flags` names; `files` the host's set of open files (see `HostFile`)."""

    def __init__(self, os_fd: int, files: set, flags: frozenset):
        self.file = HostFile(os_fd, files)
        self.flags = frozenset(flags)
        self.is_dir = stat.S_ISDIR(os.fstat(os_fd).st_mode)

    # --- helpers --------------------------------------------------------------------------------
    def _file_fd(self, needs: str | None = None) -> int:
        if self.is_dir:
            raise _Refused("bad-descriptor")
        if needs is not None and needs not in self.flags:
            raise _Refused("bad-descriptor")
        return self.file.fd()

    def _dir_fd(self) -> int:
        if not self.is_dir:
            raise _Refused("not-directory")
        return self.file.fd()

    def _dup(self) -> HostFile:
        return HostFile(os.dup(self.file.fd()), self.file._files)

    def _at(self, path: str, follow: bool = False):
        return sandbox.resolve(self._dir_fd(), path, follow)

    @contextmanager
    def _entry(self, path: str):
        """(directory, name) of the entry `path` names itself, even with a trailing slash (which
        then says it is a directory: a link or a file there is not-directory, as Linux says)."""
        bare = path.rstrip("/") or path
        with self._at(bare) as (at, name):
            if bare != path and name != "." and not _is_dir(at, name) and _exists(at, name):
                raise _Refused("not-directory")
            yield at, name

    @contextmanager
    def _new(self, path: str):
        """(directory, name) where a link is to be made: "x/" names a directory x, which must
        exist (and then the link cannot be made)."""
        with self._at(path) as (at, name):
            if path.endswith("/") and name != "." and not _exists(at, name):
                raise _Refused("no-entry")
            yield at, name

    @staticmethod
    def _follow(path_flags) -> bool:
        return "symlink-follow" in path_flags

    # --- streams --------------------------------------------------------------------------------
    @_answer
    def read_via_stream(self, offset: int) -> InputStream:
        if self.is_dir:
            raise _Refused("is-directory")
        return InputStream(FileSource(self._dup(), offset))

    @_answer
    def write_via_stream(self, offset: int) -> OutputStream:
        self._file_fd()
        return OutputStream(FileSink(self._dup(), offset))

    @_answer
    def append_via_stream(self) -> OutputStream:
        self._file_fd()
        return OutputStream(FileSink(self._dup(), None))

    # --- the open file --------------------------------------------------------------------------
    @_answer
    def advise(self, offset: int, length: int, advice: str) -> None:
        fd = self._file_fd()
        if hasattr(os, "posix_fadvise"):
            name = "POSIX_FADV_" + advice.upper().replace("-", "")
            os.posix_fadvise(fd, offset, length, getattr(os, name, os.POSIX_FADV_NORMAL))

    @_answer
    def sync_data(self) -> None:
        (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(self.file.fd())

    @_answer
    def sync(self) -> None:
        os.fsync(self.file.fd())

    @_answer
    def get_flags(self) -> set:
        return set(self.flags)

    @_answer
    def get_type(self) -> str:
        return descriptor_type(os.fstat(self.file.fd()).st_mode)

    @_answer
    def set_size(self, size: int) -> None:
        fd = self._file_fd()
        if size > _MAX_FILESIZE:
            raise _Refused("file-too-large")
        os.ftruncate(fd, size)

    @_answer
    def set_times(self, data_access_timestamp, data_modification_timestamp) -> None:
        fd = self.file.fd()
        os.utime(fd, ns=_new_times(os.fstat(fd), data_access_timestamp, data_modification_timestamp))

    @_answer
    def read(self, length: int, offset: int) -> tuple[bytes, bool]:
        """At most `length` bytes (and at most MAX_READ) at `offset`, and whether the end was
        reached: as wasmtime says it, when nothing was read."""
        fd = self._file_fd("read")
        if offset > _MAX_FILESIZE:
            raise _Refused("invalid")
        data = os.pread(fd, min(length, MAX_READ), offset)
        return data, not data

    @_answer
    def write(self, buffer: bytes, offset: int) -> int:
        fd = self._file_fd("write")
        if offset > _MAX_FILESIZE:
            raise _Refused("file-too-large")
        return os.pwrite(fd, bytes(buffer), offset)

    @_answer
    def stat(self) -> Record:
        return descriptor_stat(os.fstat(self.file.fd()))

    def is_same_object(self, other: "Descriptor") -> bool:
        try:
            a, b = os.fstat(self.file.fd()), os.fstat(other.file.fd())
        except OSError:
            return False
        return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)

    @_answer
    def metadata_hash(self) -> Record:
        return metadata_hash(os.fstat(self.file.fd()))

    # --- the directory ------------------------------------------------------------------------
    @_answer
    def read_directory(self) -> "DirectoryEntryStream":
        return DirectoryEntryStream(self._dir_fd())

    @_answer
    def create_directory_at(self, path: str) -> None:
        # "x/" is where x is made: whatever is at x already (a file, a link) exists
        with self._at(path.rstrip("/") or path) as (at, name):
            os.mkdir(name, dir_fd=at)

    @_answer
    def stat_at(self, path_flags, path: str) -> Record:
        with self._at(path, self._follow(path_flags)) as (at, name):
            return descriptor_stat(os.stat(name, dir_fd=at, follow_symlinks=False))

    @_answer
    def metadata_hash_at(self, path_flags, path: str) -> Record:
        with self._at(path, self._follow(path_flags)) as (at, name):
            return metadata_hash(os.stat(name, dir_fd=at, follow_symlinks=False))

    @_answer
    def set_times_at(self, path_flags, path: str, data_access_timestamp, data_modification_timestamp) -> None:
        with self._at(path, self._follow(path_flags)) as (at, name):
            st = os.stat(name, dir_fd=at, follow_symlinks=False)
            os.utime(name, dir_fd=at, follow_symlinks=False,
                     ns=_new_times(st, data_access_timestamp, data_modification_timestamp))

    @_answer
    def link_at(self, old_path_flags, old_path: str, new_descriptor: "Descriptor", new_path: str) -> None:
        if self._follow(old_path_flags):
            raise _Refused("invalid")  # as wasmtime: a hard link to where a symbolic link leads is not made
        with self._at(old_path, self._follow(old_path_flags)) as (old_at, old), \
                new_descriptor._new(new_path) as (new_at, new):
            os.link(old, new, src_dir_fd=old_at, dst_dir_fd=new_at, follow_symlinks=False)

    @_answer
    def open_at(self, path_flags, path: str, open_flags, flags) -> "Descriptor":
        # as wasmtime: a file is opened for writing when asked to or to be created or truncated,
        # and for reading when asked to or not asked to write
        write = "write" in flags or bool(open_flags & {"create", "truncate"})
        read = "read" in flags or "write" not in flags
        if "directory" in open_flags:
            if open_flags & {"create", "exclusive", "truncate"}:
                raise _Refused("invalid")
            mode = os.O_RDONLY | os.O_DIRECTORY
        else:
            mode = os.O_RDWR if read and write else os.O_WRONLY if write else os.O_RDONLY
        for wit_flag, os_flag in (("create", os.O_CREAT), ("exclusive", os.O_EXCL), ("truncate", os.O_TRUNC)):
            if wit_flag in open_flags:
                mode |= os_flag
        if "create" in open_flags and path.endswith("/"):
            raise _Refused("is-directory")  # as Linux: a file is not made at a directory's name
        # an exclusive create makes the name itself: a link there exists, wherever it leads
        follow = self._follow(path_flags) and not {"create", "exclusive"} <= open_flags
        with self._at(path, follow) as (at, name):
            # O_NOFOLLOW: a link still in last place is one the program asked not to follow;
            # O_NONBLOCK: opening a FIFO must not wait for a writer (cleared again below)
            try:
                os_fd = os.open(name, mode | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644, dir_fd=at)
            except NotADirectoryError:
                if stat.S_ISLNK(os.stat(name, dir_fd=at, follow_symlinks=False).st_mode):
                    raise _Refused("loop") from None  # a link not followed, as O_NOFOLLOW alone says
                raise
        os.set_blocking(os_fd, True)
        if stat.S_ISDIR(os.fstat(os_fd).st_mode):
            if "write" in flags:
                os.close(os_fd)
                raise _Refused("is-directory")
            return Descriptor(os_fd, self.file._files, frozenset({"read"}))
        return Descriptor(os_fd, self.file._files, frozenset({"read"} if read else set()) | ({"write"} if write else set()))

    @_answer
    def readlink_at(self, path: str) -> str:
        with self._at(path) as (at, name):
            target = os.readlink(name, dir_fd=at)
        if target.startswith("/"):
            raise sandbox.Escape(path)  # the guest sees no host path
        return target

    @_answer
    def remove_directory_at(self, path: str) -> None:
        with self._entry(path) as (at, name):
            os.rmdir(name, dir_fd=at)

    @_answer
    def rename_at(self, old_path: str, new_descriptor: "Descriptor", new_path: str) -> None:
        with self._entry(old_path) as (old_at, old), new_descriptor._entry(new_path) as (new_at, new):
            if (old_path.endswith("/") or new_path.endswith("/")) and _exists(old_at, old) \
                    and not _is_dir(old_at, old):
                raise _Refused("not-directory")  # only a directory moves to or from "x/"
            os.rename(old, new, src_dir_fd=old_at, dst_dir_fd=new_at)

    @_answer
    def symlink_at(self, old_path: str, new_path: str) -> None:
        if old_path.startswith("/"):
            raise sandbox.Escape(old_path)
        if "\0" in old_path:
            raise _Refused("invalid")
        with self._new(new_path) as (at, name):
            os.symlink(old_path, name, dir_fd=at)

    @_answer
    def unlink_file_at(self, path: str) -> None:
        with self._at(path) as (at, name):
            if stat.S_ISDIR(os.stat(name, dir_fd=at, follow_symlinks=False).st_mode):
                raise _Refused("is-directory")
            os.unlink(name, dir_fd=at)

    def drop(self) -> None:
        self.file.close()


def _exists(at: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=at, follow_symlinks=False)
        return True
    except OSError:
        return False


def _is_dir(at: int, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=at, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _new_times(st: os.stat_result, access, modification) -> tuple[int, int]:
    """(atime, mtime) in ns for os.utime from two `new-timestamp` variants."""
    def one(new: Variant, current: int) -> int:
        if new.case == "no-change":
            return current
        if new.case == "now":
            return time.time_ns()
        return new.payload.seconds * 1_000_000_000 + new.payload.nanoseconds
    return one(access, st.st_atime_ns), one(modification, st.st_mtime_ns)


class DirectoryEntryStream:
    """`wasi:filesystem/types.directory-entry-stream`: the entries of a directory (without "."
    and ".."), sorted by name, as they were when the stream was made."""

    def __init__(self, dir_fd: int):
        with os.scandir(dir_fd) as entries:
            self.entries = sorted(((e.name, _entry_type(e)) for e in entries), reverse=True)

    @_answer
    def read_directory_entry(self):
        if not self.entries:
            return None
        name, kind = self.entries.pop()
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:  # not UTF-8 on the host: a WIT string cannot hold it
            raise _Refused("illegal-byte-sequence") from None
        return Record(type=kind, name=name)


def _entry_type(entry: os.DirEntry) -> str:
    try:
        return descriptor_type(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return "unknown"


def filesystem_error_code(err: IoError):
    """`filesystem-error-code`: the error-code of a stream error that came from a file."""
    return err.code


def preopen_descriptor(os_fd: int, files: set) -> Descriptor:
    """A descriptor of its own on a preopened directory (a duplicate of the host's descriptor)."""
    return Descriptor(os.dup(os_fd), files, frozenset({"read", "mutate-directory"}))
