"""Linking compiled objects into one position-independent code image.

Takes the per-function ELF relocatable objects that the compiler emits (in layout order) and the
values of the "absolute symbols" (vmctx field offsets, type ids); gives a `LinkedCode`: code bytes
with every link-time relocation applied, a GOT, the symbol offsets and the few relocations that
can only be applied once the load address is known. `elf` reads objects and writes the image file.
"""

from .elf import ObjectFile, parse_object, parse_objects, write_elf, OutSection, OutSymbol
from .linker import LinkedCode, LoadReloc, link, load_relocs_to_bytes, load_relocs_from_bytes

__all__ = ["ObjectFile", "parse_object", "parse_objects", "write_elf", "OutSection", "OutSymbol", "LinkedCode",
           "LoadReloc", "link", "load_relocs_to_bytes", "load_relocs_from_bytes"]
