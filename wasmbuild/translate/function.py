"""Translate one validated wasm function into LLVM IR (llvmlite.ir).

`translate_function(llmodule, symbol, info, defined_index, code)` adds to `llmodule` a function named
`symbol` with the native signature of `abi.py`, and returns the `References` it used. The wasm
operand stack is simulated at translation time: each stack slot is an LLVM value, control frames map
to basic blocks, and values flowing into a block end or a loop header become phi nodes. Locals are
allocas that LLVM promotes to registers.

Everything outside the function is reached through symbols named by `refs.py` (callees, vmctx
offsets, type ids), so the IR depends on what the function refers to only through types and
first-use order, never through indices. Traps call the runtime helper `wb_rt_trap`, which never
returns.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract import opcodes as ops
from ..binary.decode import FunctionCode
from ..contract.types import F32, F64, I32, I64, FuncType, GlobalType, TableType
from ..errors import WasmbuildError
from ..contract import abi
from . import refs
from .irtypes import (F32T, F64T, I1, I8, I16, I32T, I64T, LLVM_TYPES, NULL, PTR, VOID, FunctionPointer,
                      absolute_symbol, field_ptr, get_function, result_type, wasm_function_type,
                      zero_value)
from .refs import References, scan_references
from .simd import SIMD_DISPATCH

_FC = ops.FC


class UnsupportedError(WasmbuildError):
    """The module uses something this version of wasmbuild cannot compile yet."""

    phase = "unsupported"


class ModuleInfo:
    """What translating a function needs to know about its module (types of everything)."""

    def __init__(self, types: list[FuncType], func_types: list[int], globals_: list[GlobalType],
                 tables: list[TableType], num_imported_funcs: int, has_memory: bool):
        self.types = types
        self.func_types = func_types
        self.globals = globals_
        self.tables = tables
        self.num_imported_funcs = num_imported_funcs
        self.has_memory = has_memory
        # Linear memory is little-endian; on a big-endian target every multi-byte access swaps.
        self.big_endian = False

    @classmethod
    def from_context(cls, ctx) -> "ModuleInfo":
        return cls(ctx.types, ctx.funcs, ctx.globals, ctx.tables, ctx.num_imported_funcs, bool(ctx.memories))

    def func_type(self, func_index: int) -> FuncType:
        return self.types[self.func_types[func_index]]


class _Frame:
    __slots__ = ("op", "params", "results", "height", "end", "header", "header_phis", "end_phis",
                 "end_preds", "else_block", "else_params")

    def __init__(self, op, params, results, height, end):
        self.op = op  # 0x02 block, 0x03 loop, 0x04 if, 0x05 if after else, 0 function
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

    def label_types(self):
        return self.params if self.op == 0x03 else self.results


_MEM_ACCESS = {
    # op: (bytes accessed, LLVM type in memory, wasm result type, sign-extend?)
    0x28: (4, I32T, I32, None), 0x29: (8, I64T, I64, None), 0x2A: (4, F32T, F32, None),
    0x2B: (8, F64T, F64, None), 0x2C: (1, I8, I32, True), 0x2D: (1, I8, I32, False),
    0x2E: (2, I16, I32, True), 0x2F: (2, I16, I32, False), 0x30: (1, I8, I64, True),
    0x31: (1, I8, I64, False), 0x32: (2, I16, I64, True), 0x33: (2, I16, I64, False),
    0x34: (4, I32T, I64, True), 0x35: (4, I32T, I64, False),
}
_MEM_STORE = {
    0x36: (4, I32T), 0x37: (8, I64T), 0x38: (4, F32T), 0x39: (8, F64T), 0x3A: (1, I8), 0x3B: (2, I16),
    0x3C: (1, I8), 0x3D: (2, I16), 0x3E: (4, I32T),
}

_ICMP = {0x46: "==", 0x47: "!=", 0x48: "<", 0x49: "<", 0x4A: ">", 0x4B: ">", 0x4C: "<=", 0x4D: "<=",
         0x4E: ">=", 0x4F: ">="}
_FCMP = {0: ("==", True), 1: ("!=", False), 2: ("<", True), 3: (">", True), 4: ("<=", True), 5: (">=", True)}

# Ranges (exclusive lower, exclusive upper) of floats that truncate to the integer type without trapping.
_TRUNC_LIMITS = {
    (I32, True): (-2147483649.0, 2147483648.0),
    (I32, False): (-1.0, 4294967296.0),
    (I64, True): (-9223372036854777856.0, 9223372036854775808.0),
    (I64, False): (-1.0, 18446744073709551616.0),
}
_TRUNC_OPS = {
    0xA8: (I32, F32, True), 0xA9: (I32, F32, False), 0xAA: (I32, F64, True), 0xAB: (I32, F64, False),
    0xAE: (I64, F32, True), 0xAF: (I64, F32, False), 0xB0: (I64, F64, True), 0xB1: (I64, F64, False),
}
_TRUNC_SAT_OPS = {
    _FC | 0: (I32, F32, True), _FC | 1: (I32, F32, False), _FC | 2: (I32, F64, True), _FC | 3: (I32, F64, False),
    _FC | 4: (I64, F32, True), _FC | 5: (I64, F32, False), _FC | 6: (I64, F64, True), _FC | 7: (I64, F64, False),
}
_CONVERT_OPS = {
    0xB2: (F32, True), 0xB3: (F32, False), 0xB4: (F32, True), 0xB5: (F32, False),
    0xB7: (F64, True), 0xB8: (F64, False), 0xB9: (F64, True), 0xBA: (F64, False),
}
_FLOAT_UNARY = {0: "llvm.fabs", 2: "llvm.ceil", 3: "llvm.floor", 4: "llvm.trunc", 5: "llvm.roundeven",
                6: "llvm.sqrt"}
_FLOAT_BINARY_INTRINSIC = {4: "llvm.minimum", 5: "llvm.maximum", 6: "llvm.copysign"}


def _suffix(t: ir.Type) -> str:
    return {I32T: "i32", I64T: "i64", F32T: "f32", F64T: "f64"}[t]


def translate_function(llmodule: ir.Module, symbol: str, info: ModuleInfo, defined_index: int,
                       code: FunctionCode) -> References:
    func_index = info.num_imported_funcs + defined_index
    references = scan_references(code.instrs, info.num_imported_funcs)
    _Translator(llmodule, symbol, info, info.func_type(func_index), code, references).run()
    return references


class _Translator:
    def __init__(self, llmodule: ir.Module, symbol: str, info: ModuleInfo, ftype: FuncType,
                 code: FunctionCode, references: References):
        self.m = llmodule
        self.info = info
        self.ftype = ftype
        self.code = code
        self.refs = references
        fn = get_function(llmodule, symbol, wasm_function_type(ftype))
        fn.attributes.add("nounwind")
        self.fn = fn
        self.vmctx = fn.args[0]
        self.entry = fn.append_basic_block("entry")
        self.b = ir.IRBuilder(self.entry)
        self.trap_blocks: dict[int, ir.Block] = {}
        self.stack: list = []
        self.frames: list[_Frame] = []
        self.float_literals: dict[int, tuple] = {}  # id -> (constant, bits) of f32/f64.const values
        self.tbaa_tags: dict[str, object] = {}

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
        # Locals: params first, then declared locals, all zero-initialised allocas.
        self.locals = []
        self.local_types = []
        for i, t in enumerate(ftype.params):
            slot = b.alloca(LLVM_TYPES[t])
            b.store(self.fn.args[1 + i], slot)
            self.locals.append(slot)
            self.local_types.append(LLVM_TYPES[t])
        for n, t in self.code.locals:
            ll = LLVM_TYPES[t]
            zero = zero_value(t)
            for _ in range(n):
                slot = b.alloca(ll)
                b.store(zero, slot)
                self.locals.append(slot)
                self.local_types.append(ll)
        # Stack check: the address of a local stands for the stack pointer.
        marker = b.alloca(I8)
        runtime = self.vmfield(self.vmctx, abi.VM_RUNTIME, PTR)
        limit = self.vmfield(runtime, abi.RT_STACK_LIMIT, I64T)
        self.trap_if(b.icmp_unsigned("<", b.ptrtoint(marker, I64T), limit), abi.TRAP_STACK_EXHAUSTED)
        if self.info.has_memory:
            # Linear memory never moves (the loader reserves its maximum), so its base can be
            # loaded once; its size changes with memory.grow and is loaded at each access.
            self.memdef = self.vmfield(self.vmctx, abi.VM_MEMORY, PTR, "memdef")
            self.membase = self.vmfield(self.memdef, abi.MEM_BASE, PTR, "membase")
        body_end = self.fn.append_basic_block("return")
        self.frames.append(_Frame(0, (), ftype.results, 0, body_end))
        self.dead = False
        self.dead_depth = 0
        dispatch = self.dispatch
        for op, imm, _offset in self.code.instrs:
            if self.dead:
                if op in (0x02, 0x03, 0x04):
                    self.dead_depth += 1
                    continue
                if op == 0x0B:
                    if self.dead_depth:
                        self.dead_depth -= 1
                        continue
                elif op == 0x05:
                    if self.dead_depth:
                        continue
                else:
                    continue
            handler = dispatch.get(op)
            if op >= ops.FD and self.info.big_endian:
                raise UnsupportedError(f"SIMD instruction {ops.name(op)} is not supported on big-endian "
                                       f"targets yet (v128 lane order)", offset=_offset)
            if handler is None:
                raise UnsupportedError(f"instruction {ops.name(op)} is not supported yet", offset=_offset)
            handler(self, op, imm)

    def emit_return(self, values) -> None:
        results = self.ftype.results
        if not results:
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
        if type(bt) is int:
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
        if frame.op == 0:
            self.emit_return(values)
        elif frame.op == 0x03:
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
        if op == 0x03:
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
        elif op == 0x04:
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
        frame.op = 0x05
        self.stack.extend(frame.else_params)

    def op_end(self, op, imm) -> None:
        frame = self.frames.pop()
        if frame.op == 0:
            if not self.dead:
                self.emit_return(self.stack[len(self.stack) - len(frame.results):])
            self.b.position_at_end(frame.end)
            self.b.unreachable()
            return
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
        result = self.b.call(callee, [cvmctx] + args)
        if len(ft.results) == 1:
            self.push(result)
        elif ft.results:
            for i in range(len(ft.results)):
                self.push(self.b.extract_value(result, i))

    def op_call(self, op, index) -> None:
        ft = self.info.func_type(index)
        if index >= self.info.num_imported_funcs:
            callee = get_function(self.m, self.refs.name(refs.CALL, index), wasm_function_type(ft))
            self.emit_call(callee, self.vmctx, ft)
        else:
            slot = field_ptr(self.b, self.vmctx, self.sym(refs.IMPORT, index))
            code = self.vmfield(slot, abi.IMP_CODE, PTR)
            cvm = self.vmfield(slot, abi.IMP_VMCTX, PTR)
            self.emit_call(FunctionPointer(code, wasm_function_type(ft)), cvm, ft)

    def table_def(self, index: int):
        return self.vmfield(self.vmctx, self.sym(refs.TABLE, index), PTR)

    def op_call_indirect(self, op, imm) -> None:
        type_index, table_index = imm
        ft = self.info.types[type_index]
        b = self.b
        index = b.zext(self.pop(), I64T)
        tdef = self.table_def(table_index)
        size = self.vmfield(tdef, abi.TAB_SIZE, I64T)
        self.trap_if(b.icmp_unsigned(">=", index, size), abi.TRAP_UNDEFINED_ELEMENT)
        elems = self.vmfield(tdef, abi.TAB_ELEMS, PTR)
        ref = self.tagged(b.load(b.gep(elems, [index], source_etype=PTR), typ=PTR), "table")
        self.trap_if(b.icmp_unsigned("==", ref, NULL), abi.TRAP_UNINITIALIZED_ELEMENT, detail=index)
        type_id = self.vmfield(ref, abi.FR_TYPE, I64T)
        expected = self.vmfield(self.vmctx, self.sym(refs.TYPE, type_index), I64T)
        self.trap_if(b.icmp_unsigned("!=", type_id, expected), abi.TRAP_INDIRECT_TYPE)
        code = self.vmfield(ref, abi.FR_CODE, PTR)
        cvm = self.vmfield(ref, abi.FR_VMCTX, PTR)
        self.emit_call(FunctionPointer(code, wasm_function_type(ft)), cvm, ft)

    # --- parametric and variables -------------------------------------------------------------
    def op_drop(self, op, imm) -> None:
        self.pop()

    def op_select(self, op, imm) -> None:
        cond = self.pop()
        b_val = self.pop()
        a_val = self.pop()
        self.push(self.b.select(self.b.icmp_unsigned("!=", cond, self.const_i32(0)), a_val, b_val))

    def op_local_get(self, op, index) -> None:
        self.push(self.b.load(self.locals[index], typ=self.local_types[index]))

    def op_local_set(self, op, index) -> None:
        self.b.store(self.pop(), self.locals[index])

    def op_local_tee(self, op, index) -> None:
        self.b.store(self.stack[-1], self.locals[index])

    def global_cell(self, index: int):
        return self.vmfield(self.vmctx, self.sym(refs.GLOBAL, index), PTR)

    def op_global_get(self, op, index) -> None:
        t = LLVM_TYPES[self.info.globals[index].valtype]
        self.push(self.tagged(self.b.load(self.global_cell(index), typ=t), "global"))

    def op_global_set(self, op, index) -> None:
        self.tagged(self.b.store(self.pop(), self.global_cell(index)), "global")

    # --- tables and references --------------------------------------------------------------
    def table_slot(self, table_index: int, index_i32):
        b = self.b
        index = b.zext(index_i32, I64T)
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

    def op_table_size(self, op, table_index) -> None:
        size = self.vmfield(self.table_def(table_index), abi.TAB_SIZE, I64T)
        self.push(self.b.trunc(size, I32T))

    def op_table_grow(self, op, table_index) -> None:
        delta = self.pop()
        init = self.pop()
        helper = get_function(self.m, abi.SYM_TABLE_GROW, ir.FunctionType(I32T, [PTR, PTR, I32T, PTR]))
        self.push(self.b.call(helper, [self.vmctx, self.table_def(table_index), delta, init]))

    def op_table_fill(self, op, table_index) -> None:
        n = self.pop()
        value = self.pop()
        dst = self.pop()
        helper = get_function(self.m, abi.SYM_TABLE_FILL, ir.FunctionType(VOID, [PTR, PTR, I32T, PTR, I32T]))
        self.b.call(helper, [self.vmctx, self.table_def(table_index), dst, value, n])

    def op_table_copy(self, op, imm) -> None:
        dst_table, src_table = imm
        n, src, dst = self.pop(), self.pop(), self.pop()
        helper = get_function(self.m, abi.SYM_TABLE_COPY,
                              ir.FunctionType(VOID, [PTR, PTR, PTR, I32T, I32T, I32T]))
        self.b.call(helper, [self.vmctx, self.table_def(dst_table), self.table_def(src_table), dst, src, n])

    def segment_slot(self, kind: str, index: int):
        return field_ptr(self.b, self.vmctx, self.sym(kind, index))

    def op_table_init(self, op, imm) -> None:
        elem_index, table_index = imm
        n, src, dst = self.pop(), self.pop(), self.pop()
        helper = get_function(self.m, abi.SYM_TABLE_INIT,
                              ir.FunctionType(VOID, [PTR, PTR, PTR, I32T, I32T, I32T]))
        self.b.call(helper, [self.vmctx, self.table_def(table_index), self.segment_slot(refs.ELEM, elem_index),
                             dst, src, n])

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
    def address(self, addr_i32, offset: int, size: int):
        """Bounds-checked native address of `size` bytes at wasm address `addr + offset`."""
        b = self.b
        ea = b.zext(addr_i32, I64T)
        if offset:
            ea = b.add(ea, ir.Constant(I64T, offset))
        mem_size = self.vmfield(self.memdef, abi.MEM_SIZE, I64T)
        end = b.add(ea, ir.Constant(I64T, size))
        self.trap_if(b.icmp_unsigned(">", end, mem_size), abi.TRAP_MEMORY_OOB)
        return b.gep(self.membase, [ea], source_etype=I8)

    def op_load(self, op, memarg) -> None:
        size, mem_type, result, signed = _MEM_ACCESS[op]
        ptr = self.address(self.pop(), memarg[1], size)
        if self.info.big_endian and size > 1:
            bits = ir.IntType(8 * size)
            value = self.b.call(self.intrinsic(f"llvm.bswap.i{8 * size}", bits, [bits]),
                                [self.tagged(self.b.load(ptr, typ=bits, align=1), "heap")])
            if mem_type != bits:
                value = self.b.bitcast(value, mem_type)
        else:
            value = self.tagged(self.b.load(ptr, typ=mem_type, align=1), "heap")
        target = LLVM_TYPES[result]
        if signed is True:
            value = self.b.sext(value, target)
        elif signed is False:
            value = self.b.zext(value, target)
        self.push(value)

    def op_store(self, op, memarg) -> None:
        size, mem_type = _MEM_STORE[op]
        value = self.pop()
        ptr = self.address(self.pop(), memarg[1], size)
        if self.info.big_endian and size > 1:
            bits = ir.IntType(8 * size)
            if value.type in (F32T, F64T):
                value = self.b.bitcast(value, bits)
            elif value.type != bits:
                value = self.b.trunc(value, bits)
            value = self.b.call(self.intrinsic(f"llvm.bswap.i{8 * size}", bits, [bits]), [value])
        elif value.type != mem_type:
            value = self.b.trunc(value, mem_type)
        self.tagged(self.b.store(value, ptr, align=1), "heap")

    def op_memory_size(self, op, imm) -> None:
        size = self.vmfield(self.memdef, abi.MEM_SIZE, I64T)
        self.push(self.b.trunc(self.b.lshr(size, ir.Constant(I64T, 16)), I32T))

    def op_memory_grow(self, op, imm) -> None:
        helper = get_function(self.m, abi.SYM_MEMORY_GROW, ir.FunctionType(I32T, [PTR, I32T]))
        self.push(self.b.call(helper, [self.vmctx, self.pop()]))

    def op_memory_init(self, op, data_index) -> None:
        n, src, dst = self.pop(), self.pop(), self.pop()
        helper = get_function(self.m, abi.SYM_MEMORY_INIT, ir.FunctionType(VOID, [PTR, PTR, I32T, I32T, I32T]))
        self.b.call(helper, [self.vmctx, self.segment_slot(refs.DATA, data_index), dst, src, n])

    def op_data_drop(self, op, data_index) -> None:
        self.tagged(self.b.store(ir.Constant(I64T, 0), field_ptr(self.b, self.segment_slot(refs.DATA, data_index),
                                                                abi.SEG_LEN)), "vm")

    def op_memory_copy(self, op, imm) -> None:
        n, src, dst = self.pop(), self.pop(), self.pop()
        helper = get_function(self.m, abi.SYM_MEMORY_COPY, ir.FunctionType(VOID, [PTR, I32T, I32T, I32T]))
        self.b.call(helper, [self.vmctx, dst, src, n])

    def op_memory_fill(self, op, imm) -> None:
        n, value, dst = self.pop(), self.pop(), self.pop()
        helper = get_function(self.m, abi.SYM_MEMORY_FILL, ir.FunctionType(VOID, [PTR, I32T, I32T, I32T]))
        self.b.call(helper, [self.vmctx, dst, value, n])

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
        rel = op - 0x46 if op < 0x51 else op - 0x51  # eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u
        rhs = self.pop()
        lhs = self.pop()
        pred = _ICMP[0x46 + rel]
        cmp = (self.b.icmp_signed(pred, lhs, rhs) if rel in (2, 4, 6, 8)
               else self.b.icmp_unsigned(pred, lhs, rhs))
        self.push(self.b.zext(cmp, I32T))

    def op_fcmp(self, op, imm) -> None:
        rel = (op - 0x5B) if op < 0x61 else (op - 0x61)
        rhs = self.pop()
        lhs = self.pop()
        pred, ordered = _FCMP[rel]
        cmp = self.b.fcmp_ordered(pred, lhs, rhs) if ordered else self.b.fcmp_unordered(pred, lhs, rhs)
        self.push(self.b.zext(cmp, I32T))

    def op_int_unary(self, op, imm) -> None:
        v = self.pop()
        kind = (op - 0x67) if op < 0x79 else (op - 0x79)
        name = ("llvm.ctlz", "llvm.cttz", "llvm.ctpop")[kind]
        suffix = _suffix(v.type)
        if kind == 2:
            self.push(self.b.call(self.intrinsic(f"{name}.{suffix}", v.type, [v.type]), [v]))
        else:
            fn = self.intrinsic(f"{name}.{suffix}", v.type, [v.type, I1])
            self.push(self.b.call(fn, [v, ir.Constant(I1, 0)]))

    def op_int_binary(self, op, imm) -> None:
        b = self.b
        rhs = self.pop()
        lhs = self.pop()
        kind = (op - 0x6A) if op < 0x7C else (op - 0x7C)
        t = lhs.type
        bits = t.width
        if kind == 0:
            r = b.add(lhs, rhs)
        elif kind == 1:
            r = b.sub(lhs, rhs)
        elif kind == 2:
            r = b.mul(lhs, rhs)
        elif kind in (3, 4, 5, 6):
            zero = ir.Constant(t, 0)
            self.trap_if(b.icmp_unsigned("==", rhs, zero), abi.TRAP_DIV_ZERO)
            if kind == 3:
                minus_one = ir.Constant(t, (1 << bits) - 1)
                int_min = ir.Constant(t, 1 << (bits - 1))
                overflow = b.and_(b.icmp_unsigned("==", lhs, int_min), b.icmp_unsigned("==", rhs, minus_one))
                self.trap_if(overflow, abi.TRAP_INT_OVERFLOW)
                r = b.sdiv(lhs, rhs)
            elif kind == 4:
                r = b.udiv(lhs, rhs)
            elif kind == 5:
                # INT_MIN % -1 is 0 in wasm but faults natively: divide by 1 instead.
                minus_one = ir.Constant(t, (1 << bits) - 1)
                is_m1 = b.icmp_unsigned("==", rhs, minus_one)
                safe = b.select(is_m1, ir.Constant(t, 1), rhs)
                r = b.srem(lhs, safe)
            else:
                r = b.urem(lhs, rhs)
        elif kind == 7:
            r = b.and_(lhs, rhs)
        elif kind == 8:
            r = b.or_(lhs, rhs)
        elif kind == 9:
            r = b.xor(lhs, rhs)
        elif kind in (10, 11, 12):
            count = b.and_(rhs, ir.Constant(t, bits - 1))
            r = (b.shl, b.ashr, b.lshr)[kind - 10](lhs, count)
        else:
            name = "llvm.fshl" if kind == 13 else "llvm.fshr"
            fn = self.intrinsic(f"{name}.{_suffix(t)}", t, [t, t, t])
            r = b.call(fn, [lhs, lhs, rhs])
        self.push(r)

    def op_float_unary(self, op, imm) -> None:
        v = self.pop()
        kind = (op - 0x8B) if op < 0x99 else (op - 0x99)
        if kind == 1:
            self.push(self.b.fneg(v))
            return
        name = _FLOAT_UNARY[kind]
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

    def identity_operation(self, kind: int, lhs, rhs):
        """If the operation is x+(-0), x-0, -0-x, x*(+-1), x/(+-1) with a literal, its NaN-exact
        replacement, else None."""
        wide = lhs.type == F64T
        neg_zero = 1 << 63 if wide else 1 << 31
        one = 0x3FF0000000000000 if wide else 0x3F800000
        minus_one = one | neg_zero
        lb, rb = self.literal_bits(lhs), self.literal_bits(rhs)
        if kind == 0:
            if rb == neg_zero:
                return self.canonical(lhs)
            if lb == neg_zero:
                return self.canonical(rhs)
        elif kind == 1:
            if rb == 0:
                return self.canonical(lhs)
            if lb == neg_zero:
                return self.canonical(rhs, negate=True)
        elif kind == 2:
            for x, c in ((lhs, rb), (rhs, lb)):
                if c == one:
                    return self.canonical(x)
                if c == minus_one:
                    return self.canonical(x, negate=True)
        elif kind == 3:
            if rb == one:
                return self.canonical(lhs)
            if rb == minus_one:
                return self.canonical(lhs, negate=True)
        return None

    def op_float_binary(self, op, imm) -> None:
        rhs = self.pop()
        lhs = self.pop()
        kind = (op - 0x92) if op < 0xA0 else (op - 0xA0)
        if kind < 4:
            result = self.identity_operation(kind, lhs, rhs) if self.float_literals else None
            if result is None:
                result = (self.b.fadd, self.b.fsub, self.b.fmul, self.b.fdiv)[kind](lhs, rhs)
            self.push(result)
            return
        name = _FLOAT_BINARY_INTRINSIC[kind]
        t = lhs.type
        result = self.b.call(self.intrinsic(f"{name}.{_suffix(t)}", t, [t, t]), [lhs, rhs])
        if kind != 6:
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
        self.push(self.b.sext(v, I64T) if op == 0xAC else self.b.zext(v, I64T))

    def op_demote(self, op, imm) -> None:
        v = self.pop()
        if isinstance(v, ir.CastInstr) and v.opname == "fpext":
            # LLVM folds demote(promote(x)) to x, which would let a signalling NaN through.
            v = self.canonical(v)
        self.push(self.b.fptrunc(v, F32T))

    def op_promote(self, op, imm) -> None:
        self.push(self.b.fpext(self.pop(), F64T))

    def op_reinterpret(self, op, imm) -> None:
        target = {0xBC: I32T, 0xBD: I64T, 0xBE: F32T, 0xBF: F64T}[op]
        self.push(self.b.bitcast(self.pop(), target))

    def op_sign_extend(self, op, imm) -> None:
        v = self.pop()
        narrow = {0xC0: I8, 0xC1: I16, 0xC2: I8, 0xC3: I16, 0xC4: I32T}[op]
        self.push(self.b.sext(self.b.trunc(v, narrow), v.type))

    dispatch: dict = {}


def _build_dispatch() -> dict:
    t = _Translator
    d = {
        0x00: t.op_unreachable, 0x01: t.op_nop, 0x02: t.op_block, 0x03: t.op_block, 0x04: t.op_block,
        0x05: t.op_else, 0x0B: t.op_end, 0x0C: t.op_br, 0x0D: t.op_br_if, 0x0E: t.op_br_table,
        0x0F: t.op_return, 0x10: t.op_call, 0x11: t.op_call_indirect, 0x1A: t.op_drop,
        0x1B: t.op_select, 0x1C: t.op_select, 0x20: t.op_local_get, 0x21: t.op_local_set,
        0x22: t.op_local_tee, 0x23: t.op_global_get, 0x24: t.op_global_set, 0x25: t.op_table_get,
        0x26: t.op_table_set, 0x3F: t.op_memory_size, 0x40: t.op_memory_grow,
        0x41: t.op_i32_const, 0x42: t.op_i64_const, 0x43: t.op_f32_const, 0x44: t.op_f64_const,
        0x45: t.op_eqz, 0x50: t.op_eqz, 0xA7: t.op_wrap, 0xAC: t.op_extend_i32, 0xAD: t.op_extend_i32,
        0xB6: t.op_demote, 0xBB: t.op_promote, 0xD0: t.op_ref_null, 0xD1: t.op_ref_is_null,
        0xD2: t.op_ref_func,
        _FC | 8: t.op_memory_init, _FC | 9: t.op_data_drop, _FC | 10: t.op_memory_copy,
        _FC | 11: t.op_memory_fill, _FC | 12: t.op_table_init, _FC | 13: t.op_elem_drop,
        _FC | 14: t.op_table_copy, _FC | 15: t.op_table_grow, _FC | 16: t.op_table_size,
        _FC | 17: t.op_table_fill,
    }
    for op in _MEM_ACCESS:
        d[op] = t.op_load
    for op in _MEM_STORE:
        d[op] = t.op_store
    for op in list(range(0x46, 0x50)) + list(range(0x51, 0x5B)):
        d[op] = t.op_icmp
    for op in range(0x5B, 0x67):
        d[op] = t.op_fcmp
    for op in list(range(0x67, 0x6A)) + list(range(0x79, 0x7C)):
        d[op] = t.op_int_unary
    for op in list(range(0x6A, 0x79)) + list(range(0x7C, 0x8B)):
        d[op] = t.op_int_binary
    for op in list(range(0x8B, 0x92)) + list(range(0x99, 0xA0)):
        d[op] = t.op_float_unary
    for op in list(range(0x92, 0x99)) + list(range(0xA0, 0xA7)):
        d[op] = t.op_float_binary
    for op in _TRUNC_OPS:
        d[op] = t.op_trunc
    for op in _TRUNC_SAT_OPS:
        d[op] = t.op_trunc_sat
    for op in _CONVERT_OPS:
        d[op] = t.op_convert
    for op in (0xBC, 0xBD, 0xBE, 0xBF):
        d[op] = t.op_reinterpret
    for op in range(0xC0, 0xC5):
        d[op] = t.op_sign_extend
    d.update(SIMD_DISPATCH)
    return d


_Translator.dispatch = _build_dispatch()
