"""Validate a decoded `Module` against the WebAssembly 2.0 rules and those of the 3.0 proposals it enables.

`validate_module(module)` checks everything: the module-level rules (`check_module_level`, which
returns the `Context` that function validation needs) and then every function body
(`validate_function`). The two halves are separate so that an incremental build can validate only
the functions whose cached results it cannot reuse.

Function bodies are checked with the operand-stack algorithm of the spec's appendix: a stack of value
types and a stack of control frames (`_Frame`), with the stack becoming polymorphic after
`unreachable`, `br`, `br_table` and `return`. A function may have at most `MAX_FUNCTION_LOCALS` locals,
parameters included ("too many locals", wasmtime's limit). Errors raise `InvalidError` naming the file,
function index, instruction offset and the reason in the spec's wording.
"""

from __future__ import annotations

from bisect import bisect_right

from ..contract import opcodes as ops
from ..contract.opcodes import (BLOCK, BR, BR_IF, BR_TABLE, CALL, CALL_INDIRECT, CATCH, CATCH_ALL, CLAUSE_CATCH_ALL_REF,
                                CLAUSE_CATCH_REF, DELEGATE, DROP, ELSE, END, RETHROW, THROW, THROW_REF, TRY, TRY_TABLE,
                                GLOBAL_GET, GLOBAL_SET, IF, LOCAL_GET, LOCAL_SET,
                                LOCAL_TEE, LOOP, NOP, REF_FUNC, REF_IS_NULL, REF_NULL, RETURN, RETURN_CALL,
                                RETURN_CALL_INDIRECT, SELECT, SELECT_T, CALL_REF, RETURN_CALL_REF, REF_AS_NON_NULL,
                                BR_ON_NULL, BR_ON_NON_NULL,
                                TABLE_FILL, TABLE_GET, TABLE_GROW, TABLE_SET, UNREACHABLE)
from ..binary.decode import FunctionCode, decode_function
from ..contract.types import HT_EXN, RefType, is_defaultable, is_ref, matches, ref_parts, ref_type
from ..contract.types import (EXNREF, EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_NAMES, EXTERN_TABLE, EXTERN_TAG, F32, F64, FUNCREF, I32, I64, REF_TYPES, V128, FuncType, type_name)
from ..binary.types import ACTIVE, ConstExpr, Module
from ..contract import features as F
from ..errors import InvalidError, MalformedError
from .constexpr import check_const_expr
from .memory import (MEMORY_KINDS, check_memory_type, check_table_type, memory_signature, table_copy_signature,
                     table_init_signature)

NON_NULL_EXNREF = ref_type(False, HT_EXN)  # what catch_ref and catch_all_ref deliver
UNKNOWN = 0  # the bottom type of a polymorphic stack: matches anything
_NUMERIC_OR_VECTOR = frozenset((I32, I64, F32, F64, V128, UNKNOWN))
_REF_OR_UNKNOWN = REF_TYPES | {UNKNOWN}
_EMPTY: tuple = ()
_LEGACY_TRY_FRAMES = frozenset((TRY, CATCH, CATCH_ALL))  # a legacy try block, in its body or a handler
# Locals of one function, parameters included (wasmtime's limit too): every local is a stack slot of
# the compiled function, so a larger count is refused rather than compiled into a huge frame.
MAX_FUNCTION_LOCALS = 50_000


class Context:
    """What function validation needs to know about the module (the spec's context C)."""

    def __init__(self, m: Module):
        self.module = m
        self.filename = m.filename
        self.types: list[FuncType] = m.types
        self.funcs: list[int] = m.all_func_types()
        self.tables = m.all_tables()
        self.memories = m.all_memories()
        self.globals = m.all_globals()
        self.num_imported_globals = sum(1 for imp in m.imports if imp.kind == EXTERN_GLOBAL)
        self.num_imported_funcs = m.num_imported_funcs
        self.elem_types = [e.elem_type for e in m.elems]
        self.num_datas = m.data_count if m.data_count is not None else len(m.datas)
        self.tags: list[int] = m.all_tags()  # type index of each tag
        self.refs = _declared_refs(m)

    def error(self, reason: str, offset: int | None = None, func: int | None = None) -> InvalidError:
        return InvalidError(reason, file=self.filename, offset=offset, func=func)


def _declared_refs(m: Module) -> set[int]:
    """Function indices that may appear in `ref.func` inside bodies (the spec's C.refs)."""
    return segment_refs(m) | {e.index for e in m.exports if e.kind == EXTERN_FUNC}


def segment_refs(m: Module) -> set[int]:
    """Functions named by element segments and by `ref.func` in global initialisers."""
    refs: set[int] = set()
    exprs: list[ConstExpr] = [g.init for g in m.globals] + [e for e in m.table_inits if e is not None]
    for seg in m.elems:
        if seg.init_is_exprs:
            exprs.extend(seg.init)
        else:
            refs.update(seg.init)
    for expr in exprs:
        for op, imm, _ in expr.instrs:
            if op == REF_FUNC:
                refs.add(imm)
    return refs


# ---------------------------------------------------------------------------------------------
# Module level
# ---------------------------------------------------------------------------------------------

def validate_module(m: Module) -> Context:
    """Validate the whole module; returns its Context. Raises InvalidError (or MalformedError for a
    body that does not decode)."""
    ctx = check_module_level(m)
    for i in range(len(m.bodies)):
        try:
            validate_function(ctx, i)
        except InvalidError:
            # Decoding errors come before validation errors: make sure no later body is malformed.
            for j in range(i, len(m.bodies)):
                try:
                    decode_function(m, j)
                except MalformedError as e:
                    raise e.located(func=ctx.num_imported_funcs + j) from None
            raise
    return ctx


def check_module_level(m: Module) -> Context:
    """Check every rule that does not look inside function bodies; returns the Context."""
    ctx = Context(m)
    err = ctx.error
    ntypes = len(m.types)
    for imp in m.imports:
        if imp.kind == EXTERN_FUNC:
            if imp.desc >= ntypes:
                raise err(f"unknown type {imp.desc}", imp.offset)
        elif imp.kind == EXTERN_TABLE:
            check_table_type(ctx, imp.desc, imp.offset)
        elif imp.kind == EXTERN_MEMORY:
            check_memory_type(ctx, imp.desc, imp.offset)
        elif imp.kind == EXTERN_TAG:
            _check_tag_type(ctx, imp.desc, imp.offset)
    for t, offset in zip(m.tags, m.tag_offsets):
        _check_tag_type(ctx, t, offset)
    for t, offset in zip(m.func_type_indices, m.func_type_offsets):
        if t >= ntypes:
            raise err(f"unknown type {t}", offset)
    for table, init, offset in zip(m.tables, m.table_inits, m.table_offsets):
        check_table_type(ctx, table, offset)
        if init is not None:  # the table section comes before the globals: only imported ones are known
            check_const_expr(ctx, init, table.elem, globals_before=ctx.num_imported_globals)
        elif not is_defaultable(table.elem):
            raise err("type mismatch", offset)  # a table of non-null references needs an initialiser
    for mem, offset in zip(m.memories, m.memory_offsets):
        check_memory_type(ctx, mem, offset)
    if len(ctx.memories) > 1:
        F.require(m.features, F.MULTI_MEMORY, "a second memory", reason="multiple memories", file=m.filename,
                  offset=m.memory_offsets[-1] if m.memory_offsets else None, error=InvalidError)
    for i, g in enumerate(m.globals):
        check_const_expr(ctx, g.init, g.type.valtype, ctx.num_imported_globals + i)
    for seg in m.elems:
        if seg.mode == ACTIVE:
            if seg.table >= len(ctx.tables):
                raise err(f"unknown table {seg.table}", seg.offset)
            if not matches(seg.elem_type, ctx.tables[seg.table].elem):
                raise err("type mismatch", seg.offset)
            check_const_expr(ctx, seg.offset_expr, ctx.tables[seg.table].addr)
        if seg.init_is_exprs:
            for expr in seg.init:
                check_const_expr(ctx, expr, seg.elem_type)
        else:
            for f in seg.init:
                if f >= len(ctx.funcs):
                    raise err(f"unknown function {f}", seg.offset)
    for seg in m.datas:
        if seg.mode == ACTIVE:
            if seg.memory >= len(ctx.memories):
                raise err(f"unknown memory {seg.memory}", seg.offset)
            check_const_expr(ctx, seg.offset_expr, ctx.memories[seg.memory].addr)
    if m.start is not None:
        if m.start >= len(ctx.funcs):
            raise err(f"unknown function {m.start}", m.start_offset)
        if ctx.types[ctx.funcs[m.start]] != FuncType((), ()):
            raise err("start function must have type [] -> []", m.start_offset)
    seen: set[str] = set()
    spaces = {EXTERN_FUNC: ctx.funcs, EXTERN_TABLE: ctx.tables, EXTERN_MEMORY: ctx.memories,
              EXTERN_GLOBAL: ctx.globals, EXTERN_TAG: ctx.tags}
    for exp in m.exports:
        if exp.name in seen:
            raise err(f"duplicate export name {exp.name!r}", exp.offset)
        seen.add(exp.name)
        if exp.index >= len(spaces[exp.kind]):
            raise err(f"unknown {_SPACE_NAMES[exp.kind]} {exp.index}", exp.offset)
    return ctx


_SPACE_NAMES = {EXTERN_FUNC: "function", EXTERN_TABLE: "table", EXTERN_MEMORY: "memory",
                EXTERN_GLOBAL: "global", EXTERN_TAG: "tag"}
assert set(EXTERN_NAMES) == {"func", "table", "memory", "global", "tag"}


def _check_tag_type(ctx: Context, type_index: int, offset: int | None) -> None:
    if type_index >= len(ctx.types):
        raise ctx.error(f"unknown type {type_index}", offset)
    if ctx.types[type_index].results:
        raise ctx.error("non-empty tag result type", offset)


# ---------------------------------------------------------------------------------------------
# Function bodies
# ---------------------------------------------------------------------------------------------

_SIG = ops.SIGNATURES
_LANES = ops.LANES
_IMM = ops.IMMEDIATES


class _Frame:
    """A control frame: the instruction that opened it (BLOCK, LOOP or IF, ELSE once an `if` has seen
    its `else`; BLOCK for the function body), its parameter and result types, the height of the operand
    stack at its start, and whether the rest of it is unreachable (its stack is polymorphic)."""

    __slots__ = ("op", "params", "results", "height", "unreachable", "init_height")

    def __init__(self, op: int, params: tuple, results: tuple, height: int):
        self.op = op
        self.params = params
        self.results = results
        self.height = height
        self.unreachable = False
        self.init_height = 0  # locals initialised before it (non-defaultable ones, see _check_body)

    def label_types(self) -> tuple:
        """The types a branch to this frame passes: a loop's parameters, or the results."""
        return self.params if self.op == LOOP else self.results


class _Locals:
    """Types of a function's locals (params first), without expanding huge local declarations."""

    __slots__ = ("flat", "starts", "types", "count")

    def __init__(self, params: tuple[int, ...], runs: tuple[tuple[int, int], ...], total: int):
        self.count = len(params) + total
        if self.count <= 4096:
            flat = list(params)
            for n, t in runs:
                flat.extend([t] * n)
            self.flat = flat
        else:
            self.flat = None
            starts, types, at = [], [], 0
            for p in params:
                starts.append(at)
                types.append(p)
                at += 1
            for n, t in runs:
                if n:
                    starts.append(at)
                    types.append(t)
                    at += n
            self.starts, self.types = starts, types

    def type_of(self, index: int) -> int | None:
        if index >= self.count:
            return None
        if self.flat is not None:
            return self.flat[index]
        return self.types[bisect_right(self.starts, index) - 1]


def validate_function(ctx: Context, defined_index: int, code: FunctionCode | None = None) -> FunctionCode:
    """Validate defined function `defined_index`; returns its decoded code for reuse."""
    m = ctx.module
    func_index = ctx.num_imported_funcs + defined_index
    try:
        if code is None:
            code = decode_function(m, defined_index)
        ftype = ctx.types[ctx.funcs[func_index]]
        count = len(ftype.params) + code.num_locals
        if count > MAX_FUNCTION_LOCALS:
            raise ctx.error(f"too many locals: {count} with the parameters, at most {MAX_FUNCTION_LOCALS}",
                            m.bodies[defined_index].offset)
        _check_body(ctx, ftype, code)
    except (InvalidError, MalformedError) as e:
        raise e.located(file=ctx.filename, func=func_index)
    return code


def _block_type(ctx: Context, bt, offset: int) -> tuple[tuple, tuple]:
    if bt is None:
        return _EMPTY, _EMPTY
    if type(bt) is not tuple:  # a value type (a RefType is a tuple of its own type)
        return _EMPTY, (bt,)
    idx = bt[1]
    if idx >= len(ctx.types):
        raise ctx.error(f"unknown type {idx}", offset)
    ft = ctx.types[idx]
    return ft.params, ft.results


def _check_body(ctx: Context, ftype: FuncType, code: FunctionCode) -> None:  # noqa: C901 - one dispatch loop
    err = ctx.error
    local_types = _Locals(ftype.params, code.locals, code.num_locals)
    vals: list[int] = []
    ctrls: list[_Frame] = [_Frame(BLOCK, _EMPTY, ftype.results, 0)]
    push = vals.append
    pop = vals.pop
    sig_table = _SIG
    funcs, types = ctx.funcs, ctx.types
    tables, globals_ = ctx.tables, ctx.globals
    # Non-defaultable locals (non-nullable references) must be set before they are read; a set
    # inside a block counts until the block ends (`init_log` above each frame's `init_height`).
    num_params = len(ftype.params)
    initialised: set[int] = set()
    init_log: list[int] = []

    def reset_inits(frame):
        if len(init_log) > frame.init_height:
            for index in init_log[frame.init_height:]:
                initialised.discard(index)
            del init_log[frame.init_height:]

    def pop_any(offset):
        frame = ctrls[-1]
        if len(vals) == frame.height:
            if frame.unreachable:
                return UNKNOWN
            raise err("type mismatch", offset)
        return pop()

    def pop_expect(expected, offset):
        frame = ctrls[-1]
        if len(vals) == frame.height:
            if frame.unreachable:
                return UNKNOWN
            raise err("type mismatch", offset)
        actual = pop()
        if actual != expected and actual != UNKNOWN and expected != UNKNOWN and not matches(actual, expected):
            raise err("type mismatch", offset)
        return actual

    def pop_types(expected, offset):
        if not expected:  # the common case of blocks, calls and branches without values
            return _EMPTY
        popped = [pop_expect(t, offset) for t in reversed(expected)]
        popped.reverse()
        return popped

    def pop_ref(offset):
        """Pop a reference (or the bottom type of an unreachable stack)."""
        t = pop_any(offset)
        if t != UNKNOWN and not is_ref(t):
            raise err("type mismatch", offset)
        return t

    def non_null(t):
        return t if t == UNKNOWN else ref_type(False, ref_parts(t)[1])

    def check_tail_results(callee, offset):
        """A tail call returns the callee's results from this function."""
        if len(callee.results) != len(ftype.results) or any(
                not matches(a, b) for a, b in zip(callee.results, ftype.results)):
            raise err("type mismatch", offset)

    def set_unreachable():
        frame = ctrls[-1]
        del vals[frame.height:]
        frame.unreachable = True

    def finish_call(callee, tail, offset):
        """After a call's own operands: take the callee's arguments; a tail call then returns the
        callee's results from this function, any other call pushes them."""
        pop_types(callee.params, offset)
        if tail:
            check_tail_results(callee, offset)
            set_unreachable()
        else:
            vals.extend(callee.results)

    def need_table(index, offset):
        if index >= len(tables):
            raise err(f"unknown table {index}", offset)
        return tables[index]

    # Exception handling.
    def need_tag(index, offset):
        if index >= len(ctx.tags):
            raise err(f"unknown tag {index}", offset)
        return types[ctx.tags[index]].params

    def names(ts):
        return " ".join(map(type_name, ts))

    def pop_worded(expected, offset):
        """pop_types, with the reference interpreter's wording of a mismatch (the legacy exception
        tests name it)."""
        before = vals[ctrls[-1].height:]
        try:
            return pop_types(expected, offset)
        except InvalidError:
            have = before[-len(expected):] if expected else []
            raise err(f"type mismatch: instruction requires [{names(expected)}] but stack has [{names(have)}]",
                      offset) from None

    def end_worded(frame, offset):
        """The end of a legacy try or catch body, worded as pop_worded."""
        before = vals[frame.height:]
        pop_worded(frame.results, offset)
        if len(vals) != frame.height:
            raise err(f"type mismatch: block requires [{names(frame.results)}] but stack has [{names(before)}]",
                      offset)

    for op, imm, offset in code.instrs:
        sig = sig_table.get(op)
        if sig is not None:
            # Fixed signature (numeric, vector, most memory ops): extra checks for immediates first.
            kind = _IMM[op]
            if kind:
                if kind in MEMORY_KINDS:
                    sig = memory_signature(ctx, op, kind, imm, offset)
                    if kind == "memarg_lane" and imm[1] >= _LANES[op]:
                        raise err("invalid lane index", offset)
                elif kind == "lane":
                    if imm >= _LANES[op]:
                        raise err("invalid lane index", offset)
                elif kind == "shuffle":
                    if any(lane >= 32 for lane in imm):
                        raise err("invalid lane index", offset)
                elif kind == "data":
                    if imm >= ctx.num_datas:
                        raise err(f"unknown data segment {imm}", offset)
                elif kind == "elem_table":
                    elem, table = imm
                    tt = need_table(table, offset)
                    if elem >= len(ctx.elem_types):
                        raise err(f"unknown elem segment {elem}", offset)
                    if not matches(ctx.elem_types[elem], tt.elem):
                        raise err("type mismatch", offset)
                    sig = table_init_signature(tt)
                elif kind == "elem":
                    if imm >= len(ctx.elem_types):
                        raise err(f"unknown elem segment {imm}", offset)
                elif kind == "table_table":
                    dst = need_table(imm[0], offset)
                    src = need_table(imm[1], offset)
                    if not matches(src.elem, dst.elem):
                        raise err("type mismatch", offset)
                    sig = table_copy_signature(dst, src)
                elif kind == "table":  # table.size
                    if need_table(imm, offset).addr == I64:
                        sig = (_EMPTY, (I64,))
            params, results = sig
            frame = ctrls[-1]
            n = len(params)
            if n:
                if len(vals) - frame.height >= n:
                    # Fast path: enough known operands on the stack.
                    for t in reversed(params):
                        actual = pop()
                        if actual != t and actual != UNKNOWN:
                            raise err("type mismatch", offset)
                else:
                    pop_types(params, offset)
            if results:
                vals.extend(results)
            continue

        if op == LOCAL_GET:
            t = local_types.type_of(imm)
            if t is None:
                raise err(f"unknown local {imm}", offset)
            if type(t) is RefType and not t.nullable and imm >= num_params and imm not in initialised:
                raise err("uninitialized local", offset)
            push(t)
        elif op == LOCAL_SET or op == LOCAL_TEE:
            t = local_types.type_of(imm)
            if t is None:
                raise err(f"unknown local {imm}", offset)
            pop_expect(t, offset)
            if type(t) is RefType and not t.nullable and imm not in initialised:
                initialised.add(imm)
                init_log.append(imm)
            if op == LOCAL_TEE:
                push(t)
        elif op == GLOBAL_GET:
            if imm >= len(globals_):
                raise err(f"unknown global {imm}", offset)
            push(globals_[imm].valtype)
        elif op == GLOBAL_SET:
            if imm >= len(globals_):
                raise err(f"unknown global {imm}", offset)
            if not globals_[imm].mutable:
                # The 3.0 spec words it "immutable global"; a 2.0 engine (no proposal on) as 2.0 did.
                raise err("immutable global" if ctx.module.features else "global is immutable", offset)
            pop_expect(globals_[imm].valtype, offset)
        elif op == CALL:
            if imm >= len(funcs):
                raise err(f"unknown function {imm}", offset)
            ft = types[funcs[imm]]
            pop_types(ft.params, offset)
            vals.extend(ft.results)
        elif op == BLOCK or op == LOOP or op == IF or op == TRY:
            params, results = _block_type(ctx, imm, offset)
            if op == IF:
                pop_expect(I32, offset)
            pop_types(params, offset)
            frame = _Frame(op, params, results, len(vals))
            frame.init_height = len(init_log)
            ctrls.append(frame)
            vals.extend(params)
        elif op == END:
            frame = ctrls[-1]
            if frame.op in _LEGACY_TRY_FRAMES:
                end_worded(frame, offset)
            else:
                pop_types(frame.results, offset)
                if len(vals) != frame.height:
                    raise err("type mismatch", offset)
            if frame.op == IF and frame.params != frame.results:
                # An `if` without `else` passes its parameters through as its results.
                raise err("type mismatch", offset)
            reset_inits(frame)
            ctrls.pop()
            vals.extend(frame.results)
            if not ctrls:
                return
        elif op == ELSE:
            frame = ctrls[-1]
            pop_types(frame.results, offset)
            if len(vals) != frame.height:
                raise err("type mismatch", offset)
            frame.op = ELSE
            reset_inits(frame)
            frame.unreachable = False
            vals.extend(frame.params)
        elif op == BR:
            if imm >= len(ctrls):
                raise err(f"unknown label {imm}", offset)
            pop_types(ctrls[-1 - imm].label_types(), offset)
            set_unreachable()
        elif op == BR_IF:
            if imm >= len(ctrls):
                raise err(f"unknown label {imm}", offset)
            pop_expect(I32, offset)
            lt = ctrls[-1 - imm].label_types()
            pop_types(lt, offset)
            vals.extend(lt)
        elif op == BR_TABLE:
            labels, default = imm
            pop_expect(I32, offset)
            if default >= len(ctrls):
                raise err(f"unknown label {default}", offset)
            arity = len(ctrls[-1 - default].label_types())
            for label in labels:
                if label >= len(ctrls):
                    raise err(f"unknown label {label}", offset)
                lt = ctrls[-1 - label].label_types()
                if len(lt) != arity:
                    raise err("type mismatch", offset)
                vals.extend(pop_types(lt, offset))
            pop_types(ctrls[-1 - default].label_types(), offset)
            set_unreachable()
        elif op == RETURN:
            pop_types(ftype.results, offset)
            set_unreachable()
        elif op == UNREACHABLE:
            set_unreachable()
        elif op == THROW:
            pop_worded(need_tag(imm, offset), offset)
            set_unreachable()
        elif op == THROW_REF:
            pop_expect(EXNREF, offset)
            set_unreachable()
        elif op == TRY_TABLE:
            bt, clauses = imm
            params, results = _block_type(ctx, bt, offset)
            for kind, tag, label in clauses:
                # A clause's label is one of the try_table's context, not the try_table itself.
                if label >= len(ctrls):
                    raise err(f"unknown label {label}", offset)
                delivered = need_tag(tag, offset) if tag is not None else _EMPTY
                if kind == CLAUSE_CATCH_REF or kind == CLAUSE_CATCH_ALL_REF:
                    delivered = tuple(delivered) + (NON_NULL_EXNREF,)  # never null
                label_types = tuple(ctrls[-1 - label].label_types())
                if len(label_types) != len(delivered) or not all(map(matches, delivered, label_types)):
                    raise err("type mismatch", offset)
            pop_types(params, offset)
            frame = _Frame(op, params, results, len(vals))
            frame.init_height = len(init_log)
            ctrls.append(frame)
            vals.extend(params)
        elif op == CATCH or op == CATCH_ALL:
            frame = ctrls[-1]
            if frame.op != TRY and frame.op != CATCH:
                raise err(f"{ops.name(op)} found outside of a try block", offset)
            end_worded(frame, offset)
            frame.op = op
            frame.unreachable = False
            reset_inits(frame)
            if op == CATCH:
                vals.extend(need_tag(imm, offset))
        elif op == DELEGATE:
            frame = ctrls[-1]
            if frame.op != TRY:
                raise err("delegate found outside of a try block", offset)
            end_worded(frame, offset)
            ctrls.pop()
            if imm >= len(ctrls):
                raise err(f"unknown label {imm}", offset)
            vals.extend(frame.results)
        elif op == RETHROW:
            if imm >= len(ctrls):
                raise err(f"unknown label {imm}", offset)
            if ctrls[-1 - imm].op != CATCH and ctrls[-1 - imm].op != CATCH_ALL:
                raise err("invalid rethrow label", offset)
            set_unreachable()
        elif op == NOP:
            pass
        elif op == DROP:
            pop_any(offset)
        elif op == SELECT:  # numeric or vector operands
            pop_expect(I32, offset)
            t1 = pop_any(offset)
            t2 = pop_any(offset)
            if t1 not in _NUMERIC_OR_VECTOR or t2 not in _NUMERIC_OR_VECTOR:
                raise err("type mismatch", offset)
            if t1 != t2 and t1 != UNKNOWN and t2 != UNKNOWN:
                raise err("type mismatch", offset)
            push(t2 if t1 == UNKNOWN else t1)
        elif op == SELECT_T:
            if len(imm) != 1:
                raise err("invalid result arity", offset)
            t = imm[0]
            pop_expect(I32, offset)
            pop_expect(t, offset)
            pop_expect(t, offset)
            push(t)
        elif op == RETURN_CALL:
            if imm >= len(funcs):
                raise err(f"unknown function {imm}", offset)
            finish_call(types[funcs[imm]], True, offset)
        elif op == CALL_INDIRECT or op == RETURN_CALL_INDIRECT:
            type_index, table_index = imm
            tt = need_table(table_index, offset)
            if not matches(tt.elem, FUNCREF):
                raise err("type mismatch", offset)
            if type_index >= len(types):
                raise err(f"unknown type {type_index}", offset)
            pop_expect(tt.addr, offset)
            finish_call(types[type_index], op == RETURN_CALL_INDIRECT, offset)
        elif op == CALL_REF or op == RETURN_CALL_REF:
            if imm >= len(types):
                raise err(f"unknown type {imm}", offset)
            ft = types[imm]
            pop_expect(ref_type(True, ft), offset)
            finish_call(ft, op == RETURN_CALL_REF, offset)
        elif op == REF_AS_NON_NULL:
            push(non_null(pop_ref(offset)))
        elif op == BR_ON_NULL:
            if imm >= len(ctrls):
                raise err(f"unknown label {imm}", offset)
            t = pop_ref(offset)
            lt = ctrls[-1 - imm].label_types()
            pop_types(lt, offset)
            vals.extend(lt)
            push(non_null(t))
        elif op == BR_ON_NON_NULL:
            if imm >= len(ctrls):
                raise err(f"unknown label {imm}", offset)
            t = pop_ref(offset)
            lt = ctrls[-1 - imm].label_types()
            if not lt or (lt[-1] != UNKNOWN and not is_ref(lt[-1])):
                raise err("type mismatch", offset)
            push(non_null(t))
            pop_types(lt, offset)
            vals.extend(lt[:-1])
        elif op == TABLE_GET:
            tt = need_table(imm, offset)
            pop_expect(tt.addr, offset)
            push(tt.elem)
        elif op == TABLE_SET:
            tt = need_table(imm, offset)
            pop_expect(tt.elem, offset)
            pop_expect(tt.addr, offset)
        elif op == REF_NULL:
            push(imm)
        elif op == REF_IS_NULL:
            t = pop_any(offset)
            if t != UNKNOWN and not is_ref(t):
                raise err("type mismatch", offset)
            push(I32)
        elif op == REF_FUNC:
            if imm >= len(funcs):
                raise err(f"unknown function {imm}", offset)
            if imm not in ctx.refs:
                raise err(f"undeclared function reference {imm}", offset)
            push(ref_type(False, types[funcs[imm]]))
        elif op == TABLE_GROW:
            tt = need_table(imm, offset)
            pop_expect(tt.addr, offset)
            pop_expect(tt.elem, offset)
            push(tt.addr)
        elif op == TABLE_FILL:
            tt = need_table(imm, offset)
            pop_expect(tt.addr, offset)
            pop_expect(tt.elem, offset)
            pop_expect(tt.addr, offset)
        else:  # pragma: no cover - the decoder only produces opcodes handled above
            raise err(f"unhandled instruction {ops.name(op)}", offset)
    raise err("function body does not end", None)
