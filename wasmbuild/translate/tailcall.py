"""Tail calls: `return_call`, `return_call_indirect` and `return_call_ref` (handlers merged into the
translator's dispatch table, as `TAIL_CALL_DISPATCH`).

Takes the translator (`function._Translator`) with the callee's arguments on its stack; gives a
`tail call tailcc` followed by `ret`. Every compiled wasm function (and host trampoline) has the
`tailcc` convention where the target guarantees tail calls (`targets.Target.tail_calls`), under
which LLVM makes such a call a jump whatever the two prototypes, so a chain of tail calls, also
between functions of different signatures or of different modules (through import slots and
funcrefs), runs in constant stack. Where the target cannot, and where the results would be
returned through memory (more than `Target.return_registers`, which no tail call survives), the
function is refused with an error naming the target rather than compiled into one that grows the
stack. The callee's own prologue checks the stack limit as any call's does.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract import opcodes as ops
from ..contract.types import FuncType
from ..errors import WasmbuildError
from .irtypes import F32T, F64T, LLVM_TYPES, V128T


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
            f"{ops.name(op)}: a callee with results {ft} cannot be tail-called on "
            f"{options.target_name}: at most {max_ints} integer or reference and {max_floats} "
            f"float or vector results are returned in registers, more go through memory, which a tail call "
            f"cannot keep")


def emit_tail_call(t, op, callee, cvmctx, ft: FuncType) -> None:
    """Tail-call `callee` (a function or `FunctionPointer`) with `cvmctx` and the arguments on the
    stack, returning its results; the rest of the block is dead."""
    _check_can_tail_call(t, op, ft)
    args = t.popn(len(ft.params))
    # `tail`, not `musttail`: under tailcc LLVM guarantees a `tail` call in tail position, and on
    # x86-64 lowers it with the return address moved for a callee with a different argument area;
    # its `musttail` lowering assumes equal prototypes and leaves the caller's stack arguments
    # behind (measured, LLVM 22).
    result = t.b.call(callee, [cvmctx] + args, cconv=t.cc, tail="tail")
    if isinstance(result.type, ir.VoidType):
        t.b.ret_void()
    else:
        t.b.ret(result)
    t.set_dead()


def op_return_call(t, op, index) -> None:
    emit_tail_call(t, op, *t.direct_callee(index))


def op_return_call_indirect(t, op, imm) -> None:
    emit_tail_call(t, op, *t.indirect_callee(imm))


TAIL_CALL_DISPATCH = {
    ops.RETURN_CALL: op_return_call,
    ops.RETURN_CALL_INDIRECT: op_return_call_indirect,
}  # (return_call_ref is with the typed function references, in funcref.py)
