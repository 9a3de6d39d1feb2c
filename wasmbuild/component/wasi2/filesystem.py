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
"not-directory", ...; `error_code` maps a host errno), never a Python exception. A directory
descriptor used as a file, or the other way round, is `bad-descriptor` and `not-directory`;
reading or writing through a descriptor opened without `read` or `write` is `bad-descriptor`.
Every directory descriptor may be read and changed (`read` and `mutate-directory`): preopens are
read-write, as `--dir` makes them. Streams of a descriptor hold their own duplicate of its host
file, so dropping the descriptor first is harmless.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import stat
import struct
import time

from ... import sandbox
from ..values import Err, Ok, Record, Variant
from .io import MAX_READ, FileSink, FileSource, HostFile, InputStream, IoError, OutputStream

_ERROR_CODES = {
    "EACCES": "access", "EAGAIN": "would-block", "EALREADY": "already", "EBADF": "bad-descriptor",
    "EBUSY": "busy", "EDEADLK": "deadlock", "EDQUOT": "quota", "EEXIST": "exist",
    "EFBIG": "file-too-large", "EILSEQ": "illegal-byte-sequence", "EINPROGRESS": "in-progress",
    "EINTR": "interrupted", "EINVAL": "invalid", "EIO": "io", "EISDIR": "is-directory",
    "ELOOP": "loop", "EMLINK": "too-many-links", "EMSGSIZE": "message-size",
    "ENAMETOOLONG": "name-too-long", "ENODEV": "no-device", "ENOENT": "no-entry",
    "ENOLCK": "no-lock", "ENOMEM": "insufficient-memory", "ENOSPC": "insufficient-space",
    "ENOTDIR": "not-directory", "ENOTEMPTY": "not-empty", "ENOTRECOVERABLE": "not-recoverable",
    "ENOTSUP": "unsupported", "EOPNOTSUPP": "unsupported", "ENOTTY": "no-tty",
    "ENXIO": "no-such-device", "EOVERFLOW": "overflow", "EPERM": "not-permitted", "EPIPE": "pipe",
    "EROFS": "read-only", "ESPIPE": "invalid-seek", "ETXTBSY": "text-file-busy",
    "EXDEV": "cross-device",
}
# host errno number -> error-code name (only the errnos this host has)
ERRNO_CODES = {getattr(errno, name): code for name, code in _ERROR_CODES.items() if hasattr(errno, name)}
ESCAPE = "not-permitted"   # a path or link leading outside the sandbox

_MAX_FILESIZE = (1 << 63) - 1

_TYPES = ((stat.S_ISDIR, "directory"), (stat.S_ISREG, "regular-file"), (stat.S_ISLNK, "symbolic-link"),
          (stat.S_ISCHR, "character-device"), (stat.S_ISBLK, "block-device"), (stat.S_ISFIFO, "fifo"),
          (stat.S_ISSOCK, "socket"))


def error_code(error: OSError) -> str:
    """The WIT `error-code` case of a host error ("io" for one WIT has no name for)."""
    return ERRNO_CODES.get(error.errno, "io")


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

    @staticmethod
    def _follow(path_flags) -> bool:
        return "symlink-follow" in path_flags

    # --- streams --------------------------------------------------------------------------------
    @_answer
    def read_via_stream(self, offset: int) -> InputStream:
        self._file_fd("read")
        return InputStream(FileSource(self._dup(), offset))

    @_answer
    def write_via_stream(self, offset: int) -> OutputStream:
        self._file_fd("write")
        return OutputStream(FileSink(self._dup(), offset))

    @_answer
    def append_via_stream(self) -> OutputStream:
        self._file_fd("write")
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
        fd = self._file_fd("write")
        if size > _MAX_FILESIZE:
            raise _Refused("file-too-large")
        os.ftruncate(fd, size)

    @_answer
    def set_times(self, data_access_timestamp, data_modification_timestamp) -> None:
        fd = self.file.fd()
        os.utime(fd, ns=_new_times(os.fstat(fd), data_access_timestamp, data_modification_timestamp))

    @_answer
    def read(self, length: int, offset: int) -> tuple[bytes, bool]:
        """At most `length` bytes (and at most MAX_READ) at `offset`; True once the end is reached."""
        fd = self._file_fd("read")
        if offset > _MAX_FILESIZE:
            raise _Refused("invalid")
        data = os.pread(fd, min(length, MAX_READ), offset)
        return data, len(data) < min(length, MAX_READ)

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
        with self._at(path) as (at, name):
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
        with self._at(old_path, self._follow(old_path_flags)) as (old_at, old), \
                new_descriptor._at(new_path) as (new_at, new):
            os.link(old, new, src_dir_fd=old_at, dst_dir_fd=new_at, follow_symlinks=False)

    @_answer
    def open_at(self, path_flags, path: str, open_flags, flags) -> "Descriptor":
        flags = set(flags)
        read, write = "read" in flags, "write" in flags
        if "directory" in open_flags:
            if open_flags & {"create", "exclusive", "truncate"}:
                raise _Refused("invalid")
            mode = os.O_RDONLY | os.O_DIRECTORY
        else:
            if open_flags & {"create", "truncate"} and not write:
                raise _Refused("invalid")  # creating or truncating needs write access
            mode = os.O_RDWR if read and write else os.O_WRONLY if write else os.O_RDONLY
        for wit_flag, os_flag in (("create", os.O_CREAT), ("exclusive", os.O_EXCL), ("truncate", os.O_TRUNC)):
            if wit_flag in open_flags:
                mode |= os_flag
        with self._at(path, self._follow(path_flags)) as (at, name):
            # O_NOFOLLOW: a link still in last place is one the program asked not to follow;
            # O_NONBLOCK: opening a FIFO must not wait for a writer (cleared again below)
            os_fd = os.open(name, mode | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644, dir_fd=at)
        os.set_blocking(os_fd, True)
        if stat.S_ISDIR(os.fstat(os_fd).st_mode):
            flags = {"read", "mutate-directory"}
        return Descriptor(os_fd, self.file._files, frozenset(flags))

    @_answer
    def readlink_at(self, path: str) -> str:
        with self._at(path) as (at, name):
            return os.readlink(name, dir_fd=at)

    @_answer
    def remove_directory_at(self, path: str) -> None:
        with self._at(path) as (at, name):
            os.rmdir(name, dir_fd=at)

    @_answer
    def rename_at(self, old_path: str, new_descriptor: "Descriptor", new_path: str) -> None:
        with self._at(old_path) as (old_at, old), new_descriptor._at(new_path) as (new_at, new):
            os.rename(old, new, src_dir_fd=old_at, dst_dir_fd=new_at)

    @_answer
    def symlink_at(self, old_path: str, new_path: str) -> None:
        if old_path.startswith("/"):
            raise sandbox.Escape(old_path)
        if "\0" in old_path:
            raise _Refused("invalid")
        with self._at(new_path) as (at, name):
            os.symlink(old_path, name, dir_fd=at)

    @_answer
    def unlink_file_at(self, path: str) -> None:
        with self._at(path) as (at, name):
            if stat.S_ISDIR(os.stat(name, dir_fd=at, follow_symlinks=False).st_mode):
                raise _Refused("is-directory")
            os.unlink(name, dir_fd=at)

    def drop(self) -> None:
        self.file.close()


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
