"""Fused adapters: a call from one component instance to a function another one lifted, as a core
wasm function compiled like any other.

`adapter_module(ft, caller, callee)` takes the component function type and the canonical options of
both sides (the caller's `canon lower`, the callee's `canon lift`: `record.CanonOptions`) and gives
the bytes of a core module with one export, `ADAPTER_EXPORT`, of the caller's lowered core type, or
None when the type or the options are not covered (then the call goes through the component layer in
Python, `runtime.ComponentInstance._lowered`). The bytes depend only on the type and the shape of the
options, so equal adapters are equal modules: the cache compiles each once.

Covered: every value type but resources (own, borrow): scalars, strings in any pair of encodings
(copied, or transcoded as `canonical._transcode` does, with the reference's allocations: the worst
case, then shrunk; latin1+utf16 decided at run time by the tag bit), lists, records, tuples,
variants, enums, options, results, flags, nested in any way; flat and spilled parameters and
results. Not covered (Python path): types with resources, and a call of an instance into itself (it
traps there). A build without multi-memory keeps the calls whose
adapter needs both memories in Python. The same adapters serve the host's calls of exports that
need memory, with the staging instance as the caller (`FusedAdapters.adapt_host`,
component/hosted.py). The build can be told to use the Python path for every call:
`WASMBUILD_PYTHON_ADAPTERS=1` (`PYTHON_ADAPTERS_ENV`).

The adapter imports (module "a" is the caller, "b" the callee):
  a.memory a.realloc                 the caller's memory and realloc (what its options name)
  b.memory b.realloc b.func b.post-return   the callee's memory, realloc, lifted core function, post-return
  flags.enter        the callee instance's "may enter" flag (mutable i32 global, 1 = may)
  flags.leave.a / flags.leave.b      the "may leave" flags of caller and callee instance
  trap.KIND          (i32, i32) -> (): raises the trap `TRAPS[KIND]` (only called to trap)
`adapter_imports(caller, callee, ...)` gives, for each import, where in the graph it comes from. The
flags are globals the component layer makes per component instance (`enter_flag`, `leave_flag`
name them in the host namespace) and reads and sets itself on its Python paths, so both kinds of call
keep one state: an instance being run is not entered again, realloc and post-return may not call
out. What the adapter does, in the order the component layer's Python path does it:
  1. trap unless the caller may leave; lift the caller's arguments: every check lifting makes (char,
     discriminants, the spilled argument area, strings and lists: size, alignment, bounds in the
     caller's memory, UTF-8; each element of a list), emitted as a pass of checks over the value
  2. trap unless the callee may enter; clear its flag
  3. lower the arguments into the callee, a second pass: scalars converted (bool 0/1, small integers
     masked or sign-extended, NaNs canonical, flags masked), strings and lists copied into memory
     its realloc gives (realloc run with its "may leave" cleared; its pointer checked; a string
     transcoded when the encodings differ), variants
     case by case (the joined flat slots of the other cases zero)
  4. call; lift the result (the same checks, in the callee's memory; the result area checked),
     lower it into the caller's memory through the caller's realloc, store it at the return pointer
  5. post-return (with the callee's "may leave" cleared); set the callee's "may enter" flag again
A trap leaves the flags as they were at the trap: the component layer locks the whole tree then.
Unlike the Python path, a string or list result is copied before post-return runs (it may free it).
"""

from __future__ import annotations

import os

from ..binary.encode import Code, ModuleWriter
from ..build.plan import ModuleInput
from ..contract.features import MULTI_MEMORY
from ..contract.types import F32, F64, I32, I64
from ..loader.runtime import Trap
from . import types as ct
from .canonical import (CANONICAL_NAN32, CANONICAL_NAN64, MAX_FLAT_PARAMS, MAX_LIST_BYTE_LENGTH,
                        MAX_STRING_BYTE_LENGTH, UTF16_TAG, alignment, discriminant_size, elem_size,
                        field_offsets, flags_size, flatten_functype, flatten_type, flatten_types,
                        payload_offset, record_members, variant_cases)
from . import hosted
from .record import HOST, NAMESPACE, CanonOptions, CoreRef

PYTHON_ADAPTERS_ENV = "WASMBUILD_PYTHON_ADAPTERS"  # set to 1: every component-to-component call through Python

ADAPTER_EXPORT = "adapt"

# What each trap of an adapter says: the wording of the Python path's traps (canonical.py, runtime.py).
TRAPS = {
    "enter": lambda a, b: "cannot enter component instance",
    "leave": lambda a, b: "cannot leave component instance",
    "char": lambda a, b: f"invalid `char` bit pattern {a:#x}",
    "string-size": lambda a, b: f"string content out-of-bounds: {b} bytes is more than a string may have",
    "string-bounds": lambda a, b: f"string content out-of-bounds: {b} bytes at {a:#x}, beyond the end of memory",
    "utf8": lambda a, b: f"invalid utf-8: {_UTF8_REASONS[b]} at byte {a}",
    "string16-size": lambda a, b: f"string content out-of-bounds: {2 * b} bytes is more than a string may have",
    "string-align": lambda a, b: f"unaligned pointer: string content at {a:#x} is not {b}-aligned",
    "utf16": lambda a, b: f"invalid utf-16: {_UTF16_REASONS[b]} at byte {a}",
    "list-size": lambda a, b: f"list content out-of-bounds: {b} elements is more than a list may have",
    "list-bounds": lambda a, b: f"list content out-of-bounds: {b} bytes at {a:#x}, beyond the end of memory",
    "list-align": lambda a, b: f"unaligned pointer: list content at {a:#x} is not {b}-aligned",
    "realloc-align": lambda a, b: f"realloc return: result not aligned (unaligned pointer {a:#x}, alignment {b})",
    "realloc-bounds": lambda a, b: f"realloc return: beyond end of memory ({b} bytes at {a:#x} out-of-bounds)",
    "variant": lambda a, b: f"invalid variant discriminant: discriminant {a} out of range [0..{b})",
    "args-align": lambda a, b: f"unaligned pointer: argument area at {a:#x} is not {b}-aligned",
    "args-bounds": lambda a, b: f"argument area out-of-bounds: {b} bytes at {a:#x}",
    "result-align": lambda a, b: f"unaligned pointer: result area at {a:#x} is not {b}-aligned",
    "result-bounds": lambda a, b: f"result area out-of-bounds: {b} bytes at {a:#x}",
    "retptr-align": lambda a, b: f"unaligned pointer: return pointer {a:#x} is not {b}-aligned",
    "retptr-bounds": lambda a, b: f"return pointer out-of-bounds: {b} bytes at {a:#x}",
}


# the reasons of the UTF-8 and UTF-16 checks, in canonical.py's words (Python's decoder's)
_UTF8_REASONS = ("invalid start byte", "invalid continuation byte", "incomplete utf-8 byte sequence")
_UTF16_REASONS = ("illegal UTF-16 surrogate", "illegal encoding", "incomplete utf-16 code unit sequence")


def enter_flag(instance: int) -> str:
    return f"flag.enter.{instance}"


def leave_flag(instance: int) -> str:
    return f"flag.leave.{instance}"


def trap_item(kind: str) -> str:
    return f"trap.{kind}"


def trap_functions() -> dict:
    """The host namespace's trap items (name -> raw callable), which the component layer serves."""
    def make(say):
        def raise_trap(a, b):
            raise Trap(say(a & 0xFFFFFFFF, b & 0xFFFFFFFF))
        return raise_trap
    return {trap_item(kind): make(say) for kind, say in TRAPS.items()}


_CORE_OF_PRIM = {"bool": I32, "s8": I32, "u8": I32, "s16": I32, "u16": I32, "s32": I32, "u32": I32, "char": I32,
                 "s64": I64, "u64": I64, "f32": F32, "f64": F64}
_INTS = ("s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64")
# A scalar in memory: (load, store, log2 of the alignment); a raw copy of its bytes, but for bool,
# char and the floats (normalised or checked on the way).
_MEM_OPS = {"bool": ("i32.load8_u", "i32.store8", 0), "s8": ("i32.load8_u", "i32.store8", 0),
            "u8": ("i32.load8_u", "i32.store8", 0), "s16": ("i32.load16_u", "i32.store16", 1),
            "u16": ("i32.load16_u", "i32.store16", 1), "s32": ("i32.load", "i32.store", 2),
            "u32": ("i32.load", "i32.store", 2), "char": ("i32.load", "i32.store", 2),
            "s64": ("i64.load", "i64.store", 3), "u64": ("i64.load", "i64.store", 3),
            "f32": ("f32.load", "f32.store", 2), "f64": ("f64.load", "f64.store", 3)}
_SIZED_OPS = {1: ("i32.load8_u", "i32.store8", 0), 2: ("i32.load16_u", "i32.store16", 1),
              4: ("i32.load", "i32.store", 2)}  # a discriminant or flags of 1, 2 or 4 bytes
# a value of core type `frm` as one of core type `to`, for a variant's joined slots (both ways)
_WIDEN = {(I32, I64): ("i64.extend_i32_u",), (F32, I32): ("i32.reinterpret_f32",),
          (F32, I64): ("i32.reinterpret_f32", "i64.extend_i32_u"), (F64, I64): ("i64.reinterpret_f64",)}
_NARROW = {(I64, I32): ("i32.wrap_i64",), (I32, F32): ("f32.reinterpret_i32",),
           (I64, F32): ("i32.wrap_i64", "f32.reinterpret_i32"), (I64, F64): ("f64.reinterpret_i64",)}
_M = {"a": 0, "b": 1}  # memory indices in the adapter: the caller's memory is 0, the callee's 1
_VARIANT_LIKE = (ct.Variant, ct.Enum, ct.Option, ct.Result)


def _is_scalar(t) -> bool:
    return isinstance(t, ct.Prim) and t.name in _CORE_OF_PRIM


def _is_string(t) -> bool:
    return isinstance(t, ct.Prim) and t.name == "string"


def _children(t) -> tuple:
    if isinstance(t, (ct.Record, ct.Tuple)):
        return record_members(t)
    if isinstance(t, _VARIANT_LIKE):
        return tuple(c for c in variant_cases(t) if c is not None)
    if isinstance(t, ct.List):
        return (t.elem,)
    return ()


def _supported(t) -> bool:
    """Whether the adapter can move values of `t`: everything but resources (own, borrow)."""
    if isinstance(t, (ct.Own, ct.Borrow)):
        return False
    if isinstance(t, ct.Prim):
        return t.name in _CORE_OF_PRIM or t.name == "string"
    return all(_supported(c) for c in _children(t))


def _has_pointers(t) -> bool:
    return _is_string(t) or isinstance(t, ct.List) or any(_has_pointers(c) for c in _children(t))


def _needs_check(t) -> bool:
    """Whether lifting a value of `t` can trap (a char, a discriminant, a string or list)."""
    if isinstance(t, ct.Prim):
        return t.name in ("char", "string")
    if isinstance(t, (ct.List, ct.Enum) + _VARIANT_LIKE):
        return True
    return any(_needs_check(c) for c in _children(t))


def _plain_bytes(t) -> bool:
    """Whether a value of `t` in memory moves as its bytes: integers (and records of them, unpadded
    or not: padding is unspecified)."""
    if isinstance(t, ct.Prim):
        return t.name in _INTS
    if isinstance(t, (ct.Record, ct.Tuple)):
        return all(_plain_bytes(m) for m in record_members(t))
    return False


def covered(ft: ct.FuncType, caller: CanonOptions, callee: CanonOptions) -> bool:
    """Whether `adapter_module` makes an adapter for this call."""
    params = [t for _, t in ft.params]
    types = params + ([] if ft.result is None else [ft.result])
    if not all(_supported(t) for t in types):
        return False
    lift = flatten_functype(ft, "lift")
    lower = flatten_functype(ft, "lower")
    spilled_params = len(flatten_types(params)) > MAX_FLAT_PARAMS
    spilled_result = len(lift.results) == 1 and ft.result is not None and len(flatten_type(ft.result)) > 1
    if spilled_params or spilled_result or any(_has_pointers(t) for t in types):
        if caller.memory is None or callee.memory is None:
            return False
    if (spilled_params or any(_has_pointers(t) for t in params)) and callee.realloc is None:
        return False
    if ft.result is not None and _has_pointers(ft.result) and caller.realloc is None:
        return False
    return len(lower.results) <= 1


class _Writer:
    def __init__(self, ft: ct.FuncType, caller: CanonOptions, callee: CanonOptions):
        self.ft = ft
        self.caller, self.callee = caller, callee
        self.m = ModuleWriter()
        self.code = Code()
        self.lower_type = flatten_functype(ft, "lower")
        self.lift_type = flatten_functype(ft, "lift")
        self.nparams = len(self.lower_type.params)
        self.param_types = tuple(t for _, t in ft.params)
        self.spilled_params = len(flatten_types(self.param_types)) > MAX_FLAT_PARAMS
        self.spilled_result = ft.result is not None and len(flatten_type(ft.result)) > 1
        self.encoding = {"a": caller.encoding, "b": callee.encoding}
        self.imports: list[str] = []
        self.locals: list[int] = []
        self.funcs: dict[str, int] = {}
        self.globals: dict[str, int] = {}
        types = self.param_types + (() if ft.result is None else (ft.result,))
        needs_memory = self.spilled_params or self.spilled_result or any(map(_has_pointers, types))
        # Imports first, in a fixed order (the bytes must depend only on the adapter's shape).
        if needs_memory:
            self.m.import_memory("a", "memory")
            self.m.import_memory("b", "memory")
            self.imports += ["a.memory", "b.memory"]
        for g in ("enter", "leave.a", "leave.b"):
            self.globals[g] = self.m.import_global("flags", g, I32, True)
            self.imports.append(f"flags.{g}")
        for kind in TRAPS:
            self.import_func(f"trap.{kind}", (I32, I32), ())
        self.import_func("b.func", self.lift_type.params, self.lift_type.results)
        if callee.post_return is not None:
            self.import_func("b.post-return", self.lift_type.results, ())
        if self.spilled_params or any(map(_has_pointers, self.param_types)):
            self.import_func("b.realloc", (I32,) * 4, (I32,))
        if ft.result is not None and _has_pointers(ft.result):
            self.import_func("a.realloc", (I32,) * 4, (I32,))

    def import_func(self, key: str, params, results) -> None:
        module, item = key.split(".", 1)
        self.funcs[key] = self.m.import_func(module, item, params, results)
        self.imports.append(key)

    def local(self, t: int = I32) -> int:
        self.locals.append(t)
        return self.nparams + len(self.locals) - 1

    def const_local(self, value: int) -> int:
        x = self.local()
        self.code.i32_const(value).op("local.set", x)
        return x

    # -- small pieces -------------------------------------------------------------------------------
    def trap(self, kind: str, a=None, b=None, b_const: int = 0):
        """Call the trap `kind` with the values of locals `a`, `b` (or 0; `b_const` for b)."""
        c = self.code
        c.op("local.get", a) if a is not None else c.i32_const(0)
        c.op("local.get", b) if b is not None else c.i32_const(b_const)
        c.op("call", self.funcs[f"trap.{kind}"]).op("unreachable")

    def trap_if(self, kind: str, a=None, b=None, b_const: int = 0):
        """Trap `kind` if the i32 on the stack is not zero."""
        self.code.block("if")
        self.trap(kind, a, b, b_const)
        self.code.op("end")

    def set_flag(self, flag: str, value: int):
        self.code.i32_const(value).op("global.set", self.globals[flag])

    def check_range_in(self, side: str, ptr: int, nbytes: int, kind: str):
        """Trap `kind` unless `nbytes` at `ptr` (i32 locals) fit in the memory of `side`."""
        c = self.code
        c.op("local.get", ptr).op("i64.extend_i32_u").op("local.get", nbytes).op("i64.extend_i32_u").op("i64.add")
        c.op("memory.size", _M[side]).op("i64.extend_i32_u").i64_const(16).op("i64.shl").op("i64.gt_u")
        self.trap_if(kind, ptr, nbytes)

    def check_aligned(self, ptr: int, align: int, kind: str):
        if align > 1:
            align_local = self.const_local(align)
            self.code.op("local.get", ptr).i32_const(align - 1).op("i32.and")
            self.trap_if(kind, ptr, align_local)

    def check_area(self, side: str, ptr: int, t, kind: str):
        """An area of type `t` at `ptr` (the spilled arguments or result): aligned, in bounds."""
        self.check_aligned(ptr, alignment(t), f"{kind}-align")
        self.check_range_in(side, ptr, self.const_local(elem_size(t)), f"{kind}-bounds")

    def realloc(self, side: str, align: int, nbytes: int, old: int | None = None, old_size: int | None = None,
                into: int | None = None) -> int:
        """Call the realloc of `side` for `nbytes` (a local; from `old`, `old_size` locals, or 0, 0)
        with its "may leave" cleared; a local (`into`, or a new one) with the checked pointer."""
        c = self.code
        ptr = self.local() if into is None else into
        self.set_flag(f"leave.{side}", 0)
        if old is None:
            c.i32_const(0).i32_const(0)
        else:
            c.op("local.get", old).op("local.get", old_size)
        c.i32_const(align).op("local.get", nbytes).op("call", self.funcs[f"{side}.realloc"])
        c.op("local.set", ptr)
        self.set_flag(f"leave.{side}", 1)
        self.check_aligned(ptr, align, "realloc-align")
        self.check_range_in(side, ptr, nbytes, "realloc-bounds")
        return ptr

    def address(self, base: int, offset: int) -> int:
        """A local with `base` (a local) + `offset`."""
        if offset == 0:
            return base
        x = self.local()
        self.code.op("local.get", base).i32_const(offset).op("i32.add").op("local.set", x)
        return x

    def load(self, op: str, align_log2: int, side: str, addr: int, offset: int, t: int = I32) -> int:
        x = self.local(t)
        self.code.op("local.get", addr).mem(op, align_log2, offset, _M[side]).op("local.set", x)
        return x

    def store(self, op: str, align_log2: int, side: str, addr: int, offset: int, value: int):
        self.code.op("local.get", addr).op("local.get", value).mem(op, align_log2, offset, _M[side])

    def loop_elements(self, n: int, body):
        """Run `body(i)` (emits code; `i` a local) for i in 0..n-1 (`n` a local)."""
        c = self.code
        i = self.const_local(0)
        c.block("block").block("loop")
        c.op("local.get", i).op("local.get", n).op("i32.ge_u").op("br_if", 1)
        body(i)
        c.op("local.get", i).i32_const(1).op("i32.add").op("local.set", i).op("br", 0)
        c.op("end").op("end")

    def element_address(self, ptr: int, i: int, size: int) -> int:
        x = self.local()
        self.code.op("local.get", ptr).op("local.get", i).i32_const(size).op("i32.mul").op("i32.add")
        self.code.op("local.set", x)
        return x

    def check_utf8(self, side: str, ptr: int, n: int):
        """Trap unless the `n` bytes at `ptr` in the memory of `side` are UTF-8 (as Python decodes it:
        no overlong forms, surrogates or code points beyond U+10FFFF)."""
        c = self.code
        mem = _M[side]
        i, b0, need, lo, hi, k = (self.local() for _ in range(6))

        def byte_at(offset_local=None, plus: int = 0):
            c.op("local.get", ptr).op("local.get", i).op("i32.add")
            if offset_local is not None:
                c.op("local.get", offset_local).op("i32.add")
            c.mem("i32.load8_u", 0, plus, mem)

        def lead(limit: int, n_cont: int, special_lo: tuple, special_hi: tuple):
            """For a lead byte below `limit` (tested in order): set need, lo, hi."""
            c.op("local.get", b0).i32_const(limit).op("i32.lt_u").block("if")
            c.i32_const(n_cont).op("local.set", need)
            for target, (byte, value, default) in ((lo, special_lo), (hi, special_hi)):
                c.i32_const(value).i32_const(default).op("local.get", b0).i32_const(byte).op("i32.eq")
                c.op("select").op("local.set", target)
            c.op("br", 1).op("end")  # out of the selection block

        c.i32_const(0).op("local.set", i)
        c.block("block").block("loop")                       # $done, $next
        c.op("local.get", i).op("local.get", n).op("i32.ge_u").op("br_if", 1)
        byte_at()
        c.op("local.tee", b0).i32_const(0x80).op("i32.lt_u").block("if")
        c.op("local.get", i).i32_const(1).op("i32.add").op("local.set", i).op("br", 1)  # to $next
        c.op("end")
        c.op("local.get", b0).i32_const(0xC2).op("i32.lt_u")
        self.trap_if("utf8", i, b_const=0)
        c.block("block")                                     # the lead byte's class
        lead(0xE0, 1, (0, 0x80, 0x80), (0, 0xBF, 0xBF))
        lead(0xF0, 2, (0xE0, 0xA0, 0x80), (0xED, 0x9F, 0xBF))
        lead(0xF5, 3, (0xF0, 0x90, 0x80), (0xF4, 0x8F, 0xBF))
        self.trap("utf8", i, b_const=0)
        c.op("end")
        # enough bytes left, the first continuation byte in [lo, hi], the others in [0x80, 0xBF]
        c.op("local.get", i).op("local.get", need).op("i32.add").op("local.get", n).op("i32.ge_u")
        self.trap_if("utf8", i, b_const=2)
        byte_at(plus=1)
        c.op("local.tee", k).op("local.get", lo).op("i32.lt_u").op("local.get", k).op("local.get", hi)
        c.op("i32.gt_u").op("i32.or")
        self.trap_if("utf8", i, b_const=1)
        c.i32_const(2).op("local.set", k)
        c.block("block").block("loop")
        c.op("local.get", k).op("local.get", need).op("i32.gt_u").op("br_if", 1)
        byte_at(k)
        c.i32_const(0xC0).op("i32.and").i32_const(0x80).op("i32.ne")
        self.trap_if("utf8", i, b_const=1)
        c.op("local.get", k).i32_const(1).op("i32.add").op("local.set", k).op("br", 0)
        c.op("end").op("end")
        c.op("local.get", i).op("local.get", need).op("i32.add").i32_const(1).op("i32.add").op("local.set", i)
        c.op("br", 0)
        c.op("end").op("end")

    def check_utf16(self, side: str, ptr: int, nbytes: int):
        """Trap unless the `nbytes` at `ptr` in the memory of `side` are UTF-16 (little-endian, every
        surrogate in a pair)."""
        c = self.code
        mem = _M[side]
        i, u = self.local(), self.local()

        def unit_at(plus: int):
            c.op("local.get", ptr).op("local.get", i).op("i32.add").mem("i32.load16_u", 1, plus, mem)

        c.i32_const(0).op("local.set", i)
        c.block("block").block("loop")
        c.op("local.get", i).op("local.get", nbytes).op("i32.ge_u").op("br_if", 1)
        unit_at(0)
        c.op("local.tee", u).i32_const(0xF800).op("i32.and").i32_const(0xD800).op("i32.ne").block("if")
        c.op("local.get", i).i32_const(2).op("i32.add").op("local.set", i).op("br", 1)  # not a surrogate
        c.op("end")
        c.op("local.get", u).i32_const(0xDC00).op("i32.ge_u")
        self.trap_if("utf16", i, b_const=1)  # a low surrogate first
        c.op("local.get", i).i32_const(2).op("i32.add").op("local.get", nbytes).op("i32.ge_u")
        self.trap_if("utf16", i, b_const=2)  # a high surrogate last
        unit_at(2)
        c.i32_const(0xFC00).op("i32.and").i32_const(0xDC00).op("i32.ne")
        self.trap_if("utf16", i, b_const=0)  # a high surrogate without its low one
        c.op("local.get", i).i32_const(4).op("i32.add").op("local.set", i).op("br", 0)
        c.op("end").op("end")

    def check_char(self, value: int):
        c = self.code
        # invalid: >= 0x110000, or a surrogate (0xD800..0xDFFF)
        c.op("local.get", value).i32_const(0x110000).op("i32.ge_u")
        c.op("local.get", value).i32_const(0xD800).op("i32.sub").i32_const(0x800).op("i32.lt_u").op("i32.or")
        self.trap_if("char", value)

    def check_discriminant(self, disc: int, n: int):
        count = self.const_local(n)
        self.code.op("local.get", disc).op("local.get", count).op("i32.ge_u")
        self.trap_if("variant", disc, count)

    def if_case(self, disc: int, case: int, body):
        self.code.op("local.get", disc).i32_const(case).op("i32.eq").block("if")
        body()
        self.code.op("end")

    # -- strings and lists ------------------------------------------------------------------------
    def list_layout(self, t):
        """(element size, alignment) of a list's elements."""
        return elem_size(t.elem), alignment(t.elem)

    def times(self, n: int, factor: int) -> int:
        """A local with `n` * `factor` (`n` itself for 1)."""
        if factor == 1:
            return n
        x = self.local()
        self.code.op("local.get", n).i32_const(factor).op("i32.mul").op("local.set", x)
        return x

    def check_list(self, side: str, t, ptr: int, n: int):
        """Lift a list (pointer and length locals) from the memory of `side`: its size, alignment,
        bounds and elements."""
        size, align = self.list_layout(t)
        # more than a list may have (compared as elements: n * size may overflow 32 bits)
        self.code.op("local.get", n).op("i64.extend_i32_u").i64_const(MAX_LIST_BYTE_LENGTH // size).op("i64.gt_u")
        self.trap_if("list-size", ptr, n)
        nbytes = self.times(n, size)
        self.check_aligned(ptr, align, "list-align")
        self.check_range_in(side, ptr, nbytes, "list-bounds")
        if _needs_check(t.elem):
            self.loop_elements(n, lambda i: self.check_mem(t.elem, side, self.element_address(ptr, i, size), 0))

    def check_string(self, side: str, ptr: int, n: int):
        """Lift a string (pointer and code units) from the memory of `side`, as
        `canonical._load_string_from_range` does: its size, alignment, bounds and text."""
        encoding = self.encoding[side]
        if encoding == "latin1+utf16":
            c = self.code
            c.op("local.get", n).i32_const(UTF16_TAG).op("i32.and").block("if")
            units = self.local()
            c.op("local.get", n).i32_const(UTF16_TAG).op("i32.xor").op("local.set", units)
            self.check_simple_string(side, "utf16", ptr, units)
            c.op("else")
            self.check_simple_string(side, "latin1", ptr, n)
            c.op("end")
        else:
            self.check_simple_string(side, encoding, ptr, n)

    def check_simple_string(self, side: str, simple: str, ptr: int, units: int):
        c = self.code
        unit = 2 if simple == "utf16" else 1
        c.op("local.get", units).op("i64.extend_i32_u").i64_const(MAX_STRING_BYTE_LENGTH // unit).op("i64.gt_u")
        self.trap_if("string16-size" if unit == 2 else "string-size", ptr, units)
        nbytes = self.times(units, unit)
        self.check_aligned(ptr, 1 if simple == "utf8" else 2, "string-align")
        self.check_range_in(side, ptr, nbytes, "string-bounds")
        if simple == "utf8":
            self.check_utf8(side, ptr, nbytes)
        elif simple == "utf16":
            self.check_utf16(side, ptr, nbytes)

    def transfer_range(self, src: str, dst: str, t, ptr: int, n: int) -> tuple[int, int]:
        """Copy a checked string or list into memory the realloc of `dst` gives (a string transcoded
        when the encodings differ); locals with the new pointer and length."""
        if _is_string(t):
            return self.transfer_string(src, dst, ptr, n)
        size, align = self.list_layout(t)
        nbytes = self.times(n, size)
        new = self.realloc(dst, align, nbytes)
        if _plain_bytes(t.elem):
            self.code.op("local.get", new).op("local.get", ptr).op("local.get", nbytes)
            self.code.op("memory.copy", _M[dst], _M[src])
        else:
            self.loop_elements(n, lambda i: self.transfer_mem(
                t.elem, src, self.element_address(ptr, i, size), 0, dst, self.element_address(new, i, size), 0))
        return new, n

    # -- strings, with the reference's allocations (canonical.py's `_transcode` and what it calls) --
    # (A worst case fits in 32 bits: lifting checked the code units against MAX_STRING_BYTE_LENGTH.)
    def transfer_string(self, src: str, dst: str, ptr: int, n: int) -> tuple[int, int]:
        if self.encoding[src] != "latin1+utf16":
            return self.store_string(src, dst, self.encoding[src], ptr, n)
        # latin1+utf16: which of the two the string is in is known only at run time
        c = self.code
        new, length = self.local(), self.local()
        c.op("local.get", n).i32_const(UTF16_TAG).op("i32.and").block("if")
        units = self.local()
        c.op("local.get", n).i32_const(UTF16_TAG).op("i32.xor").op("local.set", units)
        for x, y in zip((new, length), self.store_string(src, dst, "utf16", ptr, units, tagged=True)):
            c.op("local.get", y).op("local.set", x)
        c.op("else")
        for x, y in zip((new, length), self.store_string(src, dst, "latin1", ptr, n)):
            c.op("local.get", y).op("local.set", x)
        c.op("end")
        return new, length

    def store_string(self, src: str, dst: str, simple: str, ptr: int, units: int, tagged: bool = False):
        """Lower a string held in `simple` encoding ("utf8", "utf16", "latin1") as `units` code
        units into `dst`'s encoding; `tagged`: it came as latin1+utf16's UTF-16."""
        target = self.encoding[dst]
        if target == "utf8":
            if simple == "utf8":
                return self.copy_string(src, dst, ptr, units, 1, 1)
            return self.store_to_utf8(src, dst, simple, ptr, units, 3 if simple == "utf16" else 2)
        if target == "utf16":
            if simple == "utf8":
                return self.store_utf8_to_utf16(src, dst, ptr, units)
            if simple == "utf16":
                return self.copy_string(src, dst, ptr, units, 2, 2)
            return self.inflate_latin1(src, dst, ptr, units)
        if simple == "latin1":
            return self.copy_string(src, dst, ptr, units, 1, 2)
        if tagged:
            return self.store_probably_utf16(src, dst, ptr, units)
        return self.store_to_latin1_or_utf16(src, dst, simple, ptr, units)

    def copy_string(self, src, dst, ptr, units, unit: int, align: int):
        nbytes = self.times(units, unit)
        new = self.realloc(dst, align, nbytes)
        self.code.op("local.get", new).op("local.get", ptr).op("local.get", nbytes)
        self.code.op("memory.copy", _M[dst], _M[src])
        return new, units

    def byte_at(self, side: str, base: int, index: int, plus: int = 0):
        """Push the byte at `base` + `index` + `plus` (locals, constant) of the memory of `side`."""
        self.code.op("local.get", base).op("local.get", index).op("i32.add").mem("i32.load8_u", 0, plus, _M[side])

    def unit_at(self, side: str, base: int, index: int, plus: int = 0):
        """Push the UTF-16 code unit `index` (a local) + `plus` / 2 at `base` in the memory of `side`."""
        c = self.code
        c.op("local.get", base).op("local.get", index).i32_const(1).op("i32.shl").op("i32.add")
        c.mem("i32.load16_u", 1, plus, _M[side])

    def store_at(self, side: str, base: int, offset: int, value, op: str = "i32.store8", plus: int = 0):
        """Store `value()` (emits the value) at `base` + `offset` (locals) + `plus`."""
        c = self.code
        c.op("local.get", base).op("local.get", offset).op("i32.add")
        value()
        c.mem(op, 0 if op == "i32.store8" else 1, plus, _M[side])

    def add_to(self, x: int, amount: int):
        self.code.op("local.get", x).i32_const(amount).op("i32.add").op("local.set", x)

    def read_code_point(self, side: str, simple: str, ptr: int, j: int, cp: int):
        """The code point at code unit `j` of a checked string into `cp`; `j` moves past it."""
        c = self.code
        if simple == "latin1":
            self.byte_at(side, ptr, j)
            c.op("local.set", cp)
            self.add_to(j, 1)
            return
        if simple == "utf16":
            self.unit_at(side, ptr, j)
            c.op("local.tee", cp).i32_const(0xFC00).op("i32.and").i32_const(0xD800).op("i32.eq").block("if")
            c.op("local.get", cp).i32_const(0xD800).op("i32.sub").i32_const(10).op("i32.shl")
            self.unit_at(side, ptr, j, 2)
            c.i32_const(0xDC00).op("i32.sub").op("i32.or").i32_const(0x10000).op("i32.add").op("local.set", cp)
            self.add_to(j, 2)
            c.op("else")
            self.add_to(j, 1)
            c.op("end")
            return
        b0 = self.local()

        def sequence(lead_mask: int, length: int):
            c.op("local.get", b0).i32_const(lead_mask).op("i32.and").i32_const(6 * (length - 1)).op("i32.shl")
            for k in range(1, length):
                self.byte_at(side, ptr, j, k)
                c.i32_const(0x3F).op("i32.and")
                if length - 1 - k:
                    c.i32_const(6 * (length - 1 - k)).op("i32.shl")
                c.op("i32.or")
            c.op("local.set", cp)
            self.add_to(j, length)

        self.byte_at(side, ptr, j)
        c.op("local.tee", b0).i32_const(0x80).op("i32.lt_u").block("if")
        c.op("local.get", b0).op("local.set", cp)
        self.add_to(j, 1)
        c.op("else").op("local.get", b0).i32_const(0xE0).op("i32.lt_u").block("if")
        sequence(0x1F, 2)
        c.op("else").op("local.get", b0).i32_const(0xF0).op("i32.lt_u").block("if")
        sequence(0x0F, 3)
        c.op("else")
        sequence(0x07, 4)
        c.op("end").op("end").op("end")

    def write_utf16(self, side: str, base: int, o: int, cp: int):
        """Code point `cp` as UTF-16 at byte `o` of `base`; `o` moves past it."""
        c = self.code
        c.op("local.get", cp).i32_const(0x10000).op("i32.lt_u").block("if")
        self.store_at(side, base, o, lambda: c.op("local.get", cp), "i32.store16")
        self.add_to(o, 2)
        c.op("else")
        self.store_at(side, base, o, lambda: c.op("local.get", cp).i32_const(0x10000).op("i32.sub").i32_const(10)
                      .op("i32.shr_u").i32_const(0xD800).op("i32.or"), "i32.store16")
        self.store_at(side, base, o, lambda: c.op("local.get", cp).i32_const(0x3FF).op("i32.and").i32_const(0xDC00)
                      .op("i32.or"), "i32.store16", 2)
        self.add_to(o, 4)
        c.op("end")

    def write_utf8(self, side: str, base: int, o: int, cp: int):
        """Code point `cp` as UTF-8 at byte `o` of `base`; `o` moves past it."""
        c = self.code

        def put(k: int, mark: int, shift: int, mask: int):
            def value():
                c.op("local.get", cp)
                if shift:
                    c.i32_const(shift).op("i32.shr_u")
                c.i32_const(mask).op("i32.and").i32_const(mark).op("i32.or")
            self.store_at(side, base, o, value, plus=k)

        def encode(count: int):
            lead = {1: (0x00, 0x7F), 2: (0xC0, 0x1F), 3: (0xE0, 0x0F), 4: (0xF0, 0x07)}[count]
            put(0, lead[0], 6 * (count - 1), lead[1])
            for k in range(1, count):
                put(k, 0x80, 6 * (count - 1 - k), 0x3F)
            self.add_to(o, count)

        for limit, count in ((0x80, 1), (0x800, 2), (0x10000, 3)):
            c.op("local.get", cp).i32_const(limit).op("i32.lt_u").block("if")
            encode(count)
            c.op("else")
        encode(4)
        c.op("end").op("end").op("end")

    def each_code_point(self, side: str, simple: str, ptr: int, units: int, j: int, body):
        """Run `body(cp)` for the code points from code unit `j` (a local) to the end."""
        c = self.code
        cp = self.local()
        c.block("block").block("loop")
        c.op("local.get", j).op("local.get", units).op("i32.ge_u").op("br_if", 1)
        self.read_code_point(side, simple, ptr, j, cp)
        body(cp)
        c.op("br", 0)
        c.op("end").op("end")

    def shrink(self, dst: str, new: int, worst: int, used: int, align: int):
        """If `used` < `worst` bytes: realloc `new` down to `used` (the reference's last step)."""
        self.code.op("local.get", used).op("local.get", worst).op("i32.lt_u").block("if")
        self.realloc(dst, align, used, old=new, old_size=worst, into=new)
        self.code.op("end")

    def store_utf8_to_utf16(self, src, dst, ptr, units):
        c = self.code
        worst = self.times(units, 2)
        new = self.realloc(dst, 2, worst)
        j, o = self.const_local(0), self.const_local(0)
        self.each_code_point(src, "utf8", ptr, units, j, lambda cp: self.write_utf16(dst, new, o, cp))
        self.shrink(dst, new, worst, o, 2)
        length = self.local()
        c.op("local.get", o).i32_const(1).op("i32.shr_u").op("local.set", length)
        return new, length

    def store_to_utf8(self, src, dst, simple, ptr, units, worst_factor: int):
        """From UTF-16 or latin-1: the ASCII prefix byte for byte into `units` bytes; from the first
        other code point on, the worst case, the rest encoded, shrunk to the length."""
        c = self.code
        new = self.realloc(dst, 1, units)
        length = self.local()
        c.op("local.get", units).op("local.set", length)
        i, u = self.const_local(0), self.local()
        c.block("block").block("loop")
        c.op("local.get", i).op("local.get", units).op("i32.ge_u").op("br_if", 1)
        if simple == "utf16":
            self.unit_at(src, ptr, i)
        else:
            self.byte_at(src, ptr, i)
        c.op("local.tee", u).i32_const(0x80).op("i32.ge_u").block("if")
        worst = self.times(units, worst_factor)
        self.realloc(dst, 1, worst, old=new, old_size=units, into=new)
        o = self.local()
        c.op("local.get", i).op("local.set", o)
        self.each_code_point(src, simple, ptr, units, i, lambda cp: self.write_utf8(dst, new, o, cp))
        self.shrink(dst, new, worst, o, 1)
        c.op("local.get", o).op("local.set", length)
        c.op("br", 2).op("end")
        self.store_at(dst, new, i, lambda: c.op("local.get", u))
        self.add_to(i, 1)
        c.op("br", 0)
        c.op("end").op("end")
        return new, length

    def inflate_latin1(self, src, dst, ptr, units):
        """latin-1 into UTF-16: `units` code units, each byte widened."""
        nbytes = self.times(units, 2)
        new = self.realloc(dst, 2, nbytes)
        self.loop_elements(units, lambda k: self.store_at(
            dst, new, self.times(k, 2), lambda: self.byte_at(src, ptr, k), "i32.store16"))
        return new, units

    def store_to_latin1_or_utf16(self, src, dst, simple, ptr, units):
        """From UTF-8 or UTF-16 into latin1+utf16: latin-1 while the code points allow, else the
        worst case, the latin-1 prefix widened in place, the rest as UTF-16."""
        c = self.code
        new = self.realloc(dst, 2, units)
        length = self.local()
        j, o, cp = self.const_local(0), self.const_local(0), self.local()
        c.block("block").block("block").block("loop")    # $out, $latin1, $next
        c.op("local.get", j).op("local.get", units).op("i32.ge_u").op("br_if", 1)
        self.read_code_point(src, simple, ptr, j, cp)
        c.op("local.get", cp).i32_const(0xFF).op("i32.gt_u").block("if")
        worst = self.times(units, 2)
        self.realloc(dst, 2, worst, old=new, old_size=units, into=new)
        k = self.local()
        c.op("local.get", o).op("local.set", k)
        c.block("block").block("loop")                   # widen the prefix, from its end
        c.op("local.get", k).op("i32.eqz").op("br_if", 1)
        c.op("local.get", k).i32_const(1).op("i32.sub").op("local.set", k)
        self.store_at(dst, new, self.times(k, 2), lambda: self.byte_at(dst, new, k), "i32.store16")
        c.op("br", 0)
        c.op("end").op("end")
        c.op("local.get", o).i32_const(1).op("i32.shl").op("local.set", o)
        self.write_utf16(dst, new, o, cp)
        self.each_code_point(src, simple, ptr, units, j, lambda cp2: self.write_utf16(dst, new, o, cp2))
        self.shrink(dst, new, worst, o, 2)
        c.op("local.get", o).i32_const(1).op("i32.shr_u").i32_const(UTF16_TAG).op("i32.or").op("local.set", length)
        c.op("br", 3).op("end")                           # to $out
        self.store_at(dst, new, o, lambda: c.op("local.get", cp))
        self.add_to(o, 1)
        c.op("br", 0)
        c.op("end").op("end")                             # $next, $latin1: all of it latin-1
        self.shrink(dst, new, units, o, 2)
        c.op("local.get", o).op("local.set", length)
        c.op("end")                                       # $out
        return new, length

    def store_probably_utf16(self, src, dst, ptr, units):
        """latin1+utf16's UTF-16 into latin1+utf16: copied; compacted to latin-1 in place (and
        shrunk) when every code unit allows."""
        c = self.code
        nbytes = self.times(units, 2)
        new = self.realloc(dst, 2, nbytes)
        c.op("local.get", new).op("local.get", ptr).op("local.get", nbytes).op("memory.copy", _M[dst], _M[src])
        length = self.local()
        c.op("local.get", units).i32_const(UTF16_TAG).op("i32.or").op("local.set", length)
        k = self.const_local(0)
        c.block("block").block("block").block("loop")    # $out, $latin1, $next
        c.op("local.get", k).op("local.get", units).op("i32.ge_u").op("br_if", 1)
        self.unit_at(dst, new, k)
        c.i32_const(0xFF).op("i32.gt_u").op("br_if", 2)   # not latin-1: stays UTF-16
        self.add_to(k, 1)
        c.op("br", 0)
        c.op("end").op("end")
        self.loop_elements(units, lambda i: self.store_at(dst, new, i, lambda: self.unit_at(dst, new, i)))
        self.realloc(dst, 1, units, old=new, old_size=nbytes, into=new)
        c.op("local.get", units).op("local.set", length)
        c.op("end")
        return new, length

    # -- values in core locals (flat) -------------------------------------------------------------
    def check_flat(self, t, side: str, locs: list[int]):
        """Lift checks of a flat value (its locals `locs`, pointers into the memory of `side`)."""
        if isinstance(t, ct.Prim):
            if t.name == "char":
                self.check_char(locs[0])
            elif t.name == "string":
                self.check_string(side, locs[0], locs[1])
        elif isinstance(t, ct.List):
            self.check_list(side, t, locs[0], locs[1])
        elif isinstance(t, (ct.Record, ct.Tuple)):
            k = 0
            for member in record_members(t):
                n = len(flatten_type(member))
                self.check_flat(member, side, locs[k:k + n])
                k += n
        elif isinstance(t, _VARIANT_LIKE):
            cases = variant_cases(t)
            self.check_discriminant(locs[0], len(cases))
            for case, payload in enumerate(cases):
                if payload is not None and _needs_check(payload):
                    self.if_case(locs[0], case, lambda p=payload: self.check_flat(
                        p, side, self.unjoin(p, t, locs[1:])))

    def unjoin(self, payload, t, slots: list[int]) -> list[int]:
        """The payload's own flat values, from a variant's joined slots (new locals)."""
        joined = flatten_type(t)[1:]
        out = []
        for k, want in enumerate(flatten_type(payload)):
            x = self.local(want)
            self.code.op("local.get", slots[k])
            for op in _NARROW.get((joined[k], want), ()):
                self.code.op(op)
            self.code.op("local.set", x)
            out.append(x)
        return out

    def transfer_flat(self, t, src: str, dst: str, locs: list[int]) -> list[int]:
        """Emit the lowering of a checked flat value into `dst`; the locals of the new flat value."""
        c = self.code
        if isinstance(t, ct.Prim) and t.name in _CORE_OF_PRIM:
            x = self.local(_CORE_OF_PRIM[t.name])
            self.convert_scalar(t, locs[0])
            c.op("local.set", x)
            return [x]
        if _is_string(t) or isinstance(t, ct.List):
            return list(self.transfer_range(src, dst, t, locs[0], locs[1]))
        if isinstance(t, (ct.Record, ct.Tuple)):
            out, k = [], 0
            for member in record_members(t):
                n = len(flatten_type(member))
                out += self.transfer_flat(member, src, dst, locs[k:k + n])
                k += n
            return out
        if isinstance(t, ct.Flags):
            x = self.local()
            c.op("local.get", locs[0]).i32_const((1 << len(t.names)) - 1).op("i32.and").op("local.set", x)
            return [x]
        # variant-like: the same discriminant; each case's payload moved, the other slots zero
        joined = flatten_type(t)[1:]
        out = [self.local()] + [self.local(j) for j in joined]
        c.op("local.get", locs[0]).op("local.set", out[0])
        for case, payload in enumerate(variant_cases(t)):
            if payload is None:
                continue

            def move(payload=payload):
                moved = self.transfer_flat(payload, src, dst, self.unjoin(payload, t, locs[1:]))
                for k, (have, x) in enumerate(zip(flatten_type(payload), moved)):
                    c.op("local.get", x)
                    for op in _WIDEN.get((have, joined[k]), ()):
                        c.op(op)
                    c.op("local.set", out[1 + k])
            self.if_case(locs[0], case, move)
        return out

    def convert_scalar(self, t: ct.Prim, value: int):
        """Push the scalar in local `value` as the other side gets it."""
        c = self.code
        c.op("local.get", value)
        name = t.name
        if name == "bool":
            c.i32_const(0).op("i32.ne")
        elif name in ("u8", "u16"):
            c.i32_const(0xFF if name == "u8" else 0xFFFF).op("i32.and")
        elif name in ("s8", "s16"):
            c.op("i32.extend8_s" if name == "s8" else "i32.extend16_s")
        elif name in ("f32", "f64"):
            # NaNs are canonicalised on the way, as lifting and lowering do
            c.f32_bits(CANONICAL_NAN32) if name == "f32" else c.f64_bits(CANONICAL_NAN64)
            c.op("local.get", value).op("local.get", value).op("f32.eq" if name == "f32" else "f64.eq")
            c.op("select")

    # -- values in memory -------------------------------------------------------------------------
    def check_mem(self, t, side: str, addr: int, offset: int):
        """Lift checks of a value at `addr` + `offset` in the memory of `side`."""
        if not _needs_check(t):
            return
        if isinstance(t, ct.Prim) and t.name == "char":
            self.check_char(self.load("i32.load", 2, side, addr, offset))
        elif _is_string(t) or isinstance(t, ct.List):
            ptr = self.load("i32.load", 2, side, addr, offset)
            n = self.load("i32.load", 2, side, addr, offset + 4)
            self.check_string(side, ptr, n) if _is_string(t) else self.check_list(side, t, ptr, n)
        elif isinstance(t, (ct.Record, ct.Tuple)):
            members = record_members(t)
            for member, off in zip(members, field_offsets(members)):
                self.check_mem(member, side, addr, offset + off)
        else:
            cases = variant_cases(t)
            load, _, log2 = _SIZED_OPS[discriminant_size(len(cases))]
            disc = self.load(load, log2, side, addr, offset)
            self.check_discriminant(disc, len(cases))
            at = offset + payload_offset(cases)
            for case, payload in enumerate(cases):
                if payload is not None and _needs_check(payload):
                    self.if_case(disc, case, lambda p=payload: self.check_mem(p, side, addr, at))

    def transfer_mem(self, t, src: str, s_addr: int, s_off: int, dst: str, d_addr: int, d_off: int):
        """Emit the move of a checked value from `s_addr` + `s_off` in `src` to `dst`."""
        if isinstance(t, ct.Prim) and t.name in _CORE_OF_PRIM:
            load, store, log2 = _MEM_OPS[t.name]
            x = self.load(load, log2, src, s_addr, s_off, _CORE_OF_PRIM[t.name])
            if t.name in ("bool", "f32", "f64"):
                y = self.local(_CORE_OF_PRIM[t.name])
                self.convert_scalar(t, x)
                self.code.op("local.set", y)
                x = y
            self.store(store, log2, dst, d_addr, d_off, x)
        elif _is_string(t) or isinstance(t, ct.List):
            ptr = self.load("i32.load", 2, src, s_addr, s_off)
            n = self.load("i32.load", 2, src, s_addr, s_off + 4)
            new, length = self.transfer_range(src, dst, t, ptr, n)
            self.store("i32.store", 2, dst, d_addr, d_off, new)
            self.store("i32.store", 2, dst, d_addr, d_off + 4, length)
        elif isinstance(t, (ct.Record, ct.Tuple)):
            members = record_members(t)
            for member, off in zip(members, field_offsets(members)):
                self.transfer_mem(member, src, s_addr, s_off + off, dst, d_addr, d_off + off)
        elif isinstance(t, ct.Flags):
            load, store, log2 = _SIZED_OPS[flags_size(len(t.names))]
            x = self.load(load, log2, src, s_addr, s_off)
            self.code.op("local.get", x).i32_const((1 << len(t.names)) - 1).op("i32.and").op("local.set", x)
            self.store(store, log2, dst, d_addr, d_off, x)
        else:
            cases = variant_cases(t)
            load, store, log2 = _SIZED_OPS[discriminant_size(len(cases))]
            disc = self.load(load, log2, src, s_addr, s_off)
            self.store(store, log2, dst, d_addr, d_off, disc)
            at = payload_offset(cases)
            for case, payload in enumerate(cases):
                if payload is not None:
                    self.if_case(disc, case, lambda p=payload: self.transfer_mem(
                        p, src, s_addr, s_off + at, dst, d_addr, d_off + at))

    # -- the adapter ------------------------------------------------------------------------------
    def build(self) -> bytes:
        ft, c = self.ft, self.code
        c.op("global.get", self.globals["leave.a"]).op("i32.eqz")
        self.trap_if("leave")
        # 1. lift the arguments from the caller (every check the Python path makes)
        params_tuple = ct.Tuple(self.param_types)
        slices, k = [], 0
        if self.spilled_params:
            area = 0
            self.check_area("a", area, params_tuple, "args")
            self.check_mem(params_tuple, "a", area, 0)
        else:
            for t in self.param_types:
                n = len(flatten_type(t))
                slices.append(list(range(k, k + n)))
                self.check_flat(t, "a", slices[-1])
                k += n
        # 2. enter the callee
        c.op("global.get", self.globals["enter"]).op("i32.eqz")
        self.trap_if("enter")
        self.set_flag("enter", 0)
        # 3. lower them into the callee
        if self.spilled_params:
            size = self.const_local(elem_size(params_tuple))
            new_area = self.realloc("b", alignment(params_tuple), size)
            self.transfer_mem(params_tuple, "a", area, 0, "b", new_area, 0)
            args = [new_area]
        else:
            args = [x for t, locs in zip(self.param_types, slices) for x in self.transfer_flat(t, "a", "b", locs)]
        for x in args:
            c.op("local.get", x)
        c.op("call", self.funcs["b.func"])
        # 4. the result: lifted from the callee, lowered into the caller
        results = [self.local(r) for r in self.lift_type.results]
        for r in reversed(results):
            c.op("local.set", r)
        out = []
        if ft.result is not None and not self.spilled_result:
            self.check_flat(ft.result, "b", results)
            out = self.transfer_flat(ft.result, "b", "a", results)
        elif ft.result is not None:
            area, retptr = results[0], self.nparams - 1
            self.check_area("b", area, ft.result, "result")
            self.check_mem(ft.result, "b", area, 0)
            self.check_area("a", retptr, ft.result, "retptr")
            self.transfer_mem(ft.result, "b", area, 0, "a", retptr, 0)
        # 5. post-return, and the callee may be entered again
        if "b.post-return" in self.funcs:
            self.set_flag("leave.b", 0)
            for r in results:
                c.op("local.get", r)
            c.op("call", self.funcs["b.post-return"])
            self.set_flag("leave.b", 1)
        self.set_flag("enter", 1)
        for x in out:
            c.op("local.get", x)
        index = self.m.function(self.lower_type.params, self.lower_type.results, self.locals, c)
        self.m.export_func(ADAPTER_EXPORT, index)
        return self.m.to_bytes()


def adapter_module(ft: ct.FuncType, caller: CanonOptions, callee: CanonOptions) -> tuple[bytes, list[str]] | None:
    """The adapter's core module for a call of `ft` from options `caller` to `callee` and its
    imports ("module.item", in order), or None when not covered."""
    if not covered(ft, caller, callee):
        return None
    writer = _Writer(ft, caller, callee)
    return writer.build(), writer.imports


class FusedAdapters:
    """The hook of static instantiation (`instantiate._Instantiator`): `adapt` adds the adapter of a
    lowered call of a lifted function to the graph (its module once per distinct adapter, an instance
    per call site) and gives the core item the caller's import is wired to, or None (Python path)."""

    def __init__(self, instantiator):
        self.inst = instantiator
        self.modules: dict[bytes, str] = {}  # adapter bytes -> graph module name
        self.count = 0
        self.enabled = os.environ.get(PYTHON_ADAPTERS_ENV, "") in ("", "0")
        self.features = None  # the build's core proposals (None: the default, which has multi-memory)
        self.staging = False  # whether the staging instance of hosted calls is in the graph

    def adapt(self, lifted, caller: CanonOptions, caller_instance: int):
        if not self.enabled or lifted.instance == caller_instance:
            return None  # an instance calling itself traps, on the Python path
        return self._add(lifted, caller, caller_instance, lambda imports: True, "fused")

    def adapt_host(self, lifted) -> CoreRef | None:
        """The adapter of the host's calls of `lifted` (component/hosted.py): added to the graph
        with the staging instance, or None where the plain path is as cheap (the host's side needs
        no memory) or the adapter is not covered."""
        if not self.enabled:
            return None
        added = self._add(lifted, hosted.staging_options(), HOST, lambda imports: "a.memory" in imports,
                          "hosted", self._add_staging)
        return None if added is None else self.inst.core_func_ref(added, "hosted call")

    def _add_staging(self) -> None:
        if not self.staging:
            self.staging = True
            inst = self.inst
            where = f"{inst.path} (the host's staging memory)"
            inst.inputs.append(ModuleInput(hosted.STAGING_INSTANCE, hosted.staging_module(), where))
            inst.add_step("module", hosted.STAGING_INSTANCE, path=where)
            inst.add_step("instance", hosted.STAGING_INSTANCE, module=hosted.STAGING_INSTANCE, imports={})

    def _add(self, lifted, caller: CanonOptions, caller_instance: int, wanted, kind: str, before=None):
        """Add the adapter of a call from `caller` (options of `caller_instance`) to `lifted`, if
        it is covered and `wanted(its imports)`, as core instance `kind` + a number (after
        `before()`); gives its core item or None."""
        made = adapter_module(lifted.type, caller, lifted.options)
        if made is None:
            return None
        data, imports = made
        if not wanted(imports):
            return None
        if "a.memory" in imports and self.features is not None and MULTI_MEMORY not in self.features:
            return None  # the adapter needs both memories
        wiring = adapter_imports(caller, lifted.options, lifted.core, caller_instance, lifted.instance)
        if any(wiring[key] is None for key in imports):
            return None
        if before is not None:
            before()
        inst = self.inst
        module = self.modules.get(data)
        if module is None:
            module = self.modules[data] = f"adapter{len(self.modules)}"
            where = f"{inst.path} (fused adapter for {lifted.type})"
            inst.inputs.append(ModuleInput(module, data, where))
            inst.add_step("module", module, path=where)
        name = f"{kind}{self.count}"
        self.count += 1
        imports_wired = {}
        for key in imports:
            source = wiring[key]
            imports_wired[key] = (NAMESPACE, source) if isinstance(source, str) else (source.instance, source.export)
        inst.add_step("instance", name, module=module, imports=imports_wired)
        return ("core", name, ADAPTER_EXPORT)


def adapter_imports(caller: CanonOptions, callee: CanonOptions, callee_func, caller_instance: int,
                    callee_instance: int) -> dict:
    """Where each import an adapter may have ("module.item") comes from: a `record.CoreRef`, or an
    item of the host namespace (a str)."""
    wiring = {"a.memory": caller.memory, "a.realloc": caller.realloc, "b.memory": callee.memory,
              "b.realloc": callee.realloc, "b.func": callee_func, "b.post-return": callee.post_return,
              "flags.enter": enter_flag(callee_instance), "flags.leave.a": leave_flag(caller_instance),
              "flags.leave.b": leave_flag(callee_instance)}
    wiring.update({f"trap.{kind}": trap_item(kind) for kind in TRAPS})
    return wiring
