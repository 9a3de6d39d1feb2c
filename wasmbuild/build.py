"""Compile modules into one image: decode -> validate -> translate -> compile -> link -> write.

`build_image(inputs, settings)` takes `ModuleInput`s (a name and the module's bytes) and gives the
image bytes and a `BuildReport`. Each defined function is translated and compiled on its own (one
LLVM module per function), into an object whose references to the outside world are index-free
(`translate/refs.py`); the link step names them: callees by their code symbol, everything reached
through the vmctx by an absolute symbol whose value is the field's offset in that module's layout.

Function types are canonicalised over the whole image (`TypeTable`). Trampolines are generated
only for signatures that escape: host-to-wasm entries for exported functions, functions that can
become funcref values, and start functions; wasm-to-host trampolines for imported functions' types.
Each is generated once per signature for the whole image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from llvmlite import ir

from .binary import decode_module
from .binary import opcodes as ops
from .binary.types import (EXTERN_FUNC, EXTERN_MEMORY, EXTERN_NAMES, EXTERN_TABLE,
                           ConstExpr, FuncType, Module, type_name)
from .compile import CompileSettings, compile_ir, target_machine, toolchain_versions
from .image import write_image
from .link import elf
from .link.layout import VMLayout
from .link.linker import link
from .translate import abi, refs
from .translate.function import ModuleInfo, translate_function
from .translate.runtime import build_entry_trampoline, build_host_trampoline, build_runtime
from .valid import check_module_level, validate_function

SELF = "wb_self"  # what a function's object calls itself before linking names it
RUNTIME_UNIT = "wb_runtime"

_ARCH_OF_TRIPLE = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64", "riscv64": "riscv64",
                   "s390x": "s390x"}


@dataclass
class ModuleInput:
    name: str
    data: bytes
    path: str | None = None


@dataclass
class BuildReport:
    functions: int = 0
    compiled: int = 0
    trampolines: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def add_time(self, phase: str, start: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - start
        return now


class TypeTable:
    """Canonical function types of a whole image: equal signatures get one id."""

    def __init__(self):
        self.types: list[FuncType] = []
        self._ids: dict[FuncType, int] = {}

    def id(self, ft: FuncType) -> int:
        i = self._ids.get(ft)
        if i is None:
            i = self._ids[ft] = len(self.types)
            self.types.append(ft)
        return i


def function_symbol(module_index: int, func_index: int) -> str:
    return f"wasm{module_index}_f{func_index}"


def const_expr_json(expr: ConstExpr) -> list:
    """A constant expression as JSON: [[mnemonic, immediate], ...]."""
    out = []
    for op, imm, _ in expr.instrs:
        if op == 0xD0:
            imm = type_name(imm)
        elif isinstance(imm, bytes):
            imm = imm.hex()
        out.append([ops.name(op), imm])
    return out


def _limits_json(lim) -> dict:
    return {"min": lim.min, "max": lim.max}


def module_meta(m: Module, layout: VMLayout, type_ids: list[int], symbols: list[str],
                data_blob: bytearray, name: str) -> dict:
    """Everything the loader needs to instantiate module `m` (see docs/image-format.md)."""
    imports = []
    for imp in m.imports:
        entry = {"module": imp.module, "name": imp.name, "kind": EXTERN_NAMES[imp.kind]}
        if imp.kind == EXTERN_FUNC:
            entry["type"] = type_ids[imp.desc]
        elif imp.kind == EXTERN_TABLE:
            entry.update(elem=type_name(imp.desc.elem), **_limits_json(imp.desc.limits))
        elif imp.kind == EXTERN_MEMORY:
            entry.update(_limits_json(imp.desc.limits))
        else:
            entry.update(type=type_name(imp.desc.valtype), mutable=imp.desc.mutable)
        imports.append(entry)
    datas = []
    for seg in m.datas:
        start = len(data_blob)
        data_blob += m.data[seg.data_start:seg.data_end]
        datas.append({"mode": seg.mode, "memory": seg.memory,
                      "offset": const_expr_json(seg.offset_expr) if seg.offset_expr else None,
                      "data": [start, len(data_blob) - start]})
    elems = []
    for seg in m.elems:
        items = ([const_expr_json(e) for e in seg.init] if seg.init_is_exprs
                 else [[["ref.func", f]] for f in seg.init])
        elems.append({"mode": seg.mode, "table": seg.table, "type": type_name(seg.elem_type),
                      "offset": const_expr_json(seg.offset_expr) if seg.offset_expr else None,
                      "items": items})
    return {
        "name": name,
        "types": type_ids,
        "imports": imports,
        "functions": [[sym, type_ids[t]] for sym, t in zip(symbols, m.func_type_indices)],
        "tables": [{"elem": type_name(t.elem), **_limits_json(t.limits)} for t in m.tables],
        "memories": [_limits_json(mem.limits) for mem in m.memories],
        "globals": [{"type": type_name(g.type.valtype), "mutable": g.type.mutable,
                     "init": const_expr_json(g.init)} for g in m.globals],
        "exports": [{"name": e.name, "kind": EXTERN_NAMES[e.kind], "index": e.index} for e in m.exports],
        "elems": elems,
        "datas": datas,
        "start": m.start,
        "layout": layout.to_json(),
    }


def _rename(obj: elf.ObjectFile, names: dict[str, str]) -> None:
    for i, sym in enumerate(obj.symbols):
        new = names.get(sym.name)
        if new is not None and sym.type != elf.STT_SECTION:
            obj.symbols[i] = sym._replace(name=new)


def build_image(inputs: list[ModuleInput], settings: CompileSettings | None = None) -> tuple[bytes, BuildReport]:
    settings = (settings or CompileSettings()).resolved()
    report = BuildReport()
    types = TypeTable()
    units: list[elf.ObjectFile] = []
    absolutes: dict[str, int] = {}
    modules_meta = []
    data_blob = bytearray()
    entry_sigs: dict[FuncType, list[str]] = {}
    host_sigs: dict[FuncType, list[str]] = {}

    for mi, inp in enumerate(inputs):
        t = time.perf_counter()
        m = decode_module(inp.data, inp.path or inp.name)
        t = report.add_time("decode", t)
        ctx = check_module_level(m)
        t = report.add_time("validate", t)
        info = ModuleInfo.from_context(ctx)
        layout = VMLayout.for_module(m, ctx.refs)
        type_ids = [types.id(ft) for ft in m.types]
        n_imp = ctx.num_imported_funcs
        symbols = [function_symbol(mi, n_imp + j) for j in range(len(m.bodies))]
        user = inp.name
        for f in sorted(ctx.refs | {e.index for e in m.exports if e.kind == EXTERN_FUNC}
                        | ({m.start} if m.start is not None else set())):
            entry_sigs.setdefault(info.func_type(f), []).append(f"{user}:func {f}")
        for f in range(n_imp):
            host_sigs.setdefault(info.func_type(f), []).append(f"{user}:import {f}")
        for j in range(len(m.bodies)):
            t = time.perf_counter()
            code = validate_function(ctx, j)
            t = report.add_time("validate", t)
            lm = ir.Module(name=symbols[j])
            fn_refs = translate_function(lm, SELF, info, j, code)
            t = report.add_time("translate", t)
            obj_bytes = compile_ir(lm, settings)
            t = report.add_time("compile", t)
            obj = elf.parse_object(obj_bytes, symbols[j])
            names = {SELF: symbols[j]}
            for (kind, index), local in fn_refs:
                if kind == refs.CALL:
                    names[local] = function_symbol(mi, index)
                else:
                    names[local] = f"{symbols[j]}.{local}"
                    absolutes[names[local]] = layout.symbol_value(kind, index)
            _rename(obj, names)
            units.append(obj)
            report.add_time("link", t)
        report.functions += len(m.bodies)
        report.compiled += len(m.bodies)
        modules_meta.append(module_meta(m, layout, type_ids, symbols, data_blob, inp.name))

    # Runtime helpers and the trampolines of escaping signatures, in a deterministic order.
    t = time.perf_counter()
    lm = ir.Module(name=RUNTIME_UNIT)
    build_runtime(lm)
    for ft in sorted(entry_sigs, key=abi.sig_key):
        build_entry_trampoline(lm, ft)
    for ft in sorted(host_sigs, key=abi.sig_key):
        build_host_trampoline(lm, ft)
    report.trampolines = len(entry_sigs) + len(host_sigs)
    t = report.add_time("translate", t)
    units.append(elf.parse_object(compile_ir(lm, settings), RUNTIME_UNIT))
    t = report.add_time("compile", t)

    tm = target_machine(settings)
    machine = _ARCH_OF_TRIPLE.get(settings.triple.split("-")[0], settings.triple.split("-")[0])
    linked = link(units, absolutes, machine=machine)
    header = {
        "target": {"triple": settings.triple, "cpu": settings.cpu, "features": settings.features,
                   "machine": machine, "byteorder": linked.byteorder,
                   "data_layout": str(tm.target_data)},
        "versions": toolchain_versions(),
        "settings": {"opt_level": settings.opt_level},
    }
    meta = {
        "types": [[[type_name(p) for p in ft.params], [type_name(r) for r in ft.results]]
                  for ft in types.types],
        "modules": modules_meta,
        "trampolines": {
            "entry": [{"signature": abi.sig_key(ft), "symbol": abi.entry_symbol(ft), "users": users}
                      for ft, users in sorted(entry_sigs.items(), key=lambda kv: abi.sig_key(kv[0]))],
            "host": [{"signature": abi.sig_key(ft), "symbol": abi.host_symbol(ft), "users": users}
                     for ft, users in sorted(host_sigs.items(), key=lambda kv: abi.sig_key(kv[0]))],
        },
        "symbols": sorted(linked.symbols.items()),
    }
    func_symbols = [(name, off, linked.func_sizes.get(name, 0)) for name, off in sorted(linked.symbols.items())]
    image = write_image(linked, header, meta, bytes(data_blob), func_symbols)
    report.add_time("link", t)
    return image, report
