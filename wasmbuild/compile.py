"""LLVM back end: turn llvmlite IR modules into ELF relocatable objects for a target.

`CompileSettings` holds what changes machine code (optimisation level, target triple, CPU and its
features). `compile_ir(module, settings)` verifies the IR, runs LLVM's standard O1..O3 pipeline (a
fresh PassBuilder per module, see LLVMLITE_NOTES.md) and emits the object. Target machines are made
once per process and settings.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import llvmlite
import llvmlite.binding as llvm
from llvmlite import ir

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

    def resolved(self) -> "CompileSettings":
        """The same settings with the host triple and default CPU filled in ("native" becomes this
        machine's CPU name and features, recorded as such in the image)."""
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
        return CompileSettings(self.opt_level, triple, cpu, features)

    def describe(self) -> dict:
        r = self.resolved()
        return {"opt_level": r.opt_level, "triple": r.triple, "cpu": r.cpu, "features": r.features}


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


def compile_ir(module: ir.Module, settings: CompileSettings) -> bytes:
    """Optimise and compile `module` to ELF object bytes."""
    tm = target_machine(settings)
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
    if settings.opt_level > 0:
        pto = llvm.create_pipeline_tuning_options(speed_level=settings.opt_level)
        pb = llvm.create_pass_builder(tm, pto)
        pb.getModulePassManager().run(mod, pb)
    return tm.emit_object(mod)


def is_big_endian(settings: CompileSettings) -> bool:
    """Whether the target stores numbers most significant byte first."""
    target = target_of_triple(settings.resolved().triple)
    return target.big_endian if target else str(target_machine(settings).target_data).startswith("E")
