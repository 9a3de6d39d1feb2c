"""Executable memory for linked code: map, relocate, protect, look up, unmap.

Takes a `LinkedCode` (from `wasmbuild.link.link`, or rebuilt from an image file) and a resolver
`resolve(name) -> address` for its external symbols (default: `default_resolver`, which looks the
name up in the running process, as dlsym(RTLD_DEFAULT) does, then in libm).

Gives a `CodeMemory`: the code mapped at a fresh address, every load relocation applied, the code
pages read + execute and the data/GOT pages read-only. Memory is never writable and executable at
the same time: it is mapped read + write, filled and relocated, and only then `mprotect`ed.
`address(symbol)` gives the absolute address of a linked symbol (to wrap with ctypes.CFUNCTYPE);
`close()` unmaps it (also on garbage collection and at the end of a `with` block). Code for another
machine than the host's is refused with `LinkError`, as is an unresolvable external symbol.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap as _mmap
import os
import struct
import sys
from typing import Callable

from ..contract.targets import TARGETS, host_target_name
from ..errors import LinkError
from ..link.linker import LinkedCode

_libc = ctypes.CDLL(None, use_errno=True)

_mmap_fn = _libc.mmap
_mmap_fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                     ctypes.c_long]
_mmap_fn.restype = ctypes.c_void_p
_mprotect_fn = _libc.mprotect
_mprotect_fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_mprotect_fn.restype = ctypes.c_int
_munmap_fn = _libc.munmap
_munmap_fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_munmap_fn.restype = ctypes.c_int

PROT_READ = _mmap.PROT_READ
PROT_WRITE = _mmap.PROT_WRITE
PROT_EXEC = _mmap.PROT_EXEC
MAP_PRIVATE = _mmap.MAP_PRIVATE
MAP_ANONYMOUS = _mmap.MAP_ANONYMOUS
_MAP_FAILED = ctypes.c_void_p(-1).value

def host_machine() -> str:
    """The host's machine in wasmbuild's spelling ('x86_64', 'aarch64', 'riscv64', 's390x')."""
    return host_target_name()


def _oserror(what: str) -> OSError:
    e = ctypes.get_errno()
    return OSError(e, f"{what} failed: {os.strerror(e) if e else 'unknown error'}")


_libm = None


def _libm_handle():
    global _libm
    if _libm is None:
        try:
            _libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        except OSError:
            _libm = False
    return _libm or None


def default_resolver(name: str) -> int:
    """The address of C symbol `name` in the process (libc, and whatever is loaded globally) or in
    libm. Raises LinkError if neither has it."""
    for lib in (_libc, _libm_handle()):
        if lib is None:
            continue
        try:
            fn = lib[name]
        except AttributeError:
            continue
        addr = ctypes.cast(fn, ctypes.c_void_p).value
        if addr:
            return addr
    raise LinkError(f"unresolved external symbol {name} (not in the process nor in libm)")


_ORDER_NAMES = {"<": "little-endian", ">": "big-endian"}

_clear_cache = None


def _clear_cache_fn():
    """libgcc's `__clear_cache(begin, end)` (the function `__builtin___clear_cache` calls), found
    in libgcc_s; False where it is not there."""
    global _clear_cache
    if _clear_cache is None:
        _clear_cache = False
        for name in (ctypes.util.find_library("gcc_s"), "libgcc_s.so.1"):
            if not name:
                continue
            try:
                fn = ctypes.CDLL(name).__clear_cache
            except (OSError, AttributeError):
                continue
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            fn.restype = None
            _clear_cache = fn
            break
    return _clear_cache


def flush_icache(start: int, size: int) -> None:
    """Make instructions just written to [start, start + size) visible to instruction fetch.
    Nothing to do on x86-64 and s390x (coherent). On aarch64 (and riscv64) this calls libgcc's
    `__clear_cache` (DC CVAU + IC IVAU + barriers on aarch64; the icache-flush system call on
    riscv64). Without libgcc_s we rely on the kernel, which on arm64 Linux cleans and invalidates a
    page the first time it is mapped executable (our code pages are fresh anonymous pages made
    executable by mprotect after writing), and on riscv64 Linux flushes at mprotect."""
    target = TARGETS.get(host_machine())
    if target is None or not target.incoherent_icache:
        return
    fn = _clear_cache_fn()
    if fn:
        fn(start, start + size)


def _check_layout(lc: LinkedCode) -> None:
    """Refuse layout numbers that do not fit together (a damaged image), before mapping anything."""
    page = _mmap.PAGESIZE

    def bad(why: str) -> LinkError:
        return LinkError(f"inconsistent linked code layout: {why}")

    ints = (lc.page_size, lc.text_size, lc.data_offset, lc.got_offset, lc.got_size, lc.size)
    if not all(isinstance(v, int) and 0 <= v < (1 << 47) for v in ints):
        raise bad("a size or offset is not a plausible integer")
    if lc.page_size <= 0 or lc.page_size & (lc.page_size - 1):
        raise bad(f"page size {lc.page_size:#x} is not a power of two")
    if lc.page_size % page:
        raise LinkError(f"code is laid out for {lc.page_size:#x}-byte pages, which are not a "
                        f"multiple of this host's {page:#x}-byte pages")
    if lc.data_offset % lc.page_size:
        raise bad(f"data offset {lc.data_offset:#x} is not page aligned")
    if lc.size % lc.page_size:
        raise bad(f"size {lc.size:#x} is not a whole number of pages")
    if not lc.text_size <= len(lc.code) <= lc.data_offset:
        raise bad(f"text size {lc.text_size:#x}, code size {len(lc.code):#x} and data offset "
                  f"{lc.data_offset:#x} are out of order")
    if lc.data_offset + len(lc.data) > lc.got_offset or lc.got_offset % 8 or lc.got_size % 8:
        raise bad(f"GOT at {lc.got_offset:#x} (size {lc.got_size:#x}) does not follow the data "
                  f"({lc.data_offset:#x} + {len(lc.data):#x})")
    if lc.got_offset + lc.got_size > lc.size or lc.data_offset > lc.size:
        raise bad(f"size {lc.size:#x} is too small for the contents")
    for name, off in lc.symbols.items():
        if not isinstance(off, int) or not 0 <= off < max(lc.size, 1):
            raise bad(f"symbol {name} at {off!r} is outside the code")


class CodeMemory:
    """Linked code mapped into this process; see the module docstring."""

    def __init__(self, linked: LinkedCode, resolve: Callable[[str], int] | None = None):
        self._base = 0
        self._size = 0
        self.on_close: list[Callable[[], None]] = []  # run before the code is unmapped
        host = host_machine()
        if linked.machine != host:
            raise LinkError(f"code is for {linked.machine}, this host is {host}")
        host_order = "<" if sys.byteorder == "little" else ">"
        if linked.byteorder != host_order:
            raise LinkError(f"code is {_ORDER_NAMES.get(linked.byteorder, repr(linked.byteorder))}, "
                            f"this host is {_ORDER_NAMES[host_order]}")
        _check_layout(linked)
        self.symbols = dict(linked.symbols)
        resolve = resolve or default_resolver
        size = linked.size

        # Resolve first: a missing symbol must not leave a mapping behind.
        addrs: dict[str, int] = {}
        for r in linked.load_relocs:
            if r.kind == "symbol" and r.symbol not in addrs:
                a = resolve(r.symbol)
                if not a:
                    raise LinkError(f"unresolved external symbol {r.symbol}")
                addrs[r.symbol] = a
            elif r.kind not in ("base", "symbol"):
                raise LinkError(f"unknown load relocation kind {r.kind!r}")
            if not 0 <= r.offset <= size - 8:
                raise LinkError(f"load relocation at {r.offset:#x} outside the code ({size:#x})")

        map_size = max(size, _mmap.PAGESIZE)
        base = _mmap_fn(None, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if base is None or base == _MAP_FAILED:
            raise _oserror(f"mmap of {map_size} bytes")
        self._base = base
        self._size = map_size
        try:
            ctypes.memmove(base, linked.code, len(linked.code))
            if linked.data:
                ctypes.memmove(base + linked.data_offset, linked.data, len(linked.data))
            view = (ctypes.c_char * map_size).from_address(base)
            q = struct.Struct(linked.byteorder + "Q")
            for off, kind, sym, addend in linked.load_relocs:
                v = base + addend if kind == "base" else addrs[sym] + addend
                q.pack_into(view, off, v & 0xFFFFFFFFFFFFFFFF)
            del view
            d = linked.data_offset
            if d and _mprotect_fn(base, d, PROT_READ | PROT_EXEC) != 0:
                raise _oserror("mprotect(read+exec)")
            if map_size > d and _mprotect_fn(base + d, map_size - d, PROT_READ) != 0:
                raise _oserror("mprotect(read)")
            if d:
                flush_icache(base, d)
        except BaseException:
            self.close()
            raise

    @property
    def base(self) -> int:
        """The load address (0 once closed)."""
        return self._base

    @property
    def size(self) -> int:
        return self._size

    def address(self, symbol: str) -> int:
        """The absolute address of linked symbol `symbol`."""
        if not self._base:
            raise ValueError("CodeMemory is closed")
        try:
            return self._base + self.symbols[symbol]
        except KeyError:
            raise LinkError(f"no symbol {symbol} in the loaded code") from None

    def close(self) -> None:
        """Unmap the code (after running the `on_close` callbacks). Idempotent. Calling into the
        code afterwards crashes: drop all function pointers first."""
        callbacks, self.on_close = getattr(self, "on_close", []), []
        for callback in callbacks:
            callback()
        base, self._base = self._base, 0
        if base:
            if _munmap_fn(base, self._size) != 0:
                raise _oserror("munmap")

    def __enter__(self) -> "CodeMemory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
