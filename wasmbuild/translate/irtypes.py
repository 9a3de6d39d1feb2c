"""LLVM types of wasm values and functions, the LLVM predicates of wasm comparisons, and small
IR-building helpers shared by the translator (scalar and SIMD), the runtime helpers and the trampolines."""

from __future__ import annotations

from llvmlite import ir

from ..contract import abi
from ..contract.types import EXNREF, EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType, RefType

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I16 = ir.IntType(16)
I32T = ir.IntType(32)
I64T = ir.IntType(64)
F32T = ir.FloatType()
F64T = ir.DoubleType()
V128T = ir.VectorType(I64T, 2)
PTR = ir.PointerType()
VOID = ir.VoidType()
NULL = ir.Constant(PTR, None)



class _LLVMTypes(dict):
    """The LLVM type of each value type; every reference type (the RefTypes too) is a `ptr`."""

    def __missing__(self, t):
        if type(t) is RefType:
            return PTR
        raise KeyError(t)


LLVM_TYPES = _LLVMTypes({I32: I32T, I64: I64T, F32: F32T, F64: F64T, V128: V128T, FUNCREF: PTR, EXTERNREF: PTR,
                         EXNREF: PTR})

# The LLVM predicate of each wasm comparison, by its operation: (predicate, signed?) for integers (eq
# and ne compare unsigned), (predicate, ordered?) for floats (ne alone holds for unordered operands).
INT_PREDICATES = {"eq": ("==", False), "ne": ("!=", False), "lt_s": ("<", True), "lt_u": ("<", False),
                  "gt_s": (">", True), "gt_u": (">", False), "le_s": ("<=", True), "le_u": ("<=", False),
                  "ge_s": (">=", True), "ge_u": (">=", False)}
FLOAT_PREDICATES = {"eq": ("==", True), "ne": ("!=", False), "lt": ("<", True), "gt": (">", True),
                    "le": ("<=", True), "ge": (">=", True)}

# Range metadata for absolute symbols: vmctx offsets and type ids fit in 31 bits, which lets LLVM fold
# them into instructions as immediates (R_X86_64_32/32S on x86-64).
ABSOLUTE_RANGE = (0, 1 << 31)


def result_type(results: tuple[int, ...]) -> ir.Type:
    if not results:
        return VOID
    if len(results) == 1:
        return LLVM_TYPES[results[0]]
    return ir.LiteralStructType([LLVM_TYPES[t] for t in results])


def results_in_memory(results: tuple[int, ...], return_registers: tuple[int, int, int] | None) -> bool:
    """Whether a function with `results` returns them through a results area rather than in
    registers, on a target of `return_registers` (targets.Target.return_registers; None: never,
    LLVM lowers what does not fit itself). The one rule for every entry of every function and
    trampoline of the result list, so a tail call, whose callee has the caller's results, can
    pass its own area on (tailcall.py)."""
    if return_registers is None:
        return False
    max_ints, max_scalars, max_floats = return_registers
    ints = floats = 0
    for t in results:
        ll = LLVM_TYPES[t]
        if ll in (F32T, F64T, V128T):
            # Floats and vectors take the lowest free of the same registers, in order, but an f32 or
            # f64 only among the first `max_scalars` of them: (v128 v128 f64) does not fit x86-64's.
            if floats >= (max_floats if ll == V128T else max_scalars):
                return True
            floats += 1
        else:
            ints += 1
    return ints > max_ints


def wasm_function_type(ft: FuncType, return_registers: tuple[int, int, int] | None) -> ir.FunctionType:
    """Native type of a compiled wasm function: results (ptr vmctx, params...), or, when its
    results go through memory (`results_in_memory`), void (ptr vmctx, ptr results, params...)
    with result i in value slot i of the area (abi: "Results area")."""
    params = [LLVM_TYPES[t] for t in ft.params]
    if results_in_memory(ft.results, return_registers):
        return ir.FunctionType(VOID, [PTR, PTR] + params)
    return ir.FunctionType(result_type(ft.results), [PTR] + params)


def store_results(builder: ir.IRBuilder, area, values) -> None:
    for i, v in enumerate(values):
        builder.store(v, field_ptr(builder, area, abi.VALUE_SLOT_SIZE * i))


def load_results(builder: ir.IRBuilder, area, results: tuple[int, ...]) -> list:
    return [builder.load(field_ptr(builder, area, abi.VALUE_SLOT_SIZE * i), typ=LLVM_TYPES[t])
            for i, t in enumerate(results)]


def zero_value(t: int) -> ir.Constant:
    ll = LLVM_TYPES[t]
    if ll is PTR:
        return NULL
    if isinstance(ll, ir.VectorType):
        return ir.Constant(ll, [ir.Constant(I64T, 0), ir.Constant(I64T, 0)])
    return ir.Constant(ll, 0)


def get_function(module: ir.Module, name: str, fnty: ir.FunctionType, hidden: bool = True) -> ir.Function:
    """The function `name` of `module`, declared if it is not there yet."""
    fn = module.globals.get(name)
    if fn is None:
        fn = ir.Function(module, fnty, name)
        if hidden and not name.startswith("llvm."):
            fn.linkage = "hidden"
    return fn


def absolute_symbol(module: ir.Module, name: str) -> ir.Constant:
    """An i64 whose value the linker supplies (declared as a hidden absolute symbol)."""
    gv = module.globals.get(name)
    if gv is None:
        gv = ir.GlobalVariable(module, I8, name)
        gv.linkage = "external"
        gv.storage_class = "hidden"
        lo, hi = ABSOLUTE_RANGE
        gv.set_metadata("absolute_symbol", module.add_metadata([ir.Constant(I64T, lo), ir.Constant(I64T, hi)]))
    return gv.ptrtoint(I64T)


def field(builder: ir.IRBuilder, base, offset, typ: ir.Type, name: str = ""):
    """Load a field of type `typ` at byte `offset` (int or i64 value) from pointer `base`."""
    return builder.load(field_ptr(builder, base, offset), typ=typ, name=name)


def field_ptr(builder: ir.IRBuilder, base, offset):
    if isinstance(offset, int):
        if offset == 0:
            return base
        offset = ir.Constant(I64T, offset)
    return builder.gep(base, [offset], source_etype=I8)


class FunctionPointer:
    """A call target that is a pointer value of known function type: llvmlite's `IRBuilder.call`
    needs a callee with a `function_type`, which opaque pointer values do not have."""

    def __init__(self, ptr, fnty: ir.FunctionType):
        self.ptr = ptr
        self.function_type = fnty
        self.type = PTR

    def get_reference(self):
        return self.ptr.get_reference()


def alloca_bytes(builder: ir.IRBuilder, size: int, align: int = 16):
    """A stack buffer of `size` bytes as an opaque `ptr` (llvmlite types allocas as typed pointers,
    which its builder then refuses to store other types through)."""
    slot = builder.alloca(ir.ArrayType(I8, size))
    slot.align = align
    slot.type = PTR
    return slot


class VolatileLoad(ir.LoadInstr):
    """`load volatile`, which llvmlite's builder cannot make."""

    def descr(self, buf):
        start = len(buf)
        super().descr(buf)
        buf[start] = buf[start].replace("load ", "load volatile ", 1)


class VolatileStore(ir.StoreInstr):
    """`store volatile`."""

    def descr(self, buf):
        start = len(buf)
        super().descr(buf)
        buf[start] = buf[start].replace("store ", "store volatile ", 1)
