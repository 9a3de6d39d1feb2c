"""LLVM back end: turn llvmlite IR modules into ELF relocatable objects for a target.

`CompileSettings` holds what changes machine code (optimisation level, target triple, CPU and its
features, how memory accesses are bounds-checked) and which WebAssembly proposals are accepted. `compile_ir(module, settings)` verifies the IR, runs the pass pipeline of the optimisation level
(`optimise`: a function pipeline at O1 and O2, LLVM's O3 pipeline at O3) and emits the object. Target machines are made
once per process and settings.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import llvmlite
import llvmlite.binding as llvm
from llvmlite import ir

from .contract import abi
from .contract.features import format_features, parse_features
from .contract.targets import target_of_triple, triple_arch
from .errors import WasmbuildError

class CompileError(WasmbuildError):
    phase = "compile"


@dataclass(frozen=True)
class CompileSettings:
    opt_level: int = 2
    triple: str = ""      # "" = the host's
    cpu: str = ""         # "" = a baseline CPU for the triple's architecture; "native" = this machine's
    features: str = ""
    bounds_checks: str = ""  # abi.BOUNDS_GUARD or BOUNDS_EXPLICIT; "" = guard where the target can
    wasm_features: str = ""  # the proposals accepted, as `--wasm-features` gives them; "" = the default

    def resolved(self) -> "CompileSettings":
        """The same settings with the host triple, default CPU and bounds checks filled in ("native"
        becomes this machine's CPU name and features, recorded as such in the image)."""
        _init_llvm()
        triple = self.triple or llvm.get_default_triple()
        arch = triple_arch(triple)
        target = target_of_triple(triple)
        cpu = self.cpu or (target.default_cpu if target else "generic")
        features = self.features
        if cpu == "native":
            if triple_arch(llvm.get_default_triple()) != arch:
                raise CompileError(f"--cpu native describes this machine, not a {arch} target")
            cpu = llvm.get_host_cpu_name()
            features = ",".join(filter(None, [llvm.get_host_cpu_features().flatten(), features]))
        base = target.base_features if target else ""
        if base and not features.startswith(base):
            features = f"{base},{features}" if features else base
        guard_possible = bool(target and target.ucontext_pc_offset)
        bounds = self.bounds_checks or (abi.BOUNDS_GUARD if guard_possible else abi.BOUNDS_EXPLICIT)
        if bounds not in abi.BOUNDS_CHECKS:
            raise CompileError(f"bounds checks must be one of {', '.join(abi.BOUNDS_CHECKS)}, not {bounds!r}")
        if bounds == abi.BOUNDS_GUARD and not guard_possible:
            raise CompileError(f"guard-page memories are not supported on {arch}: use --bounds-checks explicit")
        wasm_features = format_features(parse_features(self.wasm_features))
        return CompileSettings(self.opt_level, triple, cpu, features, bounds, wasm_features)

    @property
    def wasm_feature_set(self) -> frozenset[str]:
        """The WebAssembly proposals these settings accept (`contract.features`)."""
        return parse_features(self.wasm_features)

    def describe(self) -> dict:
        r = self.resolved()
        return {"opt_level": r.opt_level, "triple": r.triple, "cpu": r.cpu, "features": r.features,
                "bounds_checks": r.bounds_checks, "wasm_features": r.wasm_features}


@functools.lru_cache(maxsize=None)
def _init_llvm() -> None:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()


def llvm_version() -> str:
    return ".".join(map(str, llvm.llvm_version_info))


def toolchain_versions() -> dict:
    from . import __version__
    return {"wasmbuild": __version__, "llvm": llvm_version(), "llvmlite": llvmlite.__version__}


@functools.lru_cache(maxsize=None)
def target_machine(settings: CompileSettings) -> llvm.TargetMachine:
    _init_llvm()
    s = settings.resolved()
    if not 0 <= s.opt_level <= 3:
        raise CompileError(f"optimisation level must be 0..3, not {s.opt_level}")
    try:
        target = llvm.Target.from_triple(s.triple)
    except RuntimeError as e:
        raise CompileError(f"unknown target {s.triple!r}: {e}") from None
    record = target_of_triple(s.triple)
    return target.create_target_machine(cpu=s.cpu, features=s.features, opt=s.opt_level,
                                        reloc="pic", codemodel="small", abiname=record.abi_name if record else "")


# Functions of more wasm instructions than this take a cheaper way at -O2 and -O3: the -O1 passes
# and the -O0 back end (fast instruction selection and register allocation). At -O2 a function of
# 88,905 instructions (yosys) took 20 s and 1.1 GB; this way 4 s and 360 MB, for code about 1.7x
# larger (docs/pipeline.md). A pure function of the body, so objects stay deterministic.
GIANT_FUNCTION = 50_000


def compile_ir(module: ir.Module, settings: CompileSettings, instructions: int = 0) -> bytes:
    """Optimise and compile `module` to ELF object bytes; `instructions`: the wasm instructions of
    the function it holds (a giant one is compiled the cheaper way, see GIANT_FUNCTION)."""
    opt_level = settings.opt_level
    codegen = settings
    if instructions > GIANT_FUNCTION and opt_level > 1:
        opt_level = 1
        codegen = dataclasses.replace(settings, opt_level=0)
    tm = target_machine(codegen)
    module.triple = tm.triple
    module.data_layout = str(tm.target_data)
    target = target_of_triple(tm.triple)
    if target is not None and target.absolute_via_got:
        for gv in module.global_values:
            if isinstance(gv, ir.GlobalVariable) and "absolute_symbol" in gv.metadata:
                gv.storage_class = ""  # default visibility: reached through the GOT
    text = str(module)
    try:
        mod = llvm.parse_assembly(text)
        mod.verify()
    except RuntimeError as e:
        raise CompileError(f"internal error: LLVM rejected generated IR: {e}") from None
    optimise(mod, tm, opt_level)
    return tm.emit_object(mod)


def translate_options(settings: CompileSettings):
    """The `TranslateOptions` that `settings` ask for."""
    from .translate.function import TranslateOptions
    resolved = settings.resolved()
    target = target_of_triple(resolved.triple)
    return TranslateOptions(big_endian=is_big_endian(settings),
                            guard_memory=resolved.bounds_checks == abi.BOUNDS_GUARD,
                            tail_calls=bool(target and target.tail_calls),
                            return_registers=target.return_registers if target else None,
                            target_name=target.name if target else resolved.triple)


# The passes of -O1 and -O2 (docs/pipeline.md has the measurements behind the choice). Each
# function is compiled alone from wasm that its producer has optimised already: inlining,
# unrolling and vectorisation find little and cost most of LLVM's time, so these levels run a
# function pipeline that puts locals in registers (SROA), folds the translation's conversions and
# address arithmetic (InstCombine), merges the blocks of structured control flow (SimplifyCFG) and
# marks calls in tail position (so that the back end can make them jumps); the two levels differ
# in the back end. No value numbering: NewGVN, the one llvmlite offers outside LLVM's pipelines,
# fails an assertion on real code (dprint-typescript), which ends the process; the translator
# shares address arithmetic itself (`_Translator.address`). -O3 is LLVM's whole O3 module pipeline.
_LIGHT_PASSES = ("sroa", "instruction_combine", "simplify_cfg", "dead_code_elimination", "tail_call_elimination")
FUNCTION_PASSES = {1: _LIGHT_PASSES, 2: _LIGHT_PASSES}


def optimise(mod: llvm.ModuleRef, tm: llvm.TargetMachine, opt_level: int) -> None:
    """Run the pass pipeline of `opt_level` on `mod` (a fresh PassBuilder each time: one reused
    across modules slows down linearly, LLVMLITE_NOTES.md)."""
    if opt_level <= 0:
        return
    pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=min(opt_level, 3)))
    passes = FUNCTION_PASSES.get(opt_level)
    if passes is None:
        pb.getModulePassManager().run(mod, pb)
        return
    fpm = llvm.create_new_function_pass_manager()
    for name in passes:
        getattr(fpm, f"add_{name}_pass")()
    for fn in mod.functions:
        if not fn.is_declaration:
            fpm.run(fn, pb)


def is_big_endian(settings: CompileSettings) -> bool:
    """Whether the target stores numbers most significant byte first."""
    target = target_of_triple(settings.resolved().triple)
    return target.big_endian if target else str(target_machine(settings).target_data).startswith("E")
