"""Native stack frames: the locals limit, frames checked before they are written, and the frame bound.

Takes modules written with `wasmbuild.testing.gen` or WABT's wat2wasm, built with `build_image`, and
runs them in child processes (a crash there fails the test instead of killing pytest), on threads with
small stacks or on a main thread whose stack rlimit is small (the kernel then faults any write past
it, so a frame written before its check is noticed). Gives tests that
- more than 50,000 locals (parameters included) are invalid ("too many locals"), 50,000 are not;
- declared locals that no instruction names take no stack: 49,000 of them (784 KB of v128) run on
  a 512 KiB and a 1 MiB thread at -O0 and -O2;
- a frame larger than the stack left (of used locals, or of spill slots, which locals alone do not
  predict) traps "call stack exhausted" before anything writes it, and the instance goes on;
- only functions whose `frame_bound` passes `LARGE_FRAME` get a guard, and on x86-64 the frame LLVM
  makes is never larger than that bound, for those patterns and for generated functions, at -O0 and
  -O2.
"""

from __future__ import annotations

import ast
import os
import platform
import re
import resource
import subprocess
import sys

import llvmlite.binding as llvm
import pytest
from conftest import REPO_ROOT, wat
from llvmlite import ir

from wasmbuild.binary import decode_module
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings, target_machine
from wasmbuild.errors import InvalidError
from wasmbuild.testing import gen
from wasmbuild.translate.function import LARGE_FRAME, ModuleInfo, frame_bound, translate_function
from wasmbuild.valid import check_module_level, validate_function, validate_module

KIB = 1 << 10
EXHAUSTED = "call stack exhausted"


def _locals_module(params, runs) -> bytes:
    """Export `f`: a function with `params` and the local declarations `runs` that returns 7."""
    mb = gen.ModuleBuilder()
    mb.func(params=params, results=(gen.I32,), locals_=runs, body=gen.i32_const(7) + gen.OP["end"], export="f")
    return mb.build()


def _used_locals_wat(n: int) -> str:
    """Export `f` reads each of `n` v128 locals, then returns 7; `small` returns 3."""
    reads = " ".join(f"(drop (local.get {i}))" for i in range(n))
    return f"""(module (func (export "f") (result i32) (local {"v128 " * n}) {reads} (i32.const 7))
                       (func (export "small") (result i32) (i32.const 3)))"""


def _spill_wat(n: int) -> str:
    """Export `f` runs a loop of `n` bounds-checked v128 stores of a local plus a constant, then
    returns 7; `small` returns 3. Three locals, but at -O0 every value lives across the stores'
    bounds-check branches and gets a spill slot (32 bytes a store), and at -O2 LICM hoists the `n`
    loop-invariant sums and keeps them live across the loop."""
    stores = " ".join(f"(v128.store (i32.add (local.get 1) (i32.const {16 * i % 60000}))"
                      f" (i32x4.add (local.get 2) (v128.const i32x4 {i} {i + 1} {i + 2} {i + 3})))"
                      for i in range(n))
    return f"""(module (memory 1)
      (func (export "f") (result i32) (local i32 i32 v128)
        (local.set 0 (i32.const 3)) (local.set 2 (v128.load (i32.const 0)))
        (loop $l {stores} (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
        (i32.const 7))
      (func (export "small") (result i32) (i32.const 3)))"""


def _stacked_wat(n: int) -> str:
    """`n` v128 call results on the operand stack at once, then added up: no locals at all."""
    return ("(module (func $g (result v128) (v128.const i32x4 1 2 3 4)) (func (export \"f\") (result i32) "
            + "(call $g) " * n + "(i8x16.add) " * (n - 1) + "(i32x4.extract_lane 0)))")


def _build(tmp_path, data: bytes, opt_level: int) -> str:
    image, _report = build_image([ModuleInput("m", data)], CompileSettings(opt_level=opt_level))
    path = os.path.join(str(tmp_path), f"m{opt_level}.img")
    with open(path, "wb") as f:
        f.write(image)
    return path


_CHILD = r"""
import sys, threading
sys.path.insert(0, sys.argv[1])
import wasmbuild
from wasmbuild.loader.runtime import Trap
inst = wasmbuild.load(sys.argv[2])
out = []
def run():
    for name in sys.argv[4:]:
        try:
            out.append(inst.exports[name]())
        except Trap as e:
            out.append(e.message)
if int(sys.argv[3]):
    threading.stack_size(int(sys.argv[3]))
    t = threading.Thread(target=run)
    t.start()
    t.join()
else:
    run()
print(out)
"""


def _run(path: str, calls, thread_stack: int = 0, stack_rlimit: int = 0) -> list:
    """What calling the exports `calls` of the image at `path` gives in a child process (results or
    trap messages), on a thread with a `thread_stack` stack, or on the main thread with its stack
    rlimit set to `stack_rlimit`."""
    hard = resource.getrlimit(resource.RLIMIT_STACK)[1]

    def limit_stack():
        if stack_rlimit:
            resource.setrlimit(resource.RLIMIT_STACK, (stack_rlimit, hard))
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(REPO_ROOT), path, str(thread_stack), *calls],
                          preexec_fn=limit_stack, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"status {proc.returncode}: {proc.stderr[-500:]}"
    return ast.literal_eval(proc.stdout.strip())


# --- the locals limit ---------------------------------------------------------------------------

@pytest.mark.parametrize("params,runs,valid", [
    ((), [(50_000, gen.I32)], True),
    ((gen.I32, gen.V128), [(49_000, gen.V128), (998, gen.F64)], True),
    ((gen.I32,), [(50_000, gen.I32)], False),
    ((), [(30_000, gen.V128), (20_001, gen.I64)], False),
])
def test_at_most_50000_locals_with_the_parameters(params, runs, valid):
    m = decode_module(_locals_module(params, runs))
    if valid:
        validate_module(m)
        return
    with pytest.raises(InvalidError) as info:
        validate_module(m)
    assert info.value.reason.startswith("too many locals: 50001 with the parameters, at most 50000")
    assert str(info.value).startswith("func 0: offset ") and "\n" not in str(info.value)


def test_a_huge_local_count_is_refused_before_anything_is_compiled():
    with pytest.raises(InvalidError, match="too many locals: 600000"):
        build_image([ModuleInput("m", _locals_module((), [(600_000, gen.V128)]))], CompileSettings(opt_level=0))


# --- frames checked before they are written ------------------------------------------------------

@pytest.mark.parametrize("opt_level", [0, 2])
def test_declared_locals_that_nothing_names_take_no_stack(tmp_path, opt_level):
    path = _build(tmp_path, _locals_module((), [(49_000, gen.V128)]), opt_level)
    assert _run(path, ["f"], thread_stack=512 * KIB) == [7]
    assert _run(path, ["f"], thread_stack=1024 * KIB) == [7]


def test_a_frame_of_locals_larger_than_the_stack_traps_before_it_is_written(tmp_path):
    path = _build(tmp_path, wat(_used_locals_wat(30_000)), 0)  # a 480 KB frame at -O0
    assert _run(path, ["f", "small", "f"], stack_rlimit=384 * KIB) == [EXHAUSTED, 3, EXHAUSTED]
    assert _run(path, ["f"], thread_stack=8 << 20) == [7]


@pytest.mark.slow
def test_a_frame_of_spill_slots_larger_than_the_stack_traps_before_it_is_written(tmp_path):
    path = _build(tmp_path, wat(_spill_wat(12_000)), 0)  # a 384 KB frame at -O0, with three locals
    assert _run(path, ["f", "small"], stack_rlimit=384 * KIB) == [EXHAUSTED, 3]
    assert _run(path, ["f"], thread_stack=8 << 20) == [7]


# --- the frame bound ----------------------------------------------------------------------------

def _translated(data: bytes, j: int) -> ir.Module:
    ctx = check_module_level(decode_module(data))
    lm = ir.Module(name="t")
    translate_function(lm, "wb_self", ModuleInfo.from_context(ctx), j, validate_function(ctx, j))
    return lm


def _defined(lm: ir.Module) -> dict[str, ir.Function]:
    return {f.name: f for f in lm.functions if f.blocks}


def test_only_functions_with_a_large_frame_bound_get_a_guard():
    small = _defined(_translated(wat(_used_locals_wat(100)), 0))
    # (wb_self.tail: the tail-call entry every function has, translate/tailcall.py)
    assert sorted(small) == ["wb_self", "wb_self.tail"] and frame_bound(small["wb_self"]) <= LARGE_FRAME
    large = _defined(_translated(wat(_used_locals_wat(3000)), 0))
    assert sorted(large) == ["wb_self", "wb_self.body", "wb_self.tail"]
    guard, body = large["wb_self"], large["wb_self.body"]
    assert frame_bound(body) > LARGE_FRAME
    assert guard.linkage == "hidden" and body.linkage == "internal" and "noinline" in body.attributes
    text = str(guard)
    assert "add i64 %" in text and f", {frame_bound(body)}" in text  # RT_STACK_FLOOR + the bound
    assert 'tail call i32 @"wb_self.body"' in text and "wb_rt_trap" in text


def _frame_size(lm: ir.Module, symbol: str, opt_level: int) -> int:
    """Bytes of stack the x86-64 code of `symbol` takes: return address, pushes and `sub $N, %rsp`
    (what LLVM emits after running the same pipeline as compile.py)."""
    tm = target_machine(CompileSettings(opt_level=opt_level))
    lm.triple, lm.data_layout = tm.triple, str(tm.target_data)
    mod = llvm.parse_assembly(str(lm))
    if opt_level:
        pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=opt_level))
        pb.getModulePassManager().run(mod, pb)
    lines = iter(tm.emit_assembly(mod).splitlines())
    for line in lines:
        if line == f"{symbol}:":
            break
    size = 8
    for line in lines:
        line = line.strip()
        if line.startswith((".cfi", "#")):
            continue
        if re.fullmatch(r"pushq\s+%\w+", line):
            size += 8
        elif m := re.fullmatch(r"subq\s+\$(\d+), %rsp", line):
            size += int(m.group(1))
        else:
            return size
    raise AssertionError(f"no code for {symbol}")


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="reads x86-64 prologues")
@pytest.mark.parametrize("opt_level", [0, 2])
def test_the_frame_llvm_makes_is_within_the_bound(opt_level):
    functions = [(wat(_used_locals_wat(3000)), 0), (wat(_spill_wat(300)), 0), (wat(_stacked_wat(1000)), 1)]
    generated, _stats = gen.generate_module(40, seed=7)
    functions += [(generated, j) for j in range(len(decode_module(generated).bodies))]
    largest = 0
    for data, j in functions:
        lm = _translated(data, j)
        defined = _defined(lm)
        name = "wb_self.body" if "wb_self.body" in defined else "wb_self"
        bound, frame = frame_bound(defined[name]), _frame_size(lm, name, opt_level)
        assert frame <= bound, f"function {j}: a frame of {frame} bytes, bound {bound}"
        largest = max(largest, frame)
    assert largest > 8_000  # the patterns did make large frames
