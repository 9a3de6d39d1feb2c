"""Benchmark the null build of the samples tree against a plain SCons tree of the same size.

Takes `--repeat R` (default 5: the best of R null builds is reported). Copies `samples/`, the
`SConstruct` and `site_scons/` of this checkout into a temporary directory (this checkout's package
on PYTHONPATH, a temporary WASMBUILD_CACHE_DIR), builds it once with `python -m SCons -Q`, then
times null builds (`python -m SCons -Q`, every target up to date). In the same run, taking turns
with it, it builds and times a plain SCons tree with as many targets: `Command` builders copying
files, in pairs like an image and its check stamp. Prints both times, the number of targets, and
their ratio (the cost of the wasmbuild tool — loading it, scanning manifests, computing its
fingerprint — on a build with nothing to do).

    python bench/scons_null.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PLAIN_SCONSTRUCT = '''\
env = Environment(tools=["default"])
stamps = []
for source in Glob("src/*.txt"):
    copy = env.Command(f"build/{source.name}.out", source, Copy("$TARGET", "$SOURCE"))
    stamps += env.Command(f"build/{source.name}.passed", [copy, "src/expected"], Copy("$TARGET", "$SOURCE"))
env.Alias("test", stamps)
Default("test")
'''


def scons(tree: str, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "SCons", "-Q"], cwd=tree, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"scons failed in {tree}:\n{proc.stdout}{proc.stderr}")
    return elapsed


def count_targets(tree: str) -> int:
    return sum(len(files) for _, _, files in os.walk(os.path.join(tree, "build")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wasmbuild-bench-") as tmp:
        env = dict(os.environ, WASMBUILD_CACHE_DIR=os.path.join(tmp, "cache"),
                   PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
        samples = os.path.join(tmp, "samples-tree")
        shutil.copytree(os.path.join(REPO, "samples"), os.path.join(samples, "samples"))
        shutil.copytree(os.path.join(REPO, "site_scons"), os.path.join(samples, "site_scons"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(os.path.join(REPO, "SConstruct"), samples)
        scons(samples, env)  # the builds themselves
        targets = count_targets(samples)

        plain = os.path.join(tmp, "plain-tree")
        os.makedirs(os.path.join(plain, "src"))
        with open(os.path.join(plain, "SConstruct"), "w") as f:
            f.write(PLAIN_SCONSTRUCT)
        with open(os.path.join(plain, "src", "expected"), "w") as f:
            f.write("expected\n")
        for i in range((targets + 1) // 2):
            with open(os.path.join(plain, "src", f"m{i}.txt"), "w") as f:
                f.write(f"module {i}\n" * 100)
        scons(plain, env)
        plain_targets = count_targets(plain)

        # Null builds, the two trees taking turns so that a change in machine load hits both.
        wasm_time = plain_time = float("inf")
        for _ in range(args.repeat):
            wasm_time = min(wasm_time, scons(samples, env))
            plain_time = min(plain_time, scons(plain, env))

    print(f"samples tree: null build {wasm_time * 1000:.0f} ms ({targets} targets, best of {args.repeat})")
    print(f"plain SCons tree: null build {plain_time * 1000:.0f} ms ({plain_targets} targets, "
          f"best of {args.repeat})")
    print(f"ratio: {wasm_time / plain_time:.2f}x")


if __name__ == "__main__":
    main()
