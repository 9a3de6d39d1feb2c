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

Where the target cannot guarantee tail calls (targets.Target.tail_calls), and where the results
would be returned through memory (more than Target.return_registers, which no tail call
survives), the function is refused with an error naming the target rather than compiled into one
that grows the stack. The callee's own prologue checks the stack limit as any call's does.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract import opcodes as ops
from ..contract.types import FuncType
from ..errors import WasmbuildError
from .irtypes import F32T, F64T, LLVM_TYPES, V128T

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
    ints = floats = 0
    for r in ft.results:
        if LLVM_TYPES[r] in (F32T, F64T, V128T):
            floats += 1
        else:
            ints += 1
    max_ints, max_floats = options.return_registers
    if ints > max_ints or floats > max_floats:
        raise TailCallUnsupportedError(
            f"{ops.name(op)}: a callee with results {ft} cannot be tail-called on {options.target_name}: at most "
            f"{max_ints} integer or reference and {max_floats} float or vector results are returned in registers, "
            f"more go through memory, which a tail call cannot keep")


def emit_tail_call(t, op, callee, cvmctx, ft: FuncType) -> None:
    """Tail-call `callee` (a tail entry: a function or `FunctionPointer`) with `cvmctx` and the
    arguments on the stack, returning its results; the rest of the block is dead."""
    _check_can_tail_call(t, op, ft)
    args = t.popn(len(ft.params))
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
