"""Stage 3 of a build, the link: function objects, runtime helpers and trampolines → linked code,
with the records of every module.

`link_graph(plan, objects, support, settings, report)` gives a `LinkedGraph`:
  - each module's VMContext layout (`link/layout.py`) and `ModuleRecord`, function types
    canonicalised over the whole image (`TypeTable`) and data segments gathered in one blob;
  - the entry trampolines of every signature that escapes (functions the graph exports, functions
    that can become funcref values — elem segments, `ref.func` — and start functions), and the host
    trampolines of the imports the host serves; each once per signature for the whole image;
  - the linked code (`link/linker.py`): each function's object renamed first, its own symbol and its
    `call.k` references becoming code symbols and every other index-free reference an absolute
    symbol whose value the module's layout gives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..binary.types import ConstExpr
from ..compile import CompileSettings
from ..contract import abi
from ..contract import opcodes as ops
from ..contract.records import (DataRecord, ElemRecord, ExportRecord, FunctionRecord, GlobalRecord,
                                ImportRecord, ModuleRecord, Trampoline)
from ..contract.targets import triple_arch
from ..contract.types import EXTERN_FUNC, EXTERN_TAG, FuncType, sig_key, type_name
from ..link import elf
from ..link.layout import VMLayout
from ..link.linker import LinkedCode, link
from ..translate import refs
from ..valid import segment_refs
from .objects import ENTRY, FAULT, HOST, RUNTIME, SELF, FunctionObject, SupportObjects, function_symbol
from .plan import BuildPlan, DecodedModule
from .report import BuildReport

RUNTIME_UNIT = "wb_runtime"


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


@dataclass
class LinkedGraph:
    code: LinkedCode
    types: list[FuncType]
    modules: list[ModuleRecord]
    data: bytes  # the data segments' bytes (DataRecord.start/length point into it)
    entry_trampolines: list[Trampoline]
    host_trampolines: list[Trampoline]
    fault_object: bytes  # the fault handler's object (guard-page memories), else b""


def const_expr_record(expr: ConstExpr) -> tuple:
    """A constant expression as the image stores it: ((mnemonic, immediate), ...)."""
    out = []
    for op, imm, _ in expr.instrs:
        if op == ops.REF_NULL:
            imm = type_name(imm)
        elif isinstance(imm, bytes):
            imm = imm.hex()
        out.append((ops.name(op), imm))
    return tuple(out)


def module_record(d: DecodedModule, layout: VMLayout, type_ids: list[int], symbols: list[str],
                  data_blob: bytearray) -> ModuleRecord:
    """Everything the loader needs to instantiate module `d`; appends its data segments to `data_blob`."""
    m = d.module
    imports = tuple(ImportRecord(imp.module, imp.name, imp.kind,
                                 type_ids[imp.desc] if imp.kind in (EXTERN_FUNC, EXTERN_TAG) else imp.desc)
                    for imp in m.imports)
    datas = []
    for seg in m.datas:
        start = len(data_blob)
        data_blob += m.data[seg.data_start:seg.data_end]
        datas.append(DataRecord(seg.mode, seg.memory,
                                const_expr_record(seg.offset_expr) if seg.offset_expr else None,
                                start, len(data_blob) - start))
    elems = []
    for seg in m.elems:
        items = (tuple(const_expr_record(e) for e in seg.init) if seg.init_is_exprs
                 else tuple(((ops.name(ops.REF_FUNC), f),) for f in seg.init))
        elems.append(ElemRecord(seg.mode, seg.table, seg.elem_type,
                                const_expr_record(seg.offset_expr) if seg.offset_expr else None, items))
    return ModuleRecord(
        name=d.input.name,
        type_ids=tuple(type_ids),
        imports=imports,
        functions=tuple(FunctionRecord(sym, type_ids[t]) for sym, t in zip(symbols, m.func_type_indices)),
        tables=tuple(m.tables),
        memories=tuple(m.memories),
        globals=tuple(GlobalRecord(g.type, const_expr_record(g.init)) for g in m.globals),
        exports=tuple(ExportRecord(e.name, e.kind, e.index) for e in m.exports),
        elems=tuple(elems),
        datas=tuple(datas),
        start=m.start,
        layout=layout,
        tags=tuple(type_ids[t] for t in m.tags),
        table_inits=tuple(None if e is None else const_expr_record(e) for e in m.table_inits),
    )


def _rename(obj: elf.ObjectFile, names: dict[str, str]) -> None:
    for i, sym in enumerate(obj.symbols):
        new = names.get(sym.name)
        if new is not None and sym.type != elf.STT_SECTION:
            obj.symbols[i] = sym._replace(name=new)


def link_graph(plan: BuildPlan, objects: list[FunctionObject], support: SupportObjects,
               settings: CompileSettings, report: BuildReport) -> LinkedGraph:
    # Functions that can become funcref values get a FuncRef record in the vmctx: those named by
    # segments and global initialisers, and those some body takes `ref.func` of.
    escaping = [segment_refs(d.module) for d in plan.modules]
    for (mi, _j), obj in zip(plan.jobs, objects):
        escaping[mi].update(index for kind, index in obj.references if kind == refs.FUNCREF)

    types = TypeTable()
    layouts, records = [], []
    data_blob = bytearray()
    entry_users: dict[FuncType, list[str]] = {}
    for mi, d in enumerate(plan.modules):
        m = d.module
        layout = VMLayout.for_module(m, escaping[mi])
        layouts.append(layout)
        type_ids = [types.id(ft) for ft in m.types]
        n_imp = d.context.num_imported_funcs
        symbols = [function_symbol(mi, n_imp + j) for j in range(len(m.bodies))]
        for f in sorted(escaping[mi] | plan.graph_exported.get(mi, set())
                        | ({m.start} if m.start is not None else set())):
            entry_users.setdefault(d.info.func_type(f), []).append(f"{d.input.name}:func {f}")
        records.append(module_record(d, layout, type_ids, symbols, data_blob))

    units: list[elf.ObjectFile] = []
    absolutes: dict[str, int] = {}
    t = time.perf_counter()
    for (mi, j), fobj in zip(plan.jobs, objects):
        symbol = function_symbol(mi, plan.modules[mi].context.num_imported_funcs + j)
        obj = elf.parse_object(fobj.object, symbol)
        names = {SELF: symbol, abi.tail_symbol(SELF): abi.tail_symbol(symbol)}
        for (kind, index), local in refs.References(fobj.references):
            if kind == refs.CALL:
                names[local] = function_symbol(mi, index)
                names[abi.tail_symbol(local)] = abi.tail_symbol(names[local])
            else:
                names[local] = f"{symbol}.{local}"
                absolutes[names[local]] = layouts[mi].symbol_value(kind, index)
        _rename(obj, names)
        units.append(obj)
    report.add_time("link", t)

    # Runtime helpers, then one trampoline per escaping signature, in a deterministic order.
    t = time.perf_counter()
    entry = [Trampoline(ft, abi.entry_symbol(ft), tuple(users))
             for ft, users in sorted(entry_users.items(), key=lambda kv: sig_key(kv[0]))]
    host = [Trampoline(ft, abi.host_symbol(ft), tuple(users))
            for ft, users in sorted(plan.host_users.items(), key=lambda kv: sig_key(kv[0]))]
    units.append(elf.parse_object(support.get(settings, RUNTIME, None, report), RUNTIME_UNIT))
    for kind, trampolines in ((ENTRY, entry), (HOST, host)):
        for tr in trampolines:
            units.append(elf.parse_object(support.get(settings, kind, tr.signature, report), tr.symbol))
    report.trampolines = len(entry) + len(host)
    t = report.add_time("trampolines", t)
    # Not linked with the rest: the loader links it alone and keeps it for the process.
    fault = support.get(settings, FAULT, None, report) if settings.bounds_checks == abi.BOUNDS_GUARD else b""
    code = link(units, absolutes, machine=triple_arch(settings.triple))
    report.add_time("link", t)
    return LinkedGraph(code, types.types, records, bytes(data_blob), entry, host, fault)
