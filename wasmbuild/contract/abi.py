"""The native ABI shared by compiled code, the runtime helpers, the linker and the loader.

Every compiled wasm function has the native signature `results f(ptr vmctx, params...)`: a single
result is returned as is, several as an LLVM struct, none as void. Values: i32/i64/f32/f64 as
themselves, v128 as <2 x i64>, funcref and externref as pointers (null is 0).

Memory layouts (all little or big endian as the target is, 8-byte fields unless noted):

  Runtime (one per store, shared by all instances; one thread at a time runs wasm code in a store,
  so the landing pad and the stack limit are that thread's):
    RT_JMPBUF       current trap landing pad (a jmp_buf set by the innermost entry trampoline)
    RT_TRAP_CODE    i32 trap code written before unwinding
    RT_STACK_LIMIT  lowest native stack address wasm code may use (0 = not in wasm)
    RT_GROW_MEMORY  i64 (*)(ptr memdef, i64 delta_pages): old size in pages, or -1
    RT_GROW_TABLE   i64 (*)(ptr tabledef, i64 delta, ptr init): old size, or -1
    RT_HOST_CALL    i32 (*)(ptr hostrec, ptr values): HOST_CALL_OK, or anything else to trap
    RT_STACK_BUDGET bytes of native stack wasm code may use below the outermost entry
    RT_TRAP_DETAIL  a number that completes the trap message (the table index of an
                    uninitialized element), or -1
    RT_STACK_FLOOR  lowest address the stack limit may be set to, and the frame of a function with a
                    large frame bound may reach (its guard checks before the frame exists): the
                    calling thread's stack bottom plus a margin, or 0 if unknown
    RT_HANDLER      innermost exception handler record of the current entry (0: none; an entry
                    trampoline clears it and restores it on the way out, so an exception that
                    finds no handler goes to the entry, as a trap does)
    RT_EXN          the exception being thrown (set before unwinding to a handler or the entry)
    RT_EXNS         head of the list of the store's exception objects (see Exception below)
    RT_WAIT         i32 (*)(ptr memdef, i64 address, i64 expected, i64 timeout_ns, i32 bytes):
                    memory.atomic.wait32/64 at an aligned effective address: 0 woken, 1 not
                    equal, 2 timed out, or the negated trap code
    RT_NOTIFY       i32 (*)(ptr memdef, i64 address, i32 count): memory.atomic.notify: the number
                    of waiters woken, or the negated trap code

  SignalState (one per process, the external symbol SYM_SIGNAL_STATE; only code with guard-page
  memories uses it):
    SIG_KEY         u32 pthread key whose value on each thread is the Runtime that thread is
                    running wasm code in (set by the entry trampolines), or null
    SIG_RANGES      ptr to [count, start0, end0, start1, end1, ...] (u64): the address ranges of
                    loaded wasm code; replaced as a whole when images come and go
    SIG_PREV_SEGV   ptr to the struct sigaction that was installed for SIGSEGV before ours
    SIG_PREV_BUS    the same for SIGBUS

  VMContext (one per instance; every "context" pointer, including host records, starts with the
  runtime pointer, so trap code can always find the runtime):
    VM_RUNTIME      ptr Runtime
    VM_MEMORY       ptr MemoryDef of memory 0, or null
    then, in a module with several memories (multi-memory), the MemoryDef pointers of memories
    1, 2, ... (`vm_memory(index)`: fixed offsets, so code needs no symbol for them);
    then per-module fields at offsets given to the linker as absolute symbols (see layout.py)

  MemoryDef: base, size in bytes, maximum pages. The base of a 32-bit memory never moves; that of
  a 64-bit memory (memory64) may move when it grows, so code reloads it after any call.
  TableDef: elements pointer (8-byte slots), size (u32 in an 8-byte field), maximum.
  FuncRef (what a funcref value points to): code, canonical type id (i32 in 8 bytes), vmctx.
  Import slot: code, vmctx. Segment slot: data pointer, length (0 once dropped).
  Host record: runtime, host function id.
  Tag: the canonical type id of its function type (a tag's identity is its address).
  Exception (an exnref points to one; malloc'd by the throw helper or the loader): next, prev
    (the Runtime's list), tag address, flags (EXN_ESCAPED once an exnref to it may exist, plus
    EXN_HOLD per running legacy catch body of it), then the payload in 16-byte value slots. An
    exception is freed when a catch that delivers only its values, or the end of the last legacy
    catch body holding it, leaves its flags 0; the others are freed by the loader when the
    outermost entry returns, unless an exnref global or table of the store still holds them.
  Handler record (a stack slot of a function with try_table or try): the previous record, then a
    jmp_buf the throw helper `_longjmp`s to.
  Value array (trampolines): 16 bytes per value.
  Results area: where a function whose results do not fit the target's return registers
    (irtypes.results_in_memory) returns them, in value slots; its caller passes its address after
    the vmctx, and a tail call passes its own on (entry trampolines pass the value array).
"""

from __future__ import annotations

from .types import FuncType, sig_key

# Bumped whenever compiled code and the loader's runtime structures stop agreeing (field offsets,
# hook protocols); an image made for another ABI version is refused, never run.
ABI_VERSION = 7

PTR_SIZE = 8

RT_JMPBUF = 0
RT_TRAP_CODE = 8
RT_STACK_LIMIT = 16
RT_GROW_MEMORY = 24
RT_GROW_TABLE = 32
RT_HOST_CALL = 40
RT_STACK_BUDGET = 48
RT_TRAP_DETAIL = 56
RT_STACK_FLOOR = 64
RT_HANDLER = 72
RT_EXN = 80
RT_EXNS = 88
RT_WAIT = 96
RT_NOTIFY = 104
RUNTIME_SIZE = 112

SIG_KEY = 0
SIG_RANGES = 8
SIG_PREV_SEGV = 16
SIG_PREV_BUS = 24
SIGNAL_STATE_SIZE = 32

# Linux's signal numbers and glibc's struct sigaction (the same on every 64-bit target wasmbuild
# knows): handler at 0, the mask (128 bytes), then the flags.
SIGBUS = 7
SIGSEGV = 11
SA_FLAGS_OFFSET = 136
SIGACTION_SIZE = 152
SA_SIGINFO = 0x4
SA_ONSTACK = 0x08000000
SA_NODEFER = 0x40000000

# How a compiled function keeps its linear-memory accesses in bounds (`CompileSettings`, the image
# header). BOUNDS_GUARD: a 32-bit memory is reserved with GUARDED_RESERVATION bytes of address
# space, of which only its current size is accessible, so that no address an access can form
# (u32 address + u32 offset + 16 bytes) leaves the reservation; an access out of bounds faults
# and the fault handler turns it into the trap. BOUNDS_EXPLICIT: each access compares its end with
# the memory's size first.
BOUNDS_GUARD = "guard"
BOUNDS_EXPLICIT = "explicit"
BOUNDS_CHECKS = (BOUNDS_GUARD, BOUNDS_EXPLICIT)
GUARDED_RESERVATION = (8 << 30) + (64 << 10)

VM_RUNTIME = 0
VM_MEMORY = 8
VM_HEADER_SIZE = 16


def vm_memory(index: int) -> int:
    """The vmctx offset of memory `index`'s MemoryDef pointer."""
    return VM_MEMORY if index == 0 else VM_HEADER_SIZE + PTR_SIZE * (index - 1)


def vm_memories_size(count: int) -> int:
    """The bytes after the header that a module with `count` memories needs for their pointers."""
    return PTR_SIZE * max(count - 1, 0)

MEM_BASE = 0
MEM_SIZE = 8
MEM_MAX_PAGES = 16
MEMDEF_SIZE = 24

TAB_ELEMS = 0
TAB_SIZE = 8
TAB_MAX = 16
TABDEF_SIZE = 24

# Every wasm function (and host trampoline) has two entry points (docs/architecture.md, "Tail
# calls"): its symbol, with the C convention, for ordinary calls, and `tail_symbol(symbol)`, with
# LLVM's tailcc, for tail calls; records of callees hold both (on targets without guaranteed tail
# calls the tail entry has the C convention and is never called).
FR_CODE = 0
FR_TYPE = 8
FR_VMCTX = 16
FR_TAIL_CODE = 24
FUNCREF_SIZE = 32

IMP_CODE = 0
IMP_VMCTX = 8
IMP_TAIL_CODE = 16
IMPORT_SLOT_SIZE = 24

SEG_PTR = 0
SEG_LEN = 8
SEGMENT_SLOT_SIZE = 16

HOST_RUNTIME = 0
HOST_ID = 8
HOSTREC_SIZE = 16

VALUE_SLOT_SIZE = 16

TAG_TYPE = 0
TAG_SIZE = 16

EXN_NEXT = 0
EXN_PREV = 8
EXN_TAG = 16
EXN_FLAGS = 24
EXN_VALUES = 32  # then VALUE_SLOT_SIZE bytes per payload value
EXN_ESCAPED = 1  # flags: an exnref to it may exist
EXN_HOLD = 2     # flags: one more legacy catch body that may rethrow it is running

HR_PREV = 0
HR_JMPBUF = 16
JMPBUF_SIZE = 512  # generous for any libc's jmp_buf
HANDLER_SIZE = HR_JMPBUF + JMPBUF_SIZE

# What the host-call hook returns on success. Not 0: ctypes makes a callback that failed before its
# own code ran (e.g. RecursionError on entry) return 0, and that must trap, not pass for success.
HOST_CALL_OK = 0x600D
# What it returns when the host function threw a wasm exception (RT_EXN): the host trampoline
# throws it on into wasm code.
HOST_CALL_THROW = 0x7E40

# What an outermost entry trampoline returns instead of 0 when the store has exception objects
# left (RT_EXNS): the results are in place, and the loader frees the exceptions nothing holds.
ENTRY_COLLECT = 0xC011

# Native stack that wasm code may use below the outermost entry point.
DEFAULT_STACK_BUDGET = 1 << 20

# Trap codes (nonzero) and the spec's wording of each.
TRAP_UNREACHABLE = 1
TRAP_MEMORY_OOB = 2
TRAP_DIV_ZERO = 3
TRAP_INT_OVERFLOW = 4
TRAP_BAD_CONVERSION = 5
TRAP_INDIRECT_TYPE = 6
TRAP_UNDEFINED_ELEMENT = 7
TRAP_UNINITIALIZED_ELEMENT = 8
TRAP_TABLE_OOB = 9
TRAP_STACK_EXHAUSTED = 10
TRAP_HOST = 11
TRAP_NULL_REFERENCE = 12
TRAP_EXCEPTION = 13  # not a trap: a wasm exception (RT_EXN) reached the entry trampoline
TRAP_EXCEPTION_MEMORY = 14
TRAP_NULL_EXCEPTION = 15
TRAP_UNALIGNED_ATOMIC = 16
TRAP_EXPECTED_SHARED = 17
TRAP_NULL_FUNCTION_REFERENCE = 18  # call_ref and return_call_ref of null

TRAP_MESSAGES = {
    TRAP_UNREACHABLE: "unreachable",
    TRAP_MEMORY_OOB: "out of bounds memory access",
    TRAP_DIV_ZERO: "integer divide by zero",
    TRAP_INT_OVERFLOW: "integer overflow",
    TRAP_BAD_CONVERSION: "invalid conversion to integer",
    TRAP_INDIRECT_TYPE: "indirect call type mismatch",
    TRAP_UNDEFINED_ELEMENT: "undefined element",
    TRAP_UNINITIALIZED_ELEMENT: "uninitialized element",
    TRAP_TABLE_OOB: "out of bounds table access",
    TRAP_STACK_EXHAUSTED: "call stack exhausted",
    TRAP_HOST: "host function raised an exception",
    TRAP_NULL_REFERENCE: "null reference",
    TRAP_EXCEPTION: "uncaught wasm exception",
    TRAP_EXCEPTION_MEMORY: "out of memory for an exception",
    TRAP_NULL_EXCEPTION: "null exception reference",
    TRAP_UNALIGNED_ATOMIC: "unaligned atomic",
    TRAP_EXPECTED_SHARED: "expected shared memory",
    TRAP_NULL_FUNCTION_REFERENCE: "null function reference",
}

# Symbols of the runtime helpers (compiled once from LLVM IR, see runtime.py).
SYM_TRAP = "wb_rt_trap"
SYM_TRAP_DETAIL = "wb_rt_trap_detail"
# The memory helpers of memory 0 when it is 32-bit (the common case: i32 operands, the MemoryDef
# taken from VM_MEMORY, so call sites are what they were before multi-memory and memory64) ...
SYM_MEMORY_GROW = "wb_rt_memory_grow"
SYM_MEMORY_INIT = "wb_rt_memory_init"
SYM_MEMORY_COPY = "wb_rt_memory_copy"
SYM_MEMORY_FILL = "wb_rt_memory_fill"
# ... and of any memory: the MemoryDef(s) as arguments, i64 addresses, sizes and lengths.
SYM_MEMORY_GROW_ANY = "wb_rt_memory_grow_any"
SYM_MEMORY_INIT_ANY = "wb_rt_memory_init_any"
SYM_MEMORY_COPY_ANY = "wb_rt_memory_copy_any"
SYM_MEMORY_FILL_ANY = "wb_rt_memory_fill_any"
SYM_TABLE_GROW = "wb_rt_table_grow"
SYM_TABLE_INIT = "wb_rt_table_init"
SYM_TABLE_COPY = "wb_rt_table_copy"
SYM_TABLE_FILL = "wb_rt_table_fill"
SYM_THROW = "wb_rt_throw"              # (ctx, exn): unwind to the innermost handler or the entry
SYM_EXN_NEW = "wb_rt_exn_new"          # (ctx, tag, n values) -> a fresh exception (traps if no memory)
SYM_EXN_RELEASE = "wb_rt_exn_release"  # (ctx, exn): free it unless it has escaped
SYM_EXN_COLLECT = "wb_rt_exn_collect"  # (runtime, live, n): free the listed exceptions not in live
SYM_ON_FAULT = "wb_rt_on_fault"        # the SIGSEGV/SIGBUS handler (translate/fault.py)
SYM_SIGNAL_STATE = "wb_signal_state"  # the SignalState, resolved by the loader

def entry_symbol(ft: FuncType) -> str:
    """Host-to-wasm trampoline: i32 (ptr vmctx, ptr code, ptr values) -> 0 (or ENTRY_COLLECT from the
    outermost entry) or trap code (TRAP_EXCEPTION for an uncaught wasm exception)."""
    return "wb_entry_" + sig_key(ft)


def tail_symbol(symbol: str) -> str:
    """The tail-call entry (tailcc) of the function or host trampoline `symbol`."""
    return symbol + ".tail"


def host_symbol(ft: FuncType) -> str:
    """Wasm-to-host trampoline: has the wasm signature, with a host record as its vmctx."""
    return "wb_host_" + sig_key(ft)
