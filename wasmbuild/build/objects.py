"""Stage 2 of a build, the objects: one compiled object per defined function, and the objects of
the runtime helpers and trampolines.

`function_objects(plan, decoded, settings, cache, workers, report, progress)` gives a `FunctionObject` per job
of the plan, in job order: from the cache (`cache/`: a local store, possibly with a remote tier)
where the function's key is there (no validation, translation or compilation then), else compiled (`compile_function`: validate, translate to LLVM
IR, compile), in `workers` processes when there is more than one (`workers.py`). Compiled objects
are put in the cache. `SupportObjects` makes (and memoises for the session) the objects of the
runtime helpers and of the entry and host trampoline of a signature.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from llvmlite import ir

from ..compile import CompileSettings, compile_ir
from ..contract import abi
from ..contract.targets import target_of_triple
from ..contract.types import FuncType, sig_key
from ..errors import MalformedError
from ..binary import decode_function
from ..cache import ObjectCache
from ..keys import KeyMemo, function_key, support_key
from ..translate.function import translate_function
from ..translate.fault import build_fault_handler
from ..translate.runtime import build_entry_trampoline, build_host_trampoline, build_runtime
from ..valid import validate_function
from .plan import BuildPlan, DecodedModules
from .report import BuildReport

SELF = "wb_self"  # what a function's object calls itself before linking names it

RUNTIME, ENTRY, HOST, FAULT = "runtime", "entry", "host", "fault"


def function_symbol(module_index: int, func_index: int) -> str:
    return f"wasm{module_index}_f{func_index}"


@dataclass
class FunctionObject:
    object: bytes
    references: list[tuple[str, int]]  # (kind, index) in first-use order (translate/refs.py)
    seconds: dict[str, float]  # time per phase, when compiled


def compile_function(modules: DecodedModules, mi: int, j: int, settings: CompileSettings) -> FunctionObject:
    """Validate, translate and compile defined function `j` of module `mi`."""
    d = modules.get(mi)
    t0 = time.perf_counter()
    code = validate_function(d.context, j)
    t1 = time.perf_counter()
    lm = ir.Module(name=function_symbol(mi, d.context.num_imported_funcs + j))
    fn_refs = translate_function(lm, SELF, d.info, j, code)
    t2 = time.perf_counter()
    obj = compile_ir(lm, settings, len(code.instrs))
    t3 = time.perf_counter()
    return FunctionObject(obj, fn_refs.items, {"validate": t1 - t0, "translate": t2 - t1, "compile": t3 - t2})


def function_objects(plan: BuildPlan, decoded: DecodedModules, settings: CompileSettings,
                     cache: ObjectCache | None, workers: int, report: BuildReport,
                     progress: Callable[[int, int], None] | None = None) -> list[FunctionObject]:
    """`progress(done, total)` is called once the cache has answered and as each function is compiled."""
    from .workers import compile_jobs
    jobs = plan.jobs
    report.functions = len(jobs)
    objects: list[FunctionObject | None] = [None] * len(jobs)
    misses = list(range(len(jobs)))
    t = time.perf_counter()
    if cache is not None:
        keys, references = _function_keys(plan, settings, cache)
        remote_before = cache.stats.remote_hits
        found = cache.get_many(keys)
        misses = []
        for w, key in enumerate(keys):
            if key in found:
                objects[w] = FunctionObject(found[key], references[w], {})
            else:
                misses.append(w)
        if cache.stats.remote is not None:
            report.remote_hits = cache.stats.remote_hits - remote_before
    t = report.add_time("cache lookup", t)
    finished = [len(jobs) - len(misses)]
    if progress is not None:
        progress(finished[0], len(jobs))

    def done(k: int, obj: FunctionObject) -> None:
        w = misses[k]
        objects[w] = obj
        if cache is not None:
            cache.put(keys[w], obj.object)  # at once: a build that is stopped keeps what it compiled
        finished[0] += 1
        if progress is not None:
            progress(finished[0], len(jobs))

    compile_jobs(decoded, [jobs[w] for w in misses], settings, workers, done)
    report.add_time("compile (wall)", t)
    report.compiled = len(misses)
    report.cached = len(jobs) - len(misses) - (report.remote_hits or 0)
    for obj in objects:
        report.add_seconds(obj.seconds)
    return objects


def _function_keys(plan: BuildPlan, settings: CompileSettings, cache: ObjectCache):
    """The cache key and references of every job; unchanged bodies take both from the module's
    `KeyMemo` instead of being decoded."""
    keys, references = [], []
    memos = [KeyMemo(cache, d.module, settings) for d in plan.modules]
    for mi, j in plan.jobs:
        known = memos[mi].lookup(j)
        if known is None:
            d = plan.modules[mi]
            try:
                code = decode_function(d.module, j)
            except MalformedError as e:
                raise e.located(func=d.context.num_imported_funcs + j) from None
            key, refs = function_key(d.context, j, code, settings)
            known = key, refs.items
            memos[mi].remember(j, *known)
        keys.append(known[0])
        references.append(known[1])
    for memo in memos:
        memo.save()
    return keys, references


class SupportObjects:
    """Objects of the runtime helpers and of one trampoline per (kind, signature). They depend only
    on the settings and the signature: each is made once per session and kept in the cache."""

    def __init__(self, cache: ObjectCache | None = None):
        self.cache = cache
        self._memo: dict[tuple, bytes] = {}

    def get(self, settings: CompileSettings, kind: str, ft: FuncType | None, report: BuildReport) -> bytes:
        memo_key = (settings, kind, ft)
        obj = self._memo.get(memo_key)
        if obj is not None:
            return obj
        signature = None if ft is None else sig_key(ft)
        key = support_key(kind, signature, settings)
        if self.cache is not None:
            obj = self.cache.get(key)
        if obj is None:
            lm = ir.Module(name=kind if ft is None else f"{kind}_{signature}")
            guard = settings.bounds_checks == abi.BOUNDS_GUARD
            target = target_of_triple(settings.triple)
            regs = target.return_registers if target else None
            if kind == RUNTIME:
                build_runtime(lm)
            elif kind == FAULT:
                build_fault_handler(lm, target_of_triple(settings.triple))
            elif kind == ENTRY:
                build_entry_trampoline(lm, ft, guard, regs)
            else:
                build_host_trampoline(lm, ft, bool(target and target.tail_calls), regs)
            obj = compile_ir(lm, settings)
            if self.cache is not None:
                self.cache.put(key, obj)
            if ft is not None:
                report.trampolines_compiled += 1
        self._memo[memo_key] = obj
        return obj
