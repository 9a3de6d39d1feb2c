"""Stage 4 of a build, the image: the linked graph and its records → the bytes of the image file.

`emit_image(linked, plan, settings)` makes the `ImageMeta` (canonical types, module records,
initializers, trampolines, code symbols) and the image header's target record, and writes them
with the code through `image.write_image`.
"""

from __future__ import annotations

from ..compile import CompileSettings, target_machine, toolchain_versions
from ..contract.records import ImageMeta, TargetRecord
from ..contract.targets import triple_arch
from ..image import write_image
from .linking import LinkedGraph
from .plan import BuildPlan


def emit_image(linked: LinkedGraph, plan: BuildPlan, settings: CompileSettings) -> bytes:
    code = linked.code
    target = TargetRecord(triple=settings.triple, cpu=settings.cpu, features=settings.features,
                          machine=triple_arch(settings.triple), byteorder=code.byteorder,
                          data_layout=str(target_machine(settings).target_data))
    symbols = sorted(code.symbols.items())
    meta = ImageMeta(types=tuple(linked.types), modules=tuple(linked.modules),
                     initializers=tuple(plan.initializers), entry_trampolines=tuple(linked.entry_trampolines),
                     host_trampolines=tuple(linked.host_trampolines), symbols=tuple(symbols),
                     component=plan.component)
    func_symbols = [(name, offset, code.func_sizes.get(name, 0)) for name, offset in symbols]
    return write_image(code, target, toolchain_versions(),
                       {"opt_level": settings.opt_level, "bounds_checks": settings.bounds_checks,
                        "wasm_features": settings.wasm_features}, meta, linked.data,
                       func_symbols, linked.fault_object)
