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
verifies everything before any code is mapped: that the file is a whole archive whose members are
only those above (no absolute path, `..` or duplicate), stored, the manifest's format, every
member's checksum and size, and that the image inside matches the manifest; it gives the verified
image bytes, the manifest and the verified bytes of every member. `rebuild_from_sources` builds
those sources again in a fresh private directory. `PackageError` says what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile

from .contract.records import HOST, ExportStep, InstantiateStep
from .contract.types import EXTERN_FUNC, EXTERN_NAMES
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
                        entry["type"] = str(meta.types[imp.desc])
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
                entry["type"] = str(meta.types[module.func_type_id(e.index)])
            exports.append(entry)
    names = {e["name"] for e in exports}
    entry = "_start" if "_start" in names else None
    header = image.header
    return {"target": header.target.to_json(), "versions": header.versions,
            "settings": header.settings, "entry": entry, "exports": exports,
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
    """The graph's manifest and modules (or components), with their paths rewritten to the copies."""
    from .graph import load_manifest
    import tomllib
    graph = load_manifest(manifest_path)
    with open(manifest_path, "rb") as f:
        doc = tomllib.load(f)
    members = []
    for raw, step in zip(doc["step"], graph.steps):
        if step.kind in ("module", "component"):
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


def _member_name_error(name: str) -> str | None:
    """Why `name` may not be a member of a package (None if it may): the manifest, the image, or
    one file directly in sources/; never an absolute path, `..`, an empty or odd component."""
    if name in (MANIFEST, IMAGE):
        return None
    if not name.startswith(SOURCES):
        return "is not a member a package can have"
    rest = name[len(SOURCES):]
    if not rest or rest in (".", "..") or any(c in rest for c in "/\\\0"):
        return "is not a plain file name under sources/"
    return None


def _manifest_error(manifest) -> str | None:
    """What is wrong with the shape of a manifest (None if nothing)."""
    if not isinstance(manifest, dict):
        return "the manifest is not a JSON object"
    if manifest.get("format") != PACKAGE_FORMAT:
        return (f"package format {manifest.get('format')!r} is not supported "
                f"(this wasmbuild reads format {PACKAGE_FORMAT})")
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
            isinstance(info, dict) and isinstance(info.get("size"), int) and isinstance(info.get("sha256"), str)
            for info in members.values()):
        return "the manifest's members are not {name: {size, sha256}}"
    if not isinstance(manifest.get("name"), str):
        return "the manifest has no name"
    return None


def open_package(path: str) -> tuple[bytes, dict, dict[str, bytes]]:
    """Verify the package at `path`; gives (image bytes, manifest, every member but the manifest:
    name -> its verified bytes). Every member's name and kind is checked before anything is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            seen = set()
            for info in infos:
                problem = _member_name_error(info.filename)
                if problem is None and info.filename in seen:
                    problem = "appears twice"
                if problem is None and (info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1):
                    problem = "is compressed or encrypted (package members are stored as they are)"
                if problem is not None:
                    raise PackageError(f"member {info.filename!r} {problem}", file=path)
                seen.add(info.filename)
            manifest = json.loads(archive.read(MANIFEST))
            problem = _manifest_error(manifest)
            if problem is not None:
                raise PackageError(problem, file=path)
            listed = manifest["members"]
            extra = sorted(seen - set(listed) - {MANIFEST})
            if extra:
                raise PackageError(f"member {extra[0]} is not listed in the manifest", file=path)
            if IMAGE not in listed:
                raise PackageError(f"the manifest lists no {IMAGE}", file=path)
            members = {}
            for member, info in sorted(listed.items()):
                if member not in seen:
                    raise PackageError(f"member {member} is missing or damaged", file=path)
                if archive.getinfo(member).file_size != info["size"]:
                    raise PackageError(f"member {member} does not match its checksum (tampered or damaged)",
                                       file=path)
                data = archive.read(member)
                if len(data) != info["size"] or _sha256(data) != info["sha256"]:
                    raise PackageError(f"member {member} does not match its checksum (tampered or damaged)",
                                       file=path)
                members[member] = data
    except FileNotFoundError:
        raise PackageError("no such file", file=path) from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise PackageError(f"not a whole wasmbuild package ({e})", file=path) from None
    image_bytes = members[IMAGE]
    try:
        described = _describe(image_bytes, f"{path}:{IMAGE}")
    except ImageError as e:
        raise PackageError(f"the image inside is not usable: {e.reason}", file=path) from None
    for key in ("target", "versions", "entry"):
        if described[key] != manifest.get(key):
            raise PackageError(f"the manifest's {key} does not match the image", file=path)
    return image_bytes, manifest, members


def rebuild_from_sources(members: dict[str, bytes], manifest: dict, path: str) -> bytes:
    """Build the packaged graph again for this machine from the packaged sources (`members` as
    `open_package` gives them), in a fresh private directory."""
    import tempfile
    from .build import build_graph
    from .cache import open_cache
    from .compile import CompileSettings
    sources = {name[len(SOURCES):]: data for name, data in members.items() if name.startswith(SOURCES)}
    if not sources:
        raise PackageError("the package holds no sources to rebuild from", file=path)
    if "graph.toml" not in sources and len(sources) != 1:
        raise PackageError("the sources are neither one module nor a graph.toml and its modules", file=path)
    settings = manifest.get("settings")
    opt_level = settings.get("opt_level", 2) if isinstance(settings, dict) else 2
    if opt_level not in range(4):
        raise PackageError(f"the manifest's opt_level {opt_level!r} is not 0..3", file=path)
    settings = CompileSettings(opt_level=opt_level)
    with tempfile.TemporaryDirectory(prefix="wasmbuild-rebuild-") as tmp:  # made 0700, empty
        for name, data in sources.items():
            fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        if "graph.toml" in sources:
            graph = os.path.join(tmp, "graph.toml")
            _check_graph_sources(graph, tmp, set(sources) - {"graph.toml"}, path)
            image, _report = build_graph(graph, settings, os.cpu_count() or 1, open_cache())
        else:
            from .build import ModuleInput, build_image
            from .wat import read_module_bytes
            module = os.path.join(tmp, next(iter(sources)))
            image, _report = build_image([ModuleInput(manifest["name"], read_module_bytes(module), module)],
                                         settings, os.cpu_count() or 1, cache=open_cache())
    return image


def _check_graph_sources(graph_path: str, directory: str, files: set[str], path: str) -> None:
    """Refuse a packaged graph.toml whose modules are not packaged sources (an absolute path, or one
    leading out of the sources, would build a host file into the image)."""
    from .graph import load_manifest
    graph = load_manifest(graph_path)
    for step in graph.modules + graph.components:
        if os.path.dirname(step.path) != directory or os.path.basename(step.path) not in files:
            raise PackageError(f"sources/graph.toml: {step.kind} {step.name!r} is not one of the packaged sources",
                               file=path)
