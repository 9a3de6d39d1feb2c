"""Runtime helpers and trampolines, written in LLVM IR so that wasmbuild needs no C compiler.

`build_runtime(llmodule)` adds the helpers every image links with: the trap helper (records the trap
code and `_longjmp`s to the innermost entry trampoline), memory.grow / table.grow (which call back
into the host through function pointers in the Runtime struct), the bulk memory and table
operations with their bounds checks, and the exception helpers of translate/exceptions.py. The
memory and table helpers take the MemoryDef or TableDef they work on, and 64-bit addresses, sizes
and lengths (memory64), which the translator extends for 32-bit ones; memory 0, when 32-bit, has
helpers with i32 operands of their own (`_build_memory0_helpers`).

`build_entry_trampoline(llmodule, ft, guard, return_registers)` adds the host-to-wasm trampoline
of signature `ft`: `i32 wb_entry_<sig>(ptr vmctx, ptr code, ptr values)`. It installs a trap
landing pad with `_setjmp`, sets the stack limit on the outermost entry, loads the arguments from
the 16-byte value slots, calls `code`, stores the results back (results that go through memory,
irtypes.results_in_memory, `code` stores there itself: the value array is their results area) and
returns 0, or the trap code after a trap (also TRAP_EXCEPTION: a wasm exception no handler
caught). It starts an empty chain of exception handler records and restores the caller's on the
way out; the outermost entry returns ENTRY_COLLECT instead of 0 when exception objects are left
for the loader to collect. With `guard` (guard-page memories) it also makes the store's Runtime
the thread's current one for the fault handler (translate/fault.py) while the call lasts.

`build_host_trampoline(llmodule, ft, tail_calls, return_registers)` adds the wasm-to-host
trampoline of `ft`: it has the wasm signature (its vmctx is a host record), spills the arguments
into value slots, calls the Runtime's host-call hook and returns the results (in registers or its
caller's results area) if the hook answered `HOST_CALL_OK`, throws the exception of
RT_EXN on into wasm code if it answered `HOST_CALL_THROW` (the host function raised a
WasmException), else traps.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract.types import FuncType
from ..contract import abi
from .exceptions import build_exception_runtime, declare_throw
from .fault import signal_key
from .irtypes import (I1, I8, I32T, I64T, LLVM_TYPES, PTR, VOID, FunctionPointer, alloca_bytes, field,
                      field_ptr, get_function, load_results, result_type, results_in_memory, store_results,
                      wasm_function_type)

JMPBUF_SIZE = abi.JMPBUF_SIZE


def _declare_trap(m: ir.Module) -> ir.Function:
    fn = get_function(m, abi.SYM_TRAP, ir.FunctionType(VOID, [PTR, I32T]))
    fn.attributes.add("noreturn")
    fn.attributes.add("nounwind")
    return fn


def _helper(m: ir.Module, name: str, ret: ir.Type, args: list) -> tuple[ir.Function, ir.IRBuilder]:
    fn = get_function(m, name, ir.FunctionType(ret, args))
    fn.attributes.add("nounwind")
    return fn, ir.IRBuilder(fn.append_basic_block("entry"))


def _trap_unless(fn: ir.Function, b: ir.IRBuilder, ok, code: int) -> None:
    good = fn.append_basic_block("ok")
    bad = fn.append_basic_block("trap")
    b.cbranch(ok, good, bad)
    tb = ir.IRBuilder(bad)
    tb.call(_declare_trap(fn.module), [fn.args[0], ir.Constant(I32T, code)])
    tb.unreachable()
    b.position_at_end(good)


def _in_bounds(b: ir.IRBuilder, start, n, limit):
    """start + n <= limit for unsigned i64 operands, without overflow: n <= limit and start <=
    limit - n (64-bit addresses and lengths may be anything)."""
    return b.and_(b.icmp_unsigned("<=", n, limit), b.icmp_unsigned("<=", start, b.sub(limit, n)))


def _element(b: ir.IRBuilder, base, index, etype: ir.Type):
    """Address of element `index` (an unsigned i32 or i64) of an array of `etype` at `base`."""
    if index.type != I64T:
        index = b.zext(index, I64T)
    return b.gep(base, [index], source_etype=etype)


def _memcpy_like(m: ir.Module, b: ir.IRBuilder, name: str, dst, src, n_i64) -> None:
    fn = get_function(m, f"{name}.p0.p0.i64", ir.FunctionType(VOID, [PTR, PTR, I64T, I1]))
    b.call(fn, [dst, src, n_i64, ir.Constant(I1, 0)])


def build_runtime(m: ir.Module) -> None:
    # wb_rt_trap(ctx, code) and wb_rt_trap_detail(ctx, code, detail): record the code (and the
    # detail for the message) and unwind to the innermost entry trampoline.
    longjmp = get_function(m, "_longjmp", ir.FunctionType(VOID, [PTR, I32T]), hidden=False)
    longjmp.attributes.add("noreturn")
    longjmp.attributes.add("nounwind")
    trap_detail = get_function(m, abi.SYM_TRAP_DETAIL, ir.FunctionType(VOID, [PTR, I32T, I64T]))
    trap_detail.attributes.add("noreturn")
    trap_detail.attributes.add("nounwind")
    b = ir.IRBuilder(trap_detail.append_basic_block("entry"))
    runtime = field(b, trap_detail.args[0], abi.VM_RUNTIME, PTR)
    b.store(b.zext(trap_detail.args[1], I64T), field_ptr(b, runtime, abi.RT_TRAP_CODE))
    b.store(trap_detail.args[2], field_ptr(b, runtime, abi.RT_TRAP_DETAIL))
    b.call(longjmp, [field(b, runtime, abi.RT_JMPBUF, PTR), ir.Constant(I32T, 1)])
    b.unreachable()
    trap = _declare_trap(m)
    b = ir.IRBuilder(trap.append_basic_block("entry"))
    b.call(trap_detail, [trap.args[0], trap.args[1], ir.Constant(I64T, -1)])
    b.unreachable()

    # memory.grow and table.grow call back into the host; sizes, addresses and lengths are i64
    # here (the translator extends the i32 operands of 32-bit memories and tables).
    fn, b = _helper(m, abi.SYM_MEMORY_GROW_ANY, I64T, [PTR, PTR, I64T])
    runtime = field(b, fn.args[0], abi.VM_RUNTIME, PTR)
    hook = field(b, runtime, abi.RT_GROW_MEMORY, PTR)
    b.ret(b.call(FunctionPointer(hook, ir.FunctionType(I64T, [PTR, I64T])), [fn.args[1], fn.args[2]]))

    fn, b = _helper(m, abi.SYM_TABLE_GROW, I64T, [PTR, PTR, I64T, PTR])
    runtime = field(b, fn.args[0], abi.VM_RUNTIME, PTR)
    hook = field(b, runtime, abi.RT_GROW_TABLE, PTR)
    b.ret(b.call(FunctionPointer(hook, ir.FunctionType(I64T, [PTR, I64T, PTR])), [fn.args[1], fn.args[2], fn.args[3]]))

    # memory.init(vmctx, memdef, segment slot, i64 dst, i32 src, i32 n)
    fn, b = _helper(m, abi.SYM_MEMORY_INIT_ANY, VOID, [PTR, PTR, PTR, I64T, I32T, I32T])
    vmctx, memdef, seg, dst, src, n = fn.args
    seg_len = field(b, seg, abi.SEG_LEN, I64T)
    n64 = b.zext(n, I64T)
    ok = b.and_(_in_bounds(b, b.zext(src, I64T), n64, seg_len),
                _in_bounds(b, dst, n64, field(b, memdef, abi.MEM_SIZE, I64T)))
    _trap_unless(fn, b, ok, abi.TRAP_MEMORY_OOB)
    base = field(b, memdef, abi.MEM_BASE, PTR)
    seg_ptr = field(b, seg, abi.SEG_PTR, PTR)
    _memcpy_like(m, b, "llvm.memcpy", _element(b, base, dst, I8), _element(b, seg_ptr, src, I8), n64)
    b.ret_void()

    # memory.copy(vmctx, dst memdef, src memdef, i64 dst, i64 src, i64 n)
    fn, b = _helper(m, abi.SYM_MEMORY_COPY_ANY, VOID, [PTR, PTR, PTR, I64T, I64T, I64T])
    vmctx, ddef, sdef, dst, src, n = fn.args
    ok = b.and_(_in_bounds(b, src, n, field(b, sdef, abi.MEM_SIZE, I64T)),
                _in_bounds(b, dst, n, field(b, ddef, abi.MEM_SIZE, I64T)))
    _trap_unless(fn, b, ok, abi.TRAP_MEMORY_OOB)
    _memcpy_like(m, b, "llvm.memmove", _element(b, field(b, ddef, abi.MEM_BASE, PTR), dst, I8),
                 _element(b, field(b, sdef, abi.MEM_BASE, PTR), src, I8), n)
    b.ret_void()

    # memory.fill(vmctx, memdef, i64 dst, i32 value, i64 n)
    fn, b = _helper(m, abi.SYM_MEMORY_FILL_ANY, VOID, [PTR, PTR, I64T, I32T, I64T])
    vmctx, memdef, dst, value, n = fn.args
    _trap_unless(fn, b, _in_bounds(b, dst, n, field(b, memdef, abi.MEM_SIZE, I64T)), abi.TRAP_MEMORY_OOB)
    base = field(b, memdef, abi.MEM_BASE, PTR)
    memset = get_function(m, "llvm.memset.p0.i64", ir.FunctionType(VOID, [PTR, I8, I64T, I1]))
    b.call(memset, [_element(b, base, dst, I8), b.trunc(value, I8), n, ir.Constant(I1, 0)])
    b.ret_void()

    _build_memory0_helpers(m)

    # table.init(vmctx, tabledef, segment slot, i64 dst, i32 src, i32 n)
    fn, b = _helper(m, abi.SYM_TABLE_INIT, VOID, [PTR, PTR, PTR, I64T, I32T, I32T])
    vmctx, tdef, seg, dst, src, n = fn.args
    n64 = b.zext(n, I64T)
    ok = b.and_(_in_bounds(b, b.zext(src, I64T), n64, field(b, seg, abi.SEG_LEN, I64T)),
                _in_bounds(b, dst, n64, field(b, tdef, abi.TAB_SIZE, I64T)))
    _trap_unless(fn, b, ok, abi.TRAP_TABLE_OOB)
    elems = field(b, tdef, abi.TAB_ELEMS, PTR)
    seg_ptr = field(b, seg, abi.SEG_PTR, PTR)
    _memcpy_like(m, b, "llvm.memcpy", _element(b, elems, dst, PTR),
                 _element(b, seg_ptr, src, PTR),
                 b.mul(n64, ir.Constant(I64T, abi.PTR_SIZE)))
    b.ret_void()

    # table.copy(vmctx, dst tabledef, src tabledef, i64 dst, i64 src, i64 n)
    fn, b = _helper(m, abi.SYM_TABLE_COPY, VOID, [PTR, PTR, PTR, I64T, I64T, I64T])
    vmctx, tdst, tsrc, dst, src, n = fn.args
    ok = b.and_(_in_bounds(b, src, n, field(b, tsrc, abi.TAB_SIZE, I64T)),
                _in_bounds(b, dst, n, field(b, tdst, abi.TAB_SIZE, I64T)))
    _trap_unless(fn, b, ok, abi.TRAP_TABLE_OOB)
    _memcpy_like(m, b, "llvm.memmove",
                 _element(b, field(b, tdst, abi.TAB_ELEMS, PTR), dst, PTR),
                 _element(b, field(b, tsrc, abi.TAB_ELEMS, PTR), src, PTR),
                 b.mul(n, ir.Constant(I64T, abi.PTR_SIZE)))
    b.ret_void()

    # table.fill(vmctx, tabledef, i64 dst, value, i64 n)
    fn, b = _helper(m, abi.SYM_TABLE_FILL, VOID, [PTR, PTR, I64T, PTR, I64T])
    vmctx, tdef, dst, value, n = fn.args
    _trap_unless(fn, b, _in_bounds(b, dst, n, field(b, tdef, abi.TAB_SIZE, I64T)), abi.TRAP_TABLE_OOB)
    elems = field(b, tdef, abi.TAB_ELEMS, PTR)
    start = dst
    end = b.add(start, n)
    head = fn.append_basic_block("loop")
    body = fn.append_basic_block("body")
    done = fn.append_basic_block("done")
    pre = b.block
    b.branch(head)
    b.position_at_end(head)
    i = b.phi(I64T)
    i.add_incoming(start, pre)
    b.cbranch(b.icmp_unsigned("<", i, end), body, done)
    b.position_at_end(body)
    b.store(value, b.gep(elems, [i], source_etype=PTR))
    i.add_incoming(b.add(i, ir.Constant(I64T, 1)), body)
    b.branch(head)
    b.position_at_end(done)
    b.ret_void()

    build_exception_runtime(m)


def _build_memory0_helpers(m: ir.Module) -> None:
    """The helpers of a 32-bit memory 0 (i32 operands, its MemoryDef from VM_MEMORY), as call sites
    were before multi-memory and memory64: each extends its operands and calls the general one."""
    def call(b, name, ret, args, values):
        return b.call(get_function(m, name, ir.FunctionType(ret, args)), values, tail=True)

    def zext(b, v):
        return b.zext(v, I64T)

    fn, b = _helper(m, abi.SYM_MEMORY_GROW, I32T, [PTR, I32T])
    vmctx, delta = fn.args
    memdef = field(b, vmctx, abi.VM_MEMORY, PTR)
    b.ret(b.trunc(call(b, abi.SYM_MEMORY_GROW_ANY, I64T, [PTR, PTR, I64T], [vmctx, memdef, zext(b, delta)]), I32T))

    fn, b = _helper(m, abi.SYM_MEMORY_INIT, VOID, [PTR, PTR, I32T, I32T, I32T])
    vmctx, seg, dst, src, n = fn.args
    call(b, abi.SYM_MEMORY_INIT_ANY, VOID, [PTR, PTR, PTR, I64T, I32T, I32T],
         [vmctx, field(b, vmctx, abi.VM_MEMORY, PTR), seg, zext(b, dst), src, n])
    b.ret_void()

    fn, b = _helper(m, abi.SYM_MEMORY_COPY, VOID, [PTR, I32T, I32T, I32T])
    vmctx, dst, src, n = fn.args
    memdef = field(b, vmctx, abi.VM_MEMORY, PTR)
    call(b, abi.SYM_MEMORY_COPY_ANY, VOID, [PTR, PTR, PTR, I64T, I64T, I64T],
         [vmctx, memdef, memdef, zext(b, dst), zext(b, src), zext(b, n)])
    b.ret_void()

    fn, b = _helper(m, abi.SYM_MEMORY_FILL, VOID, [PTR, I32T, I32T, I32T])
    vmctx, dst, value, n = fn.args
    call(b, abi.SYM_MEMORY_FILL_ANY, VOID, [PTR, PTR, I64T, I32T, I64T],
         [vmctx, field(b, vmctx, abi.VM_MEMORY, PTR), zext(b, dst), value, zext(b, n)])
    b.ret_void()


def _slot(b: ir.IRBuilder, values, i: int):
    return field_ptr(b, values, i * abi.VALUE_SLOT_SIZE)


def build_entry_trampoline(m: ir.Module, ft: FuncType, guard: bool = False,
                           return_registers: tuple[int, int, int] | None = None) -> str:
    name = abi.entry_symbol(ft)
    if name in m.globals:
        return name
    fn = get_function(m, name, ir.FunctionType(I32T, [PTR, PTR, PTR]))
    fn.attributes.add("nounwind")
    vmctx, code, values = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    jmpbuf = alloca_bytes(b, JMPBUF_SIZE)
    runtime = field(b, vmctx, abi.VM_RUNTIME, PTR)
    old_buf = field(b, runtime, abi.RT_JMPBUF, PTR)
    old_limit = field(b, runtime, abi.RT_STACK_LIMIT, I64T)
    old_handler = field(b, runtime, abi.RT_HANDLER, PTR)
    restore_current = _make_current(b, runtime) if guard else None
    setjmp = get_function(m, "_setjmp", ir.FunctionType(I32T, [PTR]), hidden=False)
    setjmp.attributes.add("returns_twice")
    setjmp.attributes.add("nounwind")
    status = b.call(setjmp, [jmpbuf])  # returns_twice comes from the declaration
    run = fn.append_basic_block("run")
    trapped = fn.append_basic_block("trapped")
    b.cbranch(b.icmp_unsigned("==", status, ir.Constant(I32T, 0)), run, trapped)

    tb = ir.IRBuilder(trapped)
    tb.store(old_buf, field_ptr(tb, runtime, abi.RT_JMPBUF))
    tb.store(old_limit, field_ptr(tb, runtime, abi.RT_STACK_LIMIT))
    tb.store(old_handler, field_ptr(tb, runtime, abi.RT_HANDLER))
    if restore_current:
        restore_current(tb)
    tb.ret(tb.trunc(field(tb, runtime, abi.RT_TRAP_CODE, I64T), I32T))

    b.position_at_end(run)
    b.store(jmpbuf, field_ptr(b, runtime, abi.RT_JMPBUF))
    # Exception handlers of the code that called the host function that called us do not see
    # exceptions of this entry: they reach it, and go on as Python exceptions.
    b.store(ir.Constant(PTR, None), field_ptr(b, runtime, abi.RT_HANDLER))
    # The outermost entry sets the stack limit: this frame's address minus the budget.
    here = b.ptrtoint(jmpbuf, I64T)
    budget = field(b, runtime, abi.RT_STACK_BUDGET, I64T)
    fresh = b.sub(here, budget)
    floor = field(b, runtime, abi.RT_STACK_FLOOR, I64T)  # never below the thread's own stack
    fresh = b.select(b.icmp_unsigned(">", fresh, floor), fresh, floor)
    limit = b.select(b.icmp_unsigned("==", old_limit, ir.Constant(I64T, 0)), fresh, old_limit)
    b.store(limit, field_ptr(b, runtime, abi.RT_STACK_LIMIT))
    args = [b.load(_slot(b, values, i), typ=LLVM_TYPES[t]) for i, t in enumerate(ft.params)]
    callee = FunctionPointer(code, wasm_function_type(ft, return_registers))
    if results_in_memory(ft.results, return_registers):
        b.call(callee, [vmctx, values] + args)  # the arguments are loaded: the slots are free
    elif len(ft.results) == 1:
        b.store(b.call(callee, [vmctx] + args), _slot(b, values, 0))
    else:
        result = b.call(callee, [vmctx] + args)
        for i in range(len(ft.results)):
            b.store(b.extract_value(result, i), _slot(b, values, i))
    b.store(old_buf, field_ptr(b, runtime, abi.RT_JMPBUF))
    b.store(old_limit, field_ptr(b, runtime, abi.RT_STACK_LIMIT))
    b.store(old_handler, field_ptr(b, runtime, abi.RT_HANDLER))
    if restore_current:
        restore_current(b)
    # The outermost entry says when exception objects are left for the loader to collect.
    outermost = b.icmp_unsigned("==", old_limit, ir.Constant(I64T, 0))
    leftover = b.icmp_unsigned("!=", field(b, runtime, abi.RT_EXNS, PTR), ir.Constant(PTR, None))
    b.ret(b.select(b.and_(outermost, leftover), ir.Constant(I32T, abi.ENTRY_COLLECT), ir.Constant(I32T, 0)))
    return name


def _make_current(b: ir.IRBuilder, runtime):
    """Make `runtime` the thread's current Runtime (the fault handler's pthread key); gives a
    function that emits the restoring of the previous one (a host function may have entered
    another store)."""
    m = b.module
    getspecific = get_function(m, "pthread_getspecific", ir.FunctionType(PTR, [I32T]), hidden=False)
    setspecific = get_function(m, "pthread_setspecific", ir.FunctionType(I32T, [I32T, PTR]), hidden=False)
    key = signal_key(b)
    previous = b.call(getspecific, [key])
    b.call(setspecific, [key, runtime])
    return lambda builder: builder.call(setspecific, [key, previous])


def build_host_trampoline(m: ir.Module, ft: FuncType, tail_calls: bool = False,
                          return_registers: tuple[int, int, int] | None = None) -> str:
    """Also adds its tail entry (abi.tail_symbol): tailcc if `tail_calls` (the target has them),
    else of the C convention and never called."""
    name = abi.host_symbol(ft)
    if name in m.globals:
        return name
    fn = get_function(m, name, wasm_function_type(ft, return_registers))
    in_memory = results_in_memory(ft.results, return_registers)
    from .tailcall import TAIL_CC, add_entry
    add_entry(m, fn, abi.tail_symbol(name), TAIL_CC if tail_calls else "")
    fn.attributes.add("nounwind")
    hostrec = fn.args[0]
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    count = max(len(ft.params), len(ft.results), 1)
    values = alloca_bytes(b, count * abi.VALUE_SLOT_SIZE)
    for i, arg in enumerate(fn.args[2 if in_memory else 1:]):
        b.store(arg, _slot(b, values, i))
    runtime = field(b, hostrec, abi.HOST_RUNTIME, PTR)
    hook = field(b, runtime, abi.RT_HOST_CALL, PTR)
    status = b.call(FunctionPointer(hook, ir.FunctionType(I32T, [PTR, PTR])), [hostrec, values])
    _trap_unless_status(fn, b, status)
    results = load_results(b, values, ft.results)
    if in_memory:
        store_results(b, fn.args[1], results)
        b.ret_void()
    elif not results:
        b.ret_void()
    elif len(results) == 1:
        b.ret(results[0])
    else:
        agg = ir.Constant(result_type(ft.results), ir.Undefined)
        for i, v in enumerate(results):
            agg = b.insert_value(agg, v, i)
        b.ret(agg)
    return name


def _trap_unless_status(fn: ir.Function, b: ir.IRBuilder, status) -> None:
    """Continue only if the host hook said HOST_CALL_OK. Anything else traps: the hook's failure
    code, or 0, which is what ctypes returns when the call into Python itself failed."""
    good = fn.append_basic_block("ok")
    bad = fn.append_basic_block("trap")
    throw = fn.append_basic_block("throw")
    b.cbranch(b.icmp_unsigned("==", status, ir.Constant(I32T, abi.HOST_CALL_OK)), good, bad)
    tb = ir.IRBuilder(bad)
    thrown = tb.icmp_unsigned("==", status, ir.Constant(I32T, abi.HOST_CALL_THROW))
    trap = fn.append_basic_block("trap_host")
    tb.cbranch(thrown, throw, trap)
    tb.position_at_end(trap)
    tb.call(_declare_trap(fn.module), [fn.args[0], ir.Constant(I32T, abi.TRAP_HOST)])
    tb.unreachable()
    # The host function threw a wasm exception (the hook left it in RT_EXN): on into wasm code.
    tb.position_at_end(throw)
    runtime = field(tb, fn.args[0], abi.HOST_RUNTIME, PTR)
    tb.call(declare_throw(fn.module), [fn.args[0], field(tb, runtime, abi.RT_EXN, PTR)])
    tb.unreachable()
    b.position_at_end(good)
