"""Deployable packages: one file holding an image, a manifest describing it, and optionally the
sources to rebuild it for another machine.

A package is a ZIP archive (stored, not compressed) whose members are written in a fixed order
with fixed timestamps and permissions, so the same inputs give a byte-identical package:
  package.json     the manifest (below)
  image.wbi        the image
  sources/...      optional: the graph's manifest and module files, for `--rebuild`
The manifest records the package format, the graph's name, its entry point (`_start` for a WASI
program, else none), its exports with their wasm types, the host imports it needs (which WASI
functions, for example), the target triple, CPU and features, the wasmbuild and LLVM versions,
and the SHA-256 and size of every other member.

`make_package(image_path, name, sources)` gives the package bytes (`sources`: the graph's manifest,
or the module file of a single-module image, or None). `open_package(path)`
verifies everything before any code is mapped: that the file is a whole archive, the manifest's
format, every member's checksum and size, and that the image inside matches the manifest; it gives
the verified image bytes and the manifest. `PackageError` says what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

from .contract.records import HOST, ExportStep, InstantiateStep
from .contract.types import EXTERN_FUNC, EXTERN_NAMES, type_name
from .errors import WasmbuildError
from .graph import is_manifest
from .image import ImageError, read_image

PACKAGE_FORMAT = 1
MANIFEST = "package.json"
IMAGE = "image.wbi"
SOURCES = "sources/"
_EPOCH = (1980, 1, 1, 0, 0, 0)


class PackageError(WasmbuildError):
    phase = "package"


def is_package(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _describe(image_bytes: bytes, path: str) -> dict:
    """What the manifest says about an image: target, versions, entry, exports, host imports."""
    image = read_image(image_bytes, path)
    meta = image.meta

    def sig(type_id: int) -> str:
        ft = meta.types[type_id]
        return f"[{' '.join(map(type_name, ft.params))}] -> [{' '.join(map(type_name, ft.results))}]"

    instances = {}
    host_imports = []
    for init in meta.initializers:
        if isinstance(init, InstantiateStep):
            module = meta.modules[init.module]
            instances[init.instance] = module
            for imp, source in zip(module.imports, init.imports):
                if source.source == HOST:
                    entry = {"module": source.owner, "name": source.item, "kind": EXTERN_NAMES[imp.kind]}
                    if imp.kind == EXTERN_FUNC:
                        entry["type"] = sig(imp.desc)
                    if entry not in host_imports:
                        host_imports.append(entry)
    exports = []
    for init in meta.initializers:
        if not isinstance(init, ExportStep):
            continue
        module = instances[init.instance]
        for e in module.exports:
            if init.item not in (None, e.name):
                continue
            name = init.name if init.item is not None else f"{init.name}.{e.name}"
            entry = {"name": name, "kind": EXTERN_NAMES[e.kind]}
            if e.kind == EXTERN_FUNC:
                entry["type"] = sig(module.func_type_id(e.index))
            exports.append(entry)
    names = {e["name"] for e in exports}
    entry = "_start" if "_start" in names else None
    header = image.header
    return {"target": header.target.to_json(), "versions": header.versions,
            "settings": {"opt_level": header.opt_level}, "entry": entry, "exports": exports,
            "host_imports": host_imports}


def make_package(image_path: str, name: str, sources: str | None = None) -> bytes:
    sources_manifest = sources
    try:
        with open(image_path, "rb") as f:
            image_bytes = f.read()
    except OSError as e:
        raise PackageError(f"cannot read image: {e.strerror}", file=image_path) from None
    described = _describe(image_bytes, image_path)
    members: list[tuple[str, bytes]] = [(IMAGE, image_bytes)]
    if sources_manifest and is_manifest(sources_manifest):
        members += _source_members(sources_manifest)
    elif sources_manifest:
        try:
            with open(sources_manifest, "rb") as f:
                members.append((SOURCES + "module" + os.path.splitext(sources_manifest)[1], f.read()))
        except OSError as e:
            raise PackageError(f"cannot read source: {e.strerror}", file=sources_manifest) from None
    manifest = {"format": PACKAGE_FORMAT, "name": name, **described,
                "members": {n: {"sha256": _sha256(d), "size": len(d)} for n, d in members}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for member, data in [(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n")] + members:
            info = zipfile.ZipInfo(member, _EPOCH)
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the build machine
            z.writestr(info, data)
    return out.getvalue()


def _source_members(manifest_path: str) -> list[tuple[str, bytes]]:
    """The graph's manifest and modules, with module paths rewritten to the copies."""
    from .graph import load_manifest
    import tomllib
    graph = load_manifest(manifest_path)
    with open(manifest_path, "rb") as f:
        doc = tomllib.load(f)
    members = []
    for raw, step in zip(doc["step"], graph.steps):
        if step.kind == "module":
            copy = f"{step.name}{os.path.splitext(step.path)[1]}"
            with open(step.path, "rb") as f:
                members.append((SOURCES + copy, f.read()))
            raw["path"] = copy
    lines = []
    for raw in doc["step"]:
        lines.append("[[step]]")
        for key, value in raw.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    members.insert(0, (SOURCES + "graph.toml", "\n".join(lines).encode()))
    return members


def _toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def open_package(path: str) -> tuple[bytes, dict, zipfile.ZipFile]:
    """Verify the package at `path`; gives (image bytes, manifest, archive)."""
    try:
        archive = zipfile.ZipFile(path)
        names = archive.namelist()
        manifest = json.loads(archive.read(MANIFEST))
    except FileNotFoundError:
        raise PackageError("no such file", file=path) from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise PackageError(f"not a whole wasmbuild package ({e})", file=path) from None
    if manifest.get("format") != PACKAGE_FORMAT:
        raise PackageError(f"package format {manifest.get('format')!r} is not supported "
                           f"(this wasmbuild reads format {PACKAGE_FORMAT})", file=path)
    members = manifest.get("members", {})
    extra = sorted(set(names) - set(members) - {MANIFEST})
    if extra:
        raise PackageError(f"member {extra[0]} is not listed in the manifest", file=path)
    for member, info in sorted(members.items()):
        try:
            data = archive.read(member)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError) as e:
            raise PackageError(f"member {member} is missing or damaged ({e})", file=path) from None
        if len(data) != info.get("size") or _sha256(data) != info.get("sha256"):
            raise PackageError(f"member {member} does not match its checksum (tampered or damaged)",
                               file=path)
    image_bytes = archive.read(IMAGE)
    try:
        described = _describe(image_bytes, f"{path}:{IMAGE}")
    except ImageError as e:
        raise PackageError(f"the image inside is not usable: {e.reason}", file=path) from None
    for key in ("target", "versions", "entry"):
        if described[key] != manifest.get(key):
            raise PackageError(f"the manifest's {key} does not match the image", file=path)
    return image_bytes, manifest, archive


def rebuild_from_sources(archive: zipfile.ZipFile, manifest: dict, path: str) -> bytes:
    """Build the packaged graph again for this machine from the packaged sources."""
    import tempfile
    from .build import build_graph
    from .cache import open_cache
    from .compile import CompileSettings
    sources = [n for n in archive.namelist() if n.startswith(SOURCES)]
    if not sources:
        raise PackageError("the package holds no sources to rebuild from", file=path)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-rebuild-") as tmp:
        for name in sources:
            target = os.path.join(tmp, name[len(SOURCES):])
            with open(target, "wb") as f:
                f.write(archive.read(name))
        settings = CompileSettings(opt_level=manifest.get("settings", {}).get("opt_level", 2))
        graph = os.path.join(tmp, "graph.toml")
        if os.path.exists(graph):
            image, _report = build_graph(graph, settings, os.cpu_count() or 1, open_cache())
        else:
            from .build import ModuleInput, build_image
            from .wat import read_module_bytes
            module = os.path.join(tmp, sources[0][len(SOURCES):])
            image, _report = build_image([ModuleInput(manifest["name"], read_module_bytes(module), module)],
                                         settings, os.cpu_count() or 1, cache=open_cache())
    return image
