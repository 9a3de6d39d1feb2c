"""The runtime objects behind loaded images: Store, Memory, Table, Global, Function, Tag, Trap and
WasmException.

A `Store` owns the native Runtime struct of `contract/abi.py` that all its instances share (the
trap landing pad, the stack limit and the host hooks for memory.grow, table.grow, host calls and
memory.atomic.wait/notify),
the registry of canonical type ids (so a funcref made by one image passes the `call_indirect`
check of another), and the entry trampolines of every loaded image.

`Memory`, `Table` and `Global` own their native definitions (MemoryDef, TableDef, value cell) at
stable addresses, so instances that import them share them. Linear memory and the slots of a table
are reserved up front (a memory's maximum, at most 4 GiB; a table's, at most `TABLE_ELEMENTS_LIMIT`
elements, which also bounds all the tables of a store together) and grow by changing page
protection: their bases never move.

`Function` is a wasm function (code, vmctx) or a host callable; calling it from Python goes through
the entry trampoline of its signature, which turns a trap into a `Trap` exception (and an
exception raised by a host function back into that exception). Python values are checked against
the wasm types they are given for, never truncated: a bad argument raises `ValueTypeError` (a
`TypeError`), and a host function's bad result traps.

Exceptions: a `Tag` is an exception tag (its address is its identity: an imported tag is the same
object, each instantiation makes its own). A wasm exception that no handler catches reaches the
entry trampoline and is raised as `WasmException(tag, values)`, its payload as Python values; a host
function may raise one to throw it into the wasm code that called it. Exception objects that wasm
code made and that may still be named (by an exnref) stay on the Runtime's list until the outermost
entry returns; then those that no exnref global or table of the store holds are freed (`_collect`).

A Store runs wasm code on one thread at a time: its Runtime holds the trap landing pad and the stack
limit of the thread inside it. A call from another thread while one is inside raises
`StoreBusyError`; calls back into the Store from the host functions of the thread inside nest as
usual, and different Stores run on different threads in parallel.

A shared memory (threads) is one `Memory` that instances of several Stores import, so threads in
different Stores work on it at once; it never moves, and its growth takes a lock. The wait queues
of memory.atomic.wait/notify (and `Memory.wait`/`Memory.notify`) are per native address and
process-wide.
"""

from __future__ import annotations

import ctypes
import sys
import mmap as _mmap
import operator
import struct
import threading
import weakref
from threading import get_ident as _get_ident

from ..contract.types import HT_EXN, HT_EXTERN, HT_FUNC, heap_top, is_ref, matches, ref_parts, ref_type
from ..contract.types import (EXNREF, EXTERNREF, F32, F64, FUNCREF, I32, I64, MAX_PAGES, MAX_PAGES_64, PAGE_SIZE, V128,
                              FuncType, type_name)
from ..errors import WasmbuildError
from ..contract import abi
from .codemem import PROT_READ, PROT_WRITE, _libc, _mmap_fn, _mprotect_fn, _munmap_fn, _oserror
from .signals import guard_pages_supported

_MAP_NORESERVE = 0x4000
_MAP_PRIVATE_ANON = 0x02 | 0x20
_PROT_NONE = 0


class Trap(WasmbuildError):
    """A wasm trap; `message` is the spec's wording ("integer divide by zero", ...)."""

    phase = "trap"

    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.message = message
        self.code = code


class WasmException(WasmbuildError):
    """A WebAssembly exception: its `tag` (a `Tag`) and its payload `values` (Python values, as the
    tag's parameter types give them). Raised by a call whose exception no wasm handler caught; raise
    one from a host function to throw it into the wasm code that called the function."""

    phase = "exception"

    def __init__(self, tag: "Tag", values=()):
        self.tag = tag
        self.values = tuple(values)
        shown = ", ".join(map(repr, self.values))
        super().__init__(f"uncaught wasm exception of a tag of type {getattr(tag, 'type', tag)}, values ({shown})")

    def __reduce__(self):
        return (self.__class__, (self.tag, self.values))


class ValueTypeError(WasmbuildError, TypeError):
    """A Python value given for a wasm value whose type it does not fit (a float for an i32, an int
    out of range, ...)."""

    phase = "type"


class StoreBusyError(WasmbuildError):
    """A thread called into a Store while another thread was running wasm code in it."""

    phase = "store"


# ctypes converts the entry's arguments (ints) in Python code of its own, which fails only when the
# Python stack is exhausted right there: it says ArgumentError, and the caller should see this.
_ENTRY_RECURSION = "maximum recursion depth exceeded while calling into wasm"

_STORE_BUSY = ("another thread is running wasm code in this store: a Store runs on one thread at a time (its "
               "trap landing pad and stack limit are that thread's); use a Store per thread")


def _buffer(size: int, align: int = 16) -> tuple[ctypes.Array, int]:
    """A zeroed ctypes buffer and an address inside it aligned to `align`."""
    buf = ctypes.create_string_buffer(size + align)
    addr = ctypes.addressof(buf)
    return buf, (addr + align - 1) // align * align


def _poke64(addr: int, value: int) -> None:
    ctypes.c_uint64.from_address(addr).value = value & 0xFFFFFFFFFFFFFFFF


def _peek64(addr: int) -> int:
    return ctypes.c_uint64.from_address(addr).value


# --- values ------------------------------------------------------------------------------------

_WIDTH = {I32: 32, I64: 64, F32: 32, F64: 64, V128: 128, FUNCREF: 64, EXTERNREF: 64, EXNREF: 64}  # bits


def _ref_kind(t):
    """FUNCREF, EXTERNREF or EXNREF for a reference type of the func, extern or exn hierarchy, else None."""
    if not is_ref(t):
        return None
    return {HT_FUNC: FUNCREF, HT_EXTERN: EXTERNREF, HT_EXN: EXNREF}.get(heap_top(ref_parts(t)[1]))


def write_value(addr: int, t: int, bits: int) -> None:
    """Store a value given as raw bits (ints: two's complement; floats: IEEE bits; refs: address)."""
    if t == I32 or t == F32:
        ctypes.c_uint32.from_address(addr).value = bits & 0xFFFFFFFF
    elif t == V128:
        ctypes.memmove(addr, (bits & ((1 << 128) - 1)).to_bytes(16, "little"), 16)
    else:
        _poke64(addr, bits)


def read_value(addr: int, t: int) -> int:
    if t == I32 or t == F32:
        return ctypes.c_uint32.from_address(addr).value
    if t == V128:
        return int.from_bytes(ctypes.string_at(addr, 16), "little")
    return _peek64(addr)


def check_bits(t: int, bits, what: str = "value") -> int:
    """Raw bits given for a value of type `t` (an int, signed or unsigned, that fits in the type's
    width), as an unsigned int; else ValueTypeError naming `what`."""
    try:
        v = operator.index(bits)
    except TypeError:
        raise ValueTypeError(f"{what}: {type_name(t)} wants an integer, not {bits!r}") from None
    width = _WIDTH.get(t, 64)  # (a typed reference is an address too)
    if not -(1 << (width - 1)) <= v < 1 << width:
        raise ValueTypeError(f"{what}: {v} does not fit in {type_name(t)}")
    return v & ((1 << width) - 1)


def to_bits(t: int, value, what: str = "value") -> int:
    """Python value -> raw bits: a real number for f32 and f64 (rounded to the type), an int in
    range (signed or unsigned) for i32, i64 and v128; else ValueTypeError naming `what`."""
    if t in (F32, F64):
        if not isinstance(value, (int, float)):
            raise ValueTypeError(f"{what}: {type_name(t)} wants a number, not {value!r}")
        try:
            x = float(value)
        except OverflowError:
            raise ValueTypeError(f"{what}: {value} does not fit in {type_name(t)}") from None
        if t == F32:
            return int.from_bytes(bytes(ctypes.c_float(x)), "little")
        return struct.unpack("<Q", struct.pack("<d", x))[0]
    return check_bits(t, value, what)


def from_bits(t: int, bits: int):
    """Raw bits -> Python value (signed ints, floats)."""
    if t == I32:
        return bits - (1 << 32) if bits & 0x80000000 else bits
    if t == I64:
        return bits - (1 << 64) if bits & (1 << 63) else bits
    if t == F32:
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    if t == F64:
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    return bits


# --- the calling thread's stack ---------------------------------------------------------------

_STACK_MARGIN = 256 << 10  # left for the trap path and for Python code that host functions run
_thread = threading.local()  # per thread (and gone with it): the stack floor found for it


def _stack_floor() -> int:
    """The lowest address wasm code on this thread may use: the bottom of the thread's stack plus a
    margin, so that a thread with a small stack still traps ("call stack exhausted") instead of
    overflowing. 0 if the C library cannot tell."""
    floor = getattr(_thread, "stack_floor", None)
    if floor is None:
        floor = 0
        try:
            libc = ctypes.CDLL(None)
            libc.pthread_self.restype = ctypes.c_ulong
            attr = ctypes.create_string_buffer(256)
            if libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr) == 0:
                addr, size = ctypes.c_void_p(), ctypes.c_size_t()
                if libc.pthread_attr_getstack(attr, ctypes.byref(addr), ctypes.byref(size)) == 0 and addr.value:
                    floor = addr.value + _STACK_MARGIN
                libc.pthread_attr_destroy(attr)
        except (OSError, AttributeError):
            floor = 0
        _thread.stack_floor = floor
    return floor


# --- store ----------------------------------------------------------------------------------------

_GROW_MEMORY = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_uint64)
_GROW_TABLE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p)
_HOST_CALL = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p)
_ENTRY = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
EXN_COLLECT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64)
_WAIT = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int64,
                         ctypes.c_int32)
_NOTIFY = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32)


class Store:
    """Shared runtime state for a set of instances that may call each other."""

    def __init__(self, stack_budget: int = abi.DEFAULT_STACK_BUDGET):
        self._runtime_buf, self.runtime = _buffer(abi.RUNTIME_SIZE)
        self._hooks = (_GROW_MEMORY(self._grow_memory), _GROW_TABLE(self._grow_table),
                       _HOST_CALL(self._host_call), _WAIT(_atomic_wait), _NOTIFY(_atomic_notify))
        for offset, hook in zip((abi.RT_GROW_MEMORY, abi.RT_GROW_TABLE, abi.RT_HOST_CALL, abi.RT_WAIT,
                                 abi.RT_NOTIFY), self._hooks):
            _poke64(self.runtime + offset, ctypes.cast(hook, ctypes.c_void_p).value)
        _poke64(self.runtime + abi.RT_STACK_BUDGET, stack_budget)
        self._type_ids: dict[FuncType, int] = {}
        self.types: list[FuncType] = []
        self.entries: dict[FuncType, object] = {}  # signature -> ctypes entry trampoline
        self.host_trampolines: dict[FuncType, int] = {}
        self.host_tail_trampolines: dict[FuncType, int] = {}  # their tail entries
        self.memories: dict[int, Memory] = {}  # MemoryDef address -> Memory
        self.tables: dict[int, Table] = {}
        self.host_functions: list[Function] = []
        self.externs: list = []  # externref handle k+1 -> object
        self._extern_ids: dict[int, int] = {}
        self.pending_exception: BaseException | None = None
        self.tags: dict[int, Tag] = {}  # tag address -> Tag
        self.exnref_globals: list[Global] = []  # what `_collect` must keep alive, with exnref tables
        self.exn_collect = None  # the native wb_rt_exn_collect (of the first image loaded)
        self.keep_alive: list = []  # images, instances: everything native code may point into
        # The identifier of the thread running wasm code in this store, under key 0 of a dict: its
        # setdefault claims the store in one atomic step (cheaper than a lock), clear leaves it.
        self._owner: dict[int, int] = {}
        self._inside: int | None = None  # the same identifier, while it is inside
        self._host_by_record: dict[int, Function] = {}  # host record address -> its Function
        self._floor_cell = ctypes.c_uint64.from_address(self.runtime + abi.RT_STACK_FLOOR)
        self._floor_cell.value = self._floor = 0  # the floor last written, rewritten when another thread enters
        self._exns_cell = ctypes.c_uint64.from_address(self.runtime + abi.RT_EXNS)  # the exception objects' list

    # type registry
    def type_id(self, ft: FuncType) -> int:
        i = self._type_ids.get(ft)
        if i is None:
            i = self._type_ids[ft] = len(self.types) + 1  # 0 never matches: it marks "no type"
            self.types.append(ft)
        return i

    def type_of_id(self, type_id: int) -> FuncType:
        return self.types[type_id - 1]

    # externref values
    def extern_handle(self, obj) -> int:
        if obj is None:
            return 0
        key = id(obj)
        handle = self._extern_ids.get(key)
        if handle is None:
            self.externs.append(obj)
            handle = self._extern_ids[key] = len(self.externs)
        return handle

    def extern_value(self, handle: int):
        return None if handle == 0 else self.externs[handle - 1]

    def function_from_ref(self, ref: int) -> "Function | None":
        """The Function a funcref value (FuncRef record address) stands for."""
        if not ref:
            return None
        ft = self.type_of_id(_peek64(ref + abi.FR_TYPE))
        return Function(self, ft, code=_peek64(ref + abi.FR_CODE), vmctx=_peek64(ref + abi.FR_VMCTX), funcref=ref,
                        tail_code=_peek64(ref + abi.FR_TAIL_CODE))

    # hooks called from native code
    def _grow_memory(self, memdef: int, delta: int) -> int:
        try:
            # A shared memory may belong to another store.
            return (self.memories.get(memdef) or _MEMORIES[memdef]).grow(delta)
        except Exception:  # pragma: no cover - never let an exception cross into native code
            return -1

    def _grow_table(self, tabledef: int, delta: int, init: int) -> int:
        try:
            return self.tables[tabledef].grow(delta, init or 0)
        except Exception:  # pragma: no cover
            return -1

    def _host_call(self, hostrec: int, values: int) -> int:
        func = self._host_by_record[hostrec]
        try:
            func._serve(values)
        except WasmException as e:  # thrown on into the calling wasm code
            if self.tags.get(getattr(e.tag, "address", None)) is not e.tag:
                # Of another store (its tag means nothing here): like any other Python exception.
                self.pending_exception = e
                return abi.TRAP_HOST
            try:
                _poke64(self.runtime + abi.RT_EXN, self.new_exception(e))
            except BaseException as bad:  # noqa: BLE001 - values that do not fit the tag: a trap
                self.pending_exception = bad
                return abi.TRAP_HOST
            return abi.HOST_CALL_THROW
        except BaseException as e:  # noqa: BLE001 - any Python exception becomes a trap
            self.pending_exception = e
            return abi.TRAP_HOST
        return abi.HOST_CALL_OK

    # exceptions
    def exception_from(self, exn: int) -> WasmException:
        """The WasmException that exception object `exn` (an exnref) stands for (a copy)."""
        tag = self.tags[_peek64(exn + abi.EXN_TAG)]
        values = [python_value(self, t, read_value(exn + abi.EXN_VALUES + i * abi.VALUE_SLOT_SIZE, t))
                  for i, t in enumerate(tag.type.params)]
        return WasmException(tag, values)

    def new_exception(self, e: WasmException, escaped: bool = False) -> int:
        """A fresh exception object (at the head of the Runtime's list) for `e`; TypeError if its
        tag is not one of this store's or its values do not fit the tag's type. `escaped`: it
        becomes an exnref value (which wasm code may keep), not a thrown exception."""
        tag = e.tag
        if not isinstance(tag, Tag) or self.tags.get(tag.address) is not tag:
            raise ValueTypeError(f"WasmException: {tag!r} is not a tag of this store")
        params = tag.type.params
        if len(e.values) != len(params):
            raise ValueTypeError(f"WasmException: tag {tag.type} takes {len(params)} values, got {len(e.values)}")
        bits = [wasm_bits(self, t, v, f"exception value {i + 1}") for i, (t, v) in enumerate(zip(params, e.values))]
        exn = _libc_malloc(abi.EXN_VALUES + abi.VALUE_SLOT_SIZE * len(params))
        if not exn:
            raise MemoryError("no memory for a wasm exception")
        head = _peek64(self.runtime + abi.RT_EXNS)
        _poke64(exn + abi.EXN_NEXT, head)
        _poke64(exn + abi.EXN_PREV, 0)
        _poke64(exn + abi.EXN_TAG, tag.address)
        _poke64(exn + abi.EXN_FLAGS, abi.EXN_ESCAPED if escaped else 0)
        for i, (t, b) in enumerate(zip(params, bits)):
            write_value(exn + abi.EXN_VALUES + i * abi.VALUE_SLOT_SIZE, t, b)
        if head:
            _poke64(head + abi.EXN_PREV, exn)
        _poke64(self.runtime + abi.RT_EXNS, exn)
        return exn

    def _collect(self, keep=()) -> None:
        """Free the exception objects on the Runtime's list that nothing can name any more: no wasm
        code runs in the store (the outermost entry has returned), so only exnref globals and
        tables, and `keep` (exnref results not yet read), can hold them."""
        live = set(keep)
        live.update(g.bits for g in self.exnref_globals)
        for table in self.tables.values():
            if table.elem == EXNREF and table.size:
                slots = (ctypes.c_uint64 * table.size).from_address(table._elems)
                live.update(slots)
        live.discard(0)
        # What they hold: exnrefs in their payloads (a tag may take exnref parameters).
        work = list(live)
        while work:
            exn = work.pop()
            for i, t in enumerate(self.tags[_peek64(exn + abi.EXN_TAG)].type.params):
                if t == EXNREF:
                    inner = _peek64(exn + abi.EXN_VALUES + i * abi.VALUE_SLOT_SIZE)
                    if inner and inner not in live:
                        live.add(inner)
                        work.append(inner)
        array = (ctypes.c_uint64 * max(len(live), 1))(*sorted(live))
        self.exn_collect(self.runtime, array, len(live))  # wb_rt_exn_collect of a loaded image

    def _status_error(self, status: int) -> BaseException | None:
        """The exception a nonzero entry status stands for (None: ENTRY_COLLECT, no error)."""
        if status == abi.ENTRY_COLLECT:
            return None
        if status == abi.TRAP_EXCEPTION:
            return self.exception_from(_peek64(self.runtime + abi.RT_EXN))
        if status == abi.TRAP_HOST and self.pending_exception is not None:
            exc, self.pending_exception = self.pending_exception, None
            return exc
        if status == abi.TRAP_HOST:
            return Trap("host function failed: the call into Python did not complete "
                        "(for example, the Python stack was exhausted)", status)
        message = abi.TRAP_MESSAGES.get(status, f"trap {status}")
        detail = _peek64(self.runtime + abi.RT_TRAP_DETAIL)
        if detail != 0xFFFFFFFFFFFFFFFF:
            message = f"{message} {detail}"
        return Trap(message, status)

    def host_function(self, ft: FuncType, fn, raw: bool = False) -> "Function":
        """Wrap a Python callable as a wasm function of type `ft`. With `raw`, it gets and returns
        raw bits instead of Python numbers."""
        f = Function(self, ft, host=fn, raw=raw)
        f.host_id = len(self.host_functions)
        self.host_functions.append(f)
        f._hostrec_buf, f.hostrec = _buffer(abi.HOSTREC_SIZE)
        _poke64(f.hostrec + abi.HOST_RUNTIME, self.runtime)
        _poke64(f.hostrec + abi.HOST_ID, f.host_id)
        self._host_by_record[f.hostrec] = f
        f._serve = _host_server(f)
        return f

    def _claim(self, me: int) -> None:
        """Claim the store for thread `me`, which is not inside: refused while another thread is
        inside (the Runtime's landing pad and stack limit are that thread's), else with this
        thread's stack floor. The caller releases it (`_inside = None`, `_owner.clear()`)."""
        if self._owner.setdefault(0, me) != me:
            raise StoreBusyError(_STORE_BUSY)
        self._inside = me
        floor = getattr(_thread, "stack_floor", None)
        if floor is None:
            try:
                floor = _stack_floor()
            except BaseException:
                self._inside = None
                self._owner.clear()
                raise
        if floor != self._floor:  # another thread than the last one
            self._floor_cell.value = self._floor = floor

    def run_inside(self, fn, *args):
        """`fn(*args)` with the store claimed for this thread once: the core calls `fn` makes (through
        `call_entry`, each still its own entry, with its own landing pad and stack limit) take the
        cheap path of a call from inside, as a host function's do. Claimed already by this
        thread, it just calls `fn`. Exception objects left over are collected at the end (`fn`
        gives no exnrefs)."""
        me = _get_ident()
        if self._inside == me:
            return fn(*args)
        self._claim(me)
        try:
            return fn(*args)
        finally:
            try:
                if self._exns_cell.value:
                    self._collect()
            finally:
                self._inside = None
                self._owner.clear()

    def call_entry(self, ft: FuncType, vmctx: int, code: int, values: int, entry=None) -> None:
        """Run `code` through the entry trampoline of `ft` (`entry`, if the caller has it already),
        its arguments and then its results in the value slots at `values`; a trap, an uncaught
        exception or a host function's exception is raised. (cli.py recognises this frame as the
        one under running compiled code.)"""
        if entry is None:
            entry = self.entries.get(ft)
            if entry is None:
                raise WasmbuildError(f"no entry trampoline for signature {ft} in the loaded images")
        me = _get_ident()
        if self._inside == me:  # a host function calling back in (Function.bits_caller does the same)
            try:
                status = entry(vmctx, code, values)
            except ctypes.ArgumentError:
                raise RecursionError(_ENTRY_RECURSION) from None
            error = self._status_error(status) if status else None
        else:
            # The outermost call of this thread (the claim is a helper that returns before the
            # entry: no Python frame more under host functions).
            self._claim(me)
            error = None
            try:
                status = entry(vmctx, code, values)
                if status:
                    error = self._status_error(status)
                    if _peek64(self.runtime + abi.RT_EXNS):
                        keep = () if error is not None else [
                            _peek64(values + i * abi.VALUE_SLOT_SIZE) for i, t in enumerate(ft.results) if t == EXNREF]
                        self._collect(keep)
            except ctypes.ArgumentError:
                raise RecursionError(_ENTRY_RECURSION) from None
            finally:
                self._inside = None
                self._owner.clear()
        if error is not None:
            raise error


# --- memories, tables, globals ------------------------------------------------------------------

def _reserve(size: int, what: str) -> int:
    """Reserve `size` bytes of address space (inaccessible, committing no memory) for `what`."""
    base = _mmap_fn(None, size, _PROT_NONE, _MAP_PRIVATE_ANON | _MAP_NORESERVE, -1, 0)
    if base is None or base == ctypes.c_void_p(-1).value:
        raise _oserror(f"reserving {size} bytes of address space for {what}")
    return base


def _map_rw(size: int, pages: int) -> int:
    """A fresh read+write mapping of `size` bytes (committing nothing until touched) for a memory
    that is to have `pages` pages."""
    base = _mmap_fn(None, size, PROT_READ | PROT_WRITE, _MAP_PRIVATE_ANON | _MAP_NORESERVE, -1, 0)
    if base is None or base == ctypes.c_void_p(-1).value:
        raise WasmbuildError(f"cannot make a memory of {pages} pages: {_oserror('mmap').strerror}")
    return base


def _page_multiple(size: int) -> int:
    """`size` rounded up to a multiple of the host's page size."""
    return -(-size // _mmap.PAGESIZE) * _mmap.PAGESIZE


# A 64-bit memory may hold at most this many pages (16 GiB, four times what a 32-bit one can): the
# type allows up to 2^48, but beyond this `memory.grow` answers -1 (as the spec allows) and a memory
# whose minimum exceeds it is refused, so a guest cannot make the host commit unbounded memory.
MEMORY64_LIMIT_PAGES = 1 << 18

_MREMAP_MAYMOVE = 1
_mremap_fn = _libc.mremap
_mremap_fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
_mremap_fn.restype = ctypes.c_void_p


class Memory:
    """A linear memory. A 32-bit one is reserved at its maximum and committed page by page as it
    grows, so its base never moves. Where the host supports guard-page code
    (`signals.guard_pages_supported`), the reservation is `abi.GUARDED_RESERVATION` bytes whatever
    the maximum (`guarded`), so that code without bounds checks can use it; if that much address
    space cannot be had, only the maximum is reserved.

    A 64-bit memory (`addr` I64, memory64) reserves nothing beyond its current size: it is mapped
    at its size and grows with `mremap`, which may move it (its code checks every access and
    reloads the base, see abi.py), up to `MEMORY64_LIMIT_PAGES`; it is never `guarded`.

    A `shared` memory (threads) must have a maximum, and never moves, whatever its address type (a
    64-bit one is reserved at its maximum, at most `MEMORY64_LIMIT_PAGES`, as a 32-bit one is, or
    as much of it as there is address space for): threads of other stores may be using it while it
    grows. Growing takes a lock."""

    def __init__(self, store: Store, minimum: int, maximum: int | None, addr: int = I32, shared: bool = False):
        if shared and maximum is None:
            raise WasmbuildError("a shared memory must have a maximum")
        self.store = store
        self.maximum = maximum
        self.addr = addr
        self.shared = shared
        self._grow_lock = threading.Lock()  # threads of several stores may grow a shared memory
        self.base = base = 0
        self._view = None  # see _make_view
        self.guarded = False
        self._def_buf, self.memdef = _buffer(abi.MEMDEF_SIZE)
        self.pages = 0
        _MEMORIES[self.memdef] = self
        self._moves = addr == I64 and not shared  # grows by mremap
        if self._moves:
            self.limit = MEMORY64_LIMIT_PAGES if maximum is None else min(maximum, MEMORY64_LIMIT_PAGES)
            if minimum > self.limit:
                raise WasmbuildError(f"cannot make a memory of {minimum} pages: a 64-bit memory may have at most "
                                     f"{MEMORY64_LIMIT_PAGES} pages here (MEMORY64_LIMIT_PAGES)")
            self.reserved = PAGE_SIZE  # the mapping: never empty, its current size beyond 0 pages
            self.base = _map_rw(self.reserved, minimum)
            self._publish(self.limit)
            if minimum and self.grow(minimum) < 0:
                raise WasmbuildError(f"cannot allocate {minimum} pages of memory")
            store.memories[self.memdef] = self
            return
        if addr == I64:
            limit = self.limit = min(maximum, MEMORY64_LIMIT_PAGES)
        else:
            limit = MAX_PAGES if maximum is None else min(maximum, MAX_PAGES)
            self.limit = MAX_PAGES if maximum is None else maximum
        if addr == I32 and guard_pages_supported():
            try:
                self.reserved = abi.GUARDED_RESERVATION
                self.base = base = _reserve(self.reserved, "a memory")
                self.guarded = True
            except OSError:
                pass
        if not base:
            # The maximum, or with less address space than that, as much as there is: memory.grow
            # fails beyond it (which wasm allows).
            pages = limit
            while True:
                self.reserved = max(pages * PAGE_SIZE, PAGE_SIZE)
                try:
                    self.base = base = _reserve(self.reserved, "a memory")
                    break
                except OSError as e:
                    if pages <= max(minimum, 1):
                        raise WasmbuildError(f"cannot make a memory of {minimum} pages: {e.strerror}") from None
                    pages = max(pages // 2, minimum, 1)
            limit = pages
        self._publish(limit)
        if minimum and self.grow(minimum) < 0:
            raise WasmbuildError(f"cannot allocate {minimum} pages of memory")
        store.memories[self.memdef] = self

    def _publish(self, max_pages: int) -> None:
        _poke64(self.memdef + abi.MEM_BASE, self.base)
        _poke64(self.memdef + abi.MEM_MAX_PAGES, max_pages)

    def grow(self, delta: int) -> int:
        """Add `delta` pages (zeroed); the old size in pages, or -1 (and no change) if the
        maximum or the host refuses them."""
        with self._grow_lock:
            old = self.pages
            new = old + delta
            if new > self.limit:
                return -1
            if delta:
                if self._moves:
                    if new * PAGE_SIZE > self.reserved:
                        moved = _mremap_fn(self.base, self.reserved, new * PAGE_SIZE, _MREMAP_MAYMOVE)
                        if moved is None or moved == ctypes.c_void_p(-1).value:
                            return -1
                        self.base, self.reserved = moved, new * PAGE_SIZE
                        _poke64(self.memdef + abi.MEM_BASE, moved)
                elif new * PAGE_SIZE > self.reserved or \
                        _mprotect_fn(self.base + old * PAGE_SIZE, delta * PAGE_SIZE, PROT_READ | PROT_WRITE) != 0:
                    return -1
                self.pages = new
                self._view = None
                _poke64(self.memdef + abi.MEM_SIZE, new * PAGE_SIZE)
            return old

    @property
    def size(self) -> int:
        return self.pages * PAGE_SIZE

    def read(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.pages * PAGE_SIZE:
            raise IndexError("out of bounds memory access")
        return bytes((self._view or self._make_view())[offset:offset + n])

    def write(self, offset: int, data: bytes) -> None:
        n = len(data)
        if offset < 0 or offset + n > self.pages * PAGE_SIZE:
            raise IndexError("out of bounds memory access")
        (self._view or self._make_view())[offset:offset + n] = data

    def view(self) -> memoryview:
        """The bytes of memory as they are now, to slice without a call (a `grow` makes a new one)."""
        return self._view or self._make_view()

    def _make_view(self) -> memoryview:
        """A view of the bytes of memory as it is now (`grow` drops it: the size, and a 64-bit
        memory's base, change), which reads and writes slice without a foreign call."""
        self._view = memoryview((ctypes.c_ubyte * self.size).from_address(self.base)).cast("B")
        return self._view

    def notify(self, address: int, count: int = 0xFFFF_FFFF) -> int:
        """What `memory.atomic.notify` does, from the host: wake up to `count` threads waiting at
        `address`; how many were woken. IndexError out of bounds, ValueError if misaligned."""
        return _host_result(_atomic_notify(self.memdef, self._atomic_address(address, 4), count))

    def wait(self, address: int, expected: int, timeout: float | None = None, size: int = 4) -> int:
        """What `memory.atomic.wait32` (`size` 4) or `wait64` (8) does, from the host: 1 if the
        value at `address` is not `expected`, else wait until notified (0) or until `timeout`
        seconds have passed (2). A wasm thread's notify wakes it, and its notify wakes wasm
        threads. ValueError on an unshared memory or a misaligned address, IndexError out of
        bounds."""
        if size not in (4, 8):
            raise ValueError("a wait is of 4 or 8 bytes")
        ns = -1 if timeout is None else max(int(timeout * 1e9), 0)
        return _host_result(_atomic_wait(self.memdef, self._atomic_address(address, size),
                                         expected & ((1 << 8 * size) - 1), ns, size))

    def _atomic_address(self, address: int, size: int) -> int:
        if address < 0 or address % size:
            raise ValueError("unaligned atomic")
        return address

    def __del__(self):
        if getattr(self, "base", 0):
            _munmap_fn(self.base, self.reserved)
            self.base = 0


def _host_result(result: int) -> int:
    """A wait or notify hook's answer as the host API gives it (a trap as an exception)."""
    if result == -abi.TRAP_MEMORY_OOB:
        raise IndexError("out of bounds memory access")
    if result == -abi.TRAP_EXPECTED_SHARED:
        raise ValueError("expected shared memory")
    if result < 0:
        raise WasmbuildError(abi.TRAP_MESSAGES.get(-result, f"trap {-result}"))
    return result


# Every live Memory by the address of its MemoryDef, whatever its store: the hooks of one store may
# be asked about a shared memory another store made.
_MEMORIES: "weakref.WeakValueDictionary[int, Memory]" = weakref.WeakValueDictionary()


# --- memory.atomic.wait and memory.atomic.notify ----------------------------------------------------
#
# A wait queue per native address (the memory's base plus the effective address), for the whole
# process: instances of different stores, on different threads, may share a memory. `_WAIT_LOCK`
# makes a wait's comparison and its joining the queue one step with respect to notify, so a notify
# that follows the store that changed the value cannot miss a waiter that saw the old value. Each
# waiter blocks on its own Event (releasing the GIL), woken in the order the waiters came.

_WAIT_LOCK = threading.Lock()
_WAITERS: dict[int, list[threading.Event]] = {}
_WAIT_WOKEN, _WAIT_NOT_EQUAL, _WAIT_TIMED_OUT = 0, 1, 2


def _atomic_wait(memdef: int, ea: int, expected: int, timeout_ns: int, size: int) -> int:
    """The RT_WAIT hook: wait while the `size`-byte value at `ea` is `expected`, for `timeout_ns`
    nanoseconds (negative: without limit)."""
    try:
        memory = _MEMORIES[memdef]
        if ea + size > memory.size:
            return -abi.TRAP_MEMORY_OOB
        if not memory.shared:
            return -abi.TRAP_EXPECTED_SHARED
        addr = memory.base + ea
        cell = ctypes.c_uint32 if size == 4 else ctypes.c_uint64
        with _WAIT_LOCK:
            if cell.from_address(addr).value != expected:
                return _WAIT_NOT_EQUAL
            event = threading.Event()
            _WAITERS.setdefault(addr, []).append(event)
        if event.wait(None if timeout_ns < 0 else timeout_ns / 1e9):
            return _WAIT_WOKEN
        with _WAIT_LOCK:
            queue = _WAITERS.get(addr, [])
            if event not in queue:  # notified between the timeout and taking the lock
                return _WAIT_WOKEN
            queue.remove(event)
            if not queue:
                del _WAITERS[addr]
        return _WAIT_TIMED_OUT
    except BaseException:  # noqa: BLE001 - never let an exception cross into native code
        return -abi.TRAP_HOST


def _atomic_notify(memdef: int, ea: int, count: int) -> int:
    """The RT_NOTIFY hook: wake up to `count` waiters at `ea`; how many were woken."""
    try:
        memory = _MEMORIES[memdef]
        if ea + 4 > memory.size:
            return -abi.TRAP_MEMORY_OOB
        if not memory.shared:
            return 0  # nobody can wait on an unshared memory
        addr = memory.base + ea
        with _WAIT_LOCK:
            queue = _WAITERS.get(addr)
            if not queue:
                return 0
            woken = queue[:count]
            del queue[:count]
            if not queue:
                del _WAITERS[addr]
            for event in woken:
                event.set()
        return len(woken)
    except BaseException:  # noqa: BLE001
        return -abi.TRAP_HOST


# All the tables of a store together hold at most this many elements (80 MB of 8-byte slots), and so
# does any one of them: `table.grow` beyond it answers -1, and a table whose minimum exceeds what is
# left cannot be made. Counted per store, not only per table: a module may declare thousands of them.
TABLE_ELEMENTS_LIMIT = 10_000_000


def _fill_slots(addr: int, value: int, count: int) -> None:
    """Set `count` table slots (8 bytes each) from `addr` to `value` in native code: one store, then
    copies that double the filled part (about log2(count) calls, none per element)."""
    if count:
        _poke64(addr, value)
    done = 1
    while done < count:
        n = min(done, count - done)
        ctypes.memmove(addr + done * abi.PTR_SIZE, addr, n * abi.PTR_SIZE)
        done += n


class Table:
    """A table of funcref (FuncRef record addresses) or externref (handles) values.

    Its slots are reserved up front for as many elements as it may ever hold (its declared maximum,
    at most `TABLE_ELEMENTS_LIMIT`), `PROT_NONE`, and committed page by page as it grows, as linear
    memory is: the elements pointer of its TableDef never moves, and growing does no work per
    element in Python. Slots past `size` are always null (a table never shrinks and every write is
    bounds-checked), and fresh pages read as zeros, so growing with null writes nothing; any other
    initial value is filled in natively (`_fill_slots`)."""

    def __init__(self, store: Store, elem: int, minimum: int, maximum: int | None, init: int = 0,
                 addr: int = I32):
        self.store = store
        self.elem = elem
        self.maximum = maximum
        self.addr = addr  # the address type: I32, or I64 for a 64-bit table (memory64)
        self.size = 0
        self._committed = 0  # bytes of the reservation made read+write, a multiple of the page size
        self._elems = 0
        refusal = self._refusal(minimum)
        if refusal is not None:
            raise WasmbuildError(f"cannot make a table of {minimum} elements: {refusal}")
        limit = TABLE_ELEMENTS_LIMIT if maximum is None else min(maximum, TABLE_ELEMENTS_LIMIT)
        self._reserved = _page_multiple(max(limit * abi.PTR_SIZE, 1))
        self._elems = _reserve(self._reserved, "a table")
        self._def_buf, self.tabledef = _buffer(abi.TABDEF_SIZE)
        _poke64(self.tabledef + abi.TAB_ELEMS, self._elems)
        no_max = 0xFFFF_FFFF if addr == I32 else 0xFFFF_FFFF_FFFF_FFFF
        _poke64(self.tabledef + abi.TAB_MAX, no_max if maximum is None else maximum)
        if self.grow(minimum, init) < 0:
            raise _oserror(f"committing memory for a table of {minimum} elements")
        store.tables[self.tabledef] = self

    def _refusal(self, delta: int) -> str | None:
        """Why this table cannot grow by `delta` elements (its maximum, the limit), or None."""
        new = self.size + delta
        if self.maximum is not None and new > self.maximum:
            return f"{new} elements exceed the table's maximum of {self.maximum}"
        if new > TABLE_ELEMENTS_LIMIT:
            return f"{new} elements exceed the limit of {TABLE_ELEMENTS_LIMIT} elements per table"
        others = sum(t.size for t in self.store.tables.values() if t is not self)
        if others + new > TABLE_ELEMENTS_LIMIT:
            return (f"the store's other tables hold {others} elements, and all its tables together "
                    f"may hold at most {TABLE_ELEMENTS_LIMIT}")
        return None

    def grow(self, delta: int, init: int = 0) -> int:
        """Add `delta` elements set to `init` (raw bits); the old size, or -1 if the table's maximum
        or the limit refuses them (or memory cannot be committed), and then nothing changes."""
        if delta < 0:
            raise ValueError("a table cannot shrink")
        old = self.size
        if self._refusal(delta) is not None:
            return -1
        new = old + delta
        needed = _page_multiple(new * abi.PTR_SIZE)
        if needed > self._committed:
            if _mprotect_fn(self._elems + self._committed, needed - self._committed, PROT_READ | PROT_WRITE) != 0:
                return -1
            self._committed = needed
        if init:
            _fill_slots(self._elems + old * abi.PTR_SIZE, init, delta)
        self.size = new
        _poke64(self.tabledef + abi.TAB_SIZE, new)
        return old

    def get_raw(self, i: int) -> int:
        if not 0 <= i < self.size:
            raise Trap("out of bounds table access", abi.TRAP_TABLE_OOB)
        return _peek64(self._elems + i * abi.PTR_SIZE)

    def set_raw(self, i: int, value: int) -> None:
        if not 0 <= i < self.size:
            raise Trap("out of bounds table access", abi.TRAP_TABLE_OOB)
        _poke64(self._elems + i * abi.PTR_SIZE, value)

    def __del__(self):
        if getattr(self, "_elems", 0):
            _munmap_fn(self._elems, self._reserved)
            self._elems = 0


class Global:
    def __init__(self, store: Store, valtype: int, mutable: bool, bits: int = 0):
        self.store = store
        self.valtype = valtype
        self.mutable = mutable
        self._cell_buf, self.cell = _buffer(16)
        write_value(self.cell, valtype, bits)
        # The cell as a ctypes word, read and written without a call of read_value/write_value (the
        # component layer's flags are read several times per call); None for a v128.
        self.word = (None if valtype == V128 else
                      (ctypes.c_uint32 if valtype == I32 or valtype == F32 else ctypes.c_uint64).from_address(self.cell))
        if valtype == EXNREF:
            store.exnref_globals.append(self)

    @property
    def bits(self) -> int:
        word = self.word
        return read_value(self.cell, self.valtype) if word is None else word.value

    @bits.setter
    def bits(self, value: int) -> None:
        word = self.word
        if word is None:
            write_value(self.cell, self.valtype, value)
        else:  # (ctypes keeps the low 32 or 64 bits, as write_value does)
            word.value = value

    @property
    def value(self):
        return from_bits(self.valtype, self.bits)


class Function:
    """A wasm function of some instance (code + vmctx), or a host function."""

    def __init__(self, store: Store, ft: FuncType, code: int = 0, vmctx: int = 0, host=None,
                 raw: bool = False, funcref: int = 0, tail_code: int = 0):
        self.store = store
        self.type = ft
        self.code = code
        self.tail_code = tail_code  # its tail-call entry (abi.tail_symbol; 0 where there is none)
        self.vmctx = vmctx
        self.host = host
        self.raw = raw
        self.funcref = funcref  # address of a FuncRef record for this function (0 if none yet)
        self.hostrec = 0
        self._plan = None  # how __call__ converts and enters (_call_plan), made at the first call

    @property
    def native(self) -> tuple[int, int, int]:
        """(code, vmctx, tail-call code) to put in an import slot or FuncRef record."""
        if self.host is not None:
            tramp = self.store.host_trampolines.get(self.type)
            if tramp is None:
                raise WasmbuildError(f"no host trampoline for signature {self.type} in the loaded images")
            return tramp, self.hostrec, self.store.host_tail_trampolines.get(self.type, 0)
        return self.code, self.vmctx, self.tail_code

    def call_bits(self, args: list[int]) -> list[int]:
        """Call with arguments as raw bits; returns results as raw bits."""
        ft = self.type
        if len(args) != len(ft.params):
            raise TypeError(f"expected {len(ft.params)} arguments, got {len(args)}")
        plan = self._plan
        if plan is None:
            plan = self._plan = _call_plan(self)
        if plan is False:
            return self._call_bits_generic(args)
        try:
            area, values = _FREE_AREAS.pop()
        except IndexError:
            area, values = _new_area()
        slot = 0
        for arg in args:  # a 32-bit value's trampoline reads only the low half
            area[slot] = arg & 0xFFFFFFFFFFFFFFFF
            slot += _SLOT_WORDS
        plan[0](ft, self.vmctx, self.code, values, plan[4])
        masks = plan[7]
        if len(masks) == 1:
            words = [area[0] & masks[0]]
        else:
            words = [w & mask for w, mask in zip(area[0:len(masks) * _SLOT_WORDS:_SLOT_WORDS], masks)]
        _FREE_AREAS.append((area, values))
        return words

    def bits_caller(self, first: bool = False):
        """`call_bits` as a callable of the arguments themselves, `f(*bits) -> list of result bits`
        (with `first`, the first result alone), made once for many calls (the component layer's
        realloc, exports and post-returns). Called while this thread is inside the store (a host
        function calling back, `Store.run_inside`), it makes the entry itself, as `call_entry`
        does then, without `call_entry`'s frame (cli.py's Ctrl-C watcher knows this frame too:
        `ENTRY_FRAMES`), with a value area of its own; else it is `call_bits` without its
        generality (a value area of the free list, as `__call__` takes)."""
        call_bits = self.call_bits
        plan = self._plan
        if plan is None:
            plan = self._plan = _call_plan(self)
        if first and not self.type.results:
            raise TypeError(f"{self.type} has no result")
        if plan is False or len(self.type.results) > 1:
            return (lambda *args: call_bits(args)[0]) if first else (lambda *args: call_bits(args))
        _, ft, vmctx, code, entry = plan[:5]
        masks = plan[7]
        nparams, nresults = len(ft.params), len(masks)
        mask0 = masks[0] if masks else 0
        store = self.store
        # Only the thread inside uses it, and a nested call of this function (from a host function
        # it calls) is over before the outer one's result is written (at most one: in a register,
        # which the trampoline stores on return; it has read the arguments before it calls the code).
        area, values = _new_area()

        enter = store.call_entry

        def call(*args):
            if len(args) != nparams:
                return call_bits(args)[0] if first else call_bits(args)
            if store._inside != _get_ident():  # the outermost call: call_entry claims the store
                try:
                    own_area, own_values = _FREE_AREAS.pop()
                except IndexError:
                    own_area, own_values = _new_area()
                slot = 0
                for arg in args:
                    own_area[slot] = arg & 0xFFFFFFFFFFFFFFFF
                    slot += _SLOT_WORDS
                enter(ft, vmctx, code, own_values, entry)
                bits = own_area[0] & mask0
                _FREE_AREAS.append((own_area, own_values))
                if first:
                    return bits
                return [bits] if nresults else []
            slot = 0
            for arg in args:  # a 32-bit value's trampoline reads only the low half
                area[slot] = arg & 0xFFFFFFFFFFFFFFFF
                slot += _SLOT_WORDS
            try:  # call_entry's path for a call from inside
                status = entry(vmctx, code, values)
            except ctypes.ArgumentError:
                raise RecursionError(_ENTRY_RECURSION) from None
            if status:
                error = store._status_error(status)
                if error is not None:
                    raise error
            if first:
                return area[0] & mask0
            return [area[0] & mask0] if nresults else []
        return call

    def _call_bits_generic(self, args: list[int]) -> list[int]:
        ft = self.type
        if self.host is not None:
            return self._call_host_bits(list(args))
        n = max(len(ft.params), len(ft.results), 1)
        buf, values = _buffer(n * abi.VALUE_SLOT_SIZE)
        for i, (t, a) in enumerate(zip(ft.params, args)):
            write_value(values + i * abi.VALUE_SLOT_SIZE, t, a)
        self.store.call_entry(ft, self.vmctx, self.code, values)
        return [read_value(values + i * abi.VALUE_SLOT_SIZE, t) for i, t in enumerate(ft.results)]

    def __call__(self, *args):
        plan = self._plan
        if plan is None:
            plan = self._plan = _call_plan(self)
        if plan is False:  # a host function, or a signature of v128 or many values
            return self._call_generic(args)
        enter, ft, vmctx, code, entry, params, results, _ = plan
        if len(args) != len(params):
            raise TypeError(f"expected {len(params)} arguments, got {len(args)}")
        try:
            area, values = _FREE_AREAS.pop()
        except IndexError:
            area, values = _new_area()
        slot = 0
        for (low, high, convert), arg in zip(params, args):
            # An int in range is the common case: masked here, without a call.
            area[slot] = arg & high if type(arg) is int and low <= arg <= high else convert(arg)
            slot += _SLOT_WORDS
        enter(ft, vmctx, code, values, entry)
        if len(results) == 1:
            mask, sign, convert = results[0]
            bits = area[0]
            _FREE_AREAS.append((area, values))
            if convert is not None:
                return convert(bits)
            bits &= mask
            return bits - (sign << 1) if bits & sign else bits
        words = area[0:len(results) * _SLOT_WORDS:_SLOT_WORDS]
        _FREE_AREAS.append((area, values))
        if not results:
            return None
        return tuple([_result_value(bits, r) for bits, r in zip(words, results)])

    def _call_generic(self, args):
        ft = self.type
        if len(args) == len(ft.params):
            args = [self._to_bits(t, a, f"argument {i + 1}") for i, (t, a) in enumerate(zip(ft.params, args))]
        bits = self.call_bits(list(args))
        values = [self._from_bits(t, b) for t, b in zip(ft.results, bits)]
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)

    def _to_bits(self, t: int, v, what: str) -> int:
        return wasm_bits(self.store, t, v, what)

    def _from_bits(self, t: int, b: int):
        return python_value(self.store, t, b)

    def _call_host_bits(self, args: list[int]) -> list[int]:
        ft = self.type
        if self.raw:
            results = self.host(*args)
        else:
            results = self.host(*[self._from_bits(t, a) for t, a in zip(ft.params, args)])
        if results is None:
            results = []
        elif not isinstance(results, (tuple, list)):
            results = [results]
        name = getattr(self.host, "__name__", "?")
        if len(results) != len(ft.results):
            raise Trap(f"host function {name} returned {len(results)} values, expected {len(ft.results)}")
        convert = check_bits if self.raw else self._to_bits
        try:
            return [convert(t, r, f"result {i + 1}") for i, (t, r) in enumerate(zip(ft.results, results))]
        except ValueTypeError as e:
            raise Trap(f"host function {name} returned a bad value: {e.reason}") from None

    def call_host_slots(self, values: int) -> None:
        ft = self.type
        args = [read_value(values + i * abi.VALUE_SLOT_SIZE, t) for i, t in enumerate(ft.params)]
        for i, (t, r) in enumerate(zip(ft.results, self._call_host_bits(args))):
            write_value(values + i * abi.VALUE_SLOT_SIZE, t, r)


# --- the fast paths of calls between Python and wasm --------------------------------------------
#
# A call from Python converts each argument with a converter chosen once per Function for its type
# (`_call_plan`), writes the bits into a value area taken from a free list and calls the entry
# trampoline. A call from wasm reads the value slots the host trampoline made through a ctypes
# pointer aliased onto them (`_host_server`). Areas and aliases are taken off their free lists for
# the length of one use and put back after it, so a nested call (a host function calling back in,
# a signal handler between two bytecodes, another thread) never shares one with the call it
# interrupts; one lost to an exception is only garbage. Signatures with v128 values or more values
# than an area holds take the generic path (write_value / read_value).

_SLOT_WORDS = abi.VALUE_SLOT_SIZE // 8  # 64-bit words per value slot
_AREA_VALUES = 16  # values an area holds
_SCALAR = (I32, I64, F32, F64)
_F64 = struct.Struct("<d")
_U64 = struct.Struct("<Q")
_LITTLE_ENDIAN = sys.byteorder == "little"
_FREE_AREAS: list = []  # (ctypes c_uint64 array, its address): value areas for Python -> wasm calls
_FREE_ALIASES: list = []  # (c_void_p, pointer to c_uint64 sharing its storage): for wasm -> Python calls


def _new_area() -> tuple[ctypes.Array, int]:
    """A value area: `_AREA_VALUES` slots, 16-byte aligned (the trampolines load slots as their
    types, v128 included, at that alignment)."""
    size = _AREA_VALUES * abi.VALUE_SLOT_SIZE
    buf = ctypes.create_string_buffer(size + 16)
    offset = -ctypes.addressof(buf) % 16
    area = (ctypes.c_uint64 * (size // 8)).from_buffer(buf, offset)  # keeps `buf` alive
    return area, ctypes.addressof(area)


def _new_alias() -> tuple[ctypes.c_void_p, object]:
    """A c_void_p and a pointer to c_uint64 sharing its storage: assigning an address to the
    c_void_p's `value` points the pointer there, without making a pointer object per call."""
    target = ctypes.c_void_p()
    return target, ctypes.POINTER(ctypes.c_uint64).from_buffer(target)


def _is_fast(ft: FuncType) -> bool:
    """Whether calls of type `ft` take the fast paths, which read and write each value slot as one
    64-bit word holding a 32-bit value in its low half: so on little-endian hosts only (on a
    big-endian one the 4 bytes of an i32 or f32 are the word's high half)."""
    return (_LITTLE_ENDIAN and max(len(ft.params), len(ft.results)) <= _AREA_VALUES
            and all(t in _SCALAR or _ref_kind(t) is not None for t in ft.params + ft.results))


def _bits_converter(store: Store, t: int, what: str, raw: bool = False):
    """Python value -> the 64-bit word of a value slot for type `t` (scalar or reference); a value
    that does not fit raises ValueTypeError naming `what`, as `wasm_bits` does (`raw`: the value is
    raw bits, as `check_bits` takes them)."""
    if raw:
        check = lambda v: check_bits(t, v, what)  # noqa: E731
    else:
        check = lambda v: wasm_bits(store, t, v, what)  # noqa: E731
    if t == I32:
        return lambda v: v & 0xFFFFFFFF if type(v) is int and -0x80000000 <= v <= 0xFFFFFFFF else check(v)
    if t == I64:
        return lambda v: (v & 0xFFFFFFFFFFFFFFFF if type(v) is int and -0x8000000000000000 <= v <= 0xFFFFFFFFFFFFFFFF
                          else check(v))
    if t == F64 and not raw:
        return lambda v: _U64.unpack(_F64.pack(v))[0] if type(v) is float else check(v)
    return check


def _value_converter(store: Store, t: int, raw: bool = False):
    """The 64-bit word of a value slot of type `t` -> the Python value (`raw`: the raw bits; a
    32-bit value has only its low half written)."""
    if t == I32 or t == F32:
        if raw:
            return lambda w: w & 0xFFFFFFFF
        if t == I32:
            return lambda w: (w & 0xFFFFFFFF) - 0x100000000 if w & 0x80000000 else w & 0xFFFFFFFF
        return lambda w: from_bits(F32, w & 0xFFFFFFFF)
    if raw:
        return lambda w: w
    if t == I64:
        return lambda w: w - 0x10000000000000000 if w & 0x8000000000000000 else w
    if t == F64:
        return lambda w: _F64.unpack(_U64.pack(w))[0]
    return lambda w: python_value(store, t, w)


def _call_plan(func: Function):
    """What calling `func` from Python uses, found at its first call: (the store's `call_entry`, the
    function's type, vmctx and code, its entry trampoline, argument converters, result converters,
    result masks: the bits of each result's word that are its value), or False where the generic
    path serves (a host function, a signature `_is_fast` refuses). An entry that is missing raises
    the generic path's error."""
    ft = func.type
    if func.host is not None or not _is_fast(ft):
        return False
    store = func.store
    entry = store.entries.get(ft)
    if entry is None:
        raise WasmbuildError(f"no entry trampoline for signature {ft} in the loaded images")
    return (store.call_entry, ft, func.vmctx, func.code, entry,
            tuple(_argument_spec(store, t, f"argument {i + 1}") for i, t in enumerate(ft.params)),
            tuple(_result_spec(store, t) for t in ft.results),
            tuple(0xFFFFFFFF if t in (I32, F32) else 0xFFFFFFFFFFFFFFFF for t in ft.results))


def _argument_spec(store: Store, t: int, what: str) -> tuple:
    """(low, high, convert): an int from `low` to `high` (the unsigned maximum, which is also the
    mask) is the argument's bits masked; anything else goes through `convert`."""
    if t == I32:
        return -0x80000000, 0xFFFFFFFF, _bits_converter(store, t, what)
    if t == I64:
        return -0x8000000000000000, 0xFFFFFFFFFFFFFFFF, _bits_converter(store, t, what)
    return 1, 0, _bits_converter(store, t, what)  # (an empty range)


def _result_spec(store: Store, t: int) -> tuple:
    """(mask, sign bit, convert): an integer result is its word masked and read as signed; any
    other goes through `convert`."""
    if t == I32:
        return 0xFFFFFFFF, 0x80000000, None
    if t == I64:
        return 0xFFFFFFFFFFFFFFFF, 0x8000000000000000, None
    return 0, 0, _value_converter(store, t)


def _result_value(word: int, spec: tuple):
    mask, sign, convert = spec
    if convert is not None:
        return convert(word)
    word &= mask
    return word - (sign << 1) if word & sign else word


def _host_server(func: Function):
    """What the host-call hook runs for host function `func`: given the address of the value
    slots, calls `func.host` on the arguments and writes its results back (a wrong count or a
    value that does not fit is a Trap, as in `_call_host_bits`)."""
    ft = func.type
    if not _is_fast(ft):
        return func.call_host_slots
    store, host, raw = func.store, func.host, func.raw
    name = getattr(host, "__name__", "?")
    readers = tuple((i * _SLOT_WORDS, _value_converter(store, t, raw)) for i, t in enumerate(ft.params))
    writers = tuple((i * _SLOT_WORDS, _bits_converter(store, t, f"result {i + 1}", raw))
                    for i, t in enumerate(ft.results))
    count = len(writers)

    def serve(values: int) -> None:
        try:
            target, slots = _FREE_ALIASES.pop()
        except IndexError:
            target, slots = _new_alias()
        target.value = values
        args = [read(slots[word]) for word, read in readers]
        _FREE_ALIASES.append((target, slots))
        results = host(*args)
        if results is None:
            results = ()
        elif not isinstance(results, (tuple, list)):
            results = (results,)
        if len(results) != count:
            raise Trap(f"host function {name} returned {len(results)} values, expected {count}")
        try:
            words = [write(r) for (_, write), r in zip(writers, results)]
        except ValueTypeError as e:
            raise Trap(f"host function {name} returned a bad value: {e.reason}") from None
        try:
            target, slots = _FREE_ALIASES.pop()
        except IndexError:
            target, slots = _new_alias()
        target.value = values
        for (word, _), bits in zip(writers, words):
            slots[word] = bits
        _FREE_ALIASES.append((target, slots))

    return serve


def wasm_bits(store: Store, t: int, v, what: str) -> int:
    """A Python value given for a wasm value of type `t`, as raw bits (see Function.__call__)."""
    kind = _ref_kind(t)
    if kind is not None and v is None and not ref_parts(t)[0]:
        raise ValueTypeError(f"{what}: {type_name(t)} is not nullable, None is no value of it")
    if kind == EXTERNREF:
        return store.extern_handle(v)
    if kind == FUNCREF:
        if v is not None and not isinstance(v, Function):
            raise ValueTypeError(f"{what}: funcref wants a Function or None, not {v!r}")
        if v is not None and t != FUNCREF and not matches(ref_type(False, v.type), t):
            raise ValueTypeError(f"{what}: {type_name(t)} wants a function of that type, not {v.type}")
        return 0 if v is None else v.funcref
    if kind == EXNREF:
        if v is not None and not isinstance(v, WasmException):
            raise ValueTypeError(f"{what}: exnref wants a WasmException or None, not {v!r}")
        return 0 if v is None else store.new_exception(v, escaped=True)
    return to_bits(t, v, what)


def python_value(store: Store, t: int, b: int):
    """Raw bits of a wasm value of type `t` as a Python value (an exnref as a WasmException)."""
    kind = _ref_kind(t)
    if kind == EXTERNREF:
        return store.extern_value(b)
    if kind == FUNCREF:
        return store.function_from_ref(b)
    if kind == EXNREF:
        return None if b == 0 else store.exception_from(b)
    return from_bits(t, b)


class Tag:
    """An exception tag of function type `type` (no results). Its address is its identity: an
    instance that imports it holds the same Tag, and a module instantiated twice makes two."""

    def __init__(self, store: Store, ft: FuncType):
        if ft.results:
            raise ValueTypeError(f"a tag type has no results, not {ft}")
        self.store = store
        self.type = ft
        self._buf, self.address = _buffer(abi.TAG_SIZE)
        _poke64(self.address + abi.TAG_TYPE, store.type_id(ft))
        store.tags[self.address] = self

    def __repr__(self) -> str:
        return f"<Tag {self.type} at {self.address:#x}>"


_libc_malloc = _libc.malloc
_libc_malloc.restype = ctypes.c_void_p
_libc_malloc.argtypes = [ctypes.c_size_t]


def entry_function(address: int):
    return _ENTRY(address)


# The frames on top while compiled code runs, entered from Python: cli.py's Ctrl-C watcher looks for them.
ENTRY_FRAMES = (Store.call_entry.__code__,
                next(c for c in Function.bits_caller.__code__.co_consts if getattr(c, "co_name", None) == "call"))
