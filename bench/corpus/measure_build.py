"""Build one module in this process and print what the build cost, as one JSON line.

Takes `FILE [-O LEVEL] [-j JOBS] [--cache-dir DIR]`: builds FILE (a .wasm module) with
`wasmbuild.build.build_image` at that opt level and number of compile workers, with no cache, or
with a `LocalStore` on DIR when given. Prints (stdout, one line):

    {"seconds": wall time of build_image, "cpu_seconds": its CPU time (this process and the
     workers, user + system), "functions": ..., "compiled": ..., "cached": ...,
     "image_bytes": ..., "rss_self_mb": ..., "rss_children_mb": ..., "peak_rss_mb": ...,
     "phases": the BuildReport's seconds per phase}

`rss_self_mb` is this process's peak resident set (ru_maxrss of RUSAGE_SELF), `rss_children_mb`
the largest peak of any compile worker: build_image returns after its worker pool has been told to
stop and joined (`wasmbuild/build/workers.py`), so RUSAGE_CHILDREN covers every worker.
`peak_rss_mb` is the larger of the two: the peak of any one compile process. CPU time tells
what wall time cannot on a shared machine: how much work the build was. A build that fails
with a wasmbuild error prints {"error": "its one line"} and exits 1.

`bench/compile.py --corpus` runs this in a fresh subprocess per build, so that no build inherits
the memory, the runtime helpers or the LLVM state of another.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.cache import LocalStore  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.errors import WasmbuildError  # noqa: E402


def cpu_seconds() -> float:
    """User and system CPU time of this process and of its children that have been waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("-O", dest="opt", type=int, default=2)
    ap.add_argument("-j", dest="jobs", type=int, default=2)
    ap.add_argument("--cache-dir", help="a LocalStore on this directory (default: no cache)")
    args = ap.parse_args()

    with open(args.file, "rb") as f:
        data = f.read()
    name = os.path.splitext(os.path.basename(args.file))[0]
    # No size limit: the store must not prune what the next build of the benchmark will look up.
    cache = LocalStore(args.cache_dir, max_bytes=1 << 40) if args.cache_dir else None
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    try:
        image, report = build_image([ModuleInput(name, data, args.file)], CompileSettings(opt_level=args.opt),
                                    jobs=args.jobs, cache=cache)
    except WasmbuildError as e:
        print(json.dumps({"error": str(e).splitlines()[0] if str(e) else type(e).__name__}))
        return 1
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu_before
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "functions": report.functions,
                      "compiled": report.compiled, "cached": report.cached, "image_bytes": len(image), "rss_self_mb": rss_self,
                      "rss_children_mb": rss_children, "peak_rss_mb": max(rss_self, rss_children),
                      "phases": report.seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
