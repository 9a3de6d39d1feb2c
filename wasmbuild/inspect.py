"""`wasmbuild inspect`: a readable account of an image, read with pyelftools.

`describe_image(path)` gives text: the header (format, target, versions, settings), each module
with its imports, exports and functions (symbol, address, size), the trampolines with their
signatures and users, and the ELF sections.
"""

from __future__ import annotations

import io
import json

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .image import SECTION_HEADER, SECTION_META, ImageError


def describe_image(path: str) -> str:
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ImageError(f"cannot read image: {e.strerror}", file=path) from None
    with f:
        try:
            elf = ELFFile(f)
            sections = [(s.name, s["sh_type"], s["sh_addr"], s["sh_size"]) for s in elf.iter_sections()]
            header_sec = elf.get_section_by_name(SECTION_HEADER)
            meta_sec = elf.get_section_by_name(SECTION_META)
            if header_sec is None or meta_sec is None:
                raise ImageError("not a wasmbuild image (no metadata sections)", file=path)
            header = json.loads(header_sec.data())
            meta = json.loads(meta_sec.data())
            symtab = elf.get_section_by_name(".symtab")
            sizes = {s.name: (s["st_value"], s["st_size"]) for s in symtab.iter_symbols() if s.name} if symtab else {}
            machine = elf["e_machine"]
        except (ELFError, ValueError, KeyError) as e:
            raise ImageError(f"not a readable image: {e}", file=path) from None

    out = io.StringIO()
    w = out.write
    t = header["target"]
    w(f"image {path}\n")
    order = {"<": "little-endian", ">": "big-endian"}.get(t.get("byteorder"), t.get("byteorder"))
    w(f"  format {header['format']}, {machine} {order}, {t['triple']} cpu={t['cpu']} "
      f"features={t['features'] or '-'}\n")
    v = header["versions"]
    w(f"  built by wasmbuild {v['wasmbuild']} with LLVM {v['llvm']} (llvmlite {v['llvmlite']}); "
      f"settings {json.dumps(header['settings'], sort_keys=True)}\n")
    w(f"  {len(meta['types'])} canonical function types\n")
    for mi, m in enumerate(meta["modules"]):
        w(f"module {mi} {m['name']}: {len(m['functions'])} functions, {len(m['imports'])} imports, "
          f"{len(m['exports'])} exports\n")
        for imp in m["imports"]:
            w(f"  import {imp['module']}.{imp['name']} ({imp['kind']})\n")
        for e in m["exports"]:
            w(f"  export {e['name']} ({e['kind']} {e['index']})\n")
        for sym, type_id in m["functions"]:
            addr, size = sizes.get(sym, (0, 0))
            params, results = meta["types"][type_id]
            w(f"  func {sym} at {addr:#x} size {size}: [{' '.join(params)}] -> [{' '.join(results)}]\n")
    for kind in ("entry", "host"):
        for tr in meta["trampolines"][kind]:
            users = ", ".join(tr["users"][:5]) + (" ..." if len(tr["users"]) > 5 else "")
            w(f"trampoline {kind} {tr['signature']} ({tr['symbol']}): used by {users}\n")
    w("sections\n")
    for name, typ, addr, size in sections:
        if name:
            w(f"  {name:16} {typ:14} addr {addr:#8x} size {size}\n")
    return out.getvalue()
