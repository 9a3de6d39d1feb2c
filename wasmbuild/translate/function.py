"""Translate one validated wasm function into LLVM IR (llvmlite.ir).

`translate_function(llmodule, symbol, info, defined_index, code)` adds to `llmodule` a function named
`symbol` with the native signature of `abi.py`, and returns the `References` it used. The wasm
operand stack is simulated at translation time: each stack slot is an LLVM value, control frames map
to basic blocks, and values flowing into a block end or a loop header become phi nodes. Locals are
allocas that LLVM promotes to registers (a declared local that no instruction names gets none).

Stack: the prologue compares the address of a local, near the bottom of the frame, with the Runtime's
stack limit ("call stack exhausted"). LLVM's prologue has allocated the whole frame by then, and the
entry block may already have written into it, so that check alone is safe only for frames that fit in
the margin the loader leaves below the limit. A function whose frame may be larger (`frame_bound`:
16 bytes per local, parameter, value and call argument, more than `LARGE_FRAME`) is translated as
the internal `symbol.body`, and `symbol` becomes a guard that, before the body's frame exists,
checks that the bound fits above RT_STACK_FLOOR, then tail-calls the body.

Everything outside the function is reached through symbols named by `refs.py` (callees, vmctx
offsets, type ids), so the IR depends on what the function refers to only through types and
first-use order, never through indices. Traps call the runtime helper `wb_rt_trap`, which never
returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from ..contract import opcodes as ops
from ..binary.decode import FunctionCode
from ..contract.types import F32, F64, I32, I64, FuncType, GlobalType, MemoryType, TableType
from ..errors import WasmbuildError
from ..contract import abi
from ..contract.targets import TARGETS
from . import refs
from .irtypes import (F32T, F64T, FLOAT_PREDICATES, I1, I8, I16, I32T, I64T, INT_PREDICATES, LLVM_TYPES, NULL, PTR,
                      VOID, FunctionPointer, VolatileLoad, VolatileStore, absolute_symbol, field_ptr, get_function,
                      alloca_bytes, load_results, result_type, results_in_memory, store_results,
                      wasm_function_type, zero_value)
from .refs import References, scan_references
from .memory import MEMORY_DISPATCH, address64, memories_used
from .atomics import ATOMICS_DISPATCH
from .simd import SIMD_DISPATCH
from . import exceptions
from .exceptions import EH_DISPATCH
from .funcref import FUNCREF_DISPATCH
from .tailcall import TAIL_CALL_DISPATCH, TAIL_CC, TAIL_CALL_OPS, add_entry


class UnsupportedError(WasmbuildError):
    """The module uses something this version of wasmbuild cannot compile yet."""

    phase = "unsupported"


@dataclass(frozen=True)
class TranslateOptions:
    """What of the compile settings changes how a function is translated (`compile.translate_options`)."""

    # Linear memory is little-endian; on a big-endian target every multi-byte access swaps.
    big_endian: bool = False
    # Guard-page memories (abi.BOUNDS_GUARD): accesses to 32-bit memories check no bounds, an
    # access out of bounds faults. Else, and for 64-bit memories always, each access compares its
    # end with the memory's size.
    guard_memory: bool = False
    # Whether the target guarantees tail calls (targets.Target.tail_calls): each function's tail
    # entry is then tailcc, and return_call* become jumps to tail entries; else return_call* are
    # refused. `return_registers` as in targets.Target: which result lists go through memory.
    tail_calls: bool = True
    return_registers: tuple[int, int, int] | None = TARGETS["x86_64"].return_registers
    target_name: str = "x86_64"  # for messages


class ModuleInfo:
    """What translating a function needs to know about its module (types of everything) and the
    `TranslateOptions` of the build."""

    def __init__(self, types: list[FuncType], func_types: list[int], globals_: list[GlobalType],
                 tables: list[TableType], num_imported_funcs: int, memories: list[MemoryType],
                 options: TranslateOptions = TranslateOptions(), tags: list[int] = ()):
        self.types = types
        self.func_types = func_types
        self.globals = globals_
        self.tables = tables
        self.num_imported_funcs = num_imported_funcs
        self.memories = memories
        self.has_memory = bool(memories)
        self.options = options
        self.tags = tags  # the type index of each tag (exception handling)

    @classmethod
    def from_context(cls, ctx, options: TranslateOptions = TranslateOptions()) -> "ModuleInfo":
        return cls(ctx.types, ctx.funcs, ctx.globals, ctx.tables, ctx.num_imported_funcs, ctx.memories, options,
                   ctx.tags)

    def guarded(self, memory: int) -> bool:
        """Whether accesses to memory `memory` rely on guard pages (32-bit memories in a guard
        build) rather than explicit checks (64-bit memories always check)."""
        return self.options.guard_memory and self.memories[memory].addr == I32

    def func_type(self, func_index: int) -> FuncType:
        return self.types[self.func_types[func_index]]


class _Frame:
    __slots__ = ("op", "params", "results", "height", "end", "header", "header_phis", "end_phis",
                 "end_preds", "else_block", "else_params", "eh")

    def __init__(self, op, params, results, height, end):
        self.op = op  # BLOCK, LOOP, IF, ELSE (an `if` after its `else`), or None for the function body
        self.params = params
        self.results = results
        self.height = height
        self.end = end
        self.header = None
        self.header_phis = None
        self.end_phis = None
        self.end_preds = 0
        self.else_block = None
        self.else_params = None
        self.eh = None  # exceptions.Region of a try_table or try

    def label_types(self):
        return self.params if self.op == ops.LOOP else self.results


_MEM_ACCESS = {
    # op: (bytes accessed, LLVM type in memory, wasm result type, sign-extend?)
    ops.I32_LOAD: (4, I32T, I32, None), ops.I64_LOAD: (8, I64T, I64, None), ops.F32_LOAD: (4, F32T, F32, None),
    ops.F64_LOAD: (8, F64T, F64, None), ops.I32_LOAD8_S: (1, I8, I32, True), ops.I32_LOAD8_U: (1, I8, I32, False),
    ops.I32_LOAD16_S: (2, I16, I32, True), ops.I32_LOAD16_U: (2, I16, I32, False),
    ops.I64_LOAD8_S: (1, I8, I64, True), ops.I64_LOAD8_U: (1, I8, I64, False),
    ops.I64_LOAD16_S: (2, I16, I64, True), ops.I64_LOAD16_U: (2, I16, I64, False),
    ops.I64_LOAD32_S: (4, I32T, I64, True), ops.I64_LOAD32_U: (4, I32T, I64, False),
}
_MEM_STORE = {
    # op: (bytes accessed, LLVM type in memory)
    ops.I32_STORE: (4, I32T), ops.I64_STORE: (8, I64T), ops.F32_STORE: (4, F32T), ops.F64_STORE: (8, F64T),
    ops.I32_STORE8: (1, I8), ops.I32_STORE16: (2, I16),
    ops.I64_STORE8: (1, I8), ops.I64_STORE16: (2, I16), ops.I64_STORE32: (4, I32T),
}

_INT_TYPES, _FLOAT_TYPES = ("i32", "i64"), ("f32", "f64")
_ICMP = ops.by_opcode(_INT_TYPES, INT_PREDICATES)  # op: (predicate, signed?)
_FCMP = ops.by_opcode(_FLOAT_TYPES, FLOAT_PREDICATES)  # op: (predicate, ordered?)
_INT_UNARY = ops.by_opcode(_INT_TYPES, {"clz": "llvm.ctlz", "ctz": "llvm.cttz", "popcnt": "llvm.ctpop"})
# op: operation, for the integer and float arithmetic that one handler each translates
_INT_BINARY = ops.by_opcode(_INT_TYPES, {operation: operation for operation in (
    "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl",
    "rotr")})
_FLOAT_BINARY = ops.by_opcode(_FLOAT_TYPES, {operation: operation for operation in (
    "add", "sub", "mul", "div", "min", "max", "copysign")})
_FLOAT_UNARY_INTRINSIC = ops.by_opcode(_FLOAT_TYPES, {
    "abs": "llvm.fabs", "ceil": "llvm.ceil", "floor": "llvm.floor", "trunc": "llvm.trunc",
    "nearest": "llvm.roundeven", "sqrt": "llvm.sqrt"})
_FLOAT_BINARY_INTRINSIC = {"min": "llvm.minimum", "max": "llvm.maximum", "copysign": "llvm.copysign"}

# Ranges (exclusive lower, exclusive upper) of floats that truncate to the integer type without trapping.
_TRUNC_LIMITS = {
    (I32, True): (-2147483649.0, 2147483648.0),
    (I32, False): (-1.0, 4294967296.0),
    (I64, True): (-9223372036854777856.0, 9223372036854775808.0),
    (I64, False): (-1.0, 18446744073709551616.0),
}
_TRUNC_OPS = {
    # op: (integer type, float type, signed?)
    ops.I32_TRUNC_F32_S: (I32, F32, True), ops.I32_TRUNC_F32_U: (I32, F32, False),
    ops.I32_TRUNC_F64_S: (I32, F64, True), ops.I32_TRUNC_F64_U: (I32, F64, False),
    ops.I64_TRUNC_F32_S: (I64, F32, True), ops.I64_TRUNC_F32_U: (I64, F32, False),
    ops.I64_TRUNC_F64_S: (I64, F64, True), ops.I64_TRUNC_F64_U: (I64, F64, False),
}
_TRUNC_SAT_OPS = {
    ops.I32_TRUNC_SAT_F32_S: (I32, F32, True), ops.I32_TRUNC_SAT_F32_U: (I32, F32, False),
    ops.I32_TRUNC_SAT_F64_S: (I32, F64, True), ops.I32_TRUNC_SAT_F64_U: (I32, F64, False),
    ops.I64_TRUNC_SAT_F32_S: (I64, F32, True), ops.I64_TRUNC_SAT_F32_U: (I64, F32, False),
    ops.I64_TRUNC_SAT_F64_S: (I64, F64, True), ops.I64_TRUNC_SAT_F64_U: (I64, F64, False),
}
_CONVERT_OPS = {
    # op: (float type, signed?)
    ops.F32_CONVERT_I32_S: (F32, True), ops.F32_CONVERT_I32_U: (F32, False),
    ops.F32_CONVERT_I64_S: (F32, True), ops.F32_CONVERT_I64_U: (F32, False),
    ops.F64_CONVERT_I32_S: (F64, True), ops.F64_CONVERT_I32_U: (F64, False),
    ops.F64_CONVERT_I64_S: (F64, True), ops.F64_CONVERT_I64_U: (F64, False),
}
_REINTERPRET_OPS = {ops.I32_REINTERPRET_F32: I32T, ops.I64_REINTERPRET_F64: I64T,
                    ops.F32_REINTERPRET_I32: F32T, ops.F64_REINTERPRET_I64: F64T}  # op: result type
_SIGN_EXTEND_OPS = {ops.I32_EXTEND8_S: I8, ops.I32_EXTEND16_S: I16, ops.I64_EXTEND8_S: I8,
                    ops.I64_EXTEND16_S: I16, ops.I64_EXTEND32_S: I32T}  # op: the narrow type extended


_LOCAL_OPS = (ops.LOCAL_GET, ops.LOCAL_SET, ops.LOCAL_TEE)
# Skipping unreachable code: what opens, continues and closes a nested block.
_OPENERS = frozenset((ops.BLOCK, ops.LOOP, ops.IF, ops.TRY_TABLE, ops.TRY))
_CONTINUERS = frozenset((ops.ELSE, ops.CATCH, ops.CATCH_ALL))
_CLOSERS = frozenset((ops.END, ops.DELEGATE))
_TAIL_CALLS = exceptions.TAIL_CALLS


def _suffix(t: ir.Type) -> str:
    return {I32T: "i32", I64T: "i64", F32T: "f32", F64T: "f64"}[t]


# Frames whose bound (`frame_bound`) is larger get a guard that checks the bound before the frame is
# allocated. Smaller ones are checked in their prologue only: they may reach this far below the stack
# limit before the check traps, which the loader's margin below the limit (256 KiB) covers, with room
# left for the trap path and for the Python code of host functions.
LARGE_FRAME = 64 << 10
_SLOT = 16  # the widest wasm value: what one local, value or call argument can take in a frame
_FRAME_OVERHEAD = 1024  # saved registers, return address, alignment


def translate_function(llmodule: ir.Module, symbol: str, info: ModuleInfo, defined_index: int,
                       code: FunctionCode) -> References:
    func_index = info.num_imported_funcs + defined_index
    references = scan_references(code.instrs, info.num_imported_funcs)
    # A function that makes tail calls is compiled with tailcc (a tail call is a jump only between
    # tailcc functions) as its tail entry, and its C entry calls that; any other function is
    # compiled with the C convention, and its tail entry calls it (tailcall.py).
    tail = info.options.tail_calls and any(op in TAIL_CALL_OPS for op, _imm, _offset in code.instrs)
    translator = _Translator(llmodule, symbol, info, info.func_type(func_index), code, references,
                             TAIL_CC if tail else "")
    translator.run()
    compiled = abi.tail_symbol(symbol) if tail else symbol
    bound = frame_bound(translator.fn)
    if bound > LARGE_FRAME:
        translator.guard_frame(compiled, bound)
    else:
        _rename(llmodule, translator.fn, compiled)
    # (Targets without tail calls get a tail entry of the C convention that nothing calls, so that
    # an image's symbols are the same on every target.)
    add_entry(llmodule, translator.fn, symbol if tail else abi.tail_symbol(symbol),
              "" if tail or not info.options.tail_calls else TAIL_CC)
    return references


def frame_bound(fn: ir.Function) -> int:
    """An upper bound of the native stack frame of `fn`: a slot for each alloca (locals and
    parameters), for each value an instruction computes (it may be spilled: at -O0 every value that
    lives across a block or a call gets its own slot, and at -O2 LICM can keep any number of them live
    at once) and for each argument of the largest call (the outgoing argument area), plus fixed
    overhead. What LLVM adds on top (unrolled or vectorized copies) is bounded by its thresholds and
    covered by the margin below the stack limit."""
    values = len(fn.args)
    call_args = 0
    for block in fn.blocks:
        for instr in block.instructions:
            if not isinstance(instr.type, ir.VoidType):
                values += 1
            if isinstance(instr, ir.AllocaInstr) and isinstance(instr.allocated_type, ir.ArrayType):
                values += -(-instr.allocated_type.count // _SLOT)  # a buffer (a handler record)
            if isinstance(instr, ir.CallInstr):
                call_args = max(call_args, len(instr.args))
    return _FRAME_OVERHEAD + _SLOT * (values + call_args)


def _rename(llmodule: ir.Module, fn: ir.Function, name: str) -> None:
    """Give `fn` the name `name`, which must be unused (llvmlite keys `globals` by name: re-key it in
    place, keeping the order, so the IR reads as if `fn` had been made under `name`)."""
    old = fn.name
    fn.name = name
    entries = [(name if key == old else key, value) for key, value in llmodule.globals.items()]
    llmodule.globals.clear()
    llmodule.globals.update(entries)


class _Translator:
    def __init__(self, llmodule: ir.Module, symbol: str, info: ModuleInfo, ftype: FuncType,
                 code: FunctionCode, references: References, cc: str = ""):
        self.m = llmodule
        self.info = info
        self.ftype = ftype
        self.code = code
        self.refs = references
        self.regs = info.options.return_registers
        # Named `symbol` or `symbol.body` once its frame bound is known (translate_function).
        fn = get_function(llmodule, llmodule.get_unique_name(symbol + ".body"), wasm_function_type(ftype, self.regs))
        fn.attributes.add("nounwind")
        self.cc = fn.calling_convention = cc  # "" (C) or tailcc, see translate_function
        self.fn = fn
        self.vmctx = fn.args[0]
        # Where this function's results go when they do not fit in registers (the caller's area).
        self.results_area = fn.args[1] if results_in_memory(ftype.results, self.regs) else None
        self.call_area = None  # the results area of the calls it makes (`call_results_area`)
        self.entry = fn.append_basic_block("entry")
        self.b = ir.IRBuilder(self.entry)
        self.trap_blocks: dict[int, ir.Block] = {}
        self.stack: list = []
        self.frames: list[_Frame] = []
        self.float_literals: dict[int, tuple] = {}  # id -> (constant, bits) of f32/f64.const values
        self.tbaa_tags: dict[str, object] = {}
        self.address_bases: dict = {}  # (block, i32 address) -> its native address (`address`)

    # --- helpers ---------------------------------------------------------------------------
    def sym(self, kind: str, index: int) -> ir.Constant:
        return absolute_symbol(self.m, self.refs.name(kind, index))

    def tbaa(self, kind: str):
        """TBAA access tag for `kind`: "heap" (linear memory), "vm" (vmctx and the runtime's
        structs), "global" (global cells), "table" (table elements). Accesses of different kinds
        never alias, which lets LLVM keep the memory size and other vmctx fields in registers
        across stores to linear memory."""
        tag = self.tbaa_tags.get(kind)
        if tag is None:
            if not self.tbaa_tags:
                self.tbaa_root = self.m.add_metadata(["wasmbuild tbaa"])
            node = self.m.add_metadata([kind, self.tbaa_root, ir.Constant(I64T, 0)])
            tag = self.tbaa_tags[kind] = self.m.add_metadata([node, node, ir.Constant(I64T, 0)])
        return tag

    def vmfield(self, base, offset, typ: ir.Type, name: str = ""):
        """Load a field of a vmctx, Runtime, MemoryDef, TableDef or FuncRef."""
        value = self.b.load(field_ptr(self.b, base, offset), typ=typ, name=name)
        value.set_metadata("tbaa", self.tbaa("vm"))
        return value

    def tagged(self, instr, kind: str):
        instr.set_metadata("tbaa", self.tbaa(kind))
        return instr

    def heap_load(self, ptr, typ: ir.Type, memory: int = 0):
        """Load `typ` from linear memory `memory` at native address `ptr` (from `address`). With
        guard-page memories the access itself is the bounds check, so it is volatile: LLVM must
        neither drop it when its value is unused nor narrow it to the bytes that are used, nor move
        it across another access (the trap must come where, and only where, wasm has it)."""
        if self.info.guarded(memory):
            instr = VolatileLoad(self.b.block, ptr, typ=typ)
            instr.align = 1
            self.b._insert(instr)
        else:
            instr = self.b.load(ptr, typ=typ, align=1)
        return self.tagged(instr, "heap")

    def heap_store(self, value, ptr, memory: int = 0) -> None:
        """Store `value` to linear memory `memory` at native address `ptr`; volatile as `heap_load` is."""
        if self.info.guarded(memory):
            instr = VolatileStore(self.b.block, value, ptr)
            instr.align = 1
            self.b._insert(instr)
        else:
            instr = self.b.store(value, ptr, align=1)
        self.tagged(instr, "heap")

    def intrinsic(self, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
        return get_function(self.m, name, ir.FunctionType(ret, args))

    def trap_block(self, code: int) -> ir.Block:
        block = self.trap_blocks.get(code)
        if block is None:
            block = self.fn.append_basic_block(f"trap{code}")
            tb = ir.IRBuilder(block)
            trap = get_function(self.m, abi.SYM_TRAP, ir.FunctionType(VOID, [PTR, I32T]))
            trap.attributes.add("noreturn")
            trap.attributes.add("nounwind")
            tb.call(trap, [self.vmctx, ir.Constant(I32T, code)])
            tb.unreachable()
            self.trap_blocks[code] = block
        return block

    def trap_if(self, cond, code: int, detail=None) -> None:
        """Trap with `code` when `cond` (i1) holds; continue in a new block otherwise. `detail`
        (an i64, such as the table index) goes into the trap message."""
        cont = self.fn.append_basic_block()
        if detail is None:
            target = self.trap_block(code)
        else:
            target = self.fn.append_basic_block(f"trap{code}")
            tb = ir.IRBuilder(target)
            trap = get_function(self.m, abi.SYM_TRAP_DETAIL, ir.FunctionType(VOID, [PTR, I32T, I64T]))
            trap.attributes.add("noreturn")
            trap.attributes.add("nounwind")
            tb.call(trap, [self.vmctx, ir.Constant(I32T, code), detail])
            tb.unreachable()
        br = self.b.cbranch(cond, target, cont)
        br.set_weights([1, 1 << 20])
        self.b.position_at_end(cont)

    def pop(self):
        return self.stack.pop()

    def popn(self, n: int) -> list:
        if n == 0:
            return []
        values = self.stack[-n:]
        del self.stack[-n:]
        return values

    def push(self, v) -> None:
        self.stack.append(v)

    def const_i32(self, v: int) -> ir.Constant:
        return ir.Constant(I32T, v & 0xFFFFFFFF)

    def const_i64(self, v: int) -> ir.Constant:
        return ir.Constant(I64T, v & 0xFFFFFFFFFFFFFFFF)

    # --- function ----------------------------------------------------------------------------
    def run(self) -> None:
        b = self.b
        ftype = self.ftype
        # With a try region, a landing must see the locals as the body left them: those that a
        # region's body writes stay in memory and every access to them is volatile
        # (translate/exceptions.py).
        self.has_regions = exceptions.uses_exceptions(self.code.instrs)
        self.volatile_locals = exceptions.locals_written_in_regions(self.code.instrs) if self.has_regions \
            else frozenset()
        # Locals: params first, then declared locals, all zero-initialised allocas (none for a
        # declared local that no instruction names: it cannot be observed).
        self.locals = []
        self.local_types = []
        first = 1 if self.results_area is None else 2  # after the vmctx (and the results area)
        for i, t in enumerate(ftype.params):
            slot = b.alloca(LLVM_TYPES[t])
            self.local_store(self.fn.args[first + i], slot, i)
            self.locals.append(slot)
            self.local_types.append(LLVM_TYPES[t])
        named = {imm for op, imm, _offset in self.code.instrs if op in _LOCAL_OPS}
        for n, t in self.code.locals:
            ll = LLVM_TYPES[t]
            zero = zero_value(t)
            for _ in range(n):
                slot = None
                if len(self.locals) in named:
                    slot = b.alloca(ll)
                    self.local_store(zero, slot, len(self.locals))
                self.locals.append(slot)
                self.local_types.append(ll)
        # Stack check: the address of a local stands for the stack pointer.
        marker = b.alloca(I8)
        runtime = self.vmfield(self.vmctx, abi.VM_RUNTIME, PTR)
        limit = self.vmfield(runtime, abi.RT_STACK_LIMIT, I64T)
        self.trap_if(b.icmp_unsigned("<", b.ptrtoint(marker, I64T), limit), abi.TRAP_STACK_EXHAUSTED)
        if self.info.has_memory:
            # A 32-bit memory never moves (the loader reserves its maximum), so its base can be
            # loaded once; its size changes with memory.grow and is loaded at each access. A
            # 64-bit memory may move when it grows: its base is loaded at each access too.
            self.memdefs, self.membases = {}, {}
            for index in memories_used(self.code.instrs):
                name = "memdef" if index == 0 else f"memdef{index}"
                memdef = self.memdefs[index] = self.vmfield(self.vmctx, abi.vm_memory(index), PTR, name)
                if self.info.memories[index].addr == I32:
                    self.membases[index] = self.vmfield(memdef, abi.MEM_BASE, PTR, name.replace("def", "base"))
        body_end = self.fn.append_basic_block("return")
        self.frames.append(_Frame(None, (), ftype.results, 0, body_end))
        self.dead = False
        self.dead_depth = 0
        dispatch = self.dispatch
        for op, imm, _offset in self.code.instrs:
            if self.dead:
                if op in _OPENERS:
                    self.dead_depth += 1
                    continue
                if op in _CLOSERS:
                    if self.dead_depth:
                        self.dead_depth -= 1
                        continue
                elif op in _CONTINUERS:
                    if self.dead_depth:
                        continue
                else:
                    continue
            handler = dispatch.get(op)
            if op >= ops.FD and self.info.options.big_endian:
                what = "atomic instruction" if op >= ops.FE else "SIMD instruction"
                why = "byte-swapped read-modify-write" if op >= ops.FE else "v128 lane order"
                raise UnsupportedError(f"{what} {ops.name(op)} is not supported on big-endian "
                                       f"targets yet ({why})", offset=_offset)
            if handler is None:
                raise UnsupportedError(f"instruction {ops.name(op)} is not supported yet", offset=_offset)
            if op in _TAIL_CALLS and self.has_regions:
                exceptions.leave_regions(self, 0)  # the callee replaces this frame and its regions
            handler(self, op, imm)

    def guard_frame(self, symbol: str, bound: int) -> None:
        """Make the translated function the internal `symbol.body` and add `symbol`, which traps
        ("call stack exhausted") unless `bound` bytes of stack fit above RT_STACK_FLOOR, and else
        tail-calls the body. The guard's own frame is a few words, so it is checked before the
        body's frame exists; the body's prologue still checks the stack limit."""
        body = self.fn
        body.linkage = "internal"
        body.attributes.add("noinline")
        guard = self.fn = get_function(self.m, symbol, body.function_type)
        guard.attributes.add("nounwind")
        guard.calling_convention = self.cc
        self.vmctx = guard.args[0]
        self.trap_blocks = {}
        b = self.b = ir.IRBuilder(guard.append_basic_block("entry"))
        marker = b.alloca(I8)
        runtime = self.vmfield(self.vmctx, abi.VM_RUNTIME, PTR)
        floor = self.vmfield(runtime, abi.RT_STACK_FLOOR, I64T)
        # here - bound < floor, without going below 0 (floor is 0 when the loader cannot tell)
        need = b.add(floor, ir.Constant(I64T, bound))
        self.trap_if(b.icmp_unsigned("<", b.ptrtoint(marker, I64T), need), abi.TRAP_STACK_EXHAUSTED)
        result = self.b.call(body, guard.args, tail=True)
        if isinstance(result.type, ir.VoidType):
            self.b.ret_void()
        else:
            self.b.ret(result)

    def emit_return(self, values) -> None:
        results = self.ftype.results
        if self.results_area is not None:
            store_results(self.b, self.results_area, values)
            self.b.ret_void()
        elif not results:
            self.b.ret_void()
        elif len(results) == 1:
            self.b.ret(values[0])
        else:
            agg = ir.Constant(result_type(results), ir.Undefined)
            for i, v in enumerate(values):
                agg = self.b.insert_value(agg, v, i)
            self.b.ret(agg)

    # --- control -------------------------------------------------------------------------------
    def block_signature(self, bt) -> tuple[tuple, tuple]:
        if bt is None:
            return (), ()
        if type(bt) is not tuple:  # a value type (a RefType is a tuple of its own type)
            return (), (bt,)
        ft = self.info.types[bt[1]]
        return ft.params, ft.results

    def set_dead(self) -> None:
        frame = self.frames[-1]
        del self.stack[frame.height:]
        self.dead = True
        self.dead_depth = 0

    def add_incoming(self, frame: _Frame, values) -> None:
        """Record the current block as a predecessor of `frame`'s end with `values`."""
        block = self.b.block
        if frame.end_phis is None:
            pb = ir.IRBuilder(frame.end)
            frame.end_phis = [pb.phi(LLVM_TYPES[t]) for t in frame.results]
        for phi, v in zip(frame.end_phis, values):
            phi.add_incoming(v, block)
        frame.end_preds += 1

    def branch_to(self, depth: int) -> None:
        """Branch (unconditionally) from the current block to label `depth`, passing stack values."""
        frame = self.frames[-1 - depth]
        types = frame.label_types()
        values = self.stack[len(self.stack) - len(types):] if types else []
        if self.has_regions:
            exceptions.leave_regions(self, len(self.frames) - 1 - depth)
        if frame.op is None:
            self.emit_return(values)
        elif frame.op == ops.LOOP:
            block = self.b.block
            for phi, v in zip(frame.header_phis, values):
                phi.add_incoming(v, block)
            self.b.branch(frame.header)
        else:
            self.add_incoming(frame, values)
            self.b.branch(frame.end)

    def op_block(self, op, imm) -> None:
        params, results = self.block_signature(imm)
        height = len(self.stack) - len(params)
        end = self.fn.append_basic_block()
        frame = _Frame(op, params, results, height, end)
        if op == ops.LOOP:
            header = self.fn.append_basic_block()
            entry_values = self.popn(len(params))
            pred = self.b.block
            self.b.branch(header)
            self.b.position_at_end(header)
            frame.header = header
            frame.header_phis = []
            for t, v in zip(params, entry_values):
                phi = self.b.phi(LLVM_TYPES[t])
                phi.add_incoming(v, pred)
                frame.header_phis.append(phi)
                self.push(phi)
        elif op == ops.IF:
            cond = self.pop()
            height -= 1
            frame.height = height
            then = self.fn.append_basic_block()
            frame.else_block = self.fn.append_basic_block()
            frame.else_params = self.stack[len(self.stack) - len(params):] if params else []
            self.b.cbranch(self.b.icmp_unsigned("!=", cond, self.const_i32(0)), then, frame.else_block)
            self.b.position_at_end(then)
        self.frames.append(frame)

    def op_else(self, op, imm) -> None:
        frame = self.frames[-1]
        if not self.dead:
            self.add_incoming(frame, self.stack[len(self.stack) - len(frame.results):] if frame.results else [])
            self.b.branch(frame.end)
        del self.stack[frame.height:]
        self.dead = False
        self.b.position_at_end(frame.else_block)
        frame.else_block = None
        frame.op = ops.ELSE
        self.stack.extend(frame.else_params)

    def op_end(self, op, imm) -> None:
        frame = self.frames.pop()
        if frame.op is None:
            if not self.dead:
                self.emit_return(self.stack[len(self.stack) - len(frame.results):])
            self.b.position_at_end(frame.end)
            self.b.unreachable()
            return
        if frame.eh is not None:
            exceptions.end_region(self, frame)
        if not self.dead:
            self.add_incoming(frame, self.stack[len(self.stack) - len(frame.results):] if frame.results else [])
            self.b.branch(frame.end)
        if frame.else_block is not None:
            # `if` without `else`: the false edge passes the parameters through as results.
            self.b.position_at_end(frame.else_block)
            self.add_incoming(frame, frame.else_params)
            self.b.branch(frame.end)
        del self.stack[frame.height:]
        self.b.position_at_end(frame.end)
        if frame.end_preds:
            self.dead = False
            self.stack.extend(frame.end_phis)
        else:
            self.b.unreachable()
            self.dead = False
            self.set_dead()

    def op_br(self, op, depth) -> None:
        self.branch_to(depth)
        self.set_dead()

    def op_br_if(self, op, depth) -> None:
        cond = self.pop()
        cont = self.fn.append_basic_block()
        taken = self.fn.append_basic_block()
        self.b.cbranch(self.b.icmp_unsigned("!=", cond, self.const_i32(0)), taken, cont)
        self.b.position_at_end(taken)
        self.branch_to(depth)
        self.b.position_at_end(cont)

    def op_br_table(self, op, imm) -> None:
        labels, default = imm
        index = self.pop()
        # One small block per distinct label, so each target sees one edge per block.
        via: dict[int, ir.Block] = {}
        current = self.b.block
        for depth in list(labels) + [default]:
            if depth not in via:
                block = self.fn.append_basic_block()
                self.b.position_at_end(block)
                self.branch_to(depth)
                via[depth] = block
        self.b.position_at_end(current)
        switch = self.b.switch(index, via[default])
        for i, depth in enumerate(labels):
            if depth != default:
                switch.add_case(ir.Constant(I32T, i), via[depth])
        self.set_dead()

    def op_return(self, op, imm) -> None:
        self.branch_to(len(self.frames) - 1)
        self.set_dead()

    def op_unreachable(self, op, imm) -> None:
        self.b.branch(self.trap_block(abi.TRAP_UNREACHABLE))
        self.set_dead()

    def op_nop(self, op, imm) -> None:
        pass

    # --- calls ---------------------------------------------------------------------------------
    def emit_call(self, callee, cvmctx, ft: FuncType) -> None:
        """Call `callee` (a function, or a `FunctionPointer`) with `cvmctx` and the arguments on the stack."""
        args = self.popn(len(ft.params))
        if results_in_memory(ft.results, self.regs):
            area = self.call_results_area(ft.results)
            self.b.call(callee, [cvmctx, area] + args)
            self.stack.extend(load_results(self.b, area, ft.results))
            return
        result = self.b.call(callee, [cvmctx] + args)
        if len(ft.results) == 1:
            self.push(result)
        elif ft.results:
            for i in range(len(ft.results)):
                self.push(self.b.extract_value(result, i))

    def call_results_area(self, results: tuple[int, ...]):
        """A results area for a call of a callee with `results`: one static alloca of the entry
        block for all calls of the function (each call's results are loaded right after it), as
        large as the largest needs."""
        size = abi.VALUE_SLOT_SIZE * len(results)
        if self.call_area is None:
            eb = ir.IRBuilder(self.entry)
            eb.position_at_start(self.entry)
            self.call_area = alloca_bytes(eb, size)
        elif self.call_area.allocated_type.count < size:
            self.call_area.allocated_type = ir.ArrayType(I8, size)  # a byte buffer: only its size changes
        return self.call_area

    def direct_callee(self, index: int, tail: bool = False):
        """(callee, its vmctx, its type) of function `index`: the code symbol of a defined function,
        the code pointer of an import's slot; their tail entries if `tail`."""
        ft = self.info.func_type(index)
        if index >= self.info.num_imported_funcs:
            name = self.refs.name(refs.CALL, index)
            callee = get_function(self.m, abi.tail_symbol(name) if tail else name, wasm_function_type(ft, self.regs))
            if tail:
                callee.calling_convention = TAIL_CC
            return callee, self.vmctx, ft
        slot = field_ptr(self.b, self.vmctx, self.sym(refs.IMPORT, index))
        code = self.vmfield(slot, abi.IMP_TAIL_CODE if tail else abi.IMP_CODE, PTR)
        cvm = self.vmfield(slot, abi.IMP_VMCTX, PTR)
        return FunctionPointer(code, wasm_function_type(ft, self.regs)), cvm, ft

    def op_call(self, op, index) -> None:
        self.emit_call(*self.direct_callee(index))

    def table_def(self, index: int):
        return self.vmfield(self.vmctx, self.sym(refs.TABLE, index), PTR)

    def op_call_indirect(self, op, imm) -> None:
        self.emit_call(*self.indirect_callee(imm))

    def indirect_callee(self, imm, tail: bool = False):
        """(callee, its vmctx, its type) of the table element a call_indirect with immediate `imm`
        calls (its tail entry if `tail`): the index is popped, and the element checked (in bounds,
        not null, of the type)."""
        type_index, table_index = imm
        ft = self.info.types[type_index]
        b = self.b
        index = self.index64(self.pop())
        tdef = self.table_def(table_index)
        size = self.vmfield(tdef, abi.TAB_SIZE, I64T)
        self.trap_if(b.icmp_unsigned(">=", index, size), abi.TRAP_UNDEFINED_ELEMENT)
        elems = self.vmfield(tdef, abi.TAB_ELEMS, PTR)
        ref = self.tagged(b.load(b.gep(elems, [index], source_etype=PTR), typ=PTR), "table")
        self.trap_if(b.icmp_unsigned("==", ref, NULL), abi.TRAP_UNINITIALIZED_ELEMENT, detail=index)
        type_id = self.vmfield(ref, abi.FR_TYPE, I64T)
        expected = self.vmfield(self.vmctx, self.sym(refs.TYPE, type_index), I64T)
        self.trap_if(b.icmp_unsigned("!=", type_id, expected), abi.TRAP_INDIRECT_TYPE)
        code = self.vmfield(ref, abi.FR_TAIL_CODE if tail else abi.FR_CODE, PTR)
        cvm = self.vmfield(ref, abi.FR_VMCTX, PTR)
        return FunctionPointer(code, wasm_function_type(ft, self.regs)), cvm, ft

    # --- parametric and variables -------------------------------------------------------------
    def op_drop(self, op, imm) -> None:
        self.pop()

    def op_select(self, op, imm) -> None:
        cond = self.pop()
        b_val = self.pop()
        a_val = self.pop()
        self.push(self.b.select(self.b.icmp_unsigned("!=", cond, self.const_i32(0)), a_val, b_val))

    def local_store(self, value, slot, index: int) -> None:
        if index in self.volatile_locals:
            instr = VolatileStore(self.b.block, value, slot)
            instr.align = None
            self.b._insert(instr)
        else:
            self.b.store(value, slot)

    def op_local_get(self, op, index) -> None:
        if index in self.volatile_locals:
            instr = VolatileLoad(self.b.block, self.locals[index], typ=self.local_types[index])
            instr.align = None
            self.b._insert(instr)
            self.push(instr)
        else:
            self.push(self.b.load(self.locals[index], typ=self.local_types[index]))

    def op_local_set(self, op, index) -> None:
        self.local_store(self.pop(), self.locals[index], index)

    def op_local_tee(self, op, index) -> None:
        self.local_store(self.stack[-1], self.locals[index], index)

    def global_cell(self, index: int):
        return self.vmfield(self.vmctx, self.sym(refs.GLOBAL, index), PTR)

    def op_global_get(self, op, index) -> None:
        t = LLVM_TYPES[self.info.globals[index].valtype]
        self.push(self.tagged(self.b.load(self.global_cell(index), typ=t), "global"))

    def op_global_set(self, op, index) -> None:
        self.tagged(self.b.store(self.pop(), self.global_cell(index)), "global")

    # --- tables and references --------------------------------------------------------------
    def index64(self, index):
        """An i32 index or address zero-extended to i64 (an i64 one of a 64-bit table or memory as it is)."""
        return index if index.type == I64T else self.b.zext(index, I64T)

    def table_slot(self, table_index: int, index):
        b = self.b
        index = self.index64(index)
        tdef = self.table_def(table_index)
        size = self.vmfield(tdef, abi.TAB_SIZE, I64T)
        self.trap_if(b.icmp_unsigned(">=", index, size), abi.TRAP_TABLE_OOB)
        elems = self.vmfield(tdef, abi.TAB_ELEMS, PTR)
        return b.gep(elems, [index], source_etype=PTR)

    def op_table_get(self, op, table_index) -> None:
        slot = self.table_slot(table_index, self.pop())
        self.push(self.tagged(self.b.load(slot, typ=PTR), "table"))

    def op_table_set(self, op, table_index) -> None:
        value = self.pop()
        slot = self.table_slot(table_index, self.pop())
        self.tagged(self.b.store(value, slot), "table")

    def segment_slot(self, kind: str, index: int):
        return field_ptr(self.b, self.vmctx, self.sym(kind, index))

    def op_elem_drop(self, op, elem_index) -> None:
        self.tagged(self.b.store(ir.Constant(I64T, 0), field_ptr(self.b, self.segment_slot(refs.ELEM, elem_index),
                                                                abi.SEG_LEN)), "vm")

    def op_ref_null(self, op, imm) -> None:
        self.push(NULL)

    def op_ref_is_null(self, op, imm) -> None:
        v = self.pop()
        self.push(self.b.zext(self.b.icmp_unsigned("==", v, NULL), I32T))

    def op_ref_func(self, op, index) -> None:
        self.push(field_ptr(self.b, self.vmctx, self.sym(refs.FUNCREF, index)))

    # --- memory --------------------------------------------------------------------------------
    def address(self, addr, memarg, size: int):
        """Native address of `size` bytes at wasm address `addr + offset` of the memory the
        `memarg` names: bounds-checked, or, with guard-page memories, inside the reservation
        whatever the address (u32 + u32 offset + size < abi.GUARDED_RESERVATION)."""
        b = self.b
        _align, offset, index = memarg
        if self.info.guarded(index):
            # One `membase + zext(addr)` per address value and block, the offsets on top of it: the
            # fields of one struct share their address arithmetic, which the pipeline (with no GVN,
            # see compile.py) would not merge.
            key = (b.block, index, addr)
            base = self.address_bases.get(key)
            if base is None:
                base = self.address_bases[key] = b.gep(self.membases[index], [b.zext(addr, I64T)],
                                                       source_etype=I8)
            return b.gep(base, [ir.Constant(I64T, offset)], source_etype=I8) if offset else base
        memdef = self.memdefs[index]
        if self.info.memories[index].addr == I64:
            return address64(self, memdef, addr, offset, size)
        ea = b.zext(addr, I64T)
        if offset:
            ea = b.add(ea, ir.Constant(I64T, offset))
        mem_size = self.vmfield(memdef, abi.MEM_SIZE, I64T)
        end = b.add(ea, ir.Constant(I64T, size))
        self.trap_if(b.icmp_unsigned(">", end, mem_size), abi.TRAP_MEMORY_OOB)
        return b.gep(self.membases[index], [ea], source_etype=I8)

    def op_load(self, op, memarg) -> None:
        size, mem_type, result, signed = _MEM_ACCESS[op]
        ptr = self.address(self.pop(), memarg, size)
        if self.info.options.big_endian and size > 1:
            bits = ir.IntType(8 * size)
            value = self.b.call(self.intrinsic(f"llvm.bswap.i{8 * size}", bits, [bits]),
                                [self.heap_load(ptr, bits, memarg[2])])
            if mem_type != bits:
                value = self.b.bitcast(value, mem_type)
        else:
            value = self.heap_load(ptr, mem_type, memarg[2])
        target = LLVM_TYPES[result]
        if signed is True:
            value = self.b.sext(value, target)
        elif signed is False:
            value = self.b.zext(value, target)
        self.push(value)

    def op_store(self, op, memarg) -> None:
        size, mem_type = _MEM_STORE[op]
        value = self.pop()
        ptr = self.address(self.pop(), memarg, size)
        if self.info.options.big_endian and size > 1:
            bits = ir.IntType(8 * size)
            if value.type in (F32T, F64T):
                value = self.b.bitcast(value, bits)
            elif value.type != bits:
                value = self.b.trunc(value, bits)
            value = self.b.call(self.intrinsic(f"llvm.bswap.i{8 * size}", bits, [bits]), [value])
        elif value.type != mem_type:
            value = self.b.trunc(value, mem_type)
        self.heap_store(value, ptr, memarg[2])

    def op_data_drop(self, op, data_index) -> None:
        self.tagged(self.b.store(ir.Constant(I64T, 0), field_ptr(self.b, self.segment_slot(refs.DATA, data_index),
                                                                abi.SEG_LEN)), "vm")

    # --- numeric -------------------------------------------------------------------------------
    def op_i32_const(self, op, v) -> None:
        self.push(self.const_i32(v))

    def op_i64_const(self, op, v) -> None:
        self.push(self.const_i64(v))

    def op_f32_const(self, op, bits) -> None:
        value = ir.Constant(I32T, bits).bitcast(F32T)
        self.float_literals[id(value)] = (value, bits)
        self.push(value)

    def op_f64_const(self, op, bits) -> None:
        value = ir.Constant(I64T, bits).bitcast(F64T)
        self.float_literals[id(value)] = (value, bits)
        self.push(value)

    def op_eqz(self, op, imm) -> None:
        v = self.pop()
        self.push(self.b.zext(self.b.icmp_unsigned("==", v, ir.Constant(v.type, 0)), I32T))

    def op_icmp(self, op, imm) -> None:
        rhs = self.pop()
        lhs = self.pop()
        pred, signed = _ICMP[op]
        cmp = self.b.icmp_signed(pred, lhs, rhs) if signed else self.b.icmp_unsigned(pred, lhs, rhs)
        self.push(self.b.zext(cmp, I32T))

    def op_fcmp(self, op, imm) -> None:
        rhs = self.pop()
        lhs = self.pop()
        pred, ordered = _FCMP[op]
        cmp = self.b.fcmp_ordered(pred, lhs, rhs) if ordered else self.b.fcmp_unordered(pred, lhs, rhs)
        self.push(self.b.zext(cmp, I32T))

    def op_int_unary(self, op, imm) -> None:
        v = self.pop()
        name = _INT_UNARY[op]
        suffix = _suffix(v.type)
        if name == "llvm.ctpop":
            self.push(self.b.call(self.intrinsic(f"{name}.{suffix}", v.type, [v.type]), [v]))
        else:
            fn = self.intrinsic(f"{name}.{suffix}", v.type, [v.type, I1])
            self.push(self.b.call(fn, [v, ir.Constant(I1, 0)]))

    def op_int_binary(self, op, imm) -> None:
        b = self.b
        rhs = self.pop()
        lhs = self.pop()
        kind = _INT_BINARY[op]
        t = lhs.type
        bits = t.width
        if kind == "add":
            r = b.add(lhs, rhs)
        elif kind == "sub":
            r = b.sub(lhs, rhs)
        elif kind == "mul":
            r = b.mul(lhs, rhs)
        elif kind in ("div_s", "div_u", "rem_s", "rem_u"):
            zero = ir.Constant(t, 0)
            self.trap_if(b.icmp_unsigned("==", rhs, zero), abi.TRAP_DIV_ZERO)
            if kind == "div_s":
                minus_one = ir.Constant(t, (1 << bits) - 1)
                int_min = ir.Constant(t, 1 << (bits - 1))
                overflow = b.and_(b.icmp_unsigned("==", lhs, int_min), b.icmp_unsigned("==", rhs, minus_one))
                self.trap_if(overflow, abi.TRAP_INT_OVERFLOW)
                r = b.sdiv(lhs, rhs)
            elif kind == "div_u":
                r = b.udiv(lhs, rhs)
            elif kind == "rem_s":
                # INT_MIN % -1 is 0 in wasm but faults natively: divide by 1 instead.
                minus_one = ir.Constant(t, (1 << bits) - 1)
                is_m1 = b.icmp_unsigned("==", rhs, minus_one)
                safe = b.select(is_m1, ir.Constant(t, 1), rhs)
                r = b.srem(lhs, safe)
            else:
                r = b.urem(lhs, rhs)
        elif kind == "and":
            r = b.and_(lhs, rhs)
        elif kind == "or":
            r = b.or_(lhs, rhs)
        elif kind == "xor":
            r = b.xor(lhs, rhs)
        elif kind in ("shl", "shr_s", "shr_u"):
            count = b.and_(rhs, ir.Constant(t, bits - 1))
            r = {"shl": b.shl, "shr_s": b.ashr, "shr_u": b.lshr}[kind](lhs, count)
        else:  # rotl, rotr
            name = "llvm.fshl" if kind == "rotl" else "llvm.fshr"
            fn = self.intrinsic(f"{name}.{_suffix(t)}", t, [t, t, t])
            r = b.call(fn, [lhs, lhs, rhs])
        self.push(r)

    def op_float_neg(self, op, imm) -> None:
        self.push(self.b.fneg(self.pop()))

    def op_float_unary(self, op, imm) -> None:
        v = self.pop()
        name = _FLOAT_UNARY_INTRINSIC[op]
        self.push(self.b.call(self.intrinsic(f"{name}.{_suffix(v.type)}", v.type, [v.type]), [v]))

    def literal_bits(self, value) -> int | None:
        """The bits of `value` if it is a float literal of this function's code, else None."""
        entry = self.float_literals.get(id(value))
        return entry[1] if entry is not None and entry[0] is value else None

    def canonical(self, value, negate: bool = False):
        """`value` with a signalling NaN quieted (and the sign flipped if `negate`): what an
        arithmetic identity such as x * 1.0 must give, which LLVM would fold to plain x."""
        t = value.type
        r = self.b.call(self.intrinsic(f"llvm.canonicalize.{_suffix(t)}", t, [t]), [value])
        return self.b.fneg(r) if negate else r

    def identity_operation(self, kind: str, lhs, rhs):
        """If the operation is x+(-0), x-0, -0-x, x*(+-1), x/(+-1) with a literal, its NaN-exact
        replacement, else None."""
        wide = lhs.type == F64T
        neg_zero = 1 << 63 if wide else 1 << 31
        one = 0x3FF0000000000000 if wide else 0x3F800000
        minus_one = one | neg_zero
        lb, rb = self.literal_bits(lhs), self.literal_bits(rhs)
        if kind == "add":
            if rb == neg_zero:
                return self.canonical(lhs)
            if lb == neg_zero:
                return self.canonical(rhs)
        elif kind == "sub":
            if rb == 0:
                return self.canonical(lhs)
            if lb == neg_zero:
                return self.canonical(rhs, negate=True)
        elif kind == "mul":
            for x, c in ((lhs, rb), (rhs, lb)):
                if c == one:
                    return self.canonical(x)
                if c == minus_one:
                    return self.canonical(x, negate=True)
        elif kind == "div":
            if rb == one:
                return self.canonical(lhs)
            if rb == minus_one:
                return self.canonical(lhs, negate=True)
        return None

    def op_float_binary(self, op, imm) -> None:
        rhs = self.pop()
        lhs = self.pop()
        kind = _FLOAT_BINARY[op]
        if kind in ("add", "sub", "mul", "div"):
            result = self.identity_operation(kind, lhs, rhs) if self.float_literals else None
            if result is None:
                b = self.b
                result = {"add": b.fadd, "sub": b.fsub, "mul": b.fmul, "div": b.fdiv}[kind](lhs, rhs)
            self.push(result)
            return
        name = _FLOAT_BINARY_INTRINSIC[kind]
        t = lhs.type
        result = self.b.call(self.intrinsic(f"{name}.{_suffix(t)}", t, [t, t]), [lhs, rhs])
        if kind != "copysign":
            # llvm.minimum/maximum may pass a signalling NaN operand through unchanged; wasm wants a
            # quiet NaN, which an addition of the operands produces.
            either_nan = self.b.fcmp_unordered("uno", lhs, rhs)
            result = self.b.select(either_nan, self.b.fadd(lhs, rhs), result)
        self.push(result)

    def op_trunc(self, op, imm) -> None:
        to, frm, signed = _TRUNC_OPS[op]
        b = self.b
        v = self.pop()
        self.trap_if(b.fcmp_unordered("uno", v, v), abi.TRAP_BAD_CONVERSION)
        lo, hi = _TRUNC_LIMITS[(to, signed)]
        ft = LLVM_TYPES[frm]
        if (to, signed, frm) in ((I32, True, F32), (I64, True, F32), (I64, True, F64)):
            # The lower bound itself (-2^31 or -2^63) is exact in these float types and valid.
            lo_ok = b.fcmp_ordered(">=", v, ir.Constant(ft, -float(1 << (31 if to == I32 else 63))))
        else:
            lo_ok = b.fcmp_ordered(">", v, ir.Constant(ft, lo))
        hi_ok = b.fcmp_ordered("<", v, ir.Constant(ft, hi))
        self.trap_if(b.not_(b.and_(lo_ok, hi_ok)), abi.TRAP_INT_OVERFLOW)
        target = LLVM_TYPES[to]
        self.push(b.fptosi(v, target) if signed else b.fptoui(v, target))

    def op_trunc_sat(self, op, imm) -> None:
        to, frm, signed = _TRUNC_SAT_OPS[op]
        v = self.pop()
        target = LLVM_TYPES[to]
        name = "llvm.fptosi.sat" if signed else "llvm.fptoui.sat"
        fn = self.intrinsic(f"{name}.{_suffix(target)}.{_suffix(v.type)}", target, [v.type])
        self.push(self.b.call(fn, [v]))

    def op_convert(self, op, imm) -> None:
        to, signed = _CONVERT_OPS[op]
        v = self.pop()
        target = LLVM_TYPES[to]
        self.push(self.b.sitofp(v, target) if signed else self.b.uitofp(v, target))

    def op_wrap(self, op, imm) -> None:
        self.push(self.b.trunc(self.pop(), I32T))

    def op_extend_i32(self, op, imm) -> None:
        v = self.pop()
        self.push(self.b.sext(v, I64T) if op == ops.I64_EXTEND_I32_S else self.b.zext(v, I64T))

    def op_demote(self, op, imm) -> None:
        v = self.pop()
        if isinstance(v, ir.CastInstr) and v.opname == "fpext":
            # LLVM folds demote(promote(x)) to x, which would let a signalling NaN through.
            v = self.canonical(v)
        self.push(self.b.fptrunc(v, F32T))

    def op_promote(self, op, imm) -> None:
        self.push(self.b.fpext(self.pop(), F64T))

    def op_reinterpret(self, op, imm) -> None:
        self.push(self.b.bitcast(self.pop(), _REINTERPRET_OPS[op]))

    def op_sign_extend(self, op, imm) -> None:
        v = self.pop()
        narrow = _SIGN_EXTEND_OPS[op]
        self.push(self.b.sext(self.b.trunc(v, narrow), v.type))

    dispatch: dict = {}


def _build_dispatch() -> dict:
    t = _Translator
    d = {
        ops.UNREACHABLE: t.op_unreachable, ops.NOP: t.op_nop, ops.BLOCK: t.op_block, ops.LOOP: t.op_block,
        ops.IF: t.op_block, ops.ELSE: t.op_else, ops.END: t.op_end, ops.BR: t.op_br, ops.BR_IF: t.op_br_if,
        ops.BR_TABLE: t.op_br_table, ops.RETURN: t.op_return, ops.CALL: t.op_call,
        ops.CALL_INDIRECT: t.op_call_indirect, ops.DROP: t.op_drop, ops.SELECT: t.op_select,
        ops.SELECT_T: t.op_select, ops.LOCAL_GET: t.op_local_get, ops.LOCAL_SET: t.op_local_set,
        ops.LOCAL_TEE: t.op_local_tee, ops.GLOBAL_GET: t.op_global_get, ops.GLOBAL_SET: t.op_global_set,
        ops.TABLE_GET: t.op_table_get, ops.TABLE_SET: t.op_table_set, ops.I32_CONST: t.op_i32_const, ops.I64_CONST: t.op_i64_const,
        ops.F32_CONST: t.op_f32_const, ops.F64_CONST: t.op_f64_const, ops.I32_EQZ: t.op_eqz,
        ops.I64_EQZ: t.op_eqz, ops.F32_NEG: t.op_float_neg, ops.F64_NEG: t.op_float_neg,
        ops.I32_WRAP_I64: t.op_wrap, ops.I64_EXTEND_I32_S: t.op_extend_i32, ops.I64_EXTEND_I32_U: t.op_extend_i32,
        ops.F32_DEMOTE_F64: t.op_demote, ops.F64_PROMOTE_F32: t.op_promote, ops.REF_NULL: t.op_ref_null,
        ops.REF_IS_NULL: t.op_ref_is_null, ops.REF_FUNC: t.op_ref_func,
        ops.DATA_DROP: t.op_data_drop, ops.ELEM_DROP: t.op_elem_drop,
    }
    for table, handler in ((_MEM_ACCESS, t.op_load), (_MEM_STORE, t.op_store), (_ICMP, t.op_icmp),
                           (_FCMP, t.op_fcmp), (_INT_UNARY, t.op_int_unary), (_INT_BINARY, t.op_int_binary),
                           (_FLOAT_UNARY_INTRINSIC, t.op_float_unary), (_FLOAT_BINARY, t.op_float_binary),
                           (_TRUNC_OPS, t.op_trunc), (_TRUNC_SAT_OPS, t.op_trunc_sat), (_CONVERT_OPS, t.op_convert),
                           (_REINTERPRET_OPS, t.op_reinterpret), (_SIGN_EXTEND_OPS, t.op_sign_extend)):
        for op in table:
            assert op not in d, ops.name(op)
            d[op] = handler
    for table in (MEMORY_DISPATCH, SIMD_DISPATCH, ATOMICS_DISPATCH, EH_DISPATCH, TAIL_CALL_DISPATCH, FUNCREF_DISPATCH):
        assert not table.keys() & d.keys()
        d.update(table)
    return d


_Translator.dispatch = _build_dispatch()
