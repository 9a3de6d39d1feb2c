"""The canonical ABI (design-mvp/CanonicalABI.md), synchronous part: component values between
Python and a component's core code.

Takes component types (`types.py`) and Python values (`values.py`); gives

- the **type facts**, the one place they are computed (the validator checks `canon lift`/`lower`
  signatures with them; this module imports no loader code): `alignment(t)`, `elem_size(t)`,
  `flatten_type(t)` (a tuple of `contract.types` I32/I64/F32/F64), `flatten_functype(ft,
  "lift"|"lower")` (a `contract.types.FuncType`; more than `MAX_FLAT_PARAMS` flat parameters spill
  to one pointer, more than `MAX_FLAT_RESULTS` results to a pointer the callee returns (`lift`) or
  a return pointer the caller passes as an extra last parameter (`lower`)), `discriminant_size`;
- `CanonOptions`: what one `canon lift`/`canon lower` uses at run time: `memory` (an object with
  `read(offset, n) -> bytes`, `write(offset, data)` and `size`, its length in bytes, as
  `loader.runtime.Memory` has), `realloc` (a callable `(old_ptr, old_size, align, new_size) ->
  ptr`), `string_encoding` ("utf8", "utf16", "latin1+utf16"), `post_return` (a callable taking the
  flat results) and `instance` (the component instance's `handles.InstanceHandles`);
- `FunctionAbi(ft)` (cached: `function_abi(ft)`) with the **four call-boundary operations**:
  - `lower_args(opts, args, relay=False) -> (flat_args, call)`: the host calls a lifted export:
    Python arguments to core arguments (calling realloc for what goes to memory);
  - `lift_results(call, flat_results) -> value`: that export's core results to a Python value (or
    None); then the borrows it was given must have been dropped, and its post-return runs;
  - `lift_args(opts, flat_args, relay=False) -> (args, call)`: a guest calls a lowered import:
    core arguments to Python arguments (borrowed handles are lent until `lower_results`);
  - `lower_results(call, value, flat_args) -> flat_results`: the import's Python result to core
    results, or stored through the return pointer, the last of `flat_args` (then no results);
  a lowering that fails part way (a bad Python value, a trap in realloc) takes back the handles it
  made, so no resource is lost;
- `lift_flat`, `lower_flat`, `load`, `store` of single values (`CallContext` in, for tests and for
  runtimes that need them).

Core values are **raw bits**, as `loader.runtime.Function.call_bits` takes and gives them: i32 and
i64 as unsigned ints (signed ones are accepted: every input is masked to its width), f32 and f64 as
their IEEE bit patterns. Floats are lifted with NaNs made the canonical NaN and lowered with NaNs
made the canonical NaN (the deterministic profile).

A guest's lists may hold at most `MAX_LIFTED_ELEMENTS` elements in all per call (a host limit: their
Python objects take far more room than their bytes; `list<u8>` lifts as bytes and is not counted).
A guest's bad values trap with the spec tests' wording (`trap(message)`: a
`loader.runtime.Trap`, imported only when one is raised): "invalid `char` bit pattern", "string
content out-of-bounds", "unaligned pointer", "invalid variant discriminant", "realloc return: beyond
end of memory", "unknown handle index N", ... Python values that do not fit their type (an int out of
range, a str of two characters for a char, an unknown enum case, a surrogate in a string) raise
`ComponentValueError` naming the type, the value and the parameter.

Strings: a Python str is lowered as if it came from a component whose encoding is the
destination's, which makes one exactly-sized allocation. When one component's string is relayed to
another through Python, lift with `CallContext.relay` set: strings come out as `EncodedString`
(a str that also records the source encoding and code units), and lowering one follows the
reference's transcoding with its exact allocation sizes and realloc sequence. Values are built in
a Python buffer and written to memory once per allocation (a list's elements are written after
what they point to has been allocated), which differs from the reference only for a realloc that
writes into memory it has already handed out.
"""

from __future__ import annotations

import math
import operator
import re
import struct
from functools import lru_cache
from typing import Any, Callable

from ..contract.types import F32, F64, I32, I64, FuncType as CoreFuncType
from ..errors import WasmbuildError
from . import values as V
from .handles import BorrowScope, InstanceHandles, Resource
from .types import (INT_RANGES, Borrow, Enum, Flags, FuncType, List, Option, Own, Prim, Record, Result, Tuple,
                    ValType, Variant)

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1
MAX_STRING_BYTE_LENGTH = (1 << 28) - 1
MAX_LIST_BYTE_LENGTH = (1 << 28) - 1
# A host limit, not the spec's: the list elements (but bytes of list<u8>) one call may lift into Python
# objects. A guest can describe 2^28 one-byte records in 256 MiB of its memory, which as Python
# objects would take tens of GiB; past this many elements the call traps instead.
MAX_LIFTED_ELEMENTS = 1 << 24
UTF16_TAG = 1 << 31  # latin1+utf16: set in the code-unit count of a string stored as UTF-16
STRING_ENCODINGS = ("utf8", "utf16", "latin1+utf16")
CANONICAL_NAN32 = 0x7FC00000
CANONICAL_NAN64 = 0x7FF8000000000000

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


class ComponentValueError(WasmbuildError, TypeError, ValueError):
    """A Python value given for a component value whose type it does not fit (an int out of
    range, a str that is not one character for a char, an unknown case or flag, a dropped
    resource, ...). Both a TypeError and a ValueError, so either `except` catches it."""

    phase = "value"


def trap(message: str) -> Exception:
    """The runtime's `Trap` with `message` (to raise); imported here, late, so that the type facts
    of this module need no loader."""
    from ..loader.runtime import Trap
    return Trap(message)


def _required(option: str) -> WasmbuildError:
    # The validator guarantees these options where a type needs them.
    return WasmbuildError(f"canonical option `{option}` is required to move this value")


# ---- type facts ----------------------------------------------------------------------------------

def discriminant_size(n: int) -> int:
    """Bytes of the discriminant of a variant with `n` cases: 1, 2 or 4."""
    if n <= 1 << 8:
        return 1
    return 2 if n <= 1 << 16 else 4


def flags_size(n: int) -> int:
    """Bytes of a flags value with `n` flags (at most 32)."""
    return 1 if n <= 8 else 2 if n <= 16 else 4


def variant_cases(t: ValType) -> tuple:
    """The payload types of the cases of a variant-like type (variant, enum, option, result)."""
    if type(t) is Variant:
        return tuple(p for _, p in t.cases)
    if type(t) is Enum:
        return (None,) * len(t.names)
    if type(t) is Option:
        return (None, t.type)
    return (t.ok, t.err)  # Result


def record_members(t: ValType) -> tuple:
    """The member types of a record-like type (record, tuple)."""
    return tuple(ft for _, ft in t.fields) if type(t) is Record else t.types


_PRIM_LAYOUT = {  # name -> (alignment, size, flat types)
    "bool": (1, 1, (I32,)), "s8": (1, 1, (I32,)), "u8": (1, 1, (I32,)), "s16": (2, 2, (I32,)),
    "u16": (2, 2, (I32,)), "s32": (4, 4, (I32,)), "u32": (4, 4, (I32,)), "s64": (8, 8, (I64,)),
    "u64": (8, 8, (I64,)), "f32": (4, 4, (F32,)), "f64": (8, 8, (F64,)), "char": (4, 4, (I32,)),
    "string": (4, 8, (I32, I32)),
}
_VARIANT_LIKE = (Variant, Enum, Option, Result)


def align_to(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


@lru_cache(maxsize=8192)
def alignment(t: ValType) -> int:
    """The alignment of `t` in linear memory (bytes)."""
    kind = type(t)
    if kind is Prim:
        return _PRIM_LAYOUT[t.name][0]
    if kind is List or kind is Own or kind is Borrow:
        return 4
    if kind is Record or kind is Tuple:
        return max(map(alignment, record_members(t)), default=1)
    if kind is Flags:
        return flags_size(len(t.names))
    if kind in _VARIANT_LIKE:
        cases = variant_cases(t)
        return max(discriminant_size(len(cases)), _max_case_alignment(cases))
    raise TypeError(f"not a component value type: {t!r}")


def _max_case_alignment(cases) -> int:
    return max((alignment(c) for c in cases if c is not None), default=1)


@lru_cache(maxsize=8192)
def elem_size(t: ValType) -> int:
    """The size of `t` in linear memory (bytes; a multiple of its alignment)."""
    kind = type(t)
    if kind is Prim:
        return _PRIM_LAYOUT[t.name][1]
    if kind is List:
        return 8
    if kind is Own or kind is Borrow:
        return 4
    if kind is Record or kind is Tuple:
        size = 0
        for member in record_members(t):
            size = align_to(size, alignment(member)) + elem_size(member)
        return align_to(size, alignment(t))
    if kind is Flags:
        return flags_size(len(t.names))
    if kind in _VARIANT_LIKE:
        cases = variant_cases(t)
        size = payload_offset(cases) + max((elem_size(c) for c in cases if c is not None), default=0)
        return align_to(size, alignment(t))
    raise TypeError(f"not a component value type: {t!r}")


def payload_offset(cases) -> int:
    return align_to(discriminant_size(len(cases)), _max_case_alignment(cases))


def field_offsets(members) -> tuple[int, ...]:
    offsets, size = [], 0
    for member in members:
        size = align_to(size, alignment(member))
        offsets.append(size)
        size += elem_size(member)
    return tuple(offsets)


def _join(a: int, b: int) -> int:
    if a == b:
        return a
    if {a, b} == {I32, F32}:
        return I32
    return I64


@lru_cache(maxsize=8192)
def flatten_type(t: ValType) -> tuple[int, ...]:
    """The core types `t` flattens to (I32, I64, F32, F64 of `contract.types`)."""
    kind = type(t)
    if kind is Prim:
        return _PRIM_LAYOUT[t.name][2]
    if kind is List:
        return (I32, I32)
    if kind is Own or kind is Borrow or kind is Flags:
        return (I32,)
    if kind is Record or kind is Tuple:
        return tuple(ct for member in record_members(t) for ct in flatten_type(member))
    if kind in _VARIANT_LIKE:
        joined: list[int] = []
        for case in variant_cases(t):
            if case is None:
                continue
            for i, ct in enumerate(flatten_type(case)):
                if i < len(joined):
                    joined[i] = _join(joined[i], ct)
                else:
                    joined.append(ct)
        return (I32, *joined)
    raise TypeError(f"not a component value type: {t!r}")


def flatten_types(ts) -> tuple[int, ...]:
    return tuple(ct for t in ts for ct in flatten_type(t))


def _result_types(ft: FuncType) -> tuple:
    return () if ft.result is None else (ft.result,)


@lru_cache(maxsize=8192)
def flatten_functype(ft: FuncType, direction: str) -> CoreFuncType:
    """The core function type of `canon lift` (`direction` "lift": the core function being lifted)
    or `canon lower` ("lower": the core function made) of the component function type `ft`."""
    if direction not in ("lift", "lower"):
        raise ValueError(f"direction must be 'lift' or 'lower', not {direction!r}")
    params = flatten_types(t for _, t in ft.params)
    results = flatten_types(_result_types(ft))
    if len(params) > MAX_FLAT_PARAMS:
        params = (I32,)
    if len(results) > MAX_FLAT_RESULTS:
        if direction == "lift":
            results = (I32,)
        else:
            params, results = params + (I32,), ()
    return CoreFuncType(params, results)


# ---- options and the context of one call -----------------------------------------------------------

class CanonOptions:
    """The run-time options of one `canon lift` or `canon lower` (see the module docstring)."""

    __slots__ = ("memory", "realloc", "string_encoding", "post_return", "instance")

    def __init__(self, memory=None, realloc: Callable | None = None, string_encoding: str = "utf8",
                 post_return: Callable | None = None, instance: InstanceHandles | None = None):
        if string_encoding not in STRING_ENCODINGS:
            raise ValueError(f"string encoding must be one of {', '.join(STRING_ENCODINGS)}, not {string_encoding!r}")
        self.memory = memory
        self.realloc = realloc
        self.string_encoding = string_encoding
        self.post_return = post_return
        self.instance = instance


class CallContext:
    """What lifting and lowering for one call use: the options, the call's `BorrowScope` and
    whether strings are being relayed to another component (`relay`, see the module docstring)."""

    __slots__ = ("opts", "memory", "encoding", "instance", "scope", "relay", "handed", "lifted")

    def __init__(self, opts: CanonOptions, scope: BorrowScope | None = None, relay: bool = False):
        self.opts = opts
        self.memory = opts.memory
        self.encoding = opts.string_encoding
        self.instance = opts.instance
        self.scope = BorrowScope() if scope is None else scope
        self.relay = relay
        self.handed = None  # handles made so far: (instance, index, the Resource moved or None for a borrow)
        self.lifted = 0  # list elements lifted so far (see MAX_LIFTED_ELEMENTS)

    # -- handles ---------------------------------------------------------------------------------

    def handed_over(self, instance: InstanceHandles, index: int, resource: Resource | None) -> None:
        if self.handed is None:
            self.handed = []
        self.handed.append((instance, index, resource))

    def take_back(self) -> None:
        """Undo the handle moves of a lowering that failed part way (a bad Python value, a trap in
        realloc): the handles made leave the table, moved resources are the host's again. (What
        realloc handed out stays allocated: there is no way to free it.)"""
        handed, self.handed = self.handed, None
        for instance, index, resource in reversed(handed or ()):
            instance.table.remove(index)  # (a borrow's count dies with the failed call's scope)
            if resource is not None:
                resource._give_back()

    # -- memory ----------------------------------------------------------------------------------

    def mem(self):
        memory = self.memory
        if memory is None:
            raise _required("memory")
        return memory

    def read(self, ptr: int, n: int, what: str, align: int = 1) -> bytes:
        """`n` bytes a guest pointed to at `ptr` (checked: alignment, then bounds)."""
        memory = self.memory
        if memory is None:
            raise _required("memory")
        if ptr % align:
            # (the second wording is Wasmtime's, for strings)
            raise trap(f"unaligned pointer: {what} at {ptr:#x} is not {align}-aligned"
                       + (f" (string pointer not aligned to {align})" if what == "string content" else ""))
        if ptr + n > memory.size:
            raise trap(f"{what} out-of-bounds: {n} bytes at {ptr:#x}, memory has {memory.size}"
                       + (" (string pointer/length out of bounds of memory)" if what == "string content" else ""))
        return memory.read(ptr, n)

    def realloc(self, old: int, old_size: int, align: int, new_size: int, what: str, check_align: bool = True) -> int:
        """Call the component's realloc; the new pointer, checked (alignment, bounds)."""
        realloc = self.opts.realloc
        if realloc is None or self.memory is None:
            raise _required("realloc" if realloc is None else "memory")
        instance = self.instance
        if instance is None:
            ptr = realloc(old, old_size, align, new_size) & _M32
        else:
            may_leave, instance.may_leave = instance.may_leave, False  # realloc may not call out or touch handles
            try:
                ptr = realloc(old, old_size, align, new_size) & _M32
            finally:
                instance.may_leave = may_leave
        return _checked_realloc_result(self.memory, ptr, align, new_size, what, check_align)

    def allocate(self, align: int, size: int, what: str, check_align: bool = True) -> int:
        return self.realloc(0, 0, align, size, what, check_align)

    def write(self, ptr: int, data) -> None:
        if data:
            self.memory.write(ptr, data if type(data) is bytes else bytes(data))


def _checked_realloc_result(memory, ptr: int, align: int, size: int, what: str, check_align: bool = True) -> int:
    """`ptr`, realloc's result for `size` bytes of `what`, if it is aligned and within `memory`; else the trap."""
    if check_align and ptr % align:
        raise trap(f"realloc return: result not aligned (unaligned pointer {ptr:#x} for {what}, "
                   f"alignment {align})")
    if ptr + size > memory.size:
        raise trap(f"realloc return: beyond end of memory ({what} out-of-bounds: {size} bytes at {ptr:#x})")
    return ptr


def _within(err: ComponentValueError, where: str) -> ComponentValueError:
    """`err` about a part of a value, `where` naming the part ("field `x`", "element 3")."""
    return ComponentValueError(f"{where}: {err.reason}")


def _value_error(t, v, why: str = "") -> ComponentValueError:
    shown = repr(v)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ComponentValueError(f"{shown} is not a value of {t}" + (f": {why}" if why else ""))


# ---- the codecs: one per type, each lowering, lifting, storing and loading its values -------------------

class _Codec:
    """How values of one type move: `lower_flat(cx, v, out)` appends its flat values to `out`;
    `lift_flat(cx, vals, i)` reads them from `vals[i:]`; `store(cx, v, buf, off)` writes it into
    `buf` (a bytearray that is written to memory afterwards); `load(cx, buf, off)` reads it from
    bytes read from memory. `size`, `align`, `flat` are the type facts; `nflat` is len(flat)."""

    __slots__ = ("type", "size", "align", "flat", "nflat")

    def __init__(self, t: ValType):
        self.type = t
        self.size = elem_size(t)
        self.align = alignment(t)
        self.flat = flatten_type(t)
        self.nflat = len(self.flat)


_INT_FORMATS = {"s8": "b", "u8": "B", "s16": "h", "u16": "H", "s32": "i", "u32": "I", "s64": "q", "u64": "Q"}


class _IntCodec(_Codec):
    __slots__ = ("lo", "hi", "bits", "mask", "core_mask", "fmt", "packer")

    def __init__(self, t):
        super().__init__(t)
        self.lo, self.hi = INT_RANGES[t.name]
        self.bits = 8 * self.size
        self.mask = (1 << self.bits) - 1
        self.core_mask = _M64 if self.bits == 64 else _M32
        self.fmt = _INT_FORMATS[t.name]
        self.packer = struct.Struct("<" + self.fmt)

    def check(self, v) -> int:
        if type(v) is not int:
            if isinstance(v, bool) or not hasattr(type(v), "__index__"):
                raise _value_error(self.type, v, "an integer is needed")
            v = operator.index(v)
        if v < self.lo or v > self.hi:
            raise _value_error(self.type, v, f"out of range {self.lo}..{self.hi}")
        return v

    def lower_flat(self, cx, v, out):
        out.append(self.check(v) & self.core_mask)

    def lift_flat(self, cx, vals, i):
        x = vals[i] & self.mask
        return x - (1 << self.bits) if x > self.hi else x

    def store(self, cx, v, buf, off):
        self.packer.pack_into(buf, off, self.check(v))

    def load(self, cx, buf, off):
        return self.packer.unpack_from(buf, off)[0]


class _BoolCodec(_Codec):
    __slots__ = ()

    def check(self, v) -> int:
        if v is True:
            return 1
        if v is False:
            return 0
        raise _value_error(self.type, v, "True or False is needed")

    def lower_flat(self, cx, v, out):
        out.append(self.check(v))

    def lift_flat(self, cx, vals, i):
        return vals[i] & _M32 != 0

    def store(self, cx, v, buf, off):
        buf[off] = self.check(v)

    def load(self, cx, buf, off):
        return buf[off] != 0


_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_U16 = struct.Struct("<H")
_PAIR = struct.Struct("<II")  # (pointer, length) of a string or list in memory


def _number(t, v) -> float:
    if type(v) is float:
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _value_error(t, v, "a number is needed")
    try:
        return float(v)
    except OverflowError:
        raise _value_error(t, v, "too large") from None


def f32_bits(x: float) -> int:
    """The f32 bits of `x` rounded to f32 (NaN: the canonical NaN; beyond the range: infinity)."""
    if x != x:
        return CANONICAL_NAN32
    try:
        return _U32.unpack(_F32.pack(x))[0]
    except OverflowError:  # rounds beyond the largest f32
        return 0x7F800000 if x > 0 else 0xFF800000


def f64_bits(x: float) -> int:
    if x != x:
        return CANONICAL_NAN64
    return _U64.unpack(_F64.pack(x))[0]


def f32_value(bits: int) -> float:
    x = _F32.unpack(_U32.pack(bits & _M32))[0]
    return math.nan if x != x else x


def f64_value(bits: int) -> float:
    x = _F64.unpack(_U64.pack(bits & _M64))[0]
    return math.nan if x != x else x


class _F32Codec(_Codec):
    __slots__ = ()

    def lower_flat(self, cx, v, out):
        out.append(f32_bits(_number(self.type, v)))

    def lift_flat(self, cx, vals, i):
        return f32_value(vals[i])

    def store(self, cx, v, buf, off):
        _U32.pack_into(buf, off, f32_bits(_number(self.type, v)))

    def load(self, cx, buf, off):
        x = _F32.unpack_from(buf, off)[0]
        return math.nan if x != x else x


class _F64Codec(_Codec):
    __slots__ = ()

    def lower_flat(self, cx, v, out):
        out.append(f64_bits(_number(self.type, v)))

    def lift_flat(self, cx, vals, i):
        return f64_value(vals[i])

    def store(self, cx, v, buf, off):
        _U64.pack_into(buf, off, f64_bits(_number(self.type, v)))

    def load(self, cx, buf, off):
        x = _F64.unpack_from(buf, off)[0]
        return math.nan if x != x else x


def _char_code(c: int) -> str:
    if c >= 0x110000 or 0xD800 <= c <= 0xDFFF:
        raise trap(f"invalid `char` bit pattern {c:#x}")
    return chr(c)


class _CharCodec(_Codec):
    __slots__ = ()

    def check(self, v) -> int:
        if type(v) is not str or len(v) != 1:
            raise _value_error(self.type, v, "a str of one character is needed")
        c = ord(v)
        if 0xD800 <= c <= 0xDFFF:
            raise _value_error(self.type, v, "a surrogate is not a Unicode scalar value")
        return c

    def lower_flat(self, cx, v, out):
        out.append(self.check(v))

    def lift_flat(self, cx, vals, i):
        return _char_code(vals[i] & _M32)

    def store(self, cx, v, buf, off):
        _U32.pack_into(buf, off, self.check(v))

    def load(self, cx, buf, off):
        return _char_code(_U32.unpack_from(buf, off)[0])


# -- strings

class EncodedString(str):
    """A string lifted from a component, remembering how it was stored there: `encoding` (that
    component's string encoding) and `code_units` (the stored count, with `UTF16_TAG` for a
    latin1+utf16 string stored as UTF-16). Lowering one into another component transcodes as the
    reference does."""

    def __new__(cls, text: str, encoding: str, code_units: int):
        s = super().__new__(cls, text)
        s.encoding = encoding
        s.code_units = code_units
        return s

    def __reduce__(self):  # copy and pickle keep what it records
        return (EncodedString, (str(self), self.encoding, self.code_units))


def _encode(t, v: str, codec: str) -> bytes:
    try:
        return v.encode(codec)
    except UnicodeEncodeError as e:
        raise _value_error(t, v, f"{e.reason} at index {e.start}") from None


def _load_string_from_range(cx: CallContext, ptr: int, tagged: int) -> str:
    encoding = cx.encoding
    if encoding == "utf8":
        align, nbytes, codec = 1, tagged, "utf-8"
    elif encoding == "utf16":
        align, nbytes, codec = 2, 2 * tagged, "utf-16-le"
    elif tagged & UTF16_TAG:
        align, nbytes, codec = 2, 2 * (tagged ^ UTF16_TAG), "utf-16-le"
    else:
        align, nbytes, codec = 2, tagged, "latin-1"
    if nbytes > MAX_STRING_BYTE_LENGTH:
        raise trap(f"string content out-of-bounds: {nbytes} bytes is more than a string may have")
    data = cx.read(ptr, nbytes, "string content", align)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        reason = e.reason
        if reason == "unexpected end of data":
            reason = "incomplete utf-8 byte sequence" if codec == "utf-8" else "incomplete utf-16 code unit sequence"
        raise trap(f"invalid {'utf-8' if codec == 'utf-8' else 'utf-16'}: {reason} at byte {e.start}") from None
    return EncodedString(text, encoding, tagged) if cx.relay else text


_STRING = "string"
_CODECS_OF = {"utf8": "utf-8", "utf16": "utf-16-le", "latin1": "latin-1"}


def _store_string_into_range(cx: CallContext, v) -> tuple[int, int]:
    """Store a string value into newly allocated memory: (pointer, tagged code units)."""
    if type(v) is not str:
        if type(v) is EncodedString:
            return _transcode(cx, v, v.encoding, v.code_units)
        if not isinstance(v, str):
            raise _value_error(_STRING, v, "a str is needed")
    # A host string: as if it came from a component using the destination's encoding.
    dst = cx.encoding
    if dst == "utf8":  # the common case, kept short
        try:
            data = v.encode()
        except UnicodeEncodeError:
            data = _encode(_STRING, v, "utf-8")  # raises the value error
        n = len(data)
        ptr = cx.realloc(0, 0, 1, n, "string content", False)
        if n:
            cx.memory.write(ptr, data)
        return ptr, n
    if dst == "utf16":
        data = _encode(_STRING, v, "utf-16-le")
        return _store_copy(cx, data, len(data), 2), len(data) // 2
    try:
        data = v.encode("latin-1")
        return _store_copy(cx, data, len(data), 2), len(data)
    except UnicodeEncodeError:
        data = _encode(_STRING, v, "utf-16-le")
        return _store_copy(cx, data, len(data), 2), (len(data) // 2) | UTF16_TAG


def _store_copy(cx, data: bytes, nbytes: int, align: int) -> int:
    if len(data) != nbytes:  # only an EncodedString made up by hand can get here
        raise _value_error(_STRING, data, f"{nbytes} bytes were announced, the string has {len(data)}")
    ptr = cx.allocate(align, nbytes, "string content")
    cx.write(ptr, data)
    return ptr


def _transcode(cx: CallContext, s: str, src_encoding: str, src_tagged: int) -> tuple[int, int]:
    """Store string `s`, held by a component with encoding `src_encoding` as `src_tagged` code
    units, in the destination's encoding: the reference's allocation sizes and realloc calls."""
    if src_encoding == "latin1+utf16":
        if src_tagged & UTF16_TAG:
            src, units = "utf16", src_tagged ^ UTF16_TAG
        else:
            src, units = "latin1", src_tagged
    else:
        src, units = src_encoding, src_tagged
    # The sizes below trust `units`: check it (only an EncodedString made by hand can be wrong).
    held = len(_encode(_STRING, s, _CODECS_OF[src])) // (2 if src == "utf16" else 1)
    if held != units:
        raise _value_error(_STRING, s, f"{units} {src} code units were announced, the string has {held}")
    dst = cx.encoding
    if dst == "utf8":
        if src == "utf8":
            return _store_copy(cx, _encode(_STRING, s, "utf-8"), units, 1), units
        return _store_to_utf8(cx, s, units, 3 * units if src == "utf16" else 2 * units)
    if dst == "utf16":
        if src == "utf8":
            return _store_utf8_to_utf16(cx, s, units)
        return _store_copy(cx, _encode(_STRING, s, "utf-16-le"), 2 * units, 2), units
    if src_encoding != "latin1+utf16":
        return _store_to_latin1_or_utf16(cx, s, units)
    if src == "latin1":
        return _store_copy(cx, _encode(_STRING, s, "latin-1"), units, 2), units
    return _store_probably_utf16_to_latin1_or_utf16(cx, s, units)


_NOT_ASCII = re.compile("[^\x00-\x7f]")
_NOT_LATIN1 = re.compile("[^\x00-\xff]")


def _store_to_utf8(cx, s: str, units: int, worst: int) -> tuple[int, int]:
    ptr = cx.allocate(1, units, "string content", check_align=False)
    first = _NOT_ASCII.search(s)
    if first is None:
        cx.write(ptr, s.encode("ascii"))
        return ptr, units
    ascii_len = first.start()
    cx.write(ptr, s[:ascii_len].encode("ascii"))
    ptr = cx.realloc(ptr, units, 1, worst, "string content", check_align=False)
    data = _encode(_STRING, s, "utf-8")
    cx.write(ptr + ascii_len, data[ascii_len:])
    if worst > len(data):
        ptr = cx.realloc(ptr, worst, 1, len(data), "string content", check_align=False)
    return ptr, len(data)


def _store_utf8_to_utf16(cx, s: str, units: int) -> tuple[int, int]:
    worst = 2 * units
    ptr = cx.allocate(2, worst, "string content")
    data = _encode(_STRING, s, "utf-16-le")
    cx.write(ptr, data)
    if len(data) < worst:
        ptr = cx.realloc(ptr, worst, 2, len(data), "string content")
    return ptr, len(data) // 2


def _store_to_latin1_or_utf16(cx, s: str, units: int) -> tuple[int, int]:
    ptr = cx.allocate(2, units, "string content")
    first = _NOT_LATIN1.search(s)
    if first is None:
        data = s.encode("latin-1")
        cx.write(ptr, data)
        if len(data) < units:
            ptr = cx.realloc(ptr, units, 2, len(data), "string content")
        return ptr, len(data)
    latin1_len = first.start()
    cx.write(ptr, s[:latin1_len].encode("latin-1"))
    worst = 2 * units
    ptr = cx.realloc(ptr, units, 2, worst, "string content")
    # Widen the latin-1 prefix in place (as realloc left it), then the rest as UTF-16.
    prefix = cx.memory.read(ptr, latin1_len)
    cx.write(ptr, bytes(b for byte in prefix for b in (byte, 0)))
    data = _encode(_STRING, s, "utf-16-le")
    cx.write(ptr + 2 * latin1_len, data[2 * latin1_len:])
    if worst > len(data):
        ptr = cx.realloc(ptr, worst, 2, len(data), "string content")
    return ptr, (len(data) // 2) | UTF16_TAG


def _store_probably_utf16_to_latin1_or_utf16(cx, s: str, units: int) -> tuple[int, int]:
    nbytes = 2 * units
    ptr = cx.allocate(2, nbytes, "string content")
    data = _encode(_STRING, s, "utf-16-le")
    cx.write(ptr, data)
    if _NOT_LATIN1.search(s):
        return ptr, (len(data) // 2) | UTF16_TAG
    latin1 = data[0::2]  # the low bytes: what compacting in place leaves in the first half
    cx.write(ptr, latin1)
    ptr = cx.realloc(ptr, nbytes, 1, len(latin1), "string content", check_align=False)
    return ptr, len(latin1)


class _StringCodec(_Codec):
    __slots__ = ()

    def lower_flat(self, cx, v, out):
        out.extend(_store_string_into_range(cx, v))

    def lift_flat(self, cx, vals, i):
        return _load_string_from_range(cx, vals[i] & _M32, vals[i + 1] & _M32)

    def store(self, cx, v, buf, off):
        _PAIR.pack_into(buf, off, *_store_string_into_range(cx, v))

    def load(self, cx, buf, off):
        return _load_string_from_range(cx, *_PAIR.unpack_from(buf, off))


# -- lists

_BYTES_LIKE = (bytes, bytearray, memoryview)
_INT_ONLY = frozenset((int,))


class _ListCodec(_Codec):
    __slots__ = ("elem", "bulk")

    def __init__(self, t):
        super().__init__(t)
        self.elem = codec(t.elem)
        # Integer elements move as one struct call (u8: as bytes).
        self.bulk = self.elem.fmt if type(self.elem) is _IntCodec else None

    def _store_range(self, cx: CallContext, v) -> tuple[int, int]:
        elem = self.elem
        bulk = self.bulk
        if bulk == "B" and isinstance(v, _BYTES_LIKE):
            data = v
        elif not isinstance(v, (list, tuple)):
            raise _value_error(self.type, v, "a list is needed" + (" (or bytes)" if bulk == "B" else ""))
        elif bulk:  # packed (and so checked) before anything is allocated
            data = None
            fmt = f"<{len(v)}{bulk}"
            if set(map(type, v)) <= _INT_ONLY:  # struct checks the ranges itself (bools go the long way)
                try:
                    data = struct.pack(fmt, *v)
                except struct.error:
                    pass
            if data is None:
                for i, e in enumerate(v):
                    try:
                        elem.check(e)
                    except ComponentValueError as err:
                        raise _within(err, f"element {i}") from None
                data = struct.pack(fmt, *v)
        else:
            data = None
        n = len(v)
        size = elem.size
        ptr = cx.allocate(elem.align, n * size, "list content")
        if data is None:
            data = bytearray(n * size)
            store = elem.store
            for i, e in enumerate(v):
                try:
                    store(cx, e, data, i * size)
                except ComponentValueError as err:
                    raise _within(err, f"element {i}") from None
        cx.write(ptr, data)
        return ptr, n

    def _load_range(self, cx: CallContext, ptr: int, n: int):
        elem = self.elem
        nbytes = n * elem.size
        if nbytes > MAX_LIST_BYTE_LENGTH:
            raise trap(f"list content out-of-bounds: {n} elements of {elem.size} bytes is more than a list may have")
        data = cx.read(ptr, nbytes, "list content", elem.align)
        if self.bulk == "B":
            return data
        cx.lifted += n
        if cx.lifted > MAX_LIFTED_ELEMENTS:
            raise trap(f"list content too large for the host: more than {MAX_LIFTED_ELEMENTS} list elements "
                       f"lifted in one call (MAX_LIFTED_ELEMENTS)")
        if self.bulk:
            return list(struct.unpack(f"<{n}{self.bulk}", data))
        load, size = elem.load, elem.size
        return [load(cx, data, i * size) for i in range(n)]

    def lower_flat(self, cx, v, out):
        out.extend(self._store_range(cx, v))

    def lift_flat(self, cx, vals, i):
        return self._load_range(cx, vals[i] & _M32, vals[i + 1] & _M32)

    def store(self, cx, v, buf, off):
        _PAIR.pack_into(buf, off, *self._store_range(cx, v))

    def load(self, cx, buf, off):
        return self._load_range(cx, *_PAIR.unpack_from(buf, off))


# -- records and tuples

class _RecordCodec(_Codec):
    __slots__ = ("labels", "attrs", "members", "offsets", "flat_starts")

    def __init__(self, t):
        super().__init__(t)
        if type(t) is Record:
            self.labels = tuple(label for label, _ in t.fields)
            self.attrs = tuple(V.field_attr(label) for label in self.labels)
        else:
            self.labels = self.attrs = None
        members = record_members(t)
        self.members = tuple(codec(m) for m in members)
        self.offsets = field_offsets(members)
        starts, n = [], 0
        for m in self.members:
            starts.append(n)
            n += m.nflat
        self.flat_starts = tuple(starts)

    def _parts(self, v) -> tuple:
        """The member values of record or tuple value `v`."""
        n = len(self.members)
        if self.attrs is None:
            if not isinstance(v, (tuple, list)) or len(v) != n:
                raise _value_error(self.type, v, f"a tuple of {n} values is needed")
            return v
        if isinstance(v, dict):
            try:
                return tuple(v[label] if label in v else v[attr] for label, attr in zip(self.labels, self.attrs))
            except KeyError as e:
                raise _value_error(self.type, v, f"no field {e.args[0]!r}") from None
        try:
            return tuple(getattr(v, attr) for attr in self.attrs)
        except AttributeError:
            missing = next(a for a in self.attrs if not hasattr(v, a))
            raise _value_error(self.type, v, f"no field `{missing}` (a values.Record is needed)") from None

    def _make(self, parts):
        if self.attrs is None:
            return tuple(parts)
        return V.Record(**dict(zip(self.attrs, parts)))

    def _where(self, i: int) -> str:
        return f"element {i}" if self.labels is None else f"field `{self.labels[i]}`"

    def lower_flat(self, cx, v, out):
        for i, (member, part) in enumerate(zip(self.members, self._parts(v))):
            try:
                member.lower_flat(cx, part, out)
            except ComponentValueError as err:
                raise _within(err, self._where(i)) from None

    def lift_flat(self, cx, vals, i):
        return self._make([m.lift_flat(cx, vals, i + s) for m, s in zip(self.members, self.flat_starts)])

    def store(self, cx, v, buf, off):
        for i, (member, o, part) in enumerate(zip(self.members, self.offsets, self._parts(v))):
            try:
                member.store(cx, part, buf, off + o)
            except ComponentValueError as err:
                raise _within(err, self._where(i)) from None

    def load(self, cx, buf, off):
        return self._make([m.load(cx, buf, off + o) for m, o in zip(self.members, self.offsets)])


# -- flags

class _FlagsCodec(_Codec):
    __slots__ = ("names", "bits", "packer")

    def __init__(self, t):
        super().__init__(t)
        self.names = t.names
        self.bits = {name: 1 << i for i, name in enumerate(t.names)}
        self.packer = {1: struct.Struct("<B"), 2: _U16, 4: _U32}[self.size]

    def pack(self, v) -> int:
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            raise _value_error(self.type, v, "a set of flag names is needed")
        i = 0
        bits = self.bits
        for name in v:
            bit = bits.get(name)
            if bit is None:
                raise _value_error(self.type, v, f"no flag {name!r}")
            i |= bit
        return i

    def unpack(self, i: int) -> set:
        # Bits beyond the flags are ignored, as the reference does.
        return {name for name, bit in self.bits.items() if i & bit}

    def lower_flat(self, cx, v, out):
        out.append(self.pack(v))

    def lift_flat(self, cx, vals, i):
        return self.unpack(vals[i] & _M32)

    def store(self, cx, v, buf, off):
        self.packer.pack_into(buf, off, self.pack(v))

    def load(self, cx, buf, off):
        return self.unpack(self.packer.unpack_from(buf, off)[0])


# -- variants, enums, options, results

class _VariantCodec(_Codec):
    """All four variant-like types: they share the layout; only the Python values differ."""

    __slots__ = ("kind", "labels", "index", "cases", "disc", "payload_offset", "nested_option")

    def __init__(self, t):
        super().__init__(t)
        self.kind = type(t)
        case_types = variant_cases(t)
        self.cases = tuple(None if c is None else codec(c) for c in case_types)
        if self.kind is Variant:
            self.labels = tuple(label for label, _ in t.cases)
        elif self.kind is Enum:
            self.labels = t.names
        else:
            self.labels = None
        self.index = {label: i for i, label in enumerate(self.labels)} if self.labels else None
        n = len(case_types)
        self.disc = {1: struct.Struct("<B"), 2: _U16, 4: _U32}[discriminant_size(n)]
        self.payload_offset = payload_offset(case_types)
        self.nested_option = self.kind is Option and type(t.type) is Option

    def _split(self, v) -> tuple[int, Any]:
        """(case index, payload) of Python value `v`."""
        kind = self.kind
        if kind is Option:
            if v is None:
                return 0, None
            if type(v) is V.Some:
                return 1, v.value
            if self.nested_option:
                raise _value_error(self.type, v, "None or values.Some(...) is needed (the payload is an option)")
            return 1, v
        if kind is Result:
            if type(v) is V.Ok:
                case = 0
            elif type(v) is V.Err:
                case = 1
            else:
                raise _value_error(self.type, v, "values.Ok(...) or values.Err(...) is needed")
            if self.cases[case] is None and v.value is not None:
                raise _value_error(self.type, v, f"the {'ok' if case == 0 else 'error'} case has no payload")
            return case, v.value
        if kind is Enum:
            case = self.index.get(v) if isinstance(v, str) else None
            if case is None:
                raise _value_error(self.type, v, "a case name (str) is needed")
            return case, None
        if not isinstance(v, V.Variant):
            raise _value_error(self.type, v, "a values.Variant(case, payload) is needed")
        case = self.index.get(v.case)
        if case is None:
            raise _value_error(self.type, v, f"no case {v.case!r}")
        if self.cases[case] is None and v.payload is not None:
            raise _value_error(self.type, v, f"case {v.case!r} has no payload")
        return case, v.payload

    def _make(self, case: int, payload):
        kind = self.kind
        if kind is Option:
            if case == 0:
                return None
            return V.Some(payload) if self.nested_option else payload
        if kind is Result:
            return V.Ok(payload) if case == 0 else V.Err(payload)
        if kind is Enum:
            return self.labels[case]
        return V.Variant(self.labels[case], payload)

    def _case(self, case: int):
        if case >= len(self.cases):
            raise trap(f"invalid variant discriminant: discriminant {case} out of range [0..{len(self.cases)}) "
                       f"for {self.type}")
        return self.cases[case]

    def lower_flat(self, cx, v, out):
        case, payload = self._split(v)
        start = len(out)
        out.append(case)
        payload_codec = self.cases[case]
        if payload_codec is not None:
            # With raw bits every coercion to the joined flat type keeps the bits (f32 -> i32 is the
            # reinterpretation, i32 -> i64 the zero extension); the rest is zeros.
            try:
                payload_codec.lower_flat(cx, payload, out)
            except ComponentValueError as err:
                raise self._payload_error(err, case) from None
        out.extend([0] * (start + self.nflat - len(out)))

    def _payload_error(self, err: ComponentValueError, case: int) -> ComponentValueError:
        if self.kind is Option:
            return err  # the payload is the value itself
        if self.kind is Result:
            return _within(err, "ok" if case == 0 else "error")
        return _within(err, f"case `{self.labels[case]}`")

    def lift_flat(self, cx, vals, i):
        case = vals[i] & _M32
        payload_codec = self._case(case)
        # Narrowing a joined i64 to the case's i32 or f32 is the wrap every i32/f32 lift does.
        payload = None if payload_codec is None else payload_codec.lift_flat(cx, vals, i + 1)
        return self._make(case, payload)

    def store(self, cx, v, buf, off):
        case, payload = self._split(v)
        self.disc.pack_into(buf, off, case)
        payload_codec = self.cases[case]
        if payload_codec is not None:
            try:
                payload_codec.store(cx, payload, buf, off + self.payload_offset)
            except ComponentValueError as err:
                raise self._payload_error(err, case) from None

    def load(self, cx, buf, off):
        case = self.disc.unpack_from(buf, off)[0]
        payload_codec = self._case(case)
        payload = None if payload_codec is None else payload_codec.load(cx, buf, off + self.payload_offset)
        return self._make(case, payload)


# -- handles

class _HandleCodec(_Codec):
    __slots__ = ("rt", "own")

    def __init__(self, t):
        super().__init__(t)
        self.rt = t.resource
        self.own = type(t) is Own

    def _instance(self, cx) -> InstanceHandles:
        if cx.instance is None:
            raise WasmbuildError(f"moving {self.type} needs the component instance's handles (CanonOptions.instance)")
        return cx.instance

    def lower(self, cx, v) -> int:
        if not isinstance(v, Resource):
            raise _value_error(self.type, v, "a handles.Resource is needed")
        if v.type is not self.rt:
            raise _value_error(self.type, v, f"the resource is of type `{v.type}`")
        instance = self._instance(cx)
        if self.own:
            index = instance.give_own(self.rt, v.take())
            cx.handed_over(instance, index, v)
            return index
        if self.rt in instance.defines:
            return v.rep  # the defining instance gets the rep itself (give_borrow would too)
        index = instance.give_borrow(self.rt, v.rep, cx.scope)
        cx.handed_over(instance, index, None)
        return index

    def lift(self, cx, index: int) -> Resource:
        instance = self._instance(cx)
        if self.own:
            return Resource(self.rt, instance.take_own(index, self.rt), own=True, registry=instance.registry)
        view = Resource(self.rt, instance.lend(index, self.rt, cx.scope), own=False, registry=instance.registry)
        cx.scope.add_view(view)
        return view

    def lower_flat(self, cx, v, out):
        out.append(self.lower(cx, v))

    def lift_flat(self, cx, vals, i):
        return self.lift(cx, vals[i] & _M32)

    def store(self, cx, v, buf, off):
        _U32.pack_into(buf, off, self.lower(cx, v))

    def load(self, cx, buf, off):
        return self.lift(cx, _U32.unpack_from(buf, off)[0])


_PRIM_CODECS = {"bool": _BoolCodec, "f32": _F32Codec, "f64": _F64Codec, "char": _CharCodec, "string": _StringCodec}
_CODECS = {List: _ListCodec, Record: _RecordCodec, Tuple: _RecordCodec, Flags: _FlagsCodec, Variant: _VariantCodec,
           Enum: _VariantCodec, Option: _VariantCodec, Result: _VariantCodec, Own: _HandleCodec,
           Borrow: _HandleCodec}


@lru_cache(maxsize=8192)
def codec(t: ValType) -> _Codec:
    """The codec of type `t` (made once per type)."""
    if type(t) is Prim:
        return _PRIM_CODECS.get(t.name, _IntCodec)(t)
    try:
        return _CODECS[type(t)](t)
    except KeyError:
        raise TypeError(f"not a component value type: {t!r}") from None


# ---- single values -------------------------------------------------------------------------------------

def lower_flat(cx: CallContext, v, t: ValType) -> list[int]:
    """Python value `v` of type `t` as flat core values (raw bits)."""
    out: list[int] = []
    codec(t).lower_flat(cx, v, out)
    return out


def lift_flat(cx: CallContext, vals, t: ValType):
    """The Python value of type `t` from its flat core values `vals`."""
    c = codec(t)
    if len(vals) != c.nflat:
        raise ValueError(f"{t} flattens to {c.nflat} core values, not {len(vals)}")
    return c.lift_flat(cx, vals, 0)


def store(cx: CallContext, v, t: ValType, ptr: int) -> None:
    """Store Python value `v` of type `t` at `ptr` (aligned, in bounds: the caller checked)."""
    c = codec(t)
    buf = bytearray(c.size)
    c.store(cx, v, buf, 0)
    cx.write(ptr, buf)


def load(cx: CallContext, ptr: int, t: ValType):
    """The Python value of type `t` stored at `ptr` (checked: aligned, in bounds)."""
    c = codec(t)
    return c.load(cx, cx.read(ptr, c.size, f"{t} value", c.align), 0)


# ---- the four call-boundary operations -------------------------------------------------------------------

class FunctionAbi:
    """The canonical ABI of one component function type `ft`: the flat core signatures and the four
    operations of a call across the boundary (see the module docstring)."""

    def __init__(self, ft: FuncType):
        self.type = ft
        self.names = tuple(name for name, _ in ft.params)
        self.params = tuple(codec(t) for _, t in ft.params)
        self.result = None if ft.result is None else codec(ft.result)
        self.lift_type = flatten_functype(ft, "lift")
        self.lower_type = flatten_functype(ft, "lower")
        nflat_params = sum(c.nflat for c in self.params)
        self.spill_params = nflat_params > MAX_FLAT_PARAMS
        self.spill_result = self.result is not None and self.result.nflat > MAX_FLAT_RESULTS
        self.params_tuple = codec(Tuple(tuple(t for _, t in ft.params))) if self.spill_params else None
        starts, n = [], 0
        for c in self.params:
            starts.append(n)
            n += c.nflat
        self.flat_starts = tuple(starts)
        # A call moving no handles shares one scope that nothing changes.
        self.scope = None if _has_handles(ft) else _NO_HANDLES
        # `call`'s fast path, for parameters of strings and integers in flat values and a result of
        # a string (through the result area), an integer or none: per parameter, None for a string,
        # else its _IntCodec; None where the path does not serve.
        self.fast = (tuple(None if type(c) is _StringCodec else c for c in self.params)
                     if not self.spill_params and all(type(c) in (_StringCodec, _IntCodec) for c in self.params)
                     and (self.result is None or type(self.result) in (_StringCodec, _IntCodec)) else None)
        self._fast_strings = tuple(i for i, c in enumerate(self.params) if type(c) is _StringCodec)

    def __repr__(self) -> str:
        return f"FunctionAbi({self.type})"

    def _argument_error(self, i: int, e: ComponentValueError) -> ComponentValueError:
        return ComponentValueError(f"argument `{self.names[i]}` of {self.type}: {e.reason}")

    # -- host -> lifted export -> host

    def lower_args(self, opts: CanonOptions, args, relay: bool = False) -> tuple[list[int], CallContext]:
        """Python `args` (one per parameter, in order) as the flat core arguments of the lifted core
        function; also the call's context, for `lift_results` (`relay`: its strings are lifted as
        `EncodedString`). Spilled arguments are stored in memory the component's realloc gives."""
        if len(args) != len(self.params):
            raise ComponentValueError(f"{self.type} takes {len(self.params)} arguments, not {len(args)}")
        cx = CallContext(opts, self.scope, relay)
        try:
            if self.spill_params:
                tup = self.params_tuple
                ptr = cx.allocate(tup.align, tup.size, "argument area")
                buf = bytearray(tup.size)
                for i, (c, offset, arg) in enumerate(zip(self.params, tup.offsets, args)):
                    try:
                        c.store(cx, arg, buf, offset)
                    except ComponentValueError as e:
                        raise self._argument_error(i, e) from None
                cx.write(ptr, buf)
                return [ptr], cx
            flat: list[int] = []
            for i, (c, arg) in enumerate(zip(self.params, args)):
                try:
                    c.lower_flat(cx, arg, flat)
                except ComponentValueError as e:
                    raise self._argument_error(i, e) from None
            return flat, cx
        except BaseException:
            if cx.handed:
                cx.take_back()
            raise

    def lift_results(self, cx: CallContext, flat_results) -> Any:
        """The lifted core function's results (`flat_results`, raw bits) as the Python result (None
        without one); then the call must have dropped every borrow it was given, and post-return (if
        any) runs on `flat_results`."""
        result = None
        c = self.result
        if c is not None:
            if self.spill_result:
                ptr = flat_results[0] & _M32
                result = c.load(cx, cx.read(ptr, c.size, "result area", c.align), 0)
            else:
                result = c.lift_flat(cx, flat_results, 0)
        if cx.scope.borrows:
            cx.scope.check_borrows_dropped()
        post_return = cx.opts.post_return
        if post_return is not None:
            instance = cx.instance
            if instance is None:
                post_return(list(flat_results))
            else:
                may_leave, instance.may_leave = instance.may_leave, False
                try:
                    post_return(list(flat_results))
                finally:
                    instance.may_leave = may_leave
        return result

    def call(self, opts: CanonOptions, args, core_call, relay: bool = False) -> Any:
        """A whole call of the lifted export: `lower_args`, `core_call(*flat_args) -> flat_results`
        (the export's `loader.runtime.Function.bits_caller()`), `lift_results`. The fast path does
        what they do for the signatures of `self.fast` with host strs in UTF-8, in one frame; any
        other call, and a bad result, goes the general way (which raises the error)."""
        fast = self.fast
        if fast is None or relay or opts.string_encoding != "utf8" or len(args) != len(fast):
            flat, cx = self.lower_args(opts, args, relay)
            return self.lift_results(cx, core_call(*flat))
        for k in self._fast_strings:
            if type(args[k]) is not str:  # (an EncodedString is transcoded)
                flat, cx = self.lower_args(opts, args, relay)
                return self.lift_results(cx, core_call(*flat))
        memory, realloc, instance = opts.memory, opts.realloc, opts.instance
        # `may_leave` (InstanceHandles.leave_flag: its value), cleared while realloc and post-return run
        flag = None if instance is None else instance.leave_flag
        flat: list[int] = []
        i = 0
        for c, arg in zip(fast, args):
            if c is None:  # a string, lowered as _store_string_into_range does
                try:
                    data = arg.encode()
                except UnicodeEncodeError:
                    try:
                        _encode(_STRING, arg, "utf-8")
                    except ComponentValueError as e:
                        raise self._argument_error(i, e) from None
                if realloc is None or memory is None:
                    raise _required("realloc" if realloc is None else "memory")
                n = len(data)
                if flag is None:
                    ptr = realloc(0, 0, 1, n) & _M32
                else:
                    may_leave, flag.value = flag.value, 0
                    try:
                        ptr = realloc(0, 0, 1, n) & _M32
                    finally:
                        flag.value = may_leave
                if ptr + n > memory.size:
                    _checked_realloc_result(memory, ptr, 1, n, "string content", False)  # raises
                if n:
                    memory.write(ptr, data)
                flat.append(ptr)
                flat.append(n)
            else:
                try:
                    flat.append(c.check(arg) & c.core_mask)
                except ComponentValueError as e:
                    raise self._argument_error(i, e) from None
            i += 1
        flat_results = core_call(*flat)
        c = self.result
        result = None
        if c is None:
            pass
        elif type(c) is _StringCodec:  # through the result area (two flat values are more than MAX_FLAT_RESULTS)
            ptr = flat_results[0] & _M32
            size = -1 if memory is None else memory.size
            if not ptr & 3 and ptr + 8 <= size:
                sp, sn = _PAIR.unpack(memory.read(ptr, 8))
                if sn <= MAX_STRING_BYTE_LENGTH and sp + sn <= size:
                    try:
                        result = memory.read(sp, sn).decode()
                    except UnicodeDecodeError:
                        pass
            if result is None:  # a bad result: the general lifting traps with the words for it
                cx = CallContext(opts, self.scope)
                result = c.load(cx, cx.read(ptr, c.size, "result area", c.align), 0)
        else:
            result = c.lift_flat(None, flat_results, 0)
        post_return = opts.post_return
        if post_return is not None:  # (flat_results is this call's own list)
            if flag is None:
                post_return(flat_results)
            else:
                may_leave, flag.value = flag.value, 0
                try:
                    post_return(flat_results)
                finally:
                    flag.value = may_leave
        return result

    def call_hosted(self, staging, args, call_bits) -> Any:
        """A hosted call (component/hosted.py) of the lifted export: `staging` is the host's side
        (`HostStaging`), `call_bits(*bits) -> result bits` calls the adapter. For the
        signatures of `self.fast` with host strs, the strings are written straight above the
        staging memory's `top` and the result read from it; any other call goes
        `staging.call`'s general way."""
        fast = self.fast
        if fast is None or len(args) != len(fast):
            return staging.call(self, call_bits, args)
        top, memory = staging.top, staging.memory
        mark = top.value
        ret = pos = (mark + 7) & -8
        if self.spill_result:  # a string: its (pointer, length) pair
            pos += 8
        flat: list[int] = []
        strings = []
        i = 0
        for c, arg in zip(fast, args):
            if c is None:
                if type(arg) is not str:
                    return staging.call(self, call_bits, args)
                try:
                    data = arg.encode()
                except UnicodeEncodeError:
                    return staging.call(self, call_bits, args)  # (which raises the error)
                n = len(data)
                strings.append((pos, data))
                flat.append(pos)
                flat.append(n)
                pos += n
            else:
                try:
                    flat.append(c.check(arg) & c.core_mask)
                except ComponentValueError as e:
                    raise self._argument_error(i, e) from None
            i += 1
        if pos > memory.size:
            staging.reserve(pos)
        view = memory.view()
        for at, data in strings:
            view[at:at + len(data)] = data
        top.value = pos
        try:
            if self.spill_result:
                call_bits(*flat, ret)
                view = memory.view()  # (the adapter may have grown it)
                sp, sn = _PAIR.unpack_from(view, ret)
                return str(view[sp:sp + sn], "utf-8")  # the adapter checked it (and copied it here)
            results = call_bits(*flat)
            c = self.result
            return None if c is None else c.lift_flat(None, results, 0)
        finally:
            top.value = mark

    # -- guest -> lowered import -> guest

    def lift_args(self, opts: CanonOptions, flat_args, relay: bool = False) -> tuple[list, CallContext]:
        """The lowered core function's arguments (`flat_args`, raw bits, the return pointer last if
        there is one) as Python arguments; also the call's context, for `lower_results`. Borrowed
        resources are valid until `lower_results` (or `CallContext.scope.release()`)."""
        cx = CallContext(opts, self.scope, relay)
        try:
            if self.spill_params:
                tup = self.params_tuple
                ptr = flat_args[0] & _M32
                data = cx.read(ptr, tup.size, "argument area", tup.align)
                return [c.load(cx, data, o) for c, o in zip(self.params, tup.offsets)], cx
            return [c.lift_flat(cx, flat_args, s) for c, s in zip(self.params, self.flat_starts)], cx
        except BaseException:
            cx.scope.release()  # a trap part way: what was lent so far is lent no more
            raise

    def lower_results(self, cx: CallContext, value, flat_args) -> list[int]:
        """The import's Python result `value` as the lowered core function's results, or stored
        through the return pointer (the last of `flat_args`: then no results). Ends the call: the
        resources it borrowed are lent no more."""
        try:
            c = self.result
            if c is None:
                if value is not None:
                    raise ComponentValueError(f"{self.type} has no result, but {value!r} was returned")
                return []
            try:
                if self.spill_result:
                    ptr = flat_args[-1] & _M32
                    if ptr % c.align:
                        raise trap(f"unaligned pointer: return pointer {ptr:#x} is not {c.align}-aligned")
                    if ptr + c.size > cx.mem().size:
                        raise trap(f"return pointer out-of-bounds: {c.size} bytes at {ptr:#x}")
                    buf = bytearray(c.size)
                    c.store(cx, value, buf, 0)
                    cx.write(ptr, buf)
                    return []
                out: list[int] = []
                c.lower_flat(cx, value, out)
                return out
            except ComponentValueError as e:
                raise ComponentValueError(f"result of {self.type}: {e.reason}") from None
        except BaseException:
            if cx.handed:
                cx.take_back()
            raise
        finally:
            cx.scope.release()


_NO_HANDLES = BorrowScope()


def _has_handles(t) -> bool:
    """Whether values of `t` (a value type or a FuncType) can hold own or borrow handles."""
    kind = type(t)
    if kind is FuncType:
        return any(_has_handles(p) for _, p in t.params) or (t.result is not None and _has_handles(t.result))
    if kind is Own or kind is Borrow:
        return True
    if kind is Prim or kind is Flags or kind is Enum:
        return False
    if kind is List:
        return _has_handles(t.elem)
    if kind is Record or kind is Tuple:
        return any(map(_has_handles, record_members(t)))
    return any(c is not None and _has_handles(c) for c in variant_cases(t))


@lru_cache(maxsize=4096)
def function_abi(ft: FuncType) -> FunctionAbi:
    """The `FunctionAbi` of `ft`, made once per function type."""
    return FunctionAbi(ft)
