"""Write WebAssembly 2.0 binaries directly from Python, for tests and benchmarks.

Takes plain Python values (integers, value-type bytes, instruction bytes) and gives `bytes`:

- encoders for the binary format's primitives: `uleb`, `sleb`, `name`, `vec`, `section`, `limits`,
  `functype`, and a few instruction encoders (`i32_const`, `local_get`, `call`, ...) plus `OP`, the
  one-byte opcodes by mnemonic;
- `ModuleBuilder`, which collects types, imports, functions, tables, memories, globals, exports, a
  start function, element and data segments and custom sections and writes them in the spec's order;
- `generate_module(functions, seed)`, a deterministic module of that many varied function bodies
  (arithmetic on params and locals, counted loops with `br_if`, blocks, `br_table`, multi-value
  blocks, direct and indirect calls, loads and stores, globals, bulk memory) together with `GenStats`.
  Every generated function is valid and terminates without trapping: loops count down, addresses are
  masked into the first page, and a global "fuel" counter bounds the number of calls.

It shares no code with wasmbuild's decoder or validator, so tests can use it as an independent source
of bytes (tests/test_gen.py checks its output with wasmtime and WABT).
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

I32, I64, F32, F64, V128 = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B
FUNCREF, EXTERNREF = 0x70, 0x6F
EMPTY_BLOCK = 0x40

# ---------------------------------------------------------------------------------------------
# Primitive encoders
# ---------------------------------------------------------------------------------------------


def uleb(value: int) -> bytes:
    """Unsigned LEB128, shortest form."""
    if value < 0:
        raise ValueError("uleb of a negative number")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(value: int) -> bytes:
    """Signed LEB128, shortest form."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7  # arithmetic shift
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def name(text: str | bytes) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return uleb(len(raw)) + raw


def vec(items) -> bytes:
    items = list(items)
    return uleb(len(items)) + b"".join(items)


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def custom_section(section_name: str | bytes, payload: bytes) -> bytes:
    return section(0, name(section_name) + payload)


def limits(minimum: int, maximum: int | None = None, addr64: bool = False) -> bytes:
    """Limits; `addr64`: of a 64-bit memory or table (memory64's flag 0x04)."""
    flags = (0 if maximum is None else 1) | (4 if addr64 else 0)
    return bytes([flags]) + uleb(minimum) + (b"" if maximum is None else uleb(maximum))


def functype(params, results) -> bytes:
    return b"\x60" + vec(bytes([t]) for t in params) + vec(bytes([t]) for t in results)


def code_entry(local_runs, body: bytes) -> bytes:
    """One code-section entry: size, local declarations [(count, type)], then `body` (with its end)."""
    content = vec(uleb(n) + bytes([t]) for n, t in local_runs) + body
    return uleb(len(content)) + content


# ---------------------------------------------------------------------------------------------
# Instructions
# ---------------------------------------------------------------------------------------------

_ONE_BYTE = """
unreachable 00 nop 01 else 05 end 0b return 0f drop 1a select 1b
i32.eqz 45 i32.eq 46 i32.ne 47 i32.lt_s 48 i32.lt_u 49 i32.gt_s 4a i32.gt_u 4b i32.le_s 4c i32.ge_s 4e
i64.eqz 50 i64.eq 51 i64.ne 52 i64.lt_s 53 i64.gt_u 56
f64.eq 61 f64.lt 63 f64.gt 64
i32.clz 67 i32.ctz 68 i32.popcnt 69 i32.add 6a i32.sub 6b i32.mul 6c i32.div_s 6d i32.div_u 6e
i32.and 71 i32.or 72 i32.xor 73 i32.shl 74 i32.shr_s 75 i32.shr_u 76 i32.rotl 77 i32.rotr 78
i64.clz 79 i64.add 7c i64.sub 7d i64.mul 7e i64.and 83 i64.or 84 i64.xor 85 i64.shl 86 i64.shr_u 88
i64.rotl 89
f32.add 92 f64.abs 99 f64.neg 9a f64.floor 9c f64.sqrt 9f f64.add a0 f64.sub a1 f64.mul a2 f64.div a3
f64.min a4 f64.max a5
i32.wrap_i64 a7 i64.extend_i32_s ac i64.extend_i32_u ad f64.convert_i32_s b7 f64.convert_i64_s b9
i64.reinterpret_f64 bd f64.reinterpret_i64 bf i32.extend8_s c0
ref.is_null d1
"""
OP: dict[str, bytes] = {}
for _mnemonic, _hex in zip(*[iter(_ONE_BYTE.split())] * 2):
    OP[_mnemonic] = bytes.fromhex(_hex)

_LOADS = {"i32.load": (0x28, 2), "i64.load": (0x29, 3), "f32.load": (0x2A, 2), "f64.load": (0x2B, 3),
          "i32.load8_u": (0x2D, 0), "i32.load16_s": (0x2E, 1), "i64.load32_u": (0x35, 2),
          "i32.store": (0x36, 2), "i64.store": (0x37, 3), "f32.store": (0x38, 2), "f64.store": (0x39, 3),
          "i32.store8": (0x3A, 0), "i64.store16": (0x3D, 1)}


def i32_const(v: int) -> bytes:
    return b"\x41" + sleb(v if v < 2**31 else v - 2**32)


def i64_const(v: int) -> bytes:
    return b"\x42" + sleb(v if v < 2**63 else v - 2**64)


def f32_const(v: float) -> bytes:
    return b"\x43" + struct.pack("<f", v)


def f64_const(v: float) -> bytes:
    return b"\x44" + struct.pack("<d", v)


def local_get(i: int) -> bytes:
    return b"\x20" + uleb(i)


def local_set(i: int) -> bytes:
    return b"\x21" + uleb(i)


def local_tee(i: int) -> bytes:
    return b"\x22" + uleb(i)


def global_get(i: int) -> bytes:
    return b"\x23" + uleb(i)


def global_set(i: int) -> bytes:
    return b"\x24" + uleb(i)


def call(f: int) -> bytes:
    return b"\x10" + uleb(f)


def call_indirect(type_index: int, table: int = 0) -> bytes:
    return b"\x11" + uleb(type_index) + uleb(table)


def br(label: int) -> bytes:
    return b"\x0c" + uleb(label)


def br_if(label: int) -> bytes:
    return b"\x0d" + uleb(label)


def br_table(labels, default: int) -> bytes:
    return b"\x0e" + vec(uleb(x) for x in labels) + uleb(default)


def blocktype(bt) -> bytes:
    """None (no params or results), a value type byte, or ("type", index)."""
    if bt is None:
        return bytes([EMPTY_BLOCK])
    if isinstance(bt, tuple):
        return sleb(bt[1])
    return bytes([bt])


def block(bt=None) -> bytes:
    return b"\x02" + blocktype(bt)


def loop(bt=None) -> bytes:
    return b"\x03" + blocktype(bt)


def if_(bt=None) -> bytes:
    return b"\x04" + blocktype(bt)


def memop(mnemonic: str, offset: int = 0, align: int | None = None) -> bytes:
    opcode, natural = _LOADS[mnemonic]
    return bytes([opcode]) + uleb(natural if align is None else align) + uleb(offset)


def ref_null(t: int = FUNCREF) -> bytes:
    return bytes([0xD0, t])


def ref_func(f: int) -> bytes:
    return b"\xd2" + uleb(f)


def memory_init(data_index: int) -> bytes:
    return b"\xfc" + uleb(8) + uleb(data_index) + b"\x00"


def memory_fill() -> bytes:
    return b"\xfc" + uleb(11) + b"\x00"


def memory_copy() -> bytes:
    return b"\xfc" + uleb(10) + b"\x00\x00"


END = b"\x0b"


# ---------------------------------------------------------------------------------------------
# Module builder
# ---------------------------------------------------------------------------------------------

class ModuleBuilder:
    """Collects a module's parts; `build()` writes the binary. Index spaces count imports first, so
    add imports before defining functions, tables, memories or globals."""

    def __init__(self):
        self.types: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        self._imports: list[bytes] = []
        self._imported = {0: 0, 1: 0, 2: 0, 3: 0}
        self._funcs: list[tuple[int, list, bytes]] = []
        self._tables: list[bytes] = []
        self._memories: list[bytes] = []
        self._globals: list[bytes] = []
        self._exports: list[bytes] = []
        self.start: int | None = None
        self._elems: list[bytes] = []
        self._datas: list[bytes] = []
        self.data_count = False
        self._customs: list[tuple[int, bytes]] = []  # (after section id, section bytes)

    def type(self, params=(), results=()) -> int:
        sig = (tuple(params), tuple(results))
        if sig not in self.types:
            self.types.append(sig)
        return self.types.index(sig)

    def _import(self, module: str, field: str, kind: int, desc: bytes) -> int:
        self._imports.append(name(module) + name(field) + bytes([kind]) + desc)
        index = self._imported[kind]
        self._imported[kind] += 1
        return index

    def import_func(self, module: str, field: str, params=(), results=()) -> int:
        assert not self._funcs, "imports come before defined functions"
        return self._import(module, field, 0, uleb(self.type(params, results)))

    def import_table(self, module: str, field: str, elem=FUNCREF, minimum=0, maximum=None, addr64=False) -> int:
        return self._import(module, field, 1, bytes([elem]) + limits(minimum, maximum, addr64))

    def import_memory(self, module: str, field: str, minimum=0, maximum=None) -> int:
        return self._import(module, field, 2, limits(minimum, maximum))

    def import_global(self, module: str, field: str, valtype=I32, mutable=False) -> int:
        return self._import(module, field, 3, bytes([valtype, int(mutable)]))

    def func(self, params=(), results=(), body: bytes = END, locals_=(), export: str | None = None) -> int:
        """Define a function; `body` is its code including the final `end`. Returns its index."""
        index = self._imported[0] + len(self._funcs)
        self._funcs.append((self.type(params, results), list(locals_), body))
        if export is not None:
            self.export(export, 0, index)
        return index

    def table(self, elem=FUNCREF, minimum=0, maximum=None) -> int:
        self._tables.append(bytes([elem]) + limits(minimum, maximum))
        return self._imported[1] + len(self._tables) - 1

    def memory(self, minimum=0, maximum=None) -> int:
        self._memories.append(limits(minimum, maximum))
        return self._imported[2] + len(self._memories) - 1

    def global_(self, valtype=I32, mutable=False, init: bytes = b"\x41\x00\x0b") -> int:
        """`init` is the constant expression including its `end`."""
        self._globals.append(bytes([valtype, int(mutable)]) + init)
        return self._imported[3] + len(self._globals) - 1

    def export(self, export_name: str, kind: int, index: int) -> None:
        self._exports.append(name(export_name) + bytes([kind]) + uleb(index))

    def elem_active(self, offset: int, funcs, table: int = 0) -> int:
        if table == 0:
            seg = b"\x00" + i32_const(offset) + END + vec(uleb(f) for f in funcs)
        else:
            seg = b"\x02" + uleb(table) + i32_const(offset) + END + b"\x00" + vec(uleb(f) for f in funcs)
        self._elems.append(seg)
        return len(self._elems) - 1

    def elem_raw(self, segment: bytes) -> int:
        """An element segment already encoded (flags and all)."""
        self._elems.append(segment)
        return len(self._elems) - 1

    def data_active(self, offset: int, payload: bytes, memory: int = 0) -> int:
        head = b"\x00" if memory == 0 else b"\x02" + uleb(memory)
        self._datas.append(head + i32_const(offset) + END + uleb(len(payload)) + payload)
        return len(self._datas) - 1

    def data_passive(self, payload: bytes) -> int:
        self._datas.append(b"\x01" + uleb(len(payload)) + payload)
        return len(self._datas) - 1

    def custom(self, section_name: str | bytes, payload: bytes, after: int = 11) -> None:
        """A custom section placed after the section with id `after` (0: before all others)."""
        self._customs.append((after, custom_section(section_name, payload)))

    @property
    def num_funcs(self) -> int:
        return self._imported[0] + len(self._funcs)

    def build(self) -> bytes:
        parts: list[tuple[int, bytes]] = []  # (section id, bytes) in order
        if self.types:
            parts.append((1, section(1, vec(functype(p, r) for p, r in self.types))))
        if self._imports:
            parts.append((2, section(2, vec(self._imports))))
        if self._funcs:
            parts.append((3, section(3, vec(uleb(t) for t, _, _ in self._funcs))))
        if self._tables:
            parts.append((4, section(4, vec(self._tables))))
        if self._memories:
            parts.append((5, section(5, vec(self._memories))))
        if self._globals:
            parts.append((6, section(6, vec(self._globals))))
        if self._exports:
            parts.append((7, section(7, vec(self._exports))))
        if self.start is not None:
            parts.append((8, section(8, uleb(self.start))))
        if self._elems:
            parts.append((9, section(9, vec(self._elems))))
        if self.data_count:
            parts.append((12, section(12, uleb(len(self._datas)))))
        if self._funcs:
            parts.append((10, section(10, vec(code_entry(loc, body) for _, loc, body in self._funcs))))
        if self._datas:
            parts.append((11, section(11, vec(self._datas))))
        out = bytearray(b"\0asm\x01\0\0\0")
        for after, custom in self._customs:
            if after == 0:
                out += custom
        for sid, data in parts:
            out += data
            for after, custom in self._customs:
                if after == sid:
                    out += custom
        return bytes(out)


# ---------------------------------------------------------------------------------------------
# Large realistic modules
# ---------------------------------------------------------------------------------------------

@dataclass
class GenStats:
    functions: int  # defined functions
    instructions: int  # instructions in all bodies, each `end` included
    size: int  # bytes of the module


# The signatures generated functions use (index = type index, as the builder adds them first).
SIGNATURES = (
    ((), ()),
    ((I32,), (I32,)),
    ((I32, I32), (I32,)),
    ((I64, I64), (I64,)),
    ((I32, F64), (F64,)),
    ((I32, I32, I32), ()),
    ((I32,), (I32, I32)),
    ((F64, F64), (F64,)),
)
_WEIGHTS = (2, 4, 5, 3, 2, 2, 1, 1)
TABLE_SIZE = 32
FUEL = 200_000
_G_FUEL, _G_I32, _G_I64, _G_F64, _G_CONST = 0, 1, 2, 3, 4
_DATA = bytes(range(256))


class _Body:
    """Builds one function body, tracking which locals have which type and counting instructions."""

    def __init__(self, gen: "_Generator", index: int, sig: int):
        self.g = gen
        self.rng = gen.rng
        self.index = index  # function index (imports included)
        params, self.results = SIGNATURES[sig]
        extra = self.rng.randint(0, 3)
        # Declared locals: general i32s, two loop counters, an i64, an f64, sometimes more i32s.
        self.local_runs = [(2, I32), (2, I32), (1, I64), (1, F64)] + ([(extra, I32)] if extra else [])
        n = len(params)
        self.locals = {I32: [i for i, t in enumerate(params) if t == I32] + [n, n + 1],
                       I64: [i for i, t in enumerate(params) if t == I64] + [n + 4],
                       F64: [i for i, t in enumerate(params) if t == F64] + [n + 5]}
        self.locals[I32] += list(range(n + 6, n + 6 + extra))
        self.counters = [n + 2, n + 3]
        self.out = bytearray()
        self.count = 0

    def emit(self, *pieces: bytes) -> None:
        for piece in pieces:
            self.out += piece
            self.count += 1

    # --- expressions: leave one value of type t ---
    def expr(self, t: int, depth: int) -> None:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.25:
            if rng.random() < 0.7:
                self.emit(local_get(rng.choice(self.locals[t])))
            elif t == I32:
                self.emit(i32_const(rng.randint(-1000, 100000)))
            elif t == I64:
                self.emit(i64_const(rng.randint(-(2**40), 2**40)))
            else:
                self.emit(f64_const(rng.uniform(-100.0, 100.0)))
            return
        getattr(self, f"_expr_{t:x}")(depth - 1)

    def _address(self, depth: int, align: int) -> None:
        self.expr(I32, depth)
        self.emit(i32_const(0xFFF0 & ~((1 << align) - 1)), OP["i32.and"])

    def _call_returning(self, t: int, depth: int) -> bool:
        callees = self.g.by_result.get(t)
        if not callees or self.rng.random() < 0.5:
            return False
        f, sig = callees[self.rng.randrange(len(callees))]
        if f >= self.index:
            return False
        for p in SIGNATURES[sig][0]:
            self.expr(p, depth)
        self.emit(call(f))
        return True

    def _call_indirect_returning(self, t: int, depth: int) -> bool:
        slots = [k for k in self.g.slots_by_result.get(t, ()) if self.g.table[k] < self.index]
        if not slots:
            return False
        k = self.rng.choice(slots)
        sig = self.g.table_sig[k]
        for p in SIGNATURES[sig][0]:
            self.expr(p, depth)
        self.emit(i32_const(k), call_indirect(sig))
        return True

    def _expr_7f(self, depth: int) -> None:  # i32
        rng = self.rng
        choice = rng.randrange(12)
        if choice < 4:
            self.expr(I32, depth)
            self.expr(I32, depth)
            self.emit(OP[rng.choice(("i32.add", "i32.sub", "i32.mul", "i32.and", "i32.or", "i32.xor",
                                     "i32.shl", "i32.shr_u", "i32.rotl"))])
        elif choice == 4:
            self.expr(I32, depth)
            self.emit(OP[rng.choice(("i32.eqz", "i32.clz", "i32.popcnt", "i32.extend8_s"))])
        elif choice == 5:
            self.expr(I64, depth)
            self.expr(I64, depth)
            self.emit(OP[rng.choice(("i64.lt_s", "i64.eq", "i64.ne", "i64.gt_u"))])
        elif choice == 6:
            mnemonic = rng.choice(("i32.load", "i32.load8_u", "i32.load16_s"))
            self._address(depth, _LOADS[mnemonic][1])
            self.emit(memop(mnemonic, rng.randrange(0, 8)))
        elif choice == 7:
            self.emit(global_get(rng.choice((_G_I32, _G_CONST))))
        elif choice == 8:
            if not self._call_returning(I32, depth):
                self.expr(I64, depth)
                self.emit(OP["i32.wrap_i64"])
        elif choice == 9:
            if not self._call_indirect_returning(I32, depth):
                self.expr(F64, depth)
                self.expr(F64, depth)
                self.emit(OP[rng.choice(("f64.lt", "f64.eq", "f64.gt"))])
        elif choice == 10:
            self.expr(I32, depth)
            self.expr(I32, depth)
            self.expr(I32, depth)
            self.emit(OP["select"])
        else:
            # A multi-value block: (i32 i32) -> i32.
            self.expr(I32, depth)
            self.expr(I32, depth)
            self.emit(block(("type", 2)))
            self.emit(OP[rng.choice(("i32.add", "i32.xor", "i32.lt_u"))], END)

    def _expr_7e(self, depth: int) -> None:  # i64
        rng = self.rng
        choice = rng.randrange(7)
        if choice < 3:
            self.expr(I64, depth)
            self.expr(I64, depth)
            self.emit(OP[rng.choice(("i64.add", "i64.sub", "i64.mul", "i64.and", "i64.or", "i64.xor",
                                     "i64.shl", "i64.shr_u", "i64.rotl"))])
        elif choice == 3:
            self.expr(I32, depth)
            self.emit(OP[rng.choice(("i64.extend_i32_s", "i64.extend_i32_u"))])
        elif choice == 4:
            mnemonic = rng.choice(("i64.load", "i64.load32_u"))
            self._address(depth, _LOADS[mnemonic][1])
            self.emit(memop(mnemonic, rng.randrange(0, 8)))
        elif choice == 5:
            self.emit(global_get(_G_I64))
        else:
            if not self._call_returning(I64, depth):
                self.expr(F64, depth)
                self.emit(OP["i64.reinterpret_f64"])

    def _expr_7c(self, depth: int) -> None:  # f64
        rng = self.rng
        choice = rng.randrange(7)
        if choice < 3:
            self.expr(F64, depth)
            self.expr(F64, depth)
            self.emit(OP[rng.choice(("f64.add", "f64.sub", "f64.mul", "f64.div", "f64.min", "f64.max"))])
        elif choice == 3:
            t = rng.choice((I32, I64))
            self.expr(t, depth)
            self.emit(OP["f64.convert_i32_s"] if t == I32 else OP["f64.convert_i64_s"])
        elif choice == 4:
            self._address(depth, 3)
            self.emit(memop("f64.load", rng.randrange(0, 8)))
        elif choice == 5:
            self.emit(global_get(_G_F64))
        else:
            if not self._call_returning(F64, depth):
                self.expr(F64, depth)
                self.emit(OP[rng.choice(("f64.abs", "f64.neg", "f64.floor", "f64.sqrt"))])

    # --- statements: leave the stack as they found it ---
    def stmt(self, depth: int, loops: int) -> None:
        rng = self.rng
        choice = rng.randrange(14)
        if choice < 3:
            t = rng.choice((I32, I32, I64, F64))
            self.expr(t, 2)
            self.emit(local_set(rng.choice(self.locals[t])))
        elif choice == 3:
            t, g = rng.choice(((I32, _G_I32), (I64, _G_I64), (F64, _G_F64)))
            self.expr(t, 2)
            self.emit(global_set(g))
        elif choice < 6:
            mnemonic, t = rng.choice((("i32.store", I32), ("i64.store", I64), ("f64.store", F64),
                                      ("i32.store8", I32), ("i64.store16", I64)))
            self._address(1, _LOADS[mnemonic][1])
            self.expr(t, 2)
            self.emit(memop(mnemonic, rng.randrange(0, 8)))
        elif choice == 6 and depth > 0:
            self.expr(I32, 2)
            self.emit(if_())
            self.stmts(depth - 1, loops, 1, 3)
            if rng.random() < 0.6:
                self.emit(OP["else"])
                self.stmts(depth - 1, loops, 1, 2)
            self.emit(END)
        elif choice == 7 and depth > 0:
            self.emit(block())
            self.stmts(depth - 1, loops, 1, 2)
            self.expr(I32, 1)
            self.emit(br_if(0))
            self.stmts(depth - 1, loops, 1, 2)
            self.emit(END)
        elif choice == 8 and depth > 0 and loops < len(self.counters):
            counter = self.counters[loops]
            self.emit(i32_const(rng.randint(1, 6)), local_set(counter), loop())
            self.stmts(depth - 1, loops + 1, 1, 3)
            self.emit(local_get(counter), i32_const(1), OP["i32.sub"], local_tee(counter), br_if(0), END)
        elif choice == 9 and depth > 0:
            # br_table over three nested blocks.
            self.emit(block(), block(), block())
            self.expr(I32, 1)
            self.emit(br_table([0, 1, 2], rng.randrange(3)), END)
            self.stmts(depth - 1, loops, 1, 1)
            self.emit(END)
            self.stmts(depth - 1, loops, 0, 1)
            self.emit(END)
        elif choice == 10:
            callees = [c for c in self.g.void_funcs if c[0] < self.index]
            if callees:
                f, sig = rng.choice(callees)
                for p in SIGNATURES[sig][0]:
                    self.expr(p, 1)
                self.emit(call(f))
            else:
                self.expr(I32, 1)
                self.emit(call(self.g.log_func))
        elif choice == 11:
            # A call with two results, combined.
            callees = [c for c in self.g.pair_funcs if c[0] < self.index]
            if callees:
                f, _ = rng.choice(callees)
                self.expr(I32, 1)
                self.emit(call(f), OP["i32.add"], local_set(rng.choice(self.locals[I32])))
            else:
                self.emit(OP["nop"])
        elif choice == 12:
            # Bulk memory with in-bounds constants.
            if rng.random() < 0.5:
                # dst, src, n with src + n <= 64, the passive segment's length.
                self.emit(i32_const(0x8000 + rng.randrange(0, 0x100)), i32_const(rng.randrange(0, 32)),
                          i32_const(rng.randrange(0, 33)))
                self.emit(memory_init(1))
            else:
                self.emit(i32_const(0x9000 + rng.randrange(0, 0x100)), i32_const(rng.randrange(256)),
                          i32_const(rng.randrange(0, 128)), memory_fill())
        else:
            t = rng.choice((I32, I64, F64))
            self.expr(t, 3)
            self.emit(OP["drop"])

    def stmts(self, depth: int, loops: int, lo: int, hi: int) -> None:
        for _ in range(self.rng.randint(lo, hi)):
            self.stmt(depth, loops)

    def defaults(self) -> None:
        for t in self.results:
            self.emit(i32_const(0) if t == I32 else i64_const(0) if t == I64 else f64_const(0.0))

    def build(self) -> bytes:
        # Fuel: return at once when the global call budget is spent.
        self.emit(global_get(_G_FUEL), OP["i32.eqz"], if_())
        self.defaults()
        self.emit(OP["return"], END)
        self.emit(global_get(_G_FUEL), i32_const(1), OP["i32.sub"], global_set(_G_FUEL))
        self.stmts(3, 0, 2, 7)
        for t in self.results:
            self.expr(t, 3)
        self.emit(END)
        return bytes(self.out)


class _Generator:
    def __init__(self, functions: int, seed: int):
        self.rng = random.Random(seed)
        self.n = functions
        self.by_result: dict[int, list[tuple[int, int]]] = {}
        self.void_funcs: list[tuple[int, int]] = []
        self.pair_funcs: list[tuple[int, int]] = []
        self.table: list[int] = []
        self.table_sig: list[int] = []
        self.slots_by_result: dict[int, list[int]] = {}
        self.log_func = 0

    def generate(self) -> tuple[bytes, GenStats]:
        rng = self.rng
        mb = ModuleBuilder()
        for params, results in SIGNATURES:
            mb.type(params, results)
        self.log_func = mb.import_func("env", "log", (I32,), ())
        first = mb.num_funcs
        sigs = rng.choices(range(len(SIGNATURES)), weights=_WEIGHTS, k=self.n)
        # The table holds the first TABLE_SIZE defined functions.
        size = min(TABLE_SIZE, self.n)
        self.table = [first + k for k in range(size)]
        self.table_sig = [sigs[k] for k in range(size)]
        for k in range(size):
            results = SIGNATURES[self.table_sig[k]][1]
            if len(results) == 1:
                self.slots_by_result.setdefault(results[0], []).append(k)
        mb.table(FUNCREF, size, size)
        mb.memory(1, 16)
        mb.global_(I32, True, i32_const(FUEL) + END)
        mb.global_(I32, True, i32_const(7) + END)
        mb.global_(I64, True, i64_const(1 << 40) + END)
        mb.global_(F64, True, f64_const(1.5) + END)
        mb.global_(I32, False, i32_const(0x1234) + END)
        instructions = 0
        for j, sig in enumerate(sigs):
            index = first + j
            body = _Body(self, index, sig)
            code = body.build()
            instructions += body.count
            params, results = SIGNATURES[sig]
            export = f"f{index}" if j % 100 == 0 else None
            mb.func(params, results, code, body.local_runs, export=export)
            if len(results) == 1:
                self.by_result.setdefault(results[0], []).append((index, sig))
            elif not results:
                self.void_funcs.append((index, sig))
            else:
                self.pair_funcs.append((index, sig))
        mb.export("memory", 2, 0)
        if size:
            mb.elem_active(0, self.table)
        mb.data_active(0, _DATA)
        mb.data_passive(_DATA[:64])
        mb.data_count = True
        data = mb.build()
        return data, GenStats(self.n, instructions, len(data))


def generate_module(functions: int = 20_000, seed: int = 0) -> tuple[bytes, GenStats]:
    """A deterministic, valid module of `functions` defined functions (plus one import, env.log:
    [i32] -> []), a 32-slot funcref table, one memory of 1..16 pages, five globals and two data
    segments. Every 100th function is exported as f<index>; the memory as "memory"."""
    if functions < 0:
        raise ValueError("functions must be >= 0")
    return _Generator(functions, seed).generate()
