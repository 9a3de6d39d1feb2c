"""A `wasi_snapshot_preview1` host: what C programs built for wasm32-wasi call.

`Wasi(args, env, preopens, stdin, stdout, stderr)` holds a program's view of the world: its
arguments and environment, and the host directories it may see, each under a guest name
(`preopens`: guest path -> host path). `wasi.namespace(store)` gives the host functions by name, to
be provided as the `wasi_snapshot_preview1` import namespace; `wasi.bind(memory)` names the memory
they read and write (the program's exported memory); `wasi.run(start)` calls `_start` and gives
the exit code (`proc_exit` ends the program through `WasiExit`).

Sandboxing: a program reaches files only through preopened directories. Every path is resolved
below the directory it is relative to: absolute paths, `..` that would climb above it, and
symbolic links that lead outside it are refused with `ENOTCAPABLE`. Functions that make no sense
here (sockets, hard links...) return `ENOTSUP`; a module importing a name that WASI preview 1 does
not have is reported when it is linked ("unknown import").
"""

from __future__ import annotations

import os
import secrets
import stat
import struct
import sys
import time
from dataclasses import dataclass, field

from .contract.types import I32, I64, FuncType
from .loader.runtime import Function, Memory, Store

NAMESPACE = "wasi_snapshot_preview1"

# errno values of WASI preview 1
SUCCESS, E2BIG, EACCES, EBADF, EEXIST, EFAULT, EINVAL, EIO, EISDIR = 0, 1, 2, 8, 20, 21, 28, 29, 31
ELOOP, ENAMETOOLONG, ENOENT, ENOSYS, ENOTDIR, ENOTEMPTY, ENOTSUP, EPERM = 32, 37, 44, 52, 54, 55, 58, 63
ESPIPE, ENOTCAPABLE = 70, 76

_ERRNO = {2: ENOENT, 13: EACCES, 17: EEXIST, 20: ENOTDIR, 21: EISDIR, 22: EINVAL, 39: ENOTEMPTY,
          40: ELOOP, 36: ENAMETOOLONG, 1: EPERM, 9: EBADF, 29: ESPIPE, 5: EIO, 95: ENOTSUP, 7: E2BIG}

# file types
FT_UNKNOWN, FT_BLOCK, FT_CHAR, FT_DIR, FT_REGULAR, FT_SYMLINK = 0, 1, 2, 3, 4, 7

RIGHT_FD_READ = 1 << 1
RIGHT_FD_WRITE = 1 << 6
ALL_RIGHTS = (1 << 30) - 1

O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC = 1, 2, 4, 8
FDFLAG_APPEND = 1


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
    host_path: str | None = None
    guest_path: str | None = None  # preopened directories: their guest name
    os_fd: int | None = None
    stream: object = None       # stdio: a binary file object
    filetype: int = FT_UNKNOWN
    append: bool = False
    readable: bool = True
    writable: bool = True
    preopen_root: str | None = None  # directories: the root of the preopen it lies in
    dir_entries: list | None = field(default=None, repr=False)


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
            root = os.path.realpath(host)
            if not os.path.isdir(root):
                raise NotADirectoryError(f"--dir {host}: not a directory")
            self.fds[len(self.fds)] = _Fd("dir", host_path=root, guest_path=guest, filetype=FT_DIR,
                                          preopen_root=root)

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

    def _iovecs(self, ptr: int, count: int) -> list[tuple[int, int]]:
        raw = self._read(ptr, 8 * count)
        return [struct.unpack_from("<II", raw, 8 * i) for i in range(count)]

    def _resolve(self, dirfd: int, path_ptr: int, path_len: int, follow: bool = True) -> tuple[_Fd, str]:
        """The host path of a guest path relative to directory `dirfd`, kept inside its preopen."""
        base = self._fd(dirfd)
        if base.kind != "dir":
            raise _Errno(ENOTDIR)
        try:
            path = self._read(path_ptr, path_len).decode("utf-8")
        except UnicodeDecodeError:
            raise _Errno(EINVAL) from None
        if "\0" in path:
            raise _Errno(EINVAL)
        if path.startswith("/"):
            raise _Errno(ENOTCAPABLE)
        root = base.preopen_root
        candidate = os.path.normpath(os.path.join(base.host_path, path))
        resolved = os.path.realpath(candidate) if follow else os.path.join(
            os.path.realpath(os.path.dirname(candidate)), os.path.basename(candidate))
        if os.path.commonpath([root, resolved]) != root:
            raise _Errno(ENOTCAPABLE)
        return base, resolved

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

    def clock_res_get(self, clock_id, res_ptr):
        if clock_id > 3:
            raise _Errno(EINVAL)
        self._u64(res_ptr, 1000)

    def clock_time_get(self, clock_id, _precision, time_ptr):
        if clock_id == 0:
            now = time.time_ns()
        elif clock_id == 1:
            now = time.monotonic_ns()
        elif clock_id == 2:
            now = time.process_time_ns()
        elif clock_id == 3:
            now = time.thread_time_ns()
        else:
            raise _Errno(EINVAL)
        self._u64(time_ptr, now)

    def random_get(self, buf, n):
        self._write(buf, secrets.token_bytes(n))

    def fd_write(self, fd, iovs, count, nwritten_ptr):
        entry = self._fd(fd)
        if not entry.writable:
            raise _Errno(EBADF)
        data = b"".join(self._read(p, n) for p, n in self._iovecs(iovs, count))
        try:
            if entry.kind == "stdio":
                entry.stream.write(data)
                written = len(data)
            elif entry.kind == "file":
                if entry.append:
                    os.lseek(entry.os_fd, 0, os.SEEK_END)
                written = os.write(entry.os_fd, data)
            else:
                raise _Errno(EISDIR)
        except OSError as e:
            raise _Errno(_ERRNO.get(e.errno, EIO)) from None
        self._u32(nwritten_ptr, written)

    def fd_read(self, fd, iovs, count, nread_ptr):
        entry = self._fd(fd)
        if not entry.readable:
            raise _Errno(EBADF)
        total = 0
        for ptr, n in self._iovecs(iovs, count):
            try:
                if entry.kind == "stdio":
                    stream = entry.stream
                    chunk = stream.read1(n) if hasattr(stream, "read1") else stream.read(n)
                elif entry.kind == "file":
                    chunk = os.read(entry.os_fd, n)
                else:
                    raise _Errno(EISDIR)
            except OSError as e:
                raise _Errno(_ERRNO.get(e.errno, EIO)) from None
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
        try:
            pos = os.lseek(entry.os_fd, _i64(offset), (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence])
        except OSError as e:
            raise _Errno(_ERRNO.get(e.errno, EINVAL)) from None
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

    def _filestat(self, st: os.stat_result) -> bytes:
        mode = st.st_mode
        ft = (FT_DIR if stat.S_ISDIR(mode) else FT_REGULAR if stat.S_ISREG(mode) else FT_SYMLINK
              if stat.S_ISLNK(mode) else FT_CHAR if stat.S_ISCHR(mode) else FT_BLOCK if stat.S_ISBLK(mode)
              else FT_UNKNOWN)
        return struct.pack("<QQBxxxxxxxQQQQQ", st.st_dev, st.st_ino, ft, st.st_nlink, st.st_size,
                           st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)

    def fd_filestat_get(self, fd, buf):
        entry = self._fd(fd)
        if entry.kind == "stdio":
            self._write(buf, struct.pack("<QQBxxxxxxxQQQQQ", 0, 0, FT_CHAR, 1, 0, 0, 0, 0))
            return
        st = os.fstat(entry.os_fd) if entry.os_fd is not None else os.stat(entry.host_path)
        self._write(buf, self._filestat(st))

    def fd_filestat_set_size(self, fd, size):
        entry = self._fd(fd)
        if entry.kind != "file":
            raise _Errno(EINVAL)
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
        base, host = self._resolve(dirfd, path_ptr, path_len, follow=bool(lookupflags & 1))
        if oflags & O_DIRECTORY or (os.path.isdir(host) and not oflags & (O_CREAT | O_TRUNC)
                                    and not rights_base & RIGHT_FD_WRITE):
            if not os.path.isdir(host):
                raise _Errno(ENOTDIR if os.path.exists(host) else ENOENT)
            entry = _Fd("dir", host_path=host, filetype=FT_DIR, preopen_root=base.preopen_root)
        else:
            readable = bool(rights_base & RIGHT_FD_READ)
            writable = bool(rights_base & RIGHT_FD_WRITE) or bool(oflags & (O_CREAT | O_TRUNC))
            flags = os.O_RDWR if readable and writable else os.O_WRONLY if writable else os.O_RDONLY
            if oflags & O_CREAT:
                flags |= os.O_CREAT
            if oflags & O_EXCL:
                flags |= os.O_EXCL
            if oflags & O_TRUNC:
                flags |= os.O_TRUNC
            if not lookupflags & 1:
                flags |= os.O_NOFOLLOW
            try:
                os_fd = os.open(host, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
            except OSError as e:
                raise _Errno(_ERRNO.get(e.errno, EIO)) from None
            entry = _Fd("file", host_path=host, os_fd=os_fd, filetype=FT_REGULAR, readable=readable,
                        writable=writable, append=bool(fdflags & FDFLAG_APPEND),
                        preopen_root=base.preopen_root)
        fd = max(self.fds) + 1
        self.fds[fd] = entry
        self._u32(fd_ptr, fd)

    def path_filestat_get(self, dirfd, lookupflags, path_ptr, path_len, buf):
        _base, host = self._resolve(dirfd, path_ptr, path_len, follow=bool(lookupflags & 1))
        try:
            st = os.stat(host) if lookupflags & 1 else os.lstat(host)
        except OSError as e:
            raise _Errno(_ERRNO.get(e.errno, EIO)) from None
        self._write(buf, self._filestat(st))

    def path_create_directory(self, dirfd, path_ptr, path_len):
        _base, host = self._resolve(dirfd, path_ptr, path_len)
        self._os(os.mkdir, host)

    def path_remove_directory(self, dirfd, path_ptr, path_len):
        _base, host = self._resolve(dirfd, path_ptr, path_len, follow=False)
        self._os(os.rmdir, host)

    def path_unlink_file(self, dirfd, path_ptr, path_len):
        _base, host = self._resolve(dirfd, path_ptr, path_len, follow=False)
        if os.path.isdir(host) and not os.path.islink(host):
            raise _Errno(EISDIR)
        self._os(os.unlink, host)

    def path_rename(self, old_dirfd, old_ptr, old_len, new_dirfd, new_ptr, new_len):
        _b1, old = self._resolve(old_dirfd, old_ptr, old_len, follow=False)
        _b2, new = self._resolve(new_dirfd, new_ptr, new_len, follow=False)
        self._os(os.rename, old, new)

    def _os(self, fn, *args):
        try:
            fn(*args)
        except OSError as e:
            raise _Errno(_ERRNO.get(e.errno, EIO)) from None

    def fd_readdir(self, fd, buf, buf_len, cookie, used_ptr):
        entry = self._fd(fd)
        if entry.kind != "dir":
            raise _Errno(ENOTDIR)
        names = [".", ".."] + sorted(os.listdir(entry.host_path))
        out = bytearray()
        for i in range(cookie, len(names)):
            name = names[i]
            host = os.path.join(entry.host_path, name)
            try:
                st = os.lstat(host)
                ino = st.st_ino
                ft = FT_DIR if stat.S_ISDIR(st.st_mode) else FT_SYMLINK if stat.S_ISLNK(st.st_mode) else FT_REGULAR
            except OSError:
                ino, ft = 0, FT_UNKNOWN
            raw = name.encode()
            out += struct.pack("<QQIBxxx", i + 1, ino, len(raw), ft) + raw
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
        subs = self._read(in_ptr, 48 * count)
        events = bytearray()
        deadline = 0.0
        now = time.monotonic_ns()
        for i in range(count):
            userdata, tag = struct.unpack_from("<QB", subs, 48 * i)
            if tag == 0:  # clock
                clock_id, timeout, _precision, flags = struct.unpack_from("<IQQH", subs, 48 * i + 16)
                wait = timeout - (time.time_ns() if clock_id == 0 else now) if flags & 1 else timeout
                deadline = max(deadline, wait / 1e9)
                events += struct.pack("<QHBxxxxxQHxxxxxx", userdata, SUCCESS, 0, 0, 0)
            else:  # fd readiness: report ready at once
                events += struct.pack("<QHBxxxxxQHxxxxxx", userdata, SUCCESS, tag, 0, 0)
        if deadline > 0:
            time.sleep(deadline)
        self._write(out_ptr, bytes(events))
        self._u32(nevents_ptr, count)

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
