"""The image file: an ELF file holding linked native code and the metadata to instantiate it.

`write_image(linked, target, versions, settings, meta, data_blob, symbols, fault_object)` gives the
bytes of an image; `read_image(data, path)` parses one back into an `Image` (its `ImageHeader` and `ImageMeta`
records, linked code, data segments), verifying the format and ABI versions, the checksum over the
header and every section the loader uses, and the header's layout before anything is parsed
further. The format is documented in docs/image-format.md; section names are the constants below;
the records and their JSON are in `contract/records.py`. Every multi-byte number outside the code
is either JSON text or explicitly little-endian, so nothing depends on the host's byte order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .contract.abi import ABI_VERSION, BOUNDS_GUARD
from .contract.records import CodeLayout, ImageHeader, ImageMeta, TargetRecord, canonical_json
from .errors import WasmbuildError
from .link import elf
from .link.linker import LinkedCode, LoadReloc, load_relocs_from_bytes, load_relocs_to_bytes
FORMAT_VERSION = 3

SECTION_TEXT = ".text"
SECTION_RELRO = ".data.rel.ro"
SECTION_GOT = ".got"
SECTION_HEADER = ".wb.header"      # JSON: format, target, versions, settings, checksum of the rest
SECTION_META = ".wb.meta"          # JSON: types, modules, trampolines, initializers
SECTION_RELOCS = ".wb.relocs"      # load relocations (little-endian records)
SECTION_DATA = ".wb.data"          # data segment bytes, referenced by offset from .wb.meta
SECTION_FAULT = ".wb.fault"        # guard-page images: the fault handler's relocatable object
# What the header's checksum covers besides the header, in this order (an absent section is empty).
CHECKSUMMED = (SECTION_TEXT, SECTION_RELRO, SECTION_RELOCS, SECTION_META, SECTION_DATA, SECTION_FAULT)

class ImageError(WasmbuildError):
    """An image file that is not ours, damaged, or made for something else."""

    phase = "image"


@dataclass
class Image:
    path: str | None
    header: ImageHeader
    meta: ImageMeta
    linked: LinkedCode
    data: bytes  # the .wb.data payload
    fault_object: bytes = b""  # the .wb.fault payload (guard-page images only)


def write_image(linked: LinkedCode, target: TargetRecord, versions: dict, settings: dict, meta: ImageMeta,
                data_blob: bytes, symbols: list[tuple[str, int, int]], fault_object: bytes = b"") -> bytes:
    """`settings`: `ImageHeader.settings` ({"opt_level", "bounds_checks", "wasm_features"}); `symbols`: (name, offset in code, size) of each
    function, for readelf and inspect; `fault_object`: the fault handler's object (guard-page
    images, which need it and the loader installs once per process)."""
    meta_bytes = meta.to_bytes()
    relocs = load_relocs_to_bytes(linked.load_relocs)
    layout = CodeLayout(page_size=linked.page_size, text_size=linked.text_size, data_offset=linked.data_offset,
                        got_offset=linked.got_offset, got_size=linked.got_size, size=linked.size,
                        code_size=len(linked.code), data_size=len(linked.data))
    fields = (settings["opt_level"], settings["bounds_checks"], settings["wasm_features"])
    header = ImageHeader(FORMAT_VERSION, ABI_VERSION, target, versions, *fields, layout)
    # The parts in CHECKSUMMED's order.
    checksum = _checksum(header.to_json(with_checksum=False), linked.code, linked.data, relocs, meta_bytes,
                         data_blob, fault_object)
    header = ImageHeader(FORMAT_VERSION, ABI_VERSION, target, versions, *fields, layout, checksum)
    sections = [
        elf.OutSection(SECTION_TEXT, elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_EXECINSTR, 16,
                       linked.code, addr=0),
    ]
    if linked.data:
        sections.append(elf.OutSection(SECTION_RELRO, elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_WRITE, 16,
                                       linked.data, addr=linked.data_offset))
    if linked.got_size:
        sections.append(elf.OutSection(SECTION_GOT, elf.SHT_NOBITS, elf.SHF_ALLOC | elf.SHF_WRITE, 8,
                                       addr=linked.got_offset, size=linked.got_size))
    sections += [
        elf.OutSection(SECTION_HEADER, elf.SHT_PROGBITS, 0, 1, header.to_bytes()),
        elf.OutSection(SECTION_META, elf.SHT_PROGBITS, 0, 1, meta_bytes),
        elf.OutSection(SECTION_RELOCS, elf.SHT_PROGBITS, 0, 8, relocs),
        elf.OutSection(SECTION_DATA, elf.SHT_PROGBITS, 0, 1, data_blob),
    ]
    if fault_object:
        sections.append(elf.OutSection(SECTION_FAULT, elf.SHT_PROGBITS, 0, 8, fault_object))
    syms = [elf.OutSymbol(name, SECTION_TEXT, offset, size, "FUNC", "GLOBAL")
            for name, offset, size in symbols]
    byteorder = "<" if linked.byteorder in ("<", "little") else ">"
    return elf.write_elf(linked.machine, byteorder, sections, syms, e_flags=linked.e_flags,
                         page_size=linked.page_size)


def read_image(data: bytes, path: str | None = None) -> Image:
    """Parse an image; raises ImageError for anything that is not a whole image of ours."""
    try:
        sections = _sections(data)
        header = json.loads(sections[SECTION_HEADER])
        meta_bytes = sections[SECTION_META]
    except (KeyError, ValueError, UnicodeDecodeError) as e:
        raise ImageError(f"not a wasmbuild image ({e.__class__.__name__}: {e})", file=path) from None
    if not isinstance(header, dict):
        raise ImageError("not a wasmbuild image (its header is not a JSON object)", file=path)
    if header.get("format") != FORMAT_VERSION:
        raise ImageError(f"image format {header.get('format')!r} is not supported "
                         f"(this wasmbuild reads format {FORMAT_VERSION}): rebuild the image", file=path)
    if header.get("abi") != ABI_VERSION:
        raise ImageError(f"image made for runtime ABI {header.get('abi')!r}, this wasmbuild uses "
                         f"{ABI_VERSION}: rebuild the image", file=path)
    code = sections.get(SECTION_TEXT, b"")
    relro = sections.get(SECTION_RELRO, b"")
    relocs = sections.get(SECTION_RELOCS, b"")
    blob = sections.get(SECTION_DATA, b"")
    fault_object = sections.get(SECTION_FAULT, b"")
    if _checksum(header, *(sections.get(name, b"") for name in CHECKSUMMED)) != header.get("checksum"):
        raise ImageError("image is damaged (checksum mismatch)", file=path)
    try:
        header = ImageHeader.from_json(header)
        _check_header(header, len(code), len(relro))
        meta = ImageMeta.from_bytes(meta_bytes)
        load_relocs: list[LoadReloc] = load_relocs_from_bytes(relocs)
        lay = header.layout
        linked = LinkedCode(machine=header.target.machine, byteorder=header.target.byteorder,
                            page_size=lay.page_size, code=code, text_size=lay.text_size,
                            data_offset=lay.data_offset, data=relro, got_offset=lay.got_offset,
                            got_size=lay.got_size, size=lay.size, symbols=dict(meta.symbols),
                            func_sizes={}, load_relocs=load_relocs)
    except (WasmbuildError, KeyError, TypeError, ValueError, AttributeError) as e:
        reason = e.reason if isinstance(e, WasmbuildError) else f"{e.__class__.__name__}: {e}"
        raise ImageError(f"damaged image: {reason}", file=path) from None
    if (header.bounds_checks == BOUNDS_GUARD) != bool(fault_object):
        raise ImageError("damaged image: the fault handler section does not match the bounds checks", file=path)
    return Image(path, header, meta, linked, blob, fault_object)


def _checksum(header: dict, *parts: bytes) -> str:
    """SHA-256 over the header (without its checksum field) and the contents of every other section
    the loader uses, each preceded by its length."""
    digest = hashlib.sha256()
    head = canonical_json({k: v for k, v in header.items() if k != "checksum"})
    for part in (head, *parts):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _check_header(header: ImageHeader, code_size: int, data_size: int) -> None:
    """The header's layout has the relations the loader relies on (its types `from_json` checked)."""
    lay = header.layout
    page = lay.page_size
    if page <= 0 or page & (page - 1) or lay.code_size != code_size or lay.data_size != data_size \
            or lay.text_size > code_size or lay.got_size % 8:
        raise ValueError("inconsistent layout")
    # The linker's layout rules (link/linker.py): data on the page after the code, the GOT after
    # the data, the mapping rounded up to whole pages.
    data_offset = -(-code_size // page) * page
    got_offset = -(-(data_offset + data_size) // 8) * 8
    end = got_offset + lay.got_size
    size = -(-end // page) * page if end > data_offset else data_offset
    if (lay.data_offset, lay.got_offset, lay.size) != (data_offset, got_offset, size):
        raise ValueError("layout does not follow from the section sizes")


def _sections(data: bytes) -> dict[str, bytes]:
    """Name -> contents of the sections of an ELF file (a small reader: images are ours)."""
    import struct
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("not an ELF64 file")
    bo = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(bo + "Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(bo + "HHH", data, 0x3A)
    if shentsize != 64 or shoff + shnum * 64 > len(data) or shstrndx >= shnum:
        raise ValueError("truncated section table")
    headers = [struct.unpack_from(bo + "IIQQQQIIQQ", data, shoff + i * 64) for i in range(shnum)]
    str_off, str_size = headers[shstrndx][4], headers[shstrndx][5]
    if str_off + str_size > len(data):
        raise ValueError("truncated section names")
    names = data[str_off:str_off + str_size]
    out = {}
    for h in headers[1:]:
        name_end = names.index(b"\0", h[0])
        name = names[h[0]:name_end].decode("utf-8")
        if h[1] == elf.SHT_NOBITS:
            continue
        if h[4] + h[5] > len(data):
            raise ValueError(f"section {name} runs past the end of the file")
        out[name] = data[h[4]:h[4] + h[5]]
    return out
