"""Validation of constant expressions (global initialisers, segment offsets and elements).

`check_const_expr(ctx, expr, expected, globals_before=None)` checks that `expr` is made of constant
instructions only and leaves exactly one value of type `expected`; raises InvalidError.

Wasm 2.0 allows the `*.const` instructions, `ref.null`, `ref.func` and `global.get` of an imported
immutable global. With extended-const (3.0) also `i32/i64.add/sub/mul`, and `global.get` of any
immutable global defined before the one being initialised (`globals_before`: how many globals,
imports first, the expression may read; all of them in segments). With the feature off, those are
refused with the 2.0 reason ("constant expression required", "unknown global N") first.
"""

from __future__ import annotations

from ..binary.types import ConstExpr
from ..contract import features as F
from ..contract import opcodes as ops
from ..contract.types import F32, F64, I32, I64, V128, matches, ref_type
from ..errors import InvalidError

_CONST_PUSH = {ops.I32_CONST: I32, ops.I64_CONST: I64, ops.F32_CONST: F32, ops.F64_CONST: F64,
               ops.V128_CONST: V128}
# The arithmetic extended-const allows: op -> its operand and result type.
EXTENDED_ARITHMETIC = {ops.I32_ADD: I32, ops.I32_SUB: I32, ops.I32_MUL: I32,
                       ops.I64_ADD: I64, ops.I64_SUB: I64, ops.I64_MUL: I64}


def check_const_expr(ctx, expr: ConstExpr, expected: int, globals_before: int | None = None) -> None:
    features = ctx.module.features
    if globals_before is None:
        globals_before = len(ctx.globals)
    stack = []
    for op, imm, offset in expr.instrs:
        if op in _CONST_PUSH:
            stack.append(_CONST_PUSH[op])
        elif op == ops.REF_NULL:
            stack.append(imm)
        elif op == ops.REF_FUNC:
            if imm >= len(ctx.funcs):
                raise ctx.error(f"unknown function {imm}", offset)
            stack.append(ref_type(False, ctx.types[ctx.funcs[imm]]))
        elif op == ops.GLOBAL_GET:
            if imm >= globals_before:
                raise ctx.error(f"unknown global {imm}", offset)
            if imm >= ctx.num_imported_globals:
                F.require(features, F.EXTENDED_CONST, "global.get of a global the module defines in a constant "
                          "expression", reason=f"unknown global {imm}", file=ctx.filename, offset=offset,
                          error=InvalidError)
            if ctx.globals[imm].mutable:
                raise ctx.error("constant expression required", offset)
            stack.append(ctx.globals[imm].valtype)
        elif op in EXTENDED_ARITHMETIC:
            F.require(features, F.EXTENDED_CONST, f"{ops.name(op)} in a constant expression",
                      reason="constant expression required", file=ctx.filename, offset=offset, error=InvalidError)
            t = EXTENDED_ARITHMETIC[op]
            if len(stack) < 2 or stack[-1] != t or stack[-2] != t:
                raise ctx.error("type mismatch", offset)
            stack.pop()
        else:
            raise ctx.error("constant expression required", offset)
    if len(stack) != 1 or not matches(stack[0], expected):
        raise ctx.error("type mismatch", expr.offset)
