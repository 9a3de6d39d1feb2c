"""A shared remote cache on a real server: a cold build that uploads, then a build from the remote
with an empty local cache.

Takes `--functions N` (default 5000), `--jobs J` (default all cores), `-O LEVEL` (default 2).
Starts nginx with WebDAV on 127.0.0.1 (wasmbuild.testing.nginx; nginx must be installed), builds a
generated module of N functions (the text of bench/incremental.py) with an empty local cache and
the remote (everything compiled and uploaded), then again with another empty local cache (everything
from the remote). Prints both wall times, the functions compiled and fetched, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from incremental import module_text  # noqa: E402

from wasmbuild.build import ModuleInput, build_image  # noqa: E402
from wasmbuild.cache import open_cache  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.testing.nginx import NGINX, Nginx  # noqa: E402
from wasmbuild.wat import wat_to_wasm  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("-O", dest="opt", type=int, default=2)
    args = ap.parse_args()
    if NGINX is None:
        sys.exit("nginx is not installed (apt-get install -y nginx)")
    with tempfile.TemporaryDirectory(prefix="wasmbuild-remote-bench-") as tmp:
        server = Nginx(os.path.join(tmp, "server"))
        os.makedirs(os.path.join(tmp, "server"), exist_ok=True)
        try:
            path = os.path.join(tmp, "big.wat")
            with open(path, "w") as f:
                f.write(module_text(args.functions))
            inp = ModuleInput("big", wat_to_wasm(path), path)
            settings = CompileSettings(opt_level=args.opt)
            times = []
            for name in ("cold (uploads)", "from remote"):
                cache = open_cache(os.path.join(tmp, f"local-{len(times)}"), remote_url=server.url,
                                   read_only=False)
                start = time.perf_counter()
                _image, report = build_image([inp], settings, args.jobs, cache=cache)
                times.append(time.perf_counter() - start)
                print(f"{name:15} {times[-1]:8.2f} s  compiled {report.compiled:5}  remote hits "
                      f"{report.remote_hits:5}  uploads {report.remote_uploads:5}  errors {report.remote_errors}")
            print(f"from-remote / cold: 1/{times[0] / times[1]:.1f}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
