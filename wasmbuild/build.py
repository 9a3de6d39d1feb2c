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

from .binary import decode_function, decode_module
from .contract import opcodes as ops
from .contract.types import EXTERN_FUNC, EXTERN_MEMORY, EXTERN_NAMES, EXTERN_TABLE, FuncType, sig_key, type_name
from .binary.types import ConstExpr, Module
from .compile import (CompileSettings, compile_ir, is_big_endian, target_machine, toolchain_versions,
                      triple_arch)
from .cache import ObjectCache
from .errors import MalformedError, WasmbuildError
from .graph import Graph, default_graph, load_manifest, resolve_graph
from .image import write_image
from .keys import KeyMemo, function_key, support_key
from .link import elf
from .link.layout import VMLayout
from .link.linker import link
from .contract import abi
from .translate import refs
from .translate.function import ModuleInfo, translate_function
from .translate.runtime import build_entry_trampoline, build_host_trampoline, build_runtime
from .valid import check_module_level, segment_refs, validate_function

SELF = "wb_self"  # what a function's object calls itself before linking names it
RUNTIME_UNIT = "wb_runtime"


@dataclass
class ModuleInput:
    name: str
    data: bytes
    path: str | None = None


@dataclass
class BuildReport:
    functions: int = 0
    compiled: int = 0
    cached: int = 0
    trampolines: int = 0
    trampolines_compiled: int = 0
    remote_hits: int | None = None  # with a remote cache: functions it gave us, misses, uploads, errors
    remote_misses: int = 0
    remote_uploads: int = 0
    remote_errors: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the cache's (CacheStats.warnings)

    def short(self) -> str:
        """One concise line: what was compiled and what came from a cache."""
        remote = f", {self.remote_hits} from the remote cache" if self.remote_hits else ""
        return f"{self.functions} functions ({self.compiled} compiled, {self.cached} from cache{remote})"

    def summary(self) -> str:
        phases = ", ".join(f"{k} {v:.3f}s" for k, v in self.seconds.items())
        remote = ""
        if self.remote_hits is not None:
            remote = (f"; remote cache: {self.remote_hits} hits, {self.remote_misses} misses, "
                      f"{self.remote_uploads} uploads, {self.remote_errors} errors")
        return (f"{self.functions} functions ({self.compiled} compiled, {self.cached} from cache), "
                f"{self.trampolines} trampolines ({self.trampolines_compiled} compiled, "
                f"{self.trampolines - self.trampolines_compiled} reused){remote}; {phases}")

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


class _Modules:
    """Decoded and module-level-validated inputs, made once per process (the parent, or a worker
    of the compile pool, which decodes the inputs it is handed on first use)."""

    def __init__(self, inputs: list[ModuleInput]):
        self.inputs = inputs
        self._loaded: dict[int, tuple] = {}
        self.seconds = {"decode": 0.0, "validate": 0.0}

    def get(self, mi: int):
        entry = self._loaded.get(mi)
        if entry is None:
            inp = self.inputs[mi]
            t0 = time.perf_counter()
            m = decode_module(inp.data, inp.path or inp.name)
            t1 = time.perf_counter()
            ctx = check_module_level(m)
            self.seconds["decode"] += t1 - t0
            self.seconds["validate"] += time.perf_counter() - t1
            entry = self._loaded[mi] = (m, ctx, ModuleInfo.from_context(ctx))
        return entry


_SUPPORT_MEMO: dict[tuple, bytes] = {}


def _support_object(settings: CompileSettings, kind: str, ft: FuncType | None, cache: ObjectCache | None,
                    report: BuildReport) -> bytes:
    """Object code of the runtime helpers ("runtime") or of one trampoline ("entry"/"host" of
    signature `ft`). They depend only on the settings and the signature: each is made once per
    process and kept in the cache."""
    memo_key = (settings, kind, ft)
    obj = _SUPPORT_MEMO.get(memo_key)
    key = support_key(kind, None if ft is None else sig_key(ft), settings)
    if obj is None and cache is not None:
        obj = cache.get(key)
    if obj is None:
        lm = ir.Module(name=kind if ft is None else f"{kind}_{sig_key(ft)}")
        if kind == "runtime":
            build_runtime(lm)
        elif kind == "entry":
            build_entry_trampoline(lm, ft)
        else:
            build_host_trampoline(lm, ft)
        obj = compile_ir(lm, settings)
        if cache is not None:
            cache.put(key, obj)
        if ft is not None:
            report.trampolines_compiled += 1
    _SUPPORT_MEMO[memo_key] = obj
    return obj


def compile_function(modules: _Modules, mi: int, j: int, settings: CompileSettings):
    """Validate, translate and compile defined function `j` of module `mi`.
    Gives (object bytes, references as [(kind, index)], {phase: seconds})."""
    m, ctx, info = modules.get(mi)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    code = validate_function(ctx, j)
    t1 = time.perf_counter()
    lm = ir.Module(name=function_symbol(mi, ctx.num_imported_funcs + j))
    info.big_endian = is_big_endian(settings)
    fn_refs = translate_function(lm, SELF, info, j, code)
    t2 = time.perf_counter()
    obj = compile_ir(lm, settings)
    t3 = time.perf_counter()
    times["validate"], times["translate"], times["compile"] = t1 - t0, t2 - t1, t3 - t2
    return obj, fn_refs.items, times


_WORKER: dict = {}


def _worker_init(inputs: list[ModuleInput], settings: CompileSettings) -> None:
    _WORKER["modules"] = _Modules(inputs)
    _WORKER["settings"] = settings


def _worker_compile(jobs: list[tuple[int, int]]):
    return [compile_function(_WORKER["modules"], mi, j, _WORKER["settings"]) for mi, j in jobs]


def _compile_all(modules: _Modules, jobs: list[tuple[int, int]], settings: CompileSettings, workers: int):
    """Compile every (module, function) job, in a pool of `workers` processes when > 1. Results
    come back in job order, so the image does not depend on the number of workers."""
    if workers <= 1 or len(jobs) < 2:
        return [compile_function(modules, mi, j, settings) for mi, j in jobs]
    import multiprocessing
    chunk = max(1, min(64, len(jobs) // (workers * 8) or 1))
    batches = [jobs[i:i + chunk] for i in range(0, len(jobs), chunk)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_worker_init, initargs=(modules.inputs, settings)) as pool:
        results = []
        for batch in pool.imap(_worker_compile, batches):
            results.extend(batch)
    return results


def build_image(inputs: list[ModuleInput], settings: CompileSettings | None = None,
                jobs: int = 1, graph: Graph | None = None, cache: ObjectCache | None = None) -> tuple[bytes, BuildReport]:
    # A build allocates millions of small, acyclic objects (decoded instructions, symbols); Python's
    # cyclic garbage collector would scan them over and over for nothing.
    with elf.gc_paused():
        return _build_image(inputs, settings, jobs, graph, cache)


def _build_image(inputs: list[ModuleInput], settings: CompileSettings | None, jobs: int,
                 graph: Graph | None, cache: ObjectCache | None) -> tuple[bytes, BuildReport]:
    """Compile the modules `inputs` into an image of `graph` (whose module steps name the inputs,
    in order); with no graph, `inputs` must be one module, built as `default_graph` makes it.
    `jobs` worker processes compile functions in parallel; with a `cache`, functions whose key is
    there are neither validated nor compiled again."""
    settings = (settings or CompileSettings()).resolved()
    report = BuildReport()
    if cache is not None and not cache.keyed:
        cache = None
    types = TypeTable()
    absolutes: dict[str, int] = {}
    modules_meta = []
    data_blob = bytearray()
    entry_sigs: dict[FuncType, list[str]] = {}
    host_sigs: dict[FuncType, list[str]] = {}
    modules = _Modules(inputs)
    layouts = []

    decoded = [modules.get(mi) for mi in range(len(inputs))]
    if graph is None:
        if len(inputs) != 1:
            raise WasmbuildError("several modules make a graph: give a manifest")
        graph = default_graph(inputs[0].path or inputs[0].name, inputs[0].name, decoded[0][0])
    initializers = resolve_graph(graph, {inp.name: d[0] for inp, d in zip(inputs, decoded)})

    # Which functions escape to the host (need an entry trampoline) and which imports are served
    # by the host (need a host trampoline): functions the graph exports, functions that can become
    # funcref values (elem segments, ref.func) and start functions; imports wired to host imports.
    instance_module = {}
    graph_exported: dict[int, set[int]] = {}
    export_functions = [{e.name: e.index for e in d[0].exports if e.kind == EXTERN_FUNC} for d in decoded]
    for init in initializers:
        if init["op"] == "instantiate":
            mi = init["module"]
            instance_module[init["instance"]] = mi
            m, ctx, info = decoded[mi]
            for imp_index, (source, *_rest) in enumerate(init["imports"]):
                imp = m.imports[imp_index]
                if source == "host" and imp.kind == EXTERN_FUNC:
                    host_sigs.setdefault(m.types[imp.desc], []).append(
                        f"{init['instance']}:import {imp.module}.{imp.name}")
        elif init["op"] == "export":
            mi = instance_module[init["instance"]]
            functions = export_functions[mi]
            exported = graph_exported.setdefault(mi, set())
            if init["item"] is None:
                exported.update(functions.values())
            elif init["item"] in functions:
                exported.add(functions[init["item"]])

    work = [(mi, j) for mi, d in enumerate(decoded) for j in range(len(d[0].bodies))]
    report.functions = len(work)
    report.seconds.update(modules.seconds)

    # Look every function up in the cache by its key; compile the misses (in parallel).
    compiled: list = [None] * len(work)
    keys: list[str | None] = [None] * len(work)
    ref_items: list = [None] * len(work)
    misses = []
    t = time.perf_counter()
    memos = [KeyMemo(cache, d[0], settings) if cache is not None else None for d in decoded]
    for w, (mi, j) in enumerate(work):
        m, ctx, _info = decoded[mi]
        if cache is None:
            misses.append(w)
            continue
        known = memos[mi].lookup(j)
        if known is not None:
            keys[w], ref_items[w] = known
        else:
            try:
                code = decode_function(m, j)
            except MalformedError as e:
                raise e.located(func=ctx.num_imported_funcs + j) from None
            keys[w], references = function_key(ctx, j, code, settings)
            ref_items[w] = references.items
            memos[mi].remember(j, keys[w], ref_items[w])
    for memo in memos:
        if memo is not None:
            memo.save()
    if cache is not None:
        remote_before = cache.stats.remote_hits
        found = cache.get_many(keys)
        for w in range(len(work)):
            if keys[w] in found:
                compiled[w] = (found[keys[w]], ref_items[w], {})
            else:
                misses.append(w)
        if cache.stats.remote is not None:
            report.remote_hits = cache.stats.remote_hits - remote_before
    t = report.add_time("cache lookup", t)
    results = _compile_all(modules, [work[w] for w in misses], settings, jobs)
    report.add_time("compile (wall)", t)
    for w, result in zip(misses, results):
        compiled[w] = result
        if cache is not None:
            cache.put(keys[w], result[0])
    report.compiled = len(misses)
    report.cached = len(work) - len(misses) - (report.remote_hits or 0)
    for _obj, _refs, times in compiled:
        for phase, seconds in times.items():
            report.seconds[phase] = report.seconds.get(phase, 0.0) + seconds

    # Functions that can become funcref values get a FuncRef record in the vmctx: those named by
    # segments and global initialisers, and those some body takes `ref.func` of.
    escaping = [segment_refs(d[0]) for d in decoded]
    for (mi, _j), (_obj, ref_items, _times) in zip(work, compiled):
        escaping[mi].update(index for kind, index in ref_items if kind == refs.FUNCREF)

    for mi, inp in enumerate(inputs):
        m, ctx, info = decoded[mi]
        layout = VMLayout.for_module(m, escaping[mi])
        layouts.append(layout)
        type_ids = [types.id(ft) for ft in m.types]
        n_imp = ctx.num_imported_funcs
        symbols = [function_symbol(mi, n_imp + j) for j in range(len(m.bodies))]
        for f in sorted(escaping[mi] | graph_exported.get(mi, set())
                        | ({m.start} if m.start is not None else set())):
            entry_sigs.setdefault(info.func_type(f), []).append(f"{inp.name}:func {f}")
        modules_meta.append(module_meta(m, layout, type_ids, symbols, data_blob, inp.name))

    units: list[elf.ObjectFile] = []
    t = time.perf_counter()
    for (mi, j), (obj_bytes, ref_items, _times) in zip(work, compiled):
        n_imp = decoded[mi][1].num_imported_funcs
        symbol = function_symbol(mi, n_imp + j)
        obj = elf.parse_object(obj_bytes, symbol)
        names = {SELF: symbol}
        for (kind, index), local in refs.References(ref_items):
            if kind == refs.CALL:
                names[local] = function_symbol(mi, index)
            else:
                names[local] = f"{symbol}.{local}"
                absolutes[names[local]] = layouts[mi].symbol_value(kind, index)
        _rename(obj, names)
        units.append(obj)
    report.add_time("link", t)

    # Runtime helpers, then one trampoline per escaping signature, in a deterministic order.
    t = time.perf_counter()
    units.append(elf.parse_object(_support_object(settings, "runtime", None, cache, report), RUNTIME_UNIT))
    for ft in sorted(entry_sigs, key=sig_key):
        units.append(elf.parse_object(_support_object(settings, "entry", ft, cache, report),
                                      abi.entry_symbol(ft)))
    for ft in sorted(host_sigs, key=sig_key):
        units.append(elf.parse_object(_support_object(settings, "host", ft, cache, report),
                                      abi.host_symbol(ft)))
    report.trampolines = len(entry_sigs) + len(host_sigs)
    t = report.add_time("trampolines", t)

    tm = target_machine(settings)
    machine = triple_arch(settings.triple)
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
        "initializers": initializers,
        "trampolines": {
            "entry": [{"signature": sig_key(ft), "symbol": abi.entry_symbol(ft), "users": users}
                      for ft, users in sorted(entry_sigs.items(), key=lambda kv: sig_key(kv[0]))],
            "host": [{"signature": sig_key(ft), "symbol": abi.host_symbol(ft), "users": users}
                     for ft, users in sorted(host_sigs.items(), key=lambda kv: sig_key(kv[0]))],
        },
        "symbols": sorted(linked.symbols.items()),
    }
    func_symbols = [(name, off, linked.func_sizes.get(name, 0)) for name, off in sorted(linked.symbols.items())]
    image = write_image(linked, header, meta, bytes(data_blob), func_symbols)
    report.add_time("link", t)
    if cache is not None:
        stats = cache.finish()
        report.warnings = stats.warnings
        if stats.remote is not None:
            report.remote_uploads = stats.remote_uploads
            report.remote_errors = stats.remote_errors
            report.remote_misses = stats.remote_misses
    return image, report


def build_graph(manifest: str, settings: CompileSettings | None = None, jobs: int = 1,
                cache: ObjectCache | None = None):
    """Build the graph of the manifest at `manifest`: read its modules, compile, link."""
    from .wat import read_module_bytes
    graph = load_manifest(manifest)
    inputs = [ModuleInput(step.name, read_module_bytes(step.path), step.path) for step in graph.modules]
    return build_image(inputs, settings, jobs, graph, cache)
