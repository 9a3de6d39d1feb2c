"""Tail calls: `return_call`, `return_call_indirect` (and, with funcref.py, `return_call_ref`), and
the two entry points of every compiled function (handlers merged into the translator's dispatch
table, as `TAIL_CALL_DISPATCH`).

Takes the translator (`function._Translator`) with the callee's arguments on its stack; gives a
`tail call tailcc` of the callee's tail entry followed by `ret`. LLVM makes such a call a jump
whatever the two prototypes only between functions of the `tailcc` convention, whose x86-64
lowering costs every call and return a stack adjustment (callee-popped, 16-byte aligned argument
areas). So the convention is chosen per function (docs/architecture.md, "Tail calls"): a function
that makes tail calls is compiled with tailcc as its *tail entry* `abi.tail_symbol(symbol)`, and
its ordinary (C convention) entry `symbol` is a small wrapper that calls it; every other function
is compiled with the C convention, and its tail entry is a wrapper (`add_entry`). Records of
callees (import slots, FuncRef records) hold both entries. A chain of tail calls between functions
that make them runs in constant stack, also between different signatures and modules; a chain
ending in a function that makes none leaves one wrapper frame, once.

Results that do not fit the return registers would be returned through memory the caller
provides, in the caller's frame, which a jump cannot keep; so such a result list is returned
through a results area in both entries of every function of it (irtypes.results_in_memory), and
since `return_call*` needs the callee's results to be the caller's, a tail call passes its own
incoming area on: the chain stays one of jumps whatever the results. Where the target cannot
guarantee tail calls (targets.Target.tail_calls) the function is refused with an error naming the
target rather than compiled into one that grows the stack. The callee's own prologue checks the
stack limit as any call's does.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract import opcodes as ops
from ..contract.types import FuncType
from ..errors import WasmbuildError
from .irtypes import results_in_memory

TAIL_CC = "tailcc"
TAIL_CALL_OPS = frozenset((ops.RETURN_CALL, ops.RETURN_CALL_INDIRECT, ops.RETURN_CALL_REF))


class TailCallUnsupportedError(WasmbuildError):
    """A tail call that the target cannot make in constant stack."""

    phase = "unsupported"


def _check_can_tail_call(t, op, ft: FuncType) -> None:
    options = t.info.options
    if not options.tail_calls:
        raise TailCallUnsupportedError(
            f"{ops.name(op)}: the target ({options.target_name}) does not guarantee tail calls "
            f"(LLVM has no tailcc with guaranteed tail calls there)")


def emit_tail_call(t, op, callee, cvmctx, ft: FuncType) -> None:
    """Tail-call `callee` (a tail entry: a function or `FunctionPointer`) with `cvmctx` and the
    arguments on the stack, returning its results; the rest of the block is dead."""
    _check_can_tail_call(t, op, ft)
    args = t.popn(len(ft.params))
    if results_in_memory(ft.results, t.regs):
        # The callee's results are this function's (validation), so they go where ours go.
        assert t.results_area is not None, "a results area is passed on to a callee of the same ABI"
        args = [t.results_area] + args
    # `tail`, not `musttail`: under tailcc LLVM guarantees a `tail` call in tail position, and on
    # x86-64 lowers it with the return address moved for a callee with a different argument area;
    # its `musttail` lowering assumes equal prototypes and leaves the caller's stack arguments
    # behind (measured, LLVM 22).
    result = t.b.call(callee, [cvmctx] + args, cconv=TAIL_CC, tail="tail")
    if isinstance(result.type, ir.VoidType):
        t.b.ret_void()
    else:
        t.b.ret(result)
    t.set_dead()


def op_return_call(t, op, index) -> None:
    emit_tail_call(t, op, *t.direct_callee(index, tail=True))


def op_return_call_indirect(t, op, imm) -> None:
    emit_tail_call(t, op, *t.indirect_callee(imm, tail=True))


def add_entry(m: ir.Module, fn: ir.Function, name: str, cc: str) -> ir.Function:
    """Add `name`, an entry point of convention `cc` ("" or tailcc) to `fn` (the other one):
    it passes its arguments on and returns `fn`'s results."""
    entry = ir.Function(m, fn.function_type, name)
    entry.linkage = "hidden"
    entry.calling_convention = cc
    entry.attributes.add("nounwind")
    b = ir.IRBuilder(entry.append_basic_block("entry"))
    result = b.call(fn, list(entry.args))
    if isinstance(result.type, ir.VoidType):
        b.ret_void()
    else:
        b.ret(result)
    return entry


TAIL_CALL_DISPATCH = {
    ops.RETURN_CALL: op_return_call,
    ops.RETURN_CALL_INDIRECT: op_return_call_indirect,
}  # (return_call_ref is with the typed function references, in funcref.py)
