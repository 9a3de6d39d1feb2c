"""The big realistic component: a Python app made by componentize-py (../shared/components/programs/
componentize-py), built, rebuilt after a one-function edit, instantiated and called, against
wasmtime-py in the same run.

Takes `--app PATH` (default: made by that directory's make.sh into /tmp/cpy-build, which installs
componentize-py 0.25.1 from PyPI), `--jobs J` (default: all cores) and `--no-cold` (skip the cold
build; the rebuilds then start from whatever the cache holds). Prints, each measured here:
  cold build        wall time, CPU time and the peak RSS of the build (a child process, empty cache)
  null rebuild      nothing changed (every function from the cache)
  one-function edit one `i32.const` immediate of a median-size function of the largest core
                    module changed (same size): functions compiled, wall time
  load + instantiate   wasmbuild (image already built) against wasmtime-py (compile + instantiate,
                    and instantiate alone)
  calls             both exports checked, and the cost of a short-string call and of a
                    list<u32> call, wasmbuild against wasmtime-py
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from wasmbuild.component.decode import CoreModule, NestedComponent, decode_component  # noqa: E402
from wasmbuild.contract import opcodes as ops  # noqa: E402
from wasmbuild.testing import components_dir  # noqa: E402

RECIPE = os.path.join(components_dir(), "programs", "componentize-py")


def make_app(workdir: str) -> str:
    app = os.path.join(workdir, "app", "app.wasm")
    if not os.path.exists(app):
        subprocess.run(["sh", os.path.join(RECIPE, "make.sh"), workdir], check=True)
    return app


def build(app: str, image: str, cache: str, jobs: int) -> tuple[float, float, str]:
    """Build in a child process; (wall seconds, CPU seconds, its summary line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    env = {**os.environ, "WASMBUILD_CACHE_DIR": cache, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-m", "wasmbuild", "build", app, "-o", image, "-j", str(jobs), "-v"],
                          capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(proc.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout.strip().splitlines()[-1]


def peak_child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _modules(component):
    for d in component.definitions:
        if isinstance(d, CoreModule):
            yield d
        elif isinstance(d, NestedComponent):
            yield from _modules(d.component)


def edit_one_function(data: bytes) -> bytes:
    """`data` with one `i32.const` immediate (a one-byte LEB, 0..63) of one function of the
    largest core module changed to another value of the same size: a function of median size
    (the first one from the median up that has such a constant), as a typical edit would be."""
    from wasmbuild.binary.decode import decode_function
    component = decode_component(data, "app.wasm")
    module = max(_modules(component), key=lambda m: len(m.module.bodies))
    bodies = module.module.bodies
    by_size = sorted(range(len(bodies)), key=lambda i: (bodies[i].end - bodies[i].offset, i))
    for index in by_size[len(by_size) // 2:]:
        code = decode_function(module.module, index)
        for op, imm, offset in code.instrs:
            if op == ops.I32_CONST and isinstance(imm, int) and 0 <= imm < 63:
                at = module.start + offset + 1  # the immediate follows the opcode
                if data[at] == imm:
                    edited = bytearray(data)
                    edited[at] = imm + 1
                    return bytes(edited)
    raise SystemExit("no i32.const to edit")


def per_call_us(fn, *args, n: int = 2000) -> float:
    for _ in range(50):
        fn(*args)
    t = time.perf_counter()
    for _ in range(n):
        fn(*args)
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--app")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-cold", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="wb-components-")
    app = args.app or make_app("/tmp/cpy-build")
    cache = os.path.join(work, "cache")
    image = os.path.join(work, "app.img")
    with open(app, "rb") as f:
        data = f.read()
    print(f"app: {app} ({len(data):,} bytes)")

    if not args.no_cold:
        wall, cpu, summary = build(app, image, cache, args.jobs)
        print(f"cold build: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak_child_rss_mb():.0f} MB (-j {args.jobs})")
        print(f"  {summary}")
    wall, _cpu, summary = build(app, image, cache, args.jobs)
    print(f"null rebuild: {wall:.2f} s  ({summary.split(':', 1)[1].split(';')[0].strip()})")
    edited = os.path.join(work, "edited.wasm")
    with open(edited, "wb") as f:
        f.write(edit_one_function(data))
    wall, _cpu, summary = build(edited, os.path.join(work, "edited.img"), cache, args.jobs)
    print(f"one-function edit: {wall:.2f} s  ({summary.split(':', 1)[1].split(';')[0].strip()})")

    import wasmbuild
    from wasmbuild.component.wasi2 import Wasi2
    from wasmbuild.loader.instance import load_image
    from wasmbuild.loader.runtime import Store
    t = time.perf_counter()
    with open(image, "rb") as f:
        loaded = load_image(Store(), f.read(), image)
    t1 = time.perf_counter()
    instance = loaded.instantiate(Wasi2(["app"], {}, {}).interfaces())
    t2 = time.perf_counter()
    text = instance.exports["wb:pyapp/text"].exports
    assert text["reverse-words"]("the quick brown fox") == ["fox", "brown", "quick", "the"]
    assert text["sum"]([1, 2, 3, 2**32 - 1]) == 4294967301
    print(f"wasmbuild: load {1000 * (t1 - t):.0f} ms, instantiate {1000 * (t2 - t1):.0f} ms; both exports right")
    wb_str = per_call_us(text["reverse-words"], "a b")
    wb_list = per_call_us(text["sum"], [1, 2, 3])

    import wasmtime
    import wasmtime.component as C
    engine = wasmtime.Engine()
    t = time.perf_counter()
    comp = C.Component(engine, data)
    t1 = time.perf_counter()
    linker = C.Linker(engine)
    linker.add_wasip2()
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    inst = linker.instantiate(store, comp)
    t2 = time.perf_counter()
    ix = inst.get_export_index(store, "wb:pyapp/text")
    rw = inst.get_func(store, inst.get_export_index(store, "reverse-words", ix))
    sm = inst.get_func(store, inst.get_export_index(store, "sum", ix))
    assert rw(store, "the quick brown fox") == ["fox", "brown", "quick", "the"]
    print(f"wasmtime-py: compile {t1 - t:.1f} s, instantiate {1000 * (t2 - t1):.0f} ms")
    wt_str = per_call_us(lambda s: rw(store, s), "a b")
    wt_list = per_call_us(lambda xs: sm(store, xs), [1, 2, 3])
    print(f"call reverse-words(\"a b\"): wasmbuild {wb_str:.1f} us, wasmtime-py {wt_str:.1f} us ({wb_str / wt_str:.2f}x)")
    print(f"call sum([1, 2, 3]):        wasmbuild {wb_list:.1f} us, wasmtime-py {wt_list:.1f} us ({wb_list / wt_list:.2f}x)")


if __name__ == "__main__":
    main()
