"""Fused adapters: a call from one component instance to a function another one lifted, as a core
wasm function compiled like any other.

`adapter_module(ft, caller, callee)` takes the component function type and the canonical options of
both sides (the caller's `canon lower`, the callee's `canon lift`: `record.CanonOptions`) and gives
the bytes of a core module with one export, `ADAPTER_EXPORT`, of the caller's lowered core type, or
None when the type or the options are not covered (then the call goes through the component layer in
Python, `runtime.ComponentInstance._lowered`). The bytes depend only on the type and the shape of the
options, so equal adapters are equal modules: the cache compiles each once.

Covered: parameters and a result of bool, the integers, f32/f64, char, utf8 strings (both sides
utf8) and lists of integers, as long as the parameters flatten to at most 16 core values and the
result is one core value, a string or a list. Not covered (Python path): resources, the other
string encodings, compound types (records, variants, ...), spilled parameters, and calls of an
instance into itself.

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
  1. trap unless the caller may leave; lift the caller's arguments: char checked, strings and lists
     bounds-checked in the caller's memory (strings: valid UTF-8)
  2. trap unless the callee may enter; clear its flag
  3. lower the arguments into the callee: scalars converted, strings and lists copied into memory
     its realloc gives (realloc run with its "may leave" cleared; its pointer checked)
  4. call; lift the result (char checked; a string or list: the result area and the content
     checked in the callee's memory), copy it into the caller's memory through the caller's realloc
     and store it at the return pointer
  5. post-return (with the callee's "may leave" cleared); set the callee's "may enter" flag again
A trap leaves the flags as they were at the trap: the component layer locks the whole tree then.
Unlike the Python path, a string or list result is copied before post-return runs (it may free it).
"""

from __future__ import annotations

import os

from ..binary.encode import F32, F64, I32, I64, Code, ModuleWriter
from ..build.plan import ModuleInput
from ..loader.runtime import Trap
from . import types as ct
from .canonical import (CANONICAL_NAN32, CANONICAL_NAN64, MAX_FLAT_PARAMS, MAX_LIST_BYTE_LENGTH,
                        MAX_STRING_BYTE_LENGTH, alignment, elem_size, flatten_functype)
from .record import NAMESPACE, CanonOptions

PYTHON_ADAPTERS_ENV = "WASMBUILD_PYTHON_ADAPTERS"  # set to 1: every component-to-component call through Python

ADAPTER_EXPORT = "adapt"

# What each trap of an adapter says: the wording of the Python path's traps (canonical.py, runtime.py).
TRAPS = {
    "enter": lambda a, b: "cannot enter component instance",
    "leave": lambda a, b: "cannot leave component instance",
    "char": lambda a, b: f"invalid `char` bit pattern {a:#x}",
    "string-size": lambda a, b: f"string content out-of-bounds: {b} bytes is more than a string may have",
    "string-bounds": lambda a, b: f"string content out-of-bounds: {b} bytes at {a:#x} beyond the end of memory",
    "utf8": lambda a, b: f"invalid utf-8 string: invalid byte at offset {a}",
    "list-size": lambda a, b: f"list content out-of-bounds: {b} elements is more than a list may have",
    "list-bounds": lambda a, b: f"list content out-of-bounds: {b} bytes at {a:#x} beyond the end of memory",
    "list-align": lambda a, b: f"unaligned pointer: list content at {a:#x} is not {b}-aligned",
    "realloc-align": lambda a, b: f"realloc return: result not aligned (unaligned pointer {a:#x}, alignment {b})",
    "realloc-bounds": lambda a, b: f"realloc return: beyond end of memory ({b} bytes at {a:#x} out-of-bounds)",
    "result-align": lambda a, b: f"unaligned pointer: result area at {a:#x} is not {b}-aligned",
    "result-bounds": lambda a, b: f"result area out-of-bounds: {b} bytes at {a:#x}",
    "retptr-align": lambda a, b: f"unaligned pointer: return pointer {a:#x} is not {b}-aligned",
    "retptr-bounds": lambda a, b: f"return pointer out-of-bounds: {b} bytes at {a:#x}",
}


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


_INT_NORMALIZE = {"u8": ("and", 0xFF), "u16": ("and", 0xFFFF), "s8": ("i32.extend8_s", None),
                  "s16": ("i32.extend16_s", None)}
_CORE_OF_PRIM = {"bool": I32, "s8": I32, "u8": I32, "s16": I32, "u16": I32, "s32": I32, "u32": I32, "char": I32,
                 "s64": I64, "u64": I64, "f32": F32, "f64": F64}
_INTS = ("s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64")
_M = {"a": 0, "b": 1}  # memory indices in the adapter: the caller's memory is 0, the callee's 1


def _is_scalar(t) -> bool:
    return isinstance(t, ct.Prim) and t.name in _CORE_OF_PRIM


def _range_of(t):
    """(element size, alignment, max bytes, kind) of a string or list the adapter copies, or None."""
    if isinstance(t, ct.Prim) and t.name == "string":
        return 1, 1, MAX_STRING_BYTE_LENGTH, "string"
    if isinstance(t, ct.List) and isinstance(t.elem, ct.Prim) and t.elem.name in _INTS:
        return elem_size(t.elem), alignment(t.elem), MAX_LIST_BYTE_LENGTH, "list"
    return None


def covered(ft: ct.FuncType, caller: CanonOptions, callee: CanonOptions) -> bool:
    """Whether `adapter_module` makes an adapter for this call."""
    types = [t for _, t in ft.params] + ([] if ft.result is None else [ft.result])
    if not all(_is_scalar(t) or _range_of(t) is not None for t in types):
        return False
    if sum(1 if _is_scalar(t) else 2 for _, t in ft.params) > MAX_FLAT_PARAMS:
        return False  # spilled parameters: the Python path
    ranges = [t for t in types if _range_of(t) is not None]
    if ranges:
        if caller.encoding != "utf8" or callee.encoding != "utf8":
            return False
        if caller.memory is None or callee.memory is None:
            return False
        if any(_range_of(t) is not None for _, t in ft.params) and callee.realloc is None:
            return False
        if ft.result is not None and _range_of(ft.result) is not None and caller.realloc is None:
            return False
    return True


class _Writer:
    def __init__(self, ft: ct.FuncType, caller: CanonOptions, callee: CanonOptions):
        self.ft = ft
        self.caller, self.callee = caller, callee
        self.m = ModuleWriter()
        self.code = Code()
        self.lower_type = flatten_functype(ft, "lower")
        self.lift_type = flatten_functype(ft, "lift")
        self.nparams = len(self.lower_type.params)
        self.imports: list[str] = []
        self.locals: list[int] = []
        self.funcs: dict[str, int] = {}
        self.globals: dict[str, int] = {}
        needs_memory = (any(_range_of(t) is not None for _, t in ft.params)
                        or (ft.result is not None and _range_of(ft.result) is not None))
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
        if any(_range_of(t) for _, t in ft.params):
            self.import_func("b.realloc", (I32,) * 4, (I32,))
        if ft.result is not None and _range_of(ft.result) is not None:
            self.import_func("a.realloc", (I32,) * 4, (I32,))

    def import_func(self, key: str, params, results) -> None:
        module, item = key.split(".", 1)
        self.funcs[key] = self.m.import_func(module, item, params, results)
        self.imports.append(key)

    def local(self, t: int = I32) -> int:
        self.locals.append(t)
        return self.nparams + len(self.locals) - 1

    # -- small pieces -------------------------------------------------------------------------------
    def trap(self, kind: str, a=None, b=None):
        """Call the trap `kind` with the values of locals `a`, `b` (or 0)."""
        c = self.code
        for x in (a, b):
            c.op("local.get", x) if x is not None else c.i32_const(0)
        c.op("call", self.funcs[f"trap.{kind}"]).op("unreachable")

    def trap_if(self, kind: str, a=None, b=None):
        """Trap `kind` if the i32 on the stack is not zero."""
        self.code.block("if")
        self.trap(kind, a, b)
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
            align_local = self.local()
            c = self.code
            c.i32_const(align).op("local.set", align_local)
            c.op("local.get", ptr).i32_const(align - 1).op("i32.and")
            self.trap_if(kind, ptr, align_local)

    def realloc(self, side: str, align: int, nbytes: int) -> int:
        """Call the realloc of `side` for `nbytes` (a local) with its "may leave" cleared; a local
        with the checked pointer."""
        c = self.code
        ptr = self.local()
        self.set_flag(f"leave.{side}", 0)
        c.i32_const(0).i32_const(0).i32_const(align).op("local.get", nbytes).op("call", self.funcs[f"{side}.realloc"])
        c.op("local.set", ptr)
        self.set_flag(f"leave.{side}", 1)
        self.check_aligned(ptr, align, "realloc-align")
        self.check_range_in(side, ptr, nbytes, "realloc-bounds")
        return ptr

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

        def fail():
            self.trap("utf8", i)

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
        self.trap_if("utf8", i)
        c.block("block")                                     # the lead byte's class
        lead(0xE0, 1, (0, 0x80, 0x80), (0, 0xBF, 0xBF))
        lead(0xF0, 2, (0xE0, 0xA0, 0x80), (0xED, 0x9F, 0xBF))
        lead(0xF5, 3, (0xF0, 0x90, 0x80), (0xF4, 0x8F, 0xBF))
        fail()
        c.op("end")
        # enough bytes left, the first continuation byte in [lo, hi], the others in [0x80, 0xBF]
        c.op("local.get", i).op("local.get", need).op("i32.add").op("local.get", n).op("i32.ge_u")
        self.trap_if("utf8", i)
        byte_at(plus=1)
        c.op("local.tee", k).op("local.get", lo).op("i32.lt_u").op("local.get", k).op("local.get", hi)
        c.op("i32.gt_u").op("i32.or")
        self.trap_if("utf8", i)
        c.i32_const(2).op("local.set", k)
        c.block("block").block("loop")
        c.op("local.get", k).op("local.get", need).op("i32.gt_u").op("br_if", 1)
        byte_at(k)
        c.i32_const(0xC0).op("i32.and").i32_const(0x80).op("i32.ne")
        self.trap_if("utf8", i)
        c.op("local.get", k).i32_const(1).op("i32.add").op("local.set", k).op("br", 0)
        c.op("end").op("end")
        c.op("local.get", i).op("local.get", need).op("i32.add").i32_const(1).op("i32.add").op("local.set", i)
        c.op("br", 0)
        c.op("end").op("end")

    def lift_range(self, side: str, t, ptr: int, n: int) -> int:
        """Check a string or list (pointer and length locals) in the memory of `side`; a local with
        its size in bytes."""
        size, align, max_bytes, kind = _range_of(t)
        c = self.code
        nbytes = self.local()
        if size == 1:
            c.op("local.get", n).op("local.set", nbytes)
        # more than a string or list may have (compared as elements: n * size may overflow 32 bits)
        c.op("local.get", n).op("i64.extend_i32_u").i64_const(max_bytes // size).op("i64.gt_u")
        self.trap_if(f"{kind}-size", ptr, n)
        if size > 1:
            c.op("local.get", n).i32_const(size.bit_length() - 1).op("i32.shl").op("local.set", nbytes)
            self.check_aligned(ptr, align, "list-align")
        self.check_range_in(side, ptr, nbytes, f"{kind}-bounds")
        if kind == "string":
            self.check_utf8(side, ptr, nbytes)
        return nbytes

    def copy_range(self, dst: str, src: str, t, src_ptr: int, nbytes: int) -> int:
        """Allocate through the realloc of `dst` and copy `nbytes` from `src`; the new pointer."""
        _, align, _, _ = _range_of(t)
        ptr = self.realloc(dst, align, nbytes)
        c = self.code
        c.op("local.get", ptr).op("local.get", src_ptr).op("local.get", nbytes)
        c.op("memory.copy", _M[dst], _M[src])
        return ptr

    def convert_scalar(self, t: ct.Prim, value: int, check_char: bool):
        """Push the scalar in local `value` as the other side gets it."""
        c = self.code
        c.op("local.get", value)
        name = t.name
        if name == "bool":
            c.i32_const(0).op("i32.ne")
        elif name in ("u8", "u16"):
            c.i32_const(_INT_NORMALIZE[name][1]).op("i32.and")
        elif name in ("s8", "s16"):
            c.op(_INT_NORMALIZE[name][0])
        elif name in ("f32", "f64"):
            # NaNs are canonicalised on the way, as lifting and lowering do
            c.f32_bits(CANONICAL_NAN32) if name == "f32" else c.f64_bits(CANONICAL_NAN64)
            c.op("local.get", value).op("local.get", value).op("f32.eq" if name == "f32" else "f64.eq")
            c.op("select")

    def check_char(self, value: int):
        c = self.code
        # invalid: >= 0x110000, or a surrogate (0xD800..0xDFFF)
        c.op("local.get", value).i32_const(0x110000).op("i32.ge_u")
        c.op("local.get", value).i32_const(0xD800).op("i32.sub").i32_const(0x800).op("i32.lt_u").op("i32.or")
        self.trap_if("char", value)

    # -- the adapter ------------------------------------------------------------------------------
    def build(self) -> bytes:
        ft, c = self.ft, self.code
        c.op("global.get", self.globals["leave.a"]).op("i32.eqz")
        self.trap_if("leave")
        # 1. lift the arguments from the caller
        params = []  # (type, first flat local, extra)
        flat = 0
        for _, t in ft.params:
            if _is_scalar(t):
                if t.name == "char":
                    self.check_char(flat)
                params.append((t, flat, None))
                flat += 1
            else:
                nbytes = self.lift_range("a", t, flat, flat + 1)
                params.append((t, flat, nbytes))
                flat += 2
        # 2. enter the callee
        c.op("global.get", self.globals["enter"]).op("i32.eqz")
        self.trap_if("enter")
        self.set_flag("enter", 0)
        # 3. lower them into the callee
        copies = {}
        for t, first, nbytes in params:
            if nbytes is not None:
                copies[first] = self.copy_range("b", "a", t, first, nbytes)
        for t, first, nbytes in params:
            if nbytes is None:
                self.convert_scalar(t, first, False)
            else:
                c.op("local.get", copies[first]).op("local.get", first + 1)
        c.op("call", self.funcs["b.func"])
        # 4. the result
        results = [self.local(r) for r in self.lift_type.results]
        for r in reversed(results):
            c.op("local.set", r)
        out = None
        if ft.result is not None and _is_scalar(ft.result):
            if ft.result.name == "char":
                self.check_char(results[0])
            out = self.local(_CORE_OF_PRIM[ft.result.name])
            self.convert_scalar(ft.result, results[0], False)
            c.op("local.set", out)
        elif ft.result is not None:
            area, ptr, n = results[0], self.local(), self.local()
            self.check_aligned(area, 4, "result-align")
            eight = self.local()
            c.i32_const(8).op("local.set", eight)
            self.check_range_in("b", area, eight, "result-bounds")
            c.op("local.get", area).mem("i32.load", 2, 0, _M["b"]).op("local.set", ptr)
            c.op("local.get", area).mem("i32.load", 2, 4, _M["b"]).op("local.set", n)
            nbytes = self.lift_range("b", ft.result, ptr, n)
            retptr = self.nparams - 1
            self.check_aligned(retptr, 4, "retptr-align")
            self.check_range_in("a", retptr, eight, "retptr-bounds")
            copied = self.copy_range("a", "b", ft.result, ptr, nbytes)
            c.op("local.get", retptr).op("local.get", copied).mem("i32.store", 2, 0, _M["a"])
            c.op("local.get", retptr).op("local.get", n).mem("i32.store", 2, 4, _M["a"])
        # 5. post-return, and the callee may be entered again
        if "b.post-return" in self.funcs:
            self.set_flag("leave.b", 0)
            for r in results:
                c.op("local.get", r)
            c.op("call", self.funcs["b.post-return"])
            self.set_flag("leave.b", 1)
        self.set_flag("enter", 1)
        if out is not None:
            c.op("local.get", out)
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

    def adapt(self, lifted, caller: CanonOptions, caller_instance: int):
        if not self.enabled or lifted.instance == caller_instance:
            return None  # an instance calling itself traps, on the Python path
        refs = (caller.memory, caller.realloc, lifted.options.memory, lifted.options.realloc,
                lifted.options.post_return, lifted.core)
        made = adapter_module(lifted.type, caller, lifted.options)
        if made is None:
            return None
        data, imports = made
        wiring = adapter_imports(caller, lifted.options, lifted.core, caller_instance, lifted.instance)
        if any(wiring[key] is None for key in imports) or not all(r is None or r.instance for r in refs):
            return None
        inst = self.inst
        module = self.modules.get(data)
        if module is None:
            module = self.modules[data] = f"adapter{len(self.modules)}"
            where = f"{inst.path} (fused adapter for {lifted.type})"
            inst.inputs.append(ModuleInput(module, data, where))
            inst._step("module", module, path=where)
        name = f"fused{self.count}"
        self.count += 1
        imports_wired = {}
        for key in imports:
            source = wiring[key]
            imports_wired[key] = (NAMESPACE, source) if isinstance(source, str) else (source.instance, source.export)
        inst._step("instance", name, module=module, imports=imports_wired)
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
