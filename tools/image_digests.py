"""Print the SHA-256 of every image and package wasmbuild makes of the samples and of every module
of the spec suite, one line each: `<digest> <what>` (or `error <reason> <what>`).

Used to check that a change which must not alter output (a refactoring) leaves every image and
package byte-identical: run it on the commit before and after and compare with `diff`.

    python3 tools/image_digests.py [--spec-dir DIR] [-j N] [-O LEVEL] > digests.txt
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import multiprocessing
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from wasmbuild.build import ModuleInput, build_graph, build_image  # noqa: E402
from wasmbuild.compile import CompileSettings  # noqa: E402
from wasmbuild.errors import WasmbuildError  # noqa: E402
from wasmbuild.package import make_package  # noqa: E402
from wasmbuild.wat import read_module_bytes  # noqa: E402


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sample_lines(settings: CompileSettings) -> list[str]:
    """Image and package of every sample: its graph.toml, or its one module."""
    lines = []
    for sample in sorted(glob.glob(os.path.join(REPO, "samples", "*"))):
        manifest = os.path.join(sample, "graph.toml")
        name = os.path.basename(sample)
        if os.path.exists(manifest):
            image, _ = build_graph(manifest, settings)
            source = manifest
        else:
            (source,) = sorted(glob.glob(os.path.join(sample, "*.wat")))
            image, _ = build_image([ModuleInput(name, read_module_bytes(source), source)], settings)
        lines.append(f"{_digest(image)} sample {name} image")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "app.img")
            with open(path, "wb") as f:
                f.write(image)
            lines.append(f"{_digest(make_package(path, name, source))} sample {name} package")
    return lines


def _spec_modules(spec_dir: str) -> list[str]:
    paths = []
    for script in sorted(glob.glob(os.path.join(spec_dir, "*", "*", "*.json"))):
        with open(script, encoding="utf-8") as f:
            commands = json.load(f)["commands"]
        for cmd in commands:
            if cmd["type"] == "module" and cmd.get("filename", "").endswith(".wasm"):
                paths.append(os.path.join(os.path.dirname(script), cmd["filename"]))
    return sorted(set(paths))


def _spec_line(args) -> str:
    path, settings, spec_dir = args
    what = f"spec {os.path.relpath(path, spec_dir)}"
    with open(path, "rb") as f:
        data = f.read()
    try:
        image, _ = build_image([ModuleInput(os.path.basename(path), data, os.path.basename(path))], settings)
    except WasmbuildError as e:
        return f"error {str(e)!r} {what}"
    return f"{_digest(image)} {what}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--spec-dir", default=os.environ.get("WASMBUILD_SPEC_DIR",
                                                        os.path.join(REPO, "..", "shared", "spec")))
    p.add_argument("-j", type=int, default=os.cpu_count())
    p.add_argument("-O", type=int, default=2)
    p.add_argument("--no-spec", action="store_true")
    args = p.parse_args()
    settings = CompileSettings(opt_level=args.O)
    for line in sample_lines(settings):
        print(line, flush=True)
    if args.no_spec:
        return
    jobs = [(path, settings, args.spec_dir) for path in _spec_modules(args.spec_dir)]
    with multiprocessing.get_context("fork").Pool(args.j) as pool:
        for line in pool.imap(_spec_line, jobs, chunksize=8):
            print(line, flush=True)


if __name__ == "__main__":
    main()
