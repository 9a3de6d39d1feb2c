"""A `wasi_snapshot_preview1` host: what C programs built for wasm32-wasi call.

`Wasi(args, env, preopens, stdin, stdout, stderr)` holds a program's view of the world: its
arguments and environment, and the host directories it may see, each under a guest name
(`preopens`: guest path -> host path). `wasi.namespace(store)` gives the host functions by name, to
be provided as the `wasi_snapshot_preview1` import namespace; `wasi.bind(memory)` names the memory
they read and write (the program's exported memory); `wasi.run(start)` calls `_start` and gives
the exit code (`proc_exit` ends the program through `WasiExit`).

Sandboxing: a program reaches files only through preopened directories, and every descriptor it
holds names a host object inside the directory it was opened from. A directory descriptor holds
an open host directory (not a path), and a guest path is walked from it one component at a time
with `openat`-style calls that never follow a symbolic link by themselves (`sandbox.py`, shared
with the WASI 0.2 host): a link is read and its target walked in turn, so absolute paths, `..`
that would climb above the starting directory and links leading outside it are refused with
`ENOTCAPABLE`, whatever is renamed meanwhile. Functions
that make no sense here (sockets, hard links...) return `ENOTSUP`; a module importing a name that
WASI preview 1 does not have is reported when it is linked ("unknown import").

Every function answers with an errno, never a Python exception: sizes and addresses are checked
against memory before anything is allocated, and data moves between memory and files a bounded
chunk at a time (one `fd_read`/`fd_write` moves at most `MAX_TRANSFER` bytes, as Linux does).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import struct
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from . import sandbox
from .contract.types import I32, I64, FuncType
from .loader.runtime import Function, Memory, Store

NAMESPACE = "wasi_snapshot_preview1"

# errno values of WASI preview 1
SUCCESS, E2BIG, EACCES, EAGAIN, EBADF, EBUSY, EEXIST, EFAULT, EFBIG = 0, 1, 2, 6, 8, 10, 20, 21, 22
EINTR, EINVAL, EIO, EISDIR, ELOOP, EMFILE, ENAMETOOLONG, ENFILE, ENOENT = 27, 28, 29, 31, 32, 33, 37, 41, 44
ENOMEM, ENOSPC, ENOSYS, ENOTDIR, ENOTEMPTY, ENOTSUP, EPERM, EPIPE = 48, 51, 52, 54, 55, 58, 63, 64
EROFS, ESPIPE, EXDEV, ENOTCAPABLE = 69, 70, 75, 76

_ERRNO = {errno.E2BIG: E2BIG, errno.EACCES: EACCES, errno.EAGAIN: EAGAIN, errno.EBADF: EBADF,
          errno.EBUSY: EBUSY, errno.EEXIST: EEXIST, errno.EFAULT: EFAULT, errno.EFBIG: EFBIG,
          errno.EINTR: EINTR, errno.EINVAL: EINVAL, errno.EIO: EIO, errno.EISDIR: EISDIR,
          errno.ELOOP: ELOOP, errno.EMFILE: EMFILE, errno.ENAMETOOLONG: ENAMETOOLONG,
          errno.ENFILE: ENFILE, errno.ENOENT: ENOENT, errno.ENOMEM: ENOMEM, errno.ENOSPC: ENOSPC,
          errno.ENOTDIR: ENOTDIR, errno.ENOTEMPTY: ENOTEMPTY, errno.EOPNOTSUPP: ENOTSUP,
          errno.EPERM: EPERM, errno.EPIPE: EPIPE, errno.EROFS: EROFS, errno.ESPIPE: ESPIPE,
          errno.EXDEV: EXDEV}

# file types
FT_UNKNOWN, FT_BLOCK, FT_CHAR, FT_DIR, FT_REGULAR, FT_SYMLINK = 0, 1, 2, 3, 4, 7

RIGHT_FD_READ = 1 << 1
RIGHT_FD_WRITE = 1 << 6
ALL_RIGHTS = (1 << 30) - 1

LOOKUP_SYMLINK_FOLLOW = 1
O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC = 1, 2, 4, 8
FDFLAG_APPEND = 1
EVENT_CLOCK, EVENT_FD_READ, EVENT_FD_WRITE = 0, 1, 2
SUBSCRIPTION_CLOCK_ABSTIME = 1

# preview 1 records (little-endian, fields at their natural alignment)
_IOVEC = struct.Struct("<II")                   # buf, buf_len
_SUBSCRIPTION = struct.Struct("<QB7xI4xQQH6x")  # userdata, tag, then for a clock: its id, timeout,
                                                # precision, flags; for fd_read/fd_write: the fd (as id)
_EVENT = struct.Struct("<QHB5xQH6x")             # userdata, error, type; fd: nbytes, flags
_FILESTAT = struct.Struct("<QQB7xQQQQQ")         # dev, ino, filetype, nlink, size, atim, mtim, ctim
_DIRENT = struct.Struct("<QQIB3x")               # d_next, d_ino, d_namlen, d_type

_CHUNK = 1 << 20              # the most copied between memory and the host at a time
MAX_TRANSFER = 0x7FFFF000     # the most one fd_read or fd_write moves, as Linux's read and write
_MAX_SLEEP = 86400.0          # seconds: a long wait is slept a day at a time
_CLOCKS = (time.time_ns, time.monotonic_ns, time.process_time_ns, time.thread_time_ns)


class WasiExit(Exception):
    """Raised by proc_exit: the program ended with `code`."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class _Errno(Exception):
    def __init__(self, errno: int):
        self.errno = errno


@dataclass
class _Fd:
    kind: str                   # "stdio", "dir", "file"
    os_fd: int | None = None    # dirs and files: the open host object itself
    guest_path: str | None = None  # preopened directories: their guest name
    stream: object = None       # stdio: a binary file object
    filetype: int = FT_UNKNOWN
    append: bool = False
    readable: bool = True
    writable: bool = True


def _i64(bits: int) -> int:
    return bits - (1 << 64) if bits & (1 << 63) else bits


class Wasi:
    def __init__(self, args: list[str] | None = None, env: dict[str, str] | None = None,
                 preopens: dict[str, str] | None = None, stdin=None, stdout=None, stderr=None):
        self.args = list(args or ["program"])
        self.env = dict(env or {})
        self.memory: Memory | None = None
        self.fds: dict[int, _Fd] = {
            0: _Fd("stdio", stream=stdin or sys.stdin.buffer, filetype=FT_CHAR, writable=False),
            1: _Fd("stdio", stream=stdout or sys.stdout.buffer, filetype=FT_CHAR, readable=False),
            2: _Fd("stdio", stream=stderr or sys.stderr.buffer, filetype=FT_CHAR, readable=False),
        }
        for guest, host in (preopens or {}).items():
            try:
                os_fd = sandbox.open_preopen(host)
            except NotADirectoryError:
                self.close()
                raise
            self.fds[len(self.fds)] = _Fd("dir", os_fd=os_fd, guest_path=guest, filetype=FT_DIR)

    # --- plumbing ---------------------------------------------------------------------------------
    def bind(self, memory: Memory) -> None:
        self.memory = memory

    def run(self, start: Function) -> int:
        try:
            start()
        except WasiExit as e:
            return e.code
        finally:
            self.flush()
        return 0

    def flush(self) -> None:
        for fd in (1, 2):
            entry = self.fds.get(fd)
            if entry is not None and hasattr(entry.stream, "flush"):
                try:
                    entry.stream.flush()
                except (OSError, ValueError):
                    pass

    def close(self) -> None:
        for entry in self.fds.values():
            if entry.os_fd is not None:
                os.close(entry.os_fd)
                entry.os_fd = None

    def _mem(self) -> Memory:
        if self.memory is None:
            raise _Errno(EFAULT)
        return self.memory

    def _check(self, ptr: int, n: int) -> None:
        """EFAULT unless the `n` bytes at `ptr` lie inside memory (checked before any allocation)."""
        if ptr + n > self._mem().size:
            raise _Errno(EFAULT)

    def _read(self, ptr: int, n: int) -> bytes:
        try:
            return self._mem().read(ptr, n)
        except IndexError:
            raise _Errno(EFAULT) from None

    def _write(self, ptr: int, data: bytes) -> None:
        try:
            self._mem().write(ptr, data)
        except IndexError:
            raise _Errno(EFAULT) from None

    def _u32(self, ptr: int, value: int) -> None:
        self._write(ptr, struct.pack("<I", value & 0xFFFFFFFF))

    def _u64(self, ptr: int, value: int) -> None:
        self._write(ptr, struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF))

    def _fd(self, fd: int) -> _Fd:
        entry = self.fds.get(fd)
        if entry is None:
            raise _Errno(EBADF)
        return entry

    def _new_fd(self, entry: _Fd) -> int:
        fd = 0
        while fd in self.fds:
            fd += 1
        self.fds[fd] = entry
        return fd

    def _records(self, ptr: int, count: int, record: struct.Struct):
        """The `count` records of layout `record` at `ptr` (the array checked against memory first),
        read a block of at most _CHUNK bytes at a time."""
        self._check(ptr, count * record.size)
        per_block = max(1, _CHUNK // record.size)
        for first in range(0, count, per_block):
            n = min(per_block, count - first)
            yield from record.iter_unpack(self._read(ptr + first * record.size, n * record.size))

    def _iovecs(self, ptr: int, count: int):
        """The (address, length) pairs of an iovec array, every one checked against memory before
        the first is used."""
        for buf, n in self._records(ptr, count, _IOVEC):
            self._check(buf, n)
        return self._records(ptr, count, _IOVEC)

    @staticmethod
    def _pieces(spans, limit: int):
        """(address, length) pieces of at most _CHUNK bytes covering `spans`, `limit` bytes at most."""
        for ptr, n in spans:
            while n and limit:
                k = min(n, _CHUNK, limit)
                yield ptr, k
                ptr, n, limit = ptr + k, n - k, limit - k
            if not limit:
                return

    @contextmanager
    def _at(self, dirfd: int, path_ptr: int, path_len: int, follow: bool):
        """Walk a guest path from directory `dirfd` (`sandbox.resolve`); gives (host directory
        descriptor, name). A path leading outside is ENOTCAPABLE."""
        base = self._fd(dirfd)
        if base.kind != "dir":
            raise _Errno(ENOTDIR)
        try:
            path = self._read(path_ptr, path_len).decode("utf-8")
        except UnicodeDecodeError:
            raise _Errno(EINVAL) from None
        try:
            with sandbox.resolve(base.os_fd, path, follow) as found:
                yield found
        except sandbox.Escape:
            raise _Errno(ENOTCAPABLE) from None

    # --- the functions -------------------------------------------------------------------------------
    def args_sizes_get(self, argc_ptr, size_ptr):
        self._u32(argc_ptr, len(self.args))
        self._u32(size_ptr, sum(len(a.encode()) + 1 for a in self.args))

    def args_get(self, argv_ptr, buf_ptr):
        self._strings(self.args, argv_ptr, buf_ptr)

    def environ_sizes_get(self, count_ptr, size_ptr):
        items = [f"{k}={v}" for k, v in self.env.items()]
        self._u32(count_ptr, len(items))
        self._u32(size_ptr, sum(len(s.encode()) + 1 for s in items))

    def environ_get(self, env_ptr, buf_ptr):
        self._strings([f"{k}={v}" for k, v in self.env.items()], env_ptr, buf_ptr)

    def _strings(self, items, ptrs, buf):
        for i, s in enumerate(items):
            data = s.encode() + b"\0"
            self._u32(ptrs + 4 * i, buf)
            self._write(buf, data)
            buf += len(data)

    @staticmethod
    def _now(clock_id: int) -> int:
        if clock_id >= len(_CLOCKS):
            raise _Errno(EINVAL)
        return _CLOCKS[clock_id]()

    def clock_res_get(self, clock_id, res_ptr):
        self._now(clock_id)
        self._u64(res_ptr, 1000)

    def clock_time_get(self, clock_id, _precision, time_ptr):
        self._u64(time_ptr, self._now(clock_id))

    def random_get(self, buf, n):
        self._check(buf, n)
        for ptr, k in self._pieces([(buf, n)], n):
            self._write(ptr, secrets.token_bytes(k))

    def fd_write(self, fd, iovs, count, nwritten_ptr):
        entry = self._fd(fd)
        if not entry.writable:
            raise _Errno(EBADF)
        if entry.kind == "dir":
            raise _Errno(EISDIR)
        if entry.kind == "file" and entry.append:
            os.lseek(entry.os_fd, 0, os.SEEK_END)
        written = 0
        for ptr, n in self._pieces(self._iovecs(iovs, count), MAX_TRANSFER):
            data = self._read(ptr, n)
            if entry.kind == "stdio":
                entry.stream.write(data)  # a buffered stream takes it all
                done = n
            else:
                done = os.write(entry.os_fd, data)
            written += done
            if done < n:
                break
        self._u32(nwritten_ptr, written)

    def fd_read(self, fd, iovs, count, nread_ptr):
        entry = self._fd(fd)
        if not entry.readable:
            raise _Errno(EBADF)
        if entry.kind == "dir":
            raise _Errno(EISDIR)
        total = 0
        for ptr, n in self._pieces(self._iovecs(iovs, count), MAX_TRANSFER):
            if entry.kind == "stdio":
                stream = entry.stream
                chunk = stream.read1(n) if hasattr(stream, "read1") else stream.read(n)
            else:
                chunk = os.read(entry.os_fd, n)
            self._write(ptr, chunk)
            total += len(chunk)
            if len(chunk) < n:
                break
        self._u32(nread_ptr, total)

    def fd_seek(self, fd, offset, whence, result_ptr):
        entry = self._fd(fd)
        if entry.kind != "file":
            raise _Errno(ESPIPE)
        if whence > 2:
            raise _Errno(EINVAL)
        pos = os.lseek(entry.os_fd, _i64(offset), (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence])
        self._u64(result_ptr, pos)

    def fd_tell(self, fd, result_ptr):
        self.fd_seek(fd, 0, 1, result_ptr)

    def fd_close(self, fd):
        entry = self._fd(fd)
        if entry.os_fd is not None:
            os.close(entry.os_fd)
        del self.fds[fd]

    def fd_sync(self, fd):
        entry = self._fd(fd)
        if entry.os_fd is not None:
            os.fsync(entry.os_fd)

    fd_datasync = fd_sync

    def fd_fdstat_get(self, fd, buf):
        entry = self._fd(fd)
        flags = FDFLAG_APPEND if entry.append else 0
        rights = ALL_RIGHTS
        self._write(buf, struct.pack("<BxHxxxxQQ", entry.filetype, flags, rights, rights))

    def fd_fdstat_set_flags(self, fd, flags):
        self._fd(fd).append = bool(flags & FDFLAG_APPEND)

    @staticmethod
    def _filetype(mode: int) -> int:
        return (FT_DIR if stat.S_ISDIR(mode) else FT_REGULAR if stat.S_ISREG(mode) else FT_SYMLINK
                if stat.S_ISLNK(mode) else FT_CHAR if stat.S_ISCHR(mode) else FT_BLOCK if stat.S_ISBLK(mode)
                else FT_UNKNOWN)

    def _filestat(self, st: os.stat_result) -> bytes:
        return _FILESTAT.pack(st.st_dev, st.st_ino, self._filetype(st.st_mode), st.st_nlink, st.st_size,
                              st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)

    def fd_filestat_get(self, fd, buf):
        entry = self._fd(fd)
        if entry.kind == "stdio":
            self._write(buf, _FILESTAT.pack(0, 0, FT_CHAR, 1, 0, 0, 0, 0))
            return
        self._write(buf, self._filestat(os.fstat(entry.os_fd)))

    def fd_filestat_set_size(self, fd, size):
        entry = self._fd(fd)
        if entry.kind != "file":
            raise _Errno(EINVAL)
        if size >= 1 << 63:
            raise _Errno(EFBIG)
        os.ftruncate(entry.os_fd, size)

    def fd_prestat_get(self, fd, buf):
        entry = self._fd(fd)
        if entry.guest_path is None:
            raise _Errno(EBADF)
        self._write(buf, struct.pack("<BxxxI", 0, len(entry.guest_path.encode())))

    def fd_prestat_dir_name(self, fd, path_ptr, path_len):
        entry = self._fd(fd)
        if entry.guest_path is None:
            raise _Errno(EBADF)
        name = entry.guest_path.encode()
        if path_len < len(name):
            raise _Errno(ENAMETOOLONG)
        self._write(path_ptr, name)

    def path_open(self, dirfd, lookupflags, path_ptr, path_len, oflags, rights_base, _rights_inh, fdflags,
                  fd_ptr):
        self._check(fd_ptr, 4)
        readable = bool(rights_base & RIGHT_FD_READ)
        writable = bool(rights_base & RIGHT_FD_WRITE) or bool(oflags & (O_CREAT | O_TRUNC))
        if oflags & O_DIRECTORY:
            flags = os.O_RDONLY | os.O_DIRECTORY
        else:
            flags = os.O_RDWR if readable and writable else os.O_WRONLY if writable else os.O_RDONLY
        for wasi_flag, os_flag in ((O_CREAT, os.O_CREAT), (O_EXCL, os.O_EXCL), (O_TRUNC, os.O_TRUNC)):
            if oflags & wasi_flag:
                flags |= os_flag
        with self._at(dirfd, path_ptr, path_len, bool(lookupflags & LOOKUP_SYMLINK_FOLLOW)) as (at, name):
            # O_NOFOLLOW: a link still in last place is one the program asked not to follow
            os_fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=at)
        mode = os.fstat(os_fd).st_mode
        if stat.S_ISDIR(mode):
            entry = _Fd("dir", os_fd=os_fd, filetype=FT_DIR)
        else:
            entry = _Fd("file", os_fd=os_fd, filetype=self._filetype(mode), readable=readable,
                        writable=writable, append=bool(fdflags & FDFLAG_APPEND))
        self._u32(fd_ptr, self._new_fd(entry))

    def path_filestat_get(self, dirfd, lookupflags, path_ptr, path_len, buf):
        with self._at(dirfd, path_ptr, path_len, bool(lookupflags & LOOKUP_SYMLINK_FOLLOW)) as (at, name):
            st = os.stat(name, dir_fd=at, follow_symlinks=False)
        self._write(buf, self._filestat(st))

    def path_create_directory(self, dirfd, path_ptr, path_len):
        with self._at(dirfd, path_ptr, path_len, follow=False) as (at, name):
            os.mkdir(name, dir_fd=at)

    def path_remove_directory(self, dirfd, path_ptr, path_len):
        with self._at(dirfd, path_ptr, path_len, follow=False) as (at, name):
            os.rmdir(name, dir_fd=at)

    def path_unlink_file(self, dirfd, path_ptr, path_len):
        with self._at(dirfd, path_ptr, path_len, follow=False) as (at, name):
            if stat.S_ISDIR(os.stat(name, dir_fd=at, follow_symlinks=False).st_mode):
                raise _Errno(EISDIR)
            os.unlink(name, dir_fd=at)

    def path_rename(self, old_dirfd, old_ptr, old_len, new_dirfd, new_ptr, new_len):
        with self._at(old_dirfd, old_ptr, old_len, follow=False) as (old_at, old), \
                self._at(new_dirfd, new_ptr, new_len, follow=False) as (new_at, new):
            os.rename(old, new, src_dir_fd=old_at, dst_dir_fd=new_at)

    def fd_readdir(self, fd, buf, buf_len, cookie, used_ptr):
        entry = self._fd(fd)
        if entry.kind != "dir":
            raise _Errno(ENOTDIR)
        self._check(buf, buf_len)
        names = [".", ".."] + sorted(os.listdir(entry.os_fd))
        here = os.fstat(entry.os_fd)
        out = bytearray()
        for i in range(cookie, len(names)):
            name = names[i]
            if i < 2:
                st = here  # ".." too: the directory's parent may lie outside what the program was given
            else:
                try:
                    st = os.stat(name, dir_fd=entry.os_fd, follow_symlinks=False)
                except OSError:
                    st = None
            raw = os.fsencode(name)
            ino, ft = (st.st_ino, self._filetype(st.st_mode)) if st is not None else (0, FT_UNKNOWN)
            out += _DIRENT.pack(i + 1, ino, len(raw), ft) + raw
            if len(out) >= buf_len:
                break
        data = bytes(out[:buf_len])
        self._write(buf, data)
        self._u32(used_ptr, len(data))

    def proc_exit(self, code):
        raise WasiExit(code)

    def sched_yield(self):
        os.sched_yield() if hasattr(os, "sched_yield") else None

    def poll_oneoff(self, in_ptr, out_ptr, count, nevents_ptr):
        """Wait until the first clock subscription is due; descriptors are always ready at once
        (a file or stream is read and written synchronously), so with one among the
        subscriptions nothing waits. Gives an event for every subscription that is ready."""
        if count == 0:
            raise _Errno(EINVAL)
        self._check(out_ptr, count * _EVENT.size)
        start = time.monotonic_ns()
        wait = None  # ns until the first subscription is ready
        for _userdata, tag, ident, timeout, _precision, flags in self._records(in_ptr, count, _SUBSCRIPTION):
            if tag == EVENT_CLOCK:
                due = self._clock_due(ident, timeout, flags, start)
                wait = due if wait is None else min(wait, due)
            elif tag in (EVENT_FD_READ, EVENT_FD_WRITE):
                wait = 0
            else:
                raise _Errno(EINVAL)
        self._sleep(wait)
        events = 0
        for userdata, tag, ident, timeout, _precision, flags in self._records(in_ptr, count, _SUBSCRIPTION):
            if tag == EVENT_CLOCK:
                if self._clock_due(ident, timeout, flags, start) > time.monotonic_ns() - start:
                    continue
                error = EINVAL if ident >= len(_CLOCKS) else SUCCESS
            else:
                error = SUCCESS if ident in self.fds else EBADF
            self._write(out_ptr + events * _EVENT.size, _EVENT.pack(userdata, error, tag, 0, 0))
            events += 1
        self._u32(nevents_ptr, events)

    def _clock_due(self, clock_id: int, timeout: int, flags: int, start: int) -> int:
        """When a clock subscription is due, in ns after `start` (0 at once: an unknown clock is
        answered with an error event at once)."""
        if clock_id >= len(_CLOCKS):
            return 0
        if flags & SUBSCRIPTION_CLOCK_ABSTIME:
            return max(0, timeout - self._now(clock_id) + time.monotonic_ns() - start)
        return timeout

    @staticmethod
    def _sleep(ns: int) -> None:
        end = time.monotonic_ns() + ns
        while (left := end - time.monotonic_ns()) > 0:
            time.sleep(min(left / 1e9, _MAX_SLEEP))

    # --- the import namespace ---------------------------------------------------------------------
    def namespace(self, store: Store) -> dict[str, Function]:
        functions = {}
        for name, params in SIGNATURES.items():
            results = () if name == "proc_exit" else (I32,)
            method = getattr(self, name, None)
            functions[name] = store.host_function(FuncType(params, results), self._wrap(name, method), raw=True)
        return functions

    def _wrap(self, name, method):
        if method is None:
            return lambda *args: ENOTSUP

        def call(*args):
            try:
                method(*args)
            except _Errno as e:
                return e.errno
            except OSError as e:
                return _ERRNO.get(e.errno, EIO)
            return SUCCESS
        call.__name__ = name
        return call


_P = (I32,)
SIGNATURES: dict[str, tuple] = {
    "args_get": _P * 2, "args_sizes_get": _P * 2, "environ_get": _P * 2, "environ_sizes_get": _P * 2,
    "clock_res_get": _P * 2, "clock_time_get": (I32, I64, I32), "fd_advise": (I32, I64, I64, I32),
    "fd_allocate": (I32, I64, I64), "fd_close": _P, "fd_datasync": _P, "fd_fdstat_get": _P * 2,
    "fd_fdstat_set_flags": _P * 2, "fd_fdstat_set_rights": (I32, I64, I64), "fd_filestat_get": _P * 2,
    "fd_filestat_set_size": (I32, I64), "fd_filestat_set_times": (I32, I64, I64, I32),
    "fd_pread": (I32, I32, I32, I64, I32), "fd_prestat_get": _P * 2, "fd_prestat_dir_name": _P * 3,
    "fd_pwrite": (I32, I32, I32, I64, I32), "fd_read": _P * 4, "fd_readdir": (I32, I32, I32, I64, I32),
    "fd_renumber": _P * 2, "fd_seek": (I32, I64, I32, I32), "fd_sync": _P, "fd_tell": _P * 2,
    "fd_write": _P * 4, "path_create_directory": _P * 3, "path_filestat_get": _P * 5,
    "path_filestat_set_times": (I32, I32, I32, I32, I64, I64, I32), "path_link": _P * 7,
    "path_open": (I32, I32, I32, I32, I32, I64, I64, I32, I32), "path_readlink": _P * 6,
    "path_remove_directory": _P * 3, "path_rename": _P * 6, "path_symlink": _P * 5,
    "path_unlink_file": _P * 3, "poll_oneoff": _P * 4, "proc_exit": _P, "proc_raise": _P,
    "random_get": _P * 2, "sched_yield": (), "sock_accept": _P * 3, "sock_recv": _P * 6,
    "sock_send": _P * 5, "sock_shutdown": _P * 2,
}
