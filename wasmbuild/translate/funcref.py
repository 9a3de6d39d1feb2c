"""Typed function references: `call_ref`, `return_call_ref`, `ref.as_non_null`, `br_on_null` and
`br_on_non_null` (handlers merged into the translator's dispatch table, as `FUNCREF_DISPATCH`).

Takes the translator (`function._Translator`) with the operands on its stack; gives IR. A function
reference is, as in 2.0, a pointer to the callee's FuncRef record (abi.FR_*) or null. Validation
has proved the callee's type, so `call_ref` checks only for null ("null function reference") and
calls the record's code with the record's vmctx, like `call_indirect` after its checks;
`return_call_ref` jumps to the record's tail entry (`tailcall.py`).
"""

from __future__ import annotations

from ..contract import abi
from ..contract import opcodes as ops
from .irtypes import NULL, PTR, FunctionPointer, wasm_function_type
from .tailcall import emit_tail_call


def ref_callee(t, type_index: int, tail: bool = False):
    """(callee, its vmctx, its type) of the function reference popped from the stack (traps if
    null); the tail entry if `tail`."""
    ft = t.info.types[type_index]
    ref = t.pop()
    t.trap_if(t.b.icmp_unsigned("==", ref, NULL), abi.TRAP_NULL_FUNCTION_REFERENCE)
    code = t.vmfield(ref, abi.FR_TAIL_CODE if tail else abi.FR_CODE, PTR)
    cvm = t.vmfield(ref, abi.FR_VMCTX, PTR)
    return FunctionPointer(code, wasm_function_type(ft, t.regs)), cvm, ft


def op_call_ref(t, op, type_index) -> None:
    t.emit_call(*ref_callee(t, type_index))


def op_return_call_ref(t, op, type_index) -> None:
    emit_tail_call(t, op, *ref_callee(t, type_index, tail=True))


def op_ref_as_non_null(t, op, imm) -> None:
    t.trap_if(t.b.icmp_unsigned("==", t.stack[-1], NULL), abi.TRAP_NULL_REFERENCE)


def _branch_on(t, depth: int, when_null: bool) -> None:
    """Branch to label `depth` if the reference on top is null (`when_null`) or is not; a null is
    dropped either way, a non-null reference stays (on the branch for br_on_non_null, after it for
    br_on_null)."""
    b = t.b
    ref = t.pop()
    is_null = b.icmp_unsigned("==", ref, NULL)
    taken = t.fn.append_basic_block()
    cont = t.fn.append_basic_block()
    if when_null:
        b.cbranch(is_null, taken, cont)
    else:
        b.cbranch(is_null, cont, taken)
    b.position_at_end(taken)
    if not when_null:
        t.push(ref)
    t.branch_to(depth)
    if not when_null:
        t.pop()
    b.position_at_end(cont)
    if when_null:
        t.push(ref)


def op_br_on_null(t, op, depth) -> None:
    _branch_on(t, depth, True)


def op_br_on_non_null(t, op, depth) -> None:
    _branch_on(t, depth, False)


FUNCREF_DISPATCH = {
    ops.CALL_REF: op_call_ref,
    ops.RETURN_CALL_REF: op_return_call_ref,
    ops.REF_AS_NON_NULL: op_ref_as_non_null,
    ops.BR_ON_NULL: op_br_on_null,
    ops.BR_ON_NON_NULL: op_br_on_non_null,
}
