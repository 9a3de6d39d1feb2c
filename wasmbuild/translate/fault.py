"""The fault handler of guard-page memories, written in LLVM IR like the other runtime helpers.

`build_fault_handler(llmodule, target)` adds `void wb_rt_on_fault(i32 sig, ptr info, ptr ucontext)`,
the SIGSEGV/SIGBUS handler (`SA_SIGINFO`) that the loader installs once per process
(`loader/signals.py`). Compiled code with guard-page memories (`abi.BOUNDS_GUARD`) checks no
bounds: an access out of bounds touches the inaccessible part of the memory's reservation and
faults. The handler reads the interrupted program counter from the ucontext (at the target's
`ucontext_pc_offset`); if it lies in loaded wasm code (the SignalState's ranges) and the thread is
running wasm code (the SignalState's pthread key gives the thread's Runtime, whose stack limit is
set), it records "out of bounds memory access" and `_longjmp`s to the innermost entry trampoline,
as a trap does. Any other fault goes to the handler that was installed before (its `sa_sigaction`
or `sa_handler`), or, if that was the default action, the default action is restored and the
faulting instruction runs again to meet it.

No Python runs on this path, and the handler reads nothing the faulting code may have left
inconsistent: the ranges array is replaced as a whole (one pointer store) when images come and go.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract import abi
from ..contract.targets import Target
from .irtypes import I32T, I64T, PTR, VOID, FunctionPointer, field, field_ptr, get_function

_SIG_DFL = 0
_SIG_IGN = 1


def _signal_state(m: ir.Module) -> ir.GlobalVariable:
    """The process's SignalState: an external symbol that the loader resolves."""
    gv = m.globals.get(abi.SYM_SIGNAL_STATE)
    if gv is None:
        gv = ir.GlobalVariable(m, ir.ArrayType(ir.IntType(8), abi.SIGNAL_STATE_SIZE), abi.SYM_SIGNAL_STATE)
        gv.linkage = "external"
    return gv


def signal_key(b: ir.IRBuilder) -> ir.Value:
    """The pthread key that holds the thread's current Runtime (an entry trampoline sets it)."""
    return field(b, _signal_state(b.module), abi.SIG_KEY, I32T)


def build_fault_handler(m: ir.Module, target: Target) -> None:
    handler = get_function(m, abi.SYM_ON_FAULT, ir.FunctionType(VOID, [I32T, PTR, PTR]), hidden=False)
    handler.attributes.add("nounwind")
    sig, info, uctx = handler.args
    getspecific = get_function(m, "pthread_getspecific", ir.FunctionType(PTR, [I32T]), hidden=False)
    longjmp = get_function(m, "_longjmp", ir.FunctionType(VOID, [PTR, I32T]), hidden=False)
    longjmp.attributes.add("noreturn")
    signal = get_function(m, "signal", ir.FunctionType(PTR, [I32T, PTR]), hidden=False)
    state = _signal_state(m)

    entry = handler.append_basic_block("entry")
    head = handler.append_basic_block("scan")
    check = handler.append_basic_block("check")
    next_range = handler.append_basic_block("next")
    in_wasm = handler.append_basic_block("in_wasm")
    trap = handler.append_basic_block("trap")
    chain = handler.append_basic_block("chain")

    b = ir.IRBuilder(entry)
    pc = field(b, uctx, target.ucontext_pc_offset, I64T)
    ranges = field(b, state, abi.SIG_RANGES, PTR)
    count = b.load(ranges, typ=I64T)
    b.branch(head)

    b.position_at_end(head)
    i = b.phi(I64T)
    i.add_incoming(ir.Constant(I64T, 0), entry)
    b.cbranch(b.icmp_unsigned("<", i, count), check, chain)

    b.position_at_end(check)
    start_index = b.add(b.mul(i, ir.Constant(I64T, 2)), ir.Constant(I64T, 1))
    start = b.load(b.gep(ranges, [start_index], source_etype=I64T), typ=I64T)
    end = b.load(b.gep(ranges, [b.add(start_index, ir.Constant(I64T, 1))], source_etype=I64T), typ=I64T)
    inside = b.and_(b.icmp_unsigned(">=", pc, start), b.icmp_unsigned("<", pc, end))
    b.cbranch(inside, in_wasm, next_range)

    b.position_at_end(next_range)
    i.add_incoming(b.add(i, ir.Constant(I64T, 1)), next_range)
    b.branch(head)

    # In wasm code: trap if this thread is running wasm code in a store (it always is, unless the
    # fault is a bug of ours; then the previous handler sees it).
    b.position_at_end(in_wasm)
    runtime = b.call(getspecific, [signal_key(b)])
    running = b.icmp_unsigned("!=", runtime, ir.Constant(PTR, None))
    b.cbranch(running, trap, chain)

    b.position_at_end(trap)
    limit = field(b, runtime, abi.RT_STACK_LIMIT, I64T)
    ours = handler.append_basic_block("ours")
    b.cbranch(b.icmp_unsigned("!=", limit, ir.Constant(I64T, 0)), ours, chain)
    b.position_at_end(ours)
    b.store(ir.Constant(I64T, abi.TRAP_MEMORY_OOB), field_ptr(b, runtime, abi.RT_TRAP_CODE))
    b.store(ir.Constant(I64T, -1), field_ptr(b, runtime, abi.RT_TRAP_DETAIL))
    b.call(longjmp, [field(b, runtime, abi.RT_JMPBUF, PTR), ir.Constant(I32T, 1)])
    b.unreachable()

    # Not ours: the previous disposition of this signal.
    b.position_at_end(chain)
    is_bus = b.icmp_unsigned("==", sig, ir.Constant(I32T, abi.SIGBUS))
    prev = b.select(is_bus, field(b, state, abi.SIG_PREV_BUS, PTR), field(b, state, abi.SIG_PREV_SEGV, PTR))
    previous = field(b, prev, 0, PTR)
    flags = field(b, prev, abi.SA_FLAGS_OFFSET, I32T)
    with_info = b.icmp_unsigned("!=", b.and_(flags, ir.Constant(I32T, abi.SA_SIGINFO)), ir.Constant(I32T, 0))
    action = handler.append_basic_block("sigaction")
    plain = handler.append_basic_block("handler")
    default = handler.append_basic_block("default")
    call_plain = handler.append_basic_block("call_handler")
    b.cbranch(with_info, action, plain)

    b.position_at_end(action)
    b.call(FunctionPointer(previous, ir.FunctionType(VOID, [I32T, PTR, PTR])), [sig, info, uctx])
    b.ret_void()

    b.position_at_end(plain)
    number = b.ptrtoint(previous, I64T)
    is_default = b.icmp_unsigned("<=", number, ir.Constant(I64T, _SIG_IGN))  # SIG_DFL, or SIG_IGN
    b.cbranch(is_default, default, call_plain)

    b.position_at_end(call_plain)
    b.call(FunctionPointer(previous, ir.FunctionType(VOID, [I32T])), [sig])
    b.ret_void()

    # The default action (ignoring a fault would run the faulting instruction forever): restore it
    # and return, so that the instruction faults again and the signal takes its default course.
    b.position_at_end(default)
    b.call(signal, [sig, ir.Constant(PTR, None)])
    b.ret_void()

