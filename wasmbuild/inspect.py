"""`wasmbuild inspect`: a readable account of an image.

`describe_image(path)` verifies the image first (`image.read_image`: a damaged or foreign file is
an `ImageError`, never a traceback), then gives text: the header (format, target, versions,
settings), each module with its imports, exports and functions (symbol, address, size), the
trampolines with their signatures and users, and the ELF sections and symbols as pyelftools reads
them.
"""

from __future__ import annotations

import io
import json

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .contract.types import EXTERN_NAMES, EXTERN_TAG, sig_key
from .image import ImageError, read_image


def _describe_component(w, record_json, path: str) -> None:
    """The component layer of an image: its imports and exports with their WIT types, and counts."""
    from .component.record import ComponentRecord, RecordError
    try:
        record, _types = ComponentRecord.from_json(record_json)
    except (RecordError, KeyError, TypeError, ValueError) as e:
        raise ImageError(f"bad component record: {e}", file=path) from None
    w(f"component: {len(record.instances)} component instances, {len(record.lifted)} lifted and "
      f"{len(record.lowered)} lowered functions, {len(record.resources)} resource types\n")
    if record.unlinkable:
        w(f"  cannot be instantiated: {record.unlinkable}\n")

    def externs(what: str, items: dict, indent: str) -> None:
        for name, (kind, body) in items.items():
            if kind == "instance":
                w(f"{indent}{what} {name} (instance)\n")
                externs(what, body, indent + "  ")
            elif kind == "func":
                ft = body if what == "import" else record.lifted[body].type
                w(f"{indent}{what} {name}: {ft}\n")
            else:
                w(f"{indent}{what} {name} (resource {record.resources[body].name})\n")
    externs("import", record.imports, "  ")
    externs("export", record.exports, "  ")


def describe_image(path: str) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ImageError(f"cannot read image: {e.strerror}", file=path) from None
    image = read_image(data, path)
    try:
        elf = ELFFile(io.BytesIO(data))
        sections = [(s.name, s["sh_type"], s["sh_addr"], s["sh_size"]) for s in elf.iter_sections()]
        symtab = elf.get_section_by_name(".symtab")
        sizes = {s.name: (s["st_value"], s["st_size"]) for s in symtab.iter_symbols() if s.name} if symtab else {}
        machine = elf["e_machine"]
    except (ELFError, ValueError, KeyError) as e:
        raise ImageError(f"not a readable image: {e}", file=path) from None
    header, meta = image.header, image.meta

    out = io.StringIO()
    w = out.write
    t = header.target
    w(f"image {path}\n")
    order = {"<": "little-endian", ">": "big-endian"}[t.byteorder]
    w(f"  format {header.format}, {machine} {order}, {t.triple} cpu={t.cpu} features={t.features or '-'}\n")
    v = header.versions
    w(f"  built by wasmbuild {v.get('wasmbuild')} with LLVM {v.get('llvm')} (llvmlite {v.get('llvmlite')}); "
      f"settings {json.dumps(header.settings)}\n")
    w(f"  {len(meta.types)} canonical function types\n")
    if meta.component is not None:
        _describe_component(w, meta.component, path)
    for mi, m in enumerate(meta.modules):
        w(f"module {mi} {m.name}: {len(m.functions)} functions, {len(m.imports)} imports, "
          f"{len(m.exports)} exports\n")
        for imp in m.imports:
            w(f"  import {imp.module}.{imp.name} ({EXTERN_NAMES[imp.kind]})\n")
        for e in m.exports:
            w(f"  export {e.name} ({EXTERN_NAMES[e.kind]} {e.index})\n")
        for f in m.functions:
            addr, size = sizes.get(f.symbol, (0, 0))
            w(f"  func {f.symbol} at {addr:#x} size {size}: {meta.types[f.type_id]}\n")
        imported_tags = sum(1 for imp in m.imports if imp.kind == EXTERN_TAG)
        for i, t in enumerate(m.tags, imported_tags):
            w(f"  tag {i}: {meta.types[t]}\n")
    for kind, trampolines in (("entry", meta.entry_trampolines), ("host", meta.host_trampolines)):
        for tr in trampolines:
            users = ", ".join(tr.users[:5]) + (" ..." if len(tr.users) > 5 else "")
            w(f"trampoline {kind} {sig_key(tr.signature)} ({tr.symbol}): used by {users}\n")
    w("sections\n")
    for name, typ, addr, size in sections:
        if name:
            w(f"  {name:16} {typ:14} addr {addr:#8x} size {size}\n")
    return out.getvalue()
