"""Fault handling for guard-page memories: the process's SignalState and its SIGSEGV/SIGBUS handler.

Code built with `abi.BOUNDS_GUARD` checks no bounds: an access out of bounds faults in the
inaccessible part of its memory's reservation, and the handler of `translate/fault.py` turns the
fault into the trap. This module gives what that needs, once per process:

- `resolve(name)`: the resolver for code that refers to the SignalState (`abi.SYM_SIGNAL_STATE`):
  its address, else the process's symbol (`codemem.default_resolver`);
- `install(fault_object, machine)`: on the first guard-page image, makes the pthread key of the
  thread's current Runtime, links the image's fault handler object alone into code of its own
  (kept for the life of the process, whatever happens to the image) and installs it with
  `sigaction` (`SA_SIGINFO | SA_ONSTACK | SA_NODEFER`), keeping the previous handlers, to which it
  chains for faults that are not in wasm code;
- `add_code(start, end)` / `remove_code(token)`: the ranges of loaded wasm code, which the handler
  reads from an array that is replaced as a whole (one pointer store) at each change;
- `guard_pages_supported()`: whether this host can run guard-page code at all.
"""

from __future__ import annotations

import ctypes
import itertools
import threading

from ..contract import abi
from ..contract.targets import TARGETS, host_target_name
from ..errors import LinkError
from .codemem import CodeMemory, _libc, _oserror, default_resolver

_lock = threading.Lock()
_state = ctypes.create_string_buffer(abi.SIGNAL_STATE_SIZE)
_STATE = ctypes.addressof(_state)
_prev_segv = ctypes.create_string_buffer(abi.SIGACTION_SIZE)
_prev_bus = ctypes.create_string_buffer(abi.SIGACTION_SIZE)
_handler: CodeMemory | None = None  # the installed handler's code, never unmapped
_ranges: dict[int, tuple[int, int]] = {}
_tokens = itertools.count(1)
_arrays: list = []  # the current ranges array and the one before it (a handler may still read it)
_dead: list[int] = []  # tokens of removed code, for whoever holds the lock to take out


def guard_pages_supported() -> bool:
    """Whether guard-page code can run here: a 64-bit host whose ucontext layout is known."""
    target = TARGETS.get(host_target_name())
    return bool(target and target.ucontext_pc_offset) and ctypes.sizeof(ctypes.c_void_p) == 8


def resolve(name: str) -> int:
    if name == abi.SYM_SIGNAL_STATE:
        return _STATE
    return default_resolver(name)


def _poke(offset: int, value: int) -> None:
    ctypes.c_uint64.from_address(_STATE + offset).value = value


def _publish_locked() -> None:
    """Give the handler a fresh array of the current ranges (the caller holds `_lock`). Removals
    that arrive meanwhile (a CodeMemory collected by an allocation here) are taken in first."""
    while True:
        while _dead:
            _ranges.pop(_dead.pop(), None)
        spans = sorted(_ranges.values())
        array = (ctypes.c_uint64 * (1 + 2 * len(spans)))(len(spans), *itertools.chain.from_iterable(spans))
        _arrays.append(array)  # referenced before the handler can see it
        _poke(abi.SIG_RANGES, ctypes.addressof(array))
        del _arrays[:-2]  # and the one before it kept, which a handler may still be reading
        if not _dead:
            return


def _settle() -> None:
    """Publish the pending removals, unless another thread holds the lock (it will)."""
    while _dead and _lock.acquire(blocking=False):
        try:
            _publish_locked()
        finally:
            _lock.release()


def add_code(start: int, end: int) -> int:
    """Tell the handler that [start, end) is wasm code; gives the token for `remove_code`."""
    with _lock:
        token = next(_tokens)
        _ranges[token] = (start, end)
        _publish_locked()
    _settle()
    return token


def remove_code(token: int) -> None:
    """Forget the code of `token`. Never waits: it runs from `CodeMemory.close`, which the garbage
    collector may call at any allocation, also while this thread holds the lock."""
    _dead.append(token)
    _settle()


def install(fault_object: bytes, machine: str) -> None:
    """Install the fault handler from `fault_object` (an image's `.wb.fault` section), unless one
    is installed already. Raises LinkError if it cannot be."""
    global _handler
    if _handler is not None:
        return
    with _lock:
        if _handler is not None:
            return
        if not guard_pages_supported():
            raise LinkError(f"guard-page memories are not supported on {host_target_name()}: "
                            "build with --bounds-checks explicit")
        from ..link import elf
        from ..link.linker import link
        try:
            linked = link([elf.parse_object(fault_object, "fault handler")], {}, machine=machine)
        except Exception as e:  # a damaged section: the image's checksum let it through
            raise LinkError(f"the fault handler does not link: {e}") from None
        code = CodeMemory(linked, resolve)
        key = ctypes.c_uint()
        if _libc.pthread_key_create(ctypes.byref(key), None) != 0:
            raise _oserror("pthread_key_create")
        _poke(abi.SIG_KEY, key.value)
        if not _arrays:
            _publish_locked()
        _poke(abi.SIG_PREV_SEGV, ctypes.addressof(_prev_segv))
        _poke(abi.SIG_PREV_BUS, ctypes.addressof(_prev_bus))
        action = ctypes.create_string_buffer(abi.SIGACTION_SIZE)
        ctypes.c_uint64.from_buffer(action, 0).value = code.address(abi.SYM_ON_FAULT)
        ctypes.c_int32.from_buffer(action, abi.SA_FLAGS_OFFSET).value = (
            abi.SA_SIGINFO | abi.SA_ONSTACK | abi.SA_NODEFER)
        _handler = code  # kept before the kernel knows its address
        for signum, previous in ((abi.SIGSEGV, _prev_segv), (abi.SIGBUS, _prev_bus)):
            if _libc.sigaction(signum, action, previous) != 0:
                raise _oserror("sigaction")
    _settle()
