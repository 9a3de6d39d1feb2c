"""Exception handling: the translation of throw, throw_ref, try_table (the standard encoding) and
try/catch/catch_all/rethrow/delegate (the legacy one), and the runtime helpers they call.

How exceptions unwind (see also `docs/exceptions.md`): a function with a try region keeps a handler
record (`abi.HR_*`) in its frame for each of them. Entering the region links the record into the
Runtime's chain (`RT_HANDLER`) and `_setjmp`s its jmp_buf; leaving it by any edge (its end, a
branch out, `return`) unlinks it again. `throw` makes an exception object (`wb_rt_exn_new`, the
payload in value slots) and calls `wb_rt_throw`, which unlinks the innermost record and `_longjmp`s
to it, or, with no record left in this entry, records TRAP_EXCEPTION and unwinds to the entry
trampoline like a trap (the loader then raises `WasmException`). The landing code after `_setjmp`
compares the exception's tag with the clauses' tags in order, branches to the label of the first
that matches with the payload (and the exnref) on the stack, and throws the exception on when none
does. Traps never look at handler records: they go straight to the entry, which restores the chain.

A landing is reached from the `_setjmp`, so in LLVM's view locals have the values they had on entry
to the region: a local that a region's body writes lives in memory and every access to it is
volatile (`locals_written_in_regions`), so a handler sees what the body last stored. Operand stack values
below the region are SSA values defined before the `_setjmp` and stay valid. Functions without a
try region are translated exactly as before and pay nothing.

Memory: an exception delivered only by its values (`catch`, `catch_all`) is freed at once unless it
has escaped (a `catch_ref`/`catch_all_ref` or a legacy catch, whose `rethrow` may name it later,
sets EXN_ESCAPED); escaped ones stay on the Runtime's list until the outermost entry returns and the
loader frees those that no global or table holds (`loader/runtime.py`).

`build_exception_runtime(llmodule)` adds the helpers; `EH_DISPATCH` maps opcodes to the translator's
handlers, merged into its dispatch table.
"""

from __future__ import annotations

from llvmlite import ir

from ..contract import abi
from ..contract import opcodes as ops
from ..contract.types import EXNREF
from . import refs
from .irtypes import I8, I32T, I64T, LLVM_TYPES, NULL, PTR, VOID, field, field_ptr, get_function

# The opcodes that make a function keep its locals in memory (they open a region with a handler).
TRY_OPS = frozenset((ops.TRY_TABLE, ops.TRY))


# Tail calls (when the tail-call proposal defines them): they leave every region of the function, so
# the translator unlinks the records before their handlers run (see `leave_regions`).
TAIL_CALLS = frozenset(ops.OPCODES[name] for name in ("RETURN_CALL", "RETURN_CALL_INDIRECT", "RETURN_CALL_REF")
                       if name in ops.OPCODES)


def uses_exceptions(instrs) -> bool:
    return any(op in TRY_OPS for op, _imm, _offset in instrs)


_PLAIN_BLOCKS = frozenset((ops.BLOCK, ops.LOOP, ops.IF))


def locals_written_in_regions(instrs) -> frozenset[int]:
    """The locals that `local.set`/`local.tee` write inside the body of a try region (not in a
    legacy catch body, which runs after the landing): only their values at a throw can differ from
    their values at the region's `_setjmp`, so only they must live in memory."""
    open_blocks: list[bool] = []  # per open block: whether it is a region's body
    inside = 0
    written = set()
    for op, imm, _offset in instrs:
        if op in _PLAIN_BLOCKS:
            open_blocks.append(False)
        elif op in TRY_OPS:
            open_blocks.append(True)
            inside += 1
        elif op == ops.CATCH or op == ops.CATCH_ALL:
            if open_blocks and open_blocks[-1]:
                open_blocks[-1] = False
                inside -= 1
        elif op == ops.END or op == ops.DELEGATE:
            if open_blocks and open_blocks.pop():
                inside -= 1
        elif (op == ops.LOCAL_SET or op == ops.LOCAL_TEE) and inside:
            written.add(imm)
    return frozenset(written)


# --- runtime helpers -------------------------------------------------------------------------------

def _declare(m: ir.Module, name: str, ret: ir.Type, args: list, noreturn: bool = False) -> ir.Function:
    fn = get_function(m, name, ir.FunctionType(ret, args))
    fn.attributes.add("nounwind")
    if noreturn:
        fn.attributes.add("noreturn")
    return fn


def declare_throw(m: ir.Module) -> ir.Function:
    return _declare(m, abi.SYM_THROW, VOID, [PTR, PTR], noreturn=True)


def declare_release(m: ir.Module) -> ir.Function:
    return _declare(m, abi.SYM_EXN_RELEASE, VOID, [PTR, PTR, I64T, PTR])


def build_exception_runtime(m: ir.Module) -> None:
    """wb_rt_throw, wb_rt_exn_new and wb_rt_exn_release (their contract is in abi.py)."""
    longjmp = get_function(m, "_longjmp", ir.FunctionType(VOID, [PTR, I32T]), hidden=False)
    longjmp.attributes.add("noreturn")
    longjmp.attributes.add("nounwind")
    trap_detail = _declare(m, abi.SYM_TRAP_DETAIL, VOID, [PTR, I32T, I64T], noreturn=True)
    trap = _declare(m, abi.SYM_TRAP, VOID, [PTR, I32T], noreturn=True)
    malloc = get_function(m, "malloc", ir.FunctionType(PTR, [I64T]), hidden=False)
    free = get_function(m, "free", ir.FunctionType(VOID, [PTR]), hidden=False)

    # wb_rt_throw(ctx, exn): unlink the innermost handler record and jump to it, or without one
    # unwind to the entry trampoline with TRAP_EXCEPTION.
    fn = declare_throw(m)
    ctx, exn = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    runtime = field(b, ctx, abi.VM_RUNTIME, PTR)
    b.store(exn, field_ptr(b, runtime, abi.RT_EXN))
    handler = field(b, runtime, abi.RT_HANDLER, PTR)
    to_handler = fn.append_basic_block("handler")
    to_entry = fn.append_basic_block("entry_trampoline")
    b.cbranch(b.icmp_unsigned("==", handler, NULL), to_entry, to_handler)
    b.position_at_end(to_entry)
    b.call(trap_detail, [ctx, ir.Constant(I32T, abi.TRAP_EXCEPTION), ir.Constant(I64T, -1)])
    b.unreachable()
    b.position_at_end(to_handler)
    b.store(field(b, handler, abi.HR_PREV, PTR), field_ptr(b, runtime, abi.RT_HANDLER))
    b.call(longjmp, [field_ptr(b, handler, abi.HR_JMPBUF), ir.Constant(I32T, 1)])
    b.unreachable()

    # wb_rt_exn_new(ctx, tag, n): a fresh exception of `tag` with room for n values, at the head of
    # the Runtime's list; traps if there is no memory for it.
    fn = _declare(m, abi.SYM_EXN_NEW, PTR, [PTR, PTR, I32T])
    ctx, tag, n = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    size = b.add(b.mul(b.zext(n, I64T), ir.Constant(I64T, abi.VALUE_SLOT_SIZE)), ir.Constant(I64T, abi.EXN_VALUES))
    exn = b.call(malloc, [size])
    ok = fn.append_basic_block("ok")
    oom = fn.append_basic_block("oom")
    b.cbranch(b.icmp_unsigned("==", exn, NULL), oom, ok)
    ob = ir.IRBuilder(oom)
    ob.call(trap, [ctx, ir.Constant(I32T, abi.TRAP_EXCEPTION_MEMORY)])
    ob.unreachable()
    b.position_at_end(ok)
    runtime = field(b, ctx, abi.VM_RUNTIME, PTR)
    head = field(b, runtime, abi.RT_EXNS, PTR)
    b.store(head, field_ptr(b, exn, abi.EXN_NEXT))
    b.store(NULL, field_ptr(b, exn, abi.EXN_PREV))
    b.store(tag, field_ptr(b, exn, abi.EXN_TAG))
    b.store(ir.Constant(I64T, 0), field_ptr(b, exn, abi.EXN_FLAGS))
    link = fn.append_basic_block("link")
    done = fn.append_basic_block("done")
    b.cbranch(b.icmp_unsigned("==", head, NULL), done, link)
    b.position_at_end(link)
    b.store(exn, field_ptr(b, head, abi.EXN_PREV))
    b.branch(done)
    b.position_at_end(done)
    b.store(exn, field_ptr(b, runtime, abi.RT_EXNS))
    b.ret(exn)

    # wb_rt_exn_release(ctx, exn, holds, thrown): take `holds` off its flags; unlink and free it
    # if no hold and no escape is left, unless it is `thrown` (being thrown: the throw owns it).
    fn = declare_release(m)
    ctx, exn, holds, thrown = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    flags = b.sub(field(b, exn, abi.EXN_FLAGS, I64T), holds)
    b.store(flags, field_ptr(b, exn, abi.EXN_FLAGS))
    keep = fn.append_basic_block("keep")
    release = fn.append_basic_block("release")
    held = b.icmp_unsigned("!=", flags, ir.Constant(I64T, 0))
    b.cbranch(b.or_(held, b.icmp_unsigned("==", exn, thrown)), keep, release)
    ir.IRBuilder(keep).ret_void()
    b.position_at_end(release)
    runtime = field(b, ctx, abi.VM_RUNTIME, PTR)
    nxt = field(b, exn, abi.EXN_NEXT, PTR)
    prev = field(b, exn, abi.EXN_PREV, PTR)
    prev_link = b.select(b.icmp_unsigned("==", prev, NULL), field_ptr(b, runtime, abi.RT_EXNS),
                         field_ptr(b, prev, abi.EXN_NEXT))
    b.store(nxt, prev_link)
    fix_next = fn.append_basic_block("fix_next")
    freeing = fn.append_basic_block("free")
    b.cbranch(b.icmp_unsigned("==", nxt, NULL), freeing, fix_next)
    b.position_at_end(fix_next)
    b.store(prev, field_ptr(b, nxt, abi.EXN_PREV))
    b.branch(freeing)
    b.position_at_end(freeing)
    b.call(free, [exn])
    b.ret_void()

    _build_collect(m, free)


def _build_collect(m: ir.Module, free: ir.Function) -> None:
    """wb_rt_exn_collect(runtime, live, n): free every exception on the Runtime's list that is not
    in `live` (n addresses, sorted ascending), keeping the others in their order."""
    fn = _declare(m, abi.SYM_EXN_COLLECT, VOID, [PTR, PTR, I64T])
    runtime, live, n = fn.args
    entry = fn.append_basic_block("entry")
    head = fn.append_basic_block("next_object")
    load_next = fn.append_basic_block("load_next")
    search = fn.append_basic_block("search")
    probe = fn.append_basic_block("probe")
    narrow = fn.append_basic_block("narrow")
    keep = fn.append_basic_block("keep")
    drop = fn.append_basic_block("drop")
    step = fn.append_basic_block("step")
    done = fn.append_basic_block("done")
    b = ir.IRBuilder(entry)
    first = field(b, runtime, abi.RT_EXNS, PTR)
    b.branch(head)

    b.position_at_end(head)
    exn = b.phi(PTR)
    prev = b.phi(PTR)  # the last object kept
    exn.add_incoming(first, entry)
    prev.add_incoming(NULL, entry)
    b.cbranch(b.icmp_unsigned("==", exn, NULL), done, load_next)
    b.position_at_end(load_next)
    nxt = field(b, exn, abi.EXN_NEXT, PTR)
    b.branch(search)

    b.position_at_end(search)  # binary search of exn in live[lo:hi]
    lo = b.phi(I64T)
    hi = b.phi(I64T)
    lo.add_incoming(ir.Constant(I64T, 0), load_next)
    hi.add_incoming(n, load_next)
    b.cbranch(b.icmp_unsigned("<", lo, hi), probe, drop)
    b.position_at_end(probe)
    mid = b.lshr(b.add(lo, hi), ir.Constant(I64T, 1))
    value = b.load(b.gep(live, [mid], source_etype=I64T), typ=I64T)
    address = b.ptrtoint(exn, I64T)
    b.cbranch(b.icmp_unsigned("==", value, address), keep, narrow)
    b.position_at_end(narrow)
    below = b.icmp_unsigned("<", value, address)
    lo.add_incoming(b.select(below, b.add(mid, ir.Constant(I64T, 1)), lo), narrow)
    hi.add_incoming(b.select(below, hi, mid), narrow)
    b.branch(search)

    b.position_at_end(keep)
    b.store(prev, field_ptr(b, exn, abi.EXN_PREV))
    link = b.select(b.icmp_unsigned("==", prev, NULL), field_ptr(b, runtime, abi.RT_EXNS),
                    field_ptr(b, prev, abi.EXN_NEXT))
    b.store(exn, link)
    b.branch(step)
    b.position_at_end(drop)
    b.call(free, [exn])
    b.branch(step)

    b.position_at_end(step)
    kept = b.phi(PTR)
    kept.add_incoming(exn, keep)
    kept.add_incoming(prev, drop)
    exn.add_incoming(nxt, step)
    prev.add_incoming(kept, step)
    b.branch(head)

    b.position_at_end(done)
    link = b.select(b.icmp_unsigned("==", prev, NULL), field_ptr(b, runtime, abi.RT_EXNS),
                    field_ptr(b, prev, abi.EXN_NEXT))
    b.store(NULL, link)
    b.ret_void()


# --- translation ---------------------------------------------------------------------------------

class Region:
    """What a frame of a try_table or legacy try adds (`_Frame.eh`): its handler record, the
    previous record (restored when the region is left), whether the record is linked (in the body;
    not in a legacy catch body), the stack below the region (what a landing branches with), and for
    legacy try the exception a catch body handles and the block where the next catch's test goes
    (None once `catch_all` or `delegate` closed the chain)."""

    __slots__ = ("record", "prev", "active", "base", "exn", "dispatch")

    def __init__(self, record, prev, base):
        self.record = record
        self.prev = prev
        self.active = True
        self.base = base
        self.exn = None
        self.dispatch = None


def _runtime(t):
    return t.vmfield(t.vmctx, abi.VM_RUNTIME, PTR)


def _set_handler(t, value) -> None:
    t.tagged(t.b.store(value, field_ptr(t.b, _runtime(t), abi.RT_HANDLER)), "vm")


def _tag_ptr(t, index: int):
    return t.vmfield(t.vmctx, t.sym(refs.TAG, index), PTR)


def _payload(t, exn, tag_index: int) -> list:
    types = t.info.types[t.info.tags[tag_index]].params
    return [t.b.load(field_ptr(t.b, exn, abi.EXN_VALUES + i * abi.VALUE_SLOT_SIZE), typ=LLVM_TYPES[ty])
            for i, ty in enumerate(types)]


def _mark_escaped(t, exn) -> None:
    ptr = field_ptr(t.b, exn, abi.EXN_FLAGS)
    t.b.store(t.b.or_(t.b.load(ptr, typ=I64T), ir.Constant(I64T, abi.EXN_ESCAPED)), ptr)


def _add_hold(t, exn) -> None:
    """A legacy catch body holds its exception (a rethrow in it may name it)."""
    ptr = field_ptr(t.b, exn, abi.EXN_FLAGS)
    t.b.store(t.b.add(t.b.load(ptr, typ=I64T), ir.Constant(I64T, abi.EXN_HOLD)), ptr)


def _release(t, exn, holds: int, thrown=NULL) -> None:
    """Take `holds` holds off `exn` and free it if nothing is left (unless it is `thrown`)."""
    t.b.call(declare_release(t.m), [t.vmctx, exn, ir.Constant(I64T, holds * abi.EXN_HOLD), thrown])


def _in_handler(frame) -> bool:
    """Whether `frame` is a legacy try in one of its catch bodies (which holds its exception)."""
    return frame.eh is not None and frame.eh.exn is not None and frame.op in (ops.CATCH, ops.CATCH_ALL)


def _throw(t, exn) -> None:
    t.b.call(declare_throw(t.m), [t.vmctx, exn])
    t.b.unreachable()


def leave_regions(t, target_index: int) -> None:
    """Before a branch to the frame at `target_index` (0: the function body, i.e. return): release
    the exceptions of the legacy catch bodies it leaves, and unlink the records of the regions it
    leaves (every one from that frame inwards; a region is never a loop, so a branch to a region's
    own label leaves it)."""
    left = t.frames[target_index:]
    for frame in reversed(left):
        if _in_handler(frame):
            _release(t, frame.eh.exn, 1)
    for frame in left:
        region = frame.eh
        if region is not None and region.active:
            _set_handler(t, region.prev)  # the outermost one left: its predecessor
            return


def _leave_handlers_by_throw(t, thrown) -> None:
    """Before a throw in this function: the legacy catch bodies inside the innermost linked region
    (or in the whole function without one) are surely left, whatever catches the exception, so
    they release their exceptions; `thrown` (which may be one of them, even of several: a rethrown
    exception caught again) is owned by the throw from then on and not freed. (Catch bodies of
    callers that the exception unwinds keep theirs until the loader collects.)"""
    _leave_handlers_from(t, len(t.frames) - 1, thrown)


def _leave_handlers_from(t, start: int, thrown) -> None:
    """Release the exceptions of the legacy catch bodies in frames[start], frames[start - 1], ...
    up to the innermost linked region among them."""
    for frame in reversed(t.frames[:start + 1]):
        if frame.eh is not None and frame.eh.active:
            break
        if _in_handler(frame):
            _release(t, frame.eh.exn, 1, thrown)


def end_region(t, frame) -> None:
    """At the `end` (or `delegate`) of a region's frame, before the fallthrough edge: unlink its
    record, and let a legacy landing whose chain no catch_all closed throw the exception on."""
    region = frame.eh
    if not t.dead and region.active:
        _set_handler(t, region.prev)
    if not t.dead and _in_handler(frame):
        _release(t, region.exn, 1)
    region.active = False
    if region.dispatch is not None:
        here = t.b.block
        t.b.position_at_end(region.dispatch)
        _leave_handlers_by_throw(t, region.exn)  # the try's frame is popped: its context
        _throw(t, region.exn)
        region.dispatch = None
        t.b.position_at_end(here)


def _enter_region(t, op, imm):
    """Open the frame of a try_table or try: link a handler record and `_setjmp`. Returns the frame
    (not yet pushed) and the landing block; the builder is left in the body."""
    from .function import _Frame  # the translator's frame type (function.py imports this module)

    bt = imm[0] if op == ops.TRY_TABLE else imm
    params, results = t.block_signature(bt)
    height = len(t.stack) - len(params)
    frame = _Frame(op, params, results, height, t.fn.append_basic_block())
    # The record is a static alloca of the entry block, so a region in a loop reuses it.
    eb = ir.IRBuilder(t.entry)
    eb.position_at_start(t.entry)
    record = eb.alloca(ir.ArrayType(I8, abi.HANDLER_SIZE))
    record.align = 16
    record.type = PTR
    runtime = _runtime(t)
    slot = field_ptr(t.b, runtime, abi.RT_HANDLER)
    prev = t.tagged(t.b.load(slot, typ=PTR), "vm")
    t.b.store(prev, field_ptr(t.b, record, abi.HR_PREV))
    t.tagged(t.b.store(record, slot), "vm")
    setjmp = get_function(t.m, "_setjmp", ir.FunctionType(I32T, [PTR]), hidden=False)
    setjmp.attributes.add("returns_twice")
    setjmp.attributes.add("nounwind")
    status = t.b.call(setjmp, [field_ptr(t.b, record, abi.HR_JMPBUF)])
    body = t.fn.append_basic_block("try")
    landing = t.fn.append_basic_block("landing")
    t.b.cbranch(t.b.icmp_unsigned("==", status, ir.Constant(I32T, 0)), body, landing)
    t.b.position_at_end(body)
    frame.eh = Region(record, prev, t.stack[:height])
    return frame, landing


def _branch_from_landing(t, base, values, label: int) -> None:
    """Branch to `label` (of the region's context) with the stack below the region and `values`."""
    saved = t.stack
    t.stack = list(base) + list(values)
    t.branch_to(label)
    t.stack = saved


def op_try_table(t, op, imm) -> None:
    _bt, clauses = imm
    frame, landing = _enter_region(t, op, imm)
    body = t.b.block
    t.b.position_at_end(landing)
    # The thrower has unlinked this record already; the clauses' labels are those of the context.
    exn = t.tagged(t.b.load(field_ptr(t.b, _runtime(t), abi.RT_EXN), typ=PTR), "vm")
    for kind, tag, label in clauses:
        if tag is not None:
            exn_tag = t.b.load(field_ptr(t.b, exn, abi.EXN_TAG), typ=PTR)
            match = t.fn.append_basic_block("catch")
            nomatch = t.fn.append_basic_block("next")
            t.b.cbranch(t.b.icmp_unsigned("==", exn_tag, _tag_ptr(t, tag)), match, nomatch)
            t.b.position_at_end(match)
            values = _payload(t, exn, tag)
        else:
            nomatch = None
            values = []
        if kind == ops.CLAUSE_CATCH_REF or kind == ops.CLAUSE_CATCH_ALL_REF:
            _mark_escaped(t, exn)
            values.append(exn)
        else:
            _release(t, exn, 0)
        _branch_from_landing(t, frame.eh.base, values, label)
        if nomatch is None:
            break  # a catch_all: later clauses are never reached
        t.b.position_at_end(nomatch)
    else:
        _leave_handlers_by_throw(t, exn)  # the try_table's frame is not pushed yet: its context
        _throw(t, exn)
    t.b.position_at_end(body)
    t.frames.append(frame)


def op_try(t, op, imm) -> None:
    frame, landing = _enter_region(t, op, imm)
    body = t.b.block
    t.b.position_at_end(landing)
    frame.eh.exn = t.tagged(t.b.load(field_ptr(t.b, _runtime(t), abi.RT_EXN), typ=PTR), "vm")
    frame.eh.dispatch = landing
    t.b.position_at_end(body)
    t.frames.append(frame)


def op_catch(t, op, imm) -> None:
    """`catch x` / `catch_all`: end the try body (or the previous catch body) and start a handler
    that the landing's chain of tag tests reaches."""
    frame = t.frames[-1]
    region = frame.eh
    if not t.dead:
        if region.active:
            _set_handler(t, region.prev)
        elif _in_handler(frame):
            _release(t, region.exn, 1)
        t.add_incoming(frame, t.stack[len(t.stack) - len(frame.results):] if frame.results else [])
        t.b.branch(frame.end)
    region.active = False
    del t.stack[frame.height:]
    t.dead = False
    handler = t.fn.append_basic_block("catch")
    if region.dispatch is None:  # after a catch_all: a handler no exception reaches
        t.b.position_at_end(handler)
        t.b.unreachable()
        t.set_dead()
        frame.op = op
        return
    t.b.position_at_end(region.dispatch)
    exn = region.exn
    if op == ops.CATCH:
        exn_tag = t.b.load(field_ptr(t.b, exn, abi.EXN_TAG), typ=PTR)
        nomatch = t.fn.append_basic_block("next")
        t.b.cbranch(t.b.icmp_unsigned("==", exn_tag, _tag_ptr(t, imm)), handler, nomatch)
        region.dispatch = nomatch
        t.b.position_at_end(handler)
        t.stack.extend(_payload(t, exn, imm))
    else:
        t.b.branch(handler)
        region.dispatch = None
        t.b.position_at_end(handler)
    _add_hold(t, exn)
    frame.op = op


def op_delegate(t, op, label) -> None:
    """`delegate l`: end the try; its landing throws the exception on to the regions that enclose
    label l (of the try's context), leaving the ones in between."""
    frame = t.frames[-1]
    region = frame.eh
    here = t.b.block
    t.b.position_at_end(region.dispatch)
    target_index = len(t.frames) - 2 - label
    for outer in reversed(t.frames[target_index + 1:-1]):  # left: release what they hold
        if _in_handler(outer):
            _release(t, outer.eh.exn, 1, region.exn)
    _leave_handlers_from(t, target_index, region.exn)     # and beyond, as a throw at the label
    for outer in t.frames[target_index + 1:-1]:
        if outer.eh is not None and outer.eh.active:
            _set_handler(t, outer.eh.prev)
            break
    _throw(t, region.exn)
    region.dispatch = None
    t.b.position_at_end(here)
    t.op_end(ops.END, None)


def op_rethrow(t, op, label) -> None:
    exn = t.frames[-1 - label].eh.exn
    _leave_handlers_by_throw(t, exn)
    _throw(t, exn)
    t.set_dead()


def op_throw(t, op, tag) -> None:
    values = t.popn(len(t.info.types[t.info.tags[tag]].params))
    new = _declare(t.m, abi.SYM_EXN_NEW, PTR, [PTR, PTR, I32T])
    exn = t.b.call(new, [t.vmctx, _tag_ptr(t, tag), ir.Constant(I32T, len(values))])
    for i, v in enumerate(values):
        t.b.store(v, field_ptr(t.b, exn, abi.EXN_VALUES + i * abi.VALUE_SLOT_SIZE))
    _leave_handlers_by_throw(t, exn)
    _throw(t, exn)
    t.set_dead()


def op_throw_ref(t, op, imm) -> None:
    exn = t.pop()
    t.trap_if(t.b.icmp_unsigned("==", exn, NULL), abi.TRAP_NULL_EXCEPTION)
    _leave_handlers_by_throw(t, exn)
    _throw(t, exn)
    t.set_dead()


EH_DISPATCH = {
    ops.THROW: op_throw, ops.THROW_REF: op_throw_ref, ops.TRY_TABLE: op_try_table, ops.TRY: op_try,
    ops.CATCH: op_catch, ops.CATCH_ALL: op_catch, ops.DELEGATE: op_delegate, ops.RETHROW: op_rethrow,
}
assert EXNREF in LLVM_TYPES
