"""Hosted calls: the host's calls of a component's exports through a fused adapter.

A call from Python of a lifted function whose values live in memory (strings, lists, spilled
arguments or results) would take three native calls on the plain path (`canonical.FunctionAbi.call`):
the callee's realloc, the function, its post-return. A hosted call takes one: the host is the
caller of a fused adapter (component/adapters.py) whose caller side is a small core instance of
the image, the staging instance (`staging_module`):

  memory   the host's side of the call: Python lowers the arguments into it and lifts the result
           from it, as a component would from its own memory
  realloc  a bump allocator from `top` up, growing the memory when needed; the adapter calls it to
           lower the result into the staging memory
  top      (mutable i32 global) where the next allocation starts; 0 between calls

The build (`adapters.FusedAdapters.adapt_host`) adds the staging instance and one adapter per
exported lifted function that needs memory on the caller's side (the others are one native call
already); the image's component record names them (`ComponentRecord.hosted`). At run time
`HostStaging` is the host's side: `options` are the canonical options of a caller whose memory is
the staging memory and whose realloc is the same bump rule in Python (so lowering the arguments
makes no native call), and `call` (or `canonical.FunctionAbi.call_hosted`, its fast path) makes one hosted call: the adapter lowers into the callee (its
realloc, its flags), calls it, copies the result into the staging memory and runs post-return,
and Python lifts the result from there. Calls nest (a host function called by the callee may
call another export): each call gives back what it allocated when it ends.
"""

from __future__ import annotations

from ..binary.encode import Code, ModuleWriter
from ..contract.types import I32, I64
from . import record
from .canonical import CanonOptions

STAGING_INSTANCE = "hoststage"  # the graph module and instance of the staging module
STAGING_MEMORY, STAGING_REALLOC, STAGING_TOP = "memory", "realloc", "top"
PAGE_SIZE = 65536


def staging_options() -> record.CanonOptions:
    """The canonical options of the host's side of a hosted call, as the build names them."""
    return record.CanonOptions(record.CoreRef(STAGING_INSTANCE, STAGING_MEMORY),
                               record.CoreRef(STAGING_INSTANCE, STAGING_REALLOC), None, "utf8")


def staging_module() -> bytes:
    """The staging module: memory, bump realloc and `top`, exported (see the module docstring)."""
    w = ModuleWriter()
    memory = w.memory(1)
    top = w.global_i32(0, mutable=True)
    old, old_size, align, new_size, start, end = range(6)  # params, then i64 locals
    c = Code()
    # A shrink (or no change) of an earlier allocation stays where it is.
    c.op("local.get", old).block("if")
    c.op("local.get", new_size).op("local.get", old_size).op("i32.le_u").block("if")
    c.op("local.get", old).op("return").op("end")
    c.op("end")
    # start = top rounded up to `align` (a power of two), end = start + new_size, in 64 bits
    c.op("global.get", top).op("i64.extend_i32_u").op("local.get", align).op("i64.extend_i32_u").op("i64.add")
    c.i64_const(1).op("i64.sub").i64_const(0).op("local.get", align).op("i64.extend_i32_u").op("i64.sub")
    c.op("i64.and").op("local.tee", start)
    c.op("local.get", new_size).op("i64.extend_i32_u").op("i64.add").op("local.tee", end)
    c.i64_const(0xFFFF_FFFF).op("i64.gt_u").block("if").op("unreachable").op("end")
    # grow to hold `end` bytes
    c.op("local.get", end).op("memory.size", memory).op("i64.extend_i32_u").i64_const(16).op("i64.shl")
    c.op("i64.gt_u").block("if")
    c.op("local.get", end).i64_const(PAGE_SIZE - 1).op("i64.add").i64_const(16).op("i64.shr_u")
    c.op("i32.wrap_i64").op("memory.size", memory).op("i32.sub").op("memory.grow", memory)
    c.i32_const(-1).op("i32.eq").block("if").op("unreachable").op("end")
    c.op("end")
    c.op("local.get", end).op("i32.wrap_i64").op("global.set", top)
    # a grown allocation keeps its contents
    c.op("local.get", old).block("if")
    c.op("local.get", start).op("i32.wrap_i64").op("local.get", old).op("local.get", old_size)
    c.op("memory.copy", memory, memory).op("end")
    c.op("local.get", start).op("i32.wrap_i64")
    realloc = w.function([I32, I32, I32, I32], [I32], [I64, I64], c)
    w.export_memory(STAGING_MEMORY, memory)
    w.export_func(STAGING_REALLOC, realloc)
    w.export_global(STAGING_TOP, top)
    return w.to_bytes()


class HostStaging:
    """The host's side of the hosted calls of one component instance tree: the staging instance's
    memory (a `loader.runtime.Memory`) and `top` (its ctypes word)."""

    __slots__ = ("memory", "top", "options")

    def __init__(self, memory, top_word):
        self.memory = memory
        self.top = top_word
        self.options = CanonOptions(memory, self.realloc, "utf8")

    def realloc(self, old: int, old_size: int, align: int, new_size: int) -> int:
        """The staging realloc's rule, in Python (for the arguments Python lowers)."""
        if old and new_size <= old_size:
            return old
        start = (self.top.value + align - 1) & -align
        end = start + new_size
        if end > self.memory.size:
            self.reserve(end)
        self.top.value = end
        if old and old_size:
            self.memory.write(start, self.memory.read(old, old_size))
        return start

    def reserve(self, end: int) -> None:
        """Grow the staging memory to at least `end` bytes."""
        memory = self.memory
        if end > 0xFFFF_FFFF or memory.grow((end - memory.size + PAGE_SIZE - 1) // PAGE_SIZE) < 0:
            raise MemoryError(f"the host's staging memory cannot grow to {end} bytes")

    def call(self, abi, call_bits, args):
        """One hosted call of the function of `abi` (`canonical.FunctionAbi`) with Python `args`,
        the general way: the arguments lowered by `abi.lower_args` into the staging memory,
        `call_bits` (the adapter's `loader.runtime.Function.bits_caller()`), the result lifted from
        the staging memory."""
        top = self.top
        mark = top.value
        try:
            if not abi.spill_result:
                return abi.call(self.options, args, call_bits)
            c = abi.result

            def call_with_return_pointer(*flat):
                ret = self.realloc(0, 0, c.align, c.size)
                call_bits(*flat, ret)
                return [ret]  # as a lifted function that returns its result area's address
            return abi.call(self.options, args, call_with_return_pointer)
        finally:
            top.value = mark
