"""Benchmark: parse + link N tiny per-function objects (default 20,000) and print the time.

Takes: optional N on the command line. Gives: timings printed to stdout.

One template object is compiled with llvmlite (a function `fNNNNNN` that switches on its
argument (a jump table in .rodata), multiplies by a float constant (.rodata.cst8), calls
`fNNNNNN+1` (PLT32), reads an absolute-symbol vmctx field, and calls memset (external)); the
N units are that object with the 7-digit names patched in its string table, so each unit is a
distinct, realistic LLVM object without N LLVM compilations.
"""

import sys
import time

import llvmlite.binding as llvm

from wasmbuild.link.elf import parse_object, parse_objects
from wasmbuild.link.linker import link

IR = r"""
@off_g = external hidden global i8, !absolute_symbol !0
!0 = !{i64 0, i64 2147483648}
declare hidden i32 @f9999999(ptr, i32) nounwind
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
define hidden i32 @f8888888(ptr %vm, i32 %x) nounwind {
entry:
  switch i32 %x, label %d [ i32 0, label %a  i32 1, label %b  i32 2, label %c  i32 3, label %e  i32 4, label %f ]
a: ret i32 10
b: ret i32 21
c: ret i32 32
e: ret i32 43
f:
  %p = getelementptr i8, ptr %vm, i64 ptrtoint (ptr @off_g to i64)
  %l = load i32, ptr %p
  %fl = sitofp i32 %l to double
  %m = fmul double %fl, 3.25
  %i = fptosi double %m to i32
  ret i32 %i
d:
  %n = zext i32 %x to i64
  call void @llvm.memset.p0.i64(ptr %vm, i8 0, i64 %n, i1 false)
  %r = call i32 @f9999999(ptr %vm, i32 %x)
  ret i32 %r
}
"""


def template() -> bytes:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    tm = llvm.Target.from_default_triple().create_target_machine(
        cpu="x86-64-v2", reloc="pic", codemodel="small", opt=2)
    return tm.emit_object(llvm.parse_assembly(IR))


def main(n: int = 20000) -> None:
    obj = template()
    assert obj.count(b"f8888888") == 1 and obj.count(b"f9999999") == 1
    units = [(f"u{i}", obj.replace(b"f8888888", b"f%07d" % i).replace(b"f9999999", b"f%07d" % ((i + 1) % n)))
             for i in range(n)]
    results = {}
    for _ in range(3):
        for label, run in (
                ("parse_object one by one (GC on)", lambda: [parse_object(d, nm) for nm, d in units]),
                ("parse_objects (GC paused)", lambda: parse_objects(units)),
                ("link(parsed)", None),
                ("link(bytes): parse + link", lambda: link(units, {"off_g": 64}))):
            if run is None:
                parsed = parse_objects(units)
                run = lambda: link(parsed, {"off_g": 64})  # noqa: E731
            w0, c0 = time.perf_counter(), time.process_time()
            out = run()
            w, c = time.perf_counter() - w0, time.process_time() - c0
            prev = results.get(label)
            if prev is None or w < prev[0]:
                results[label] = (w, c)
            if label == "link(parsed)":
                lc = out
    print(f"{n} units of {len(obj)} bytes; best of 3 (wall / CPU):")
    for label, (w, c) in results.items():
        print(f"  {label:34s} {w * 1e3:7.0f} ms / {c * 1e3:7.0f} ms  ({w / n * 1e6:5.1f} us/unit)")
    print(f"  -> code {len(lc.code)} bytes, {len(lc.load_relocs)} load relocs, {len(lc.symbols)} symbols")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
