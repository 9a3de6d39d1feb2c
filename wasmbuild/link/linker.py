"""The linker: per-function ELF objects in, one position-independent code image out.

Takes `link(units, absolute_symbols, machine)`:
- `units`: `(unit_name, object_bytes)` pairs (or `(unit_name, ObjectFile)`, or `ObjectFile`s) in
  the order their code must be laid out;
- `absolute_symbols`: name → int for the symbols whose *value* is the datum (vmctx field offsets,
  type ids), which the compiler declares with `!absolute_symbol` so that LLVM folds them into
  instructions as immediates and displacements;
- `machine`: a key of `MACHINE_SPECS` (only 'x86_64' has relocations implemented so far).

Gives a `LinkedCode`. Its layout (offsets from the load address, all deterministic):

    0            .text-like sections (SHF_EXECINSTR) of every unit, in unit order, each aligned
                 PLT stubs: one per external symbol, `jmp *slot(%rip)` (sorted like the GOT)
    text_size    read-only sections (.rodata, .rodata.cst*, ...) of every unit, in unit order;
                 identical mergeable constant sections without relocations are stored once
    len(code)    --- `code` ends here; the loader maps [0, data_offset) read + execute
    data_offset  (page aligned) `.data.rel.ro`-like sections: written by load relocations, then
                 made read-only
    got_offset   the GOT: 8-byte slots, first one per external symbol sorted by name, then one per
                 internal symbol reached through GOTPCREL (in first-use order)
    size         = got_offset + got_size rounded up to a page: the size of the mapping

`code` holds [0, len(code)); `data` holds [data_offset, data_offset + len(data)); the GOT and the
padding are zero. Every relocation whose value does not depend on the load address is applied at
link time (PC-relative ones, GOT-relative ones, the ones against absolute symbols). What is left
are `LoadReloc(offset, kind, symbol, addend)`, pointer-sized stores the loader makes:
kind "base" stores `load_address + addend` (an R_X86_64_64 against an internal symbol, an internal
GOT slot), kind "symbol" stores `address_of(symbol) + addend` (a GOT slot, an R_X86_64_64 against
an external symbol). `load_relocs_to_bytes`/`load_relocs_from_bytes` serialise them
(little-endian, independent of the host).

Symbols: a global (or weak) symbol, whatever its visibility, must be defined once over all units
("duplicate symbol"; a global definition overrides weak ones, the first weak one wins among weak
ones). Local symbols resolve within their own unit. An undefined symbol not defined by any unit
and not absolute is *external*: resolved by the loader (memset, fmod, _setjmp, ...) through a GOT
slot, and called through a stub because it may be more than 2 GiB away. An undefined *hidden*
symbol must be defined by a unit: the compiler marks its own symbols hidden, so a missing one is a
link error here rather than a failed dlsym at load time.

Sections that are not SHF_ALLOC (.comment, .symtab, .llvm_addrsig, ...), `.eh_frame`, notes and
SHF_EXCLUDE sections are ignored, with the relocations that apply to them. Empty writable sections
are harmless and placed with `.data.rel.ro`. The cyclic GC is paused while linking (see
`elf.gc_paused`); 20,000 small units link in about 0.4 s (bench/link.py).

Errors raise `LinkError`: malformed objects, duplicate and undefined symbols, writable data other
than `.data.rel.ro`, TLS, unsupported relocation types, values that do not fit their field.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple

from ..errors import LinkError
from . import elf
from .elf import (
    ObjectFile, gc_paused, parse_object, reloc_name,
    SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHF_TLS, SHF_MERGE, SHF_EXCLUDE,
    SHT_NOTE, SHT_GROUP, SHT_X86_64_UNWIND,
    SHN_UNDEF, SHN_ABS, SHN_COMMON, SHN_LORESERVE,
    STB_LOCAL, STB_WEAK, STT_FUNC, STT_SECTION, STV_DEFAULT,
)

# --- results ----------------------------------------------------------------------------------


class LoadReloc(NamedTuple):
    """A pointer-sized store the loader makes: at `offset`, `base + addend` (kind "base") or
    `address(symbol) + addend` (kind "symbol"; `symbol` is "" for kind "base")."""

    offset: int
    kind: str
    symbol: str
    addend: int


@dataclass
class LinkedCode:
    """The linked code of one image; see the module docstring for the layout."""

    machine: str
    byteorder: str
    page_size: int
    code: bytes
    text_size: int
    data_offset: int
    data: bytes
    got_offset: int
    got_size: int
    size: int
    symbols: dict[str, int]
    func_sizes: dict[str, int]
    load_relocs: list[LoadReloc]
    got_symbols: list[str] = field(default_factory=list)  # slot i → external name or "" (internal)

    def image(self) -> bytes:
        """The whole mapping's initial contents (`size` bytes, load relocations not applied)."""
        out = bytearray(self.size)
        out[:len(self.code)] = self.code
        out[self.data_offset:self.data_offset + len(self.data)] = self.data
        return bytes(out)


# --- load relocation serialisation --------------------------------------------------------------

_LR_MAGIC = b"WBLR"
_LR_VERSION = 1
_LR_HEADER = struct.Struct("<4sIII")  # magic, version, count, string table size
_LR_ENTRY = struct.Struct("<QBxxxIq")  # offset, kind, name offset, addend
_LR_KINDS = ("base", "symbol")


def load_relocs_to_bytes(relocs: Iterable[LoadReloc]) -> bytes:
    """Serialise load relocations: a 16-byte header (b"WBLR", version, count, string table size),
    24-byte entries (u64 offset, u8 kind 0=base 1=symbol, 3 pad, u32 name offset, i64 addend),
    then the NUL-terminated names. All little-endian, whatever the host or target."""
    strtab = bytearray(b"\0")
    index = {"": 0}
    entries = bytearray()
    n = 0
    for r in relocs:
        off = index.get(r.symbol)
        if off is None:
            off = index[r.symbol] = len(strtab)
            strtab += r.symbol.encode("utf-8") + b"\0"
        entries += _LR_ENTRY.pack(r.offset, _LR_KINDS.index(r.kind), off, r.addend)
        n += 1
    return _LR_HEADER.pack(_LR_MAGIC, _LR_VERSION, n, len(strtab)) + bytes(entries) + bytes(strtab)


def load_relocs_from_bytes(data: bytes) -> list[LoadReloc]:
    """Inverse of `load_relocs_to_bytes`; raises LinkError if `data` is not such a table."""
    try:
        magic, version, n, strsize = _LR_HEADER.unpack_from(data, 0)
        if magic != _LR_MAGIC or version != _LR_VERSION:
            raise ValueError("bad magic or version")
        start = _LR_HEADER.size
        strtab = bytes(data[start + n * _LR_ENTRY.size:])
        if len(strtab) != strsize or len(data) != start + n * _LR_ENTRY.size + strsize:
            raise ValueError("size mismatch")
        out = []
        names: dict[int, str] = {}
        for off, kind, noff, addend in _LR_ENTRY.iter_unpack(data[start:start + n * _LR_ENTRY.size]):
            name = names.get(noff)
            if name is None:
                end = strtab.index(b"\0", noff)
                name = names[noff] = strtab[noff:end].decode("utf-8")
            out.append(LoadReloc(off, _LR_KINDS[kind], name, addend))
        return out
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as e:
        raise LinkError(f"malformed load relocation table: {e}") from None


# --- per-machine tables -------------------------------------------------------------------------

# Formulas (psABI notation): S symbol, A addend, P place, L stub, G GOT slot, GOT GOT start, Z size.
F_NONE = 0  # nothing
F_ABS = 1  # S + A  (against an internal symbol: a load relocation, pointer-sized only)
F_PCREL = 2  # S + A - P  (external: the stub)
F_PLT = 3  # L + A - P  (internal: S + A - P)
F_GOTPCREL = 4  # G + A - P
F_GOTPC = 5  # GOT + A - P
F_GOTOFF = 6  # S + A - GOT (internal only)
F_SIZE = 7  # Z + A


class RelocSpec(NamedTuple):
    formula: int
    width: int  # bytes patched
    pack: struct.Struct  # how the value is stored (its byte order is the machine's)
    lo: int  # allowed value range (inclusive)
    hi: int
    wrap: bool  # reduce modulo 2**(8*width) instead of checking (pointer-sized fields)


@dataclass(frozen=True)
class MachineSpec:
    """What the linker needs to know about one machine. Adding aarch64/riscv64/s390x means a new
    entry: relocation table, stub code, page size (and, for field encodings that are not plain
    integers, a RelocSpec.pack that inserts bits)."""

    name: str
    em: int
    byteorder: str
    page_size: int
    pointer_reloc: int  # the pointer-sized absolute relocation (becomes a load relocation)
    text_fill: int  # padding byte between code sections (a trap instruction)
    stub_size: int
    stub_align: int
    make_stub: Callable[[int, int], bytes]  # (stub offset, GOT slot offset) → bytes
    relocs: dict[int, RelocSpec]


def _x86_64_stub(stub: int, slot: int) -> bytes:
    # jmp *slot(%rip) ; int3 ; int3
    return b"\xff\x25" + struct.pack("<i", slot - (stub + 6)) + b"\xcc\xcc"


def _spec(formula: int, fmt: str, wrap: bool = False) -> RelocSpec:
    st = struct.Struct(fmt)
    bits = 8 * st.size
    if fmt[-1].islower():
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    return RelocSpec(formula, st.size, st, lo, hi, wrap)


def _x86_64_relocs() -> dict[int, RelocSpec]:
    E = elf
    return {
        E.R_X86_64_NONE: RelocSpec(F_NONE, 0, struct.Struct("<"), 0, 0, True),
        E.R_X86_64_64: _spec(F_ABS, "<Q", wrap=True),
        E.R_X86_64_32: _spec(F_ABS, "<I"),
        E.R_X86_64_32S: _spec(F_ABS, "<i"),
        E.R_X86_64_PC32: _spec(F_PCREL, "<i"),
        E.R_X86_64_PLT32: _spec(F_PLT, "<i"),
        E.R_X86_64_PC64: _spec(F_PCREL, "<q"),
        E.R_X86_64_GOTPCREL: _spec(F_GOTPCREL, "<i"),
        E.R_X86_64_GOTPCRELX: _spec(F_GOTPCREL, "<i"),
        E.R_X86_64_REX_GOTPCRELX: _spec(F_GOTPCREL, "<i"),
        E.R_X86_64_GOTPCREL64: _spec(F_GOTPCREL, "<q"),
        E.R_X86_64_GOTPC32: _spec(F_GOTPC, "<i"),
        E.R_X86_64_GOTPC64: _spec(F_GOTPC, "<q"),
        E.R_X86_64_GOTOFF64: _spec(F_GOTOFF, "<q"),
        E.R_X86_64_SIZE32: _spec(F_SIZE, "<I"),
        E.R_X86_64_SIZE64: _spec(F_SIZE, "<Q"),
    }


MACHINE_SPECS: dict[str, MachineSpec] = {
    "x86_64": MachineSpec("x86_64", elf.EM_X86_64, "<", 0x1000, elf.R_X86_64_64, 0xCC, 8, 8,
                          _x86_64_stub, _x86_64_relocs()),
}


# --- the linker --------------------------------------------------------------------------------

# Resolved symbol kinds.
_INT, _ABS, _EXT, _LOST = 0, 1, 2, 3

_MAX_IMAGE = 1 << 31  # PC-relative 32-bit references must reach across the whole image

_IGNORED_ALLOC_TYPES = {SHT_NOTE, SHT_GROUP, SHT_X86_64_UNWIND}


def _align(x: int, a: int) -> int:
    return (x + a - 1) & -a if a > 1 else x


def _is_relro(name: str) -> bool:
    return name == ".data.rel.ro" or name.startswith(".data.rel.ro.")


def _as_objects(units, spec: MachineSpec) -> list[ObjectFile]:
    objs = []
    for u in units:
        if isinstance(u, ObjectFile):
            obj = u
        else:
            name, data = u
            obj = data if isinstance(data, ObjectFile) else parse_object(data, name)
        if obj.machine != spec.em or obj.byteorder != spec.byteorder:
            what = elf.MACHINE_NAMES.get(obj.machine, f"e_machine {obj.machine}")
            order = "big-endian" if obj.byteorder == ">" else "little-endian"
            raise LinkError(f"object is for {what} ({order}), linking for {spec.name}",
                            file=obj.name)
        objs.append(obj)
    return objs


def link(units, absolute_symbols: dict[str, int] | None = None,
         machine: str = "x86_64") -> LinkedCode:
    """Link `units` (see the module docstring) into a `LinkedCode`."""
    with gc_paused():
        return _link(units, absolute_symbols, machine)


def _link(units, absolute_symbols, machine) -> LinkedCode:
    spec = MACHINE_SPECS.get(machine)
    if spec is None:
        raise LinkError(f"linking for machine {machine!r} is not implemented "
                        f"(known: {', '.join(sorted(MACHINE_SPECS))})")
    absolute = dict(absolute_symbols or {})
    for k, v in absolute.items():
        if not isinstance(v, int) or not -(1 << 63) <= v < (1 << 64):
            raise LinkError(f"absolute symbol {k} has value {v!r}, not a 64-bit integer")
    objs = _as_objects(units, spec)
    page = spec.page_size

    # 1. Classify sections; collect global definitions and undefined references.
    text: list[tuple[int, elf.Section]] = []
    rodata: list[tuple[int, elf.Section]] = []
    relro: list[tuple[int, elf.Section]] = []
    defs: dict[str, tuple[int, int]] = {}  # name → (unit index, symbol index)
    undefs: list[tuple[int, elf.Symbol]] = []
    for ui, o in enumerate(objs):
        for s in o.sections:
            f = s.flags
            if not f & SHF_ALLOC or f & SHF_EXCLUDE or s.type in _IGNORED_ALLOC_TYPES \
                    or s.name == ".eh_frame":
                continue
            if f & SHF_TLS:
                raise LinkError(f"section {s.name} is thread-local; TLS is not supported",
                                file=o.name)
            if f & SHF_EXECINSTR:
                text.append((ui, s))
            elif not f & SHF_WRITE:
                rodata.append((ui, s))
            elif _is_relro(s.name) or s.size == 0:
                relro.append((ui, s))
            else:
                raise LinkError(f"section {s.name} is writable data; compiled code must not have "
                                f"writable sections (only .data.rel.ro, which becomes read-only "
                                f"after load relocations)", file=o.name)
        syms = o.symbols
        for k in range(1, len(syms)):
            sym = syms[k]
            if sym.shndx == SHN_UNDEF:
                if sym.name:
                    undefs.append((ui, sym))
                continue
            if sym.bind == STB_LOCAL:
                continue
            if sym.shndx == SHN_COMMON:
                raise LinkError(f"common symbol {sym.name} needs writable data", file=o.name)
            name = sym.name
            prev = defs.get(name)
            if prev is None:
                if name in absolute:
                    raise LinkError(f"duplicate symbol {name} (in {o.name} and the absolute "
                                    f"symbols)")
                defs[name] = (ui, k)
            else:
                pu, pk = prev
                pbind = objs[pu].symbols[pk].bind
                if sym.bind == STB_WEAK:
                    continue
                if pbind == STB_WEAK:
                    defs[name] = (ui, k)
                    continue
                raise LinkError(f"duplicate symbol {name} (in {objs[pu].name} and {o.name})")

    ext_set = set()
    for ui, sym in undefs:
        name = sym.name
        if name in defs or name in absolute:
            continue
        if sym.visibility != STV_DEFAULT and sym.bind != STB_WEAK:
            raise LinkError(f"undefined hidden symbol {name} (referenced from {objs[ui].name}); "
                            f"it must be defined by one of the linked units")
        ext_set.add(name)
    externals = sorted(ext_set)
    ext_index = {n: i for i, n in enumerate(externals)}

    # 2. Layout.
    bases: list[list[int | None]] = [[None] * len(o.sections) for o in objs]
    off = 0
    for ui, s in text:
        off = _align(off, s.align)
        bases[ui][s.index] = off
        off += s.size
    stub_base = _align(off, spec.stub_align) if externals else off
    text_size = stub_base + spec.stub_size * len(externals)
    off = text_size
    merged: dict[tuple, int] = {}
    copies: list[tuple[int, elf.Section]] = []
    for ui, s in rodata:
        key = None
        if s.flags & SHF_MERGE and not s.relocs and s.data is not None:
            key = (s.flags, s.entsize, s.align, s.data)
            at = merged.get(key)
            if at is not None:
                bases[ui][s.index] = at
                continue
        off = _align(off, s.align)
        bases[ui][s.index] = off
        if key is not None:
            merged[key] = off
        copies.append((ui, s))
        off += s.size
    code_size = off
    data_offset = _align(code_size, page)
    off = data_offset
    for ui, s in relro:
        off = _align(off, s.align)
        bases[ui][s.index] = off
        off += s.size
    data_end = off
    got_offset = _align(data_end, 8)
    if got_offset + 8 * len(externals) > _MAX_IMAGE:
        raise LinkError(f"linked code would be {got_offset:#x} bytes; the small code model "
                        f"allows at most {_MAX_IMAGE:#x}")

    # 3. Contents.
    img = bytearray(bytes([spec.text_fill]) * text_size)
    img += bytes(got_offset - text_size)
    for ui, s in text:
        if s.data:
            b = bases[ui][s.index]
            img[b:b + s.size] = s.data
    for ui, s in copies:
        if s.data:
            b = bases[ui][s.index]
            img[b:b + s.size] = s.data
    for ui, s in relro:
        if s.data:
            b = bases[ui][s.index]
            img[b:b + s.size] = s.data
    got_slot: dict[int, int] = {}  # internal symbol offset → slot index
    got_symbols = list(externals)
    load: list[LoadReloc] = []
    for i, name in enumerate(externals):
        stub = stub_base + spec.stub_size * i
        slot = got_offset + 8 * i
        img[stub:stub + spec.stub_size] = spec.make_stub(stub, slot)
        load.append(LoadReloc(slot, "symbol", name, 0))

    # 4. Symbols and relocations.
    def resolve_defined(ui: int, k: int):
        o = objs[ui]
        sym = o.symbols[k]
        if sym.shndx == SHN_ABS:
            return (_ABS, sym.value, sym.size, sym.name)
        if sym.shndx >= SHN_LORESERVE:
            return (_LOST, 0, 0, sym.name)
        b = bases[ui][sym.shndx]
        if b is None:
            return (_LOST, 0, 0, sym.name or o.sections[sym.shndx].name)
        return (_INT, b + sym.value, sym.size, sym.name)

    def resolve(ui: int, k: int):
        sym = objs[ui].symbols[k]
        if k == 0:
            return (_ABS, 0, 0, "")
        if sym.bind != STB_LOCAL and sym.type != STT_SECTION:
            d = defs.get(sym.name)
            if d is not None:
                return resolve_defined(*d)
            if sym.name in absolute:
                return (_ABS, absolute[sym.name], 0, sym.name)
            if sym.shndx == SHN_UNDEF and sym.name in ext_index:
                return (_EXT, ext_index[sym.name], 0, sym.name)
        return resolve_defined(ui, k)

    relocs_table = spec.relocs
    stub_size = spec.stub_size
    for ui, o in enumerate(objs):
        base_u = bases[ui]
        res = None
        for s in o.sections:
            if not s.relocs:
                continue
            sbase = base_u[s.index]
            if sbase is None:
                continue  # relocations of an ignored section
            if res is None:
                res = [None] * len(o.symbols)
            size = s.size
            for r_off, rtype, k, A in s.relocs:
                rs = relocs_table.get(rtype)
                if rs is None:
                    raise LinkError(f"unsupported relocation {reloc_name(spec.em, rtype)} in "
                                    f"{s.name} at {r_off:#x}", file=o.name)
                formula, width, pack, lo, hi, wrap = rs
                if r_off + width > size:
                    raise LinkError(f"malformed object: relocation at {r_off:#x} outside "
                                    f"{s.name} (size {size:#x})", file=o.name)
                t = res[k]
                if t is None:
                    t = res[k] = resolve(ui, k)
                tkind, S, Z, tname = t
                P = sbase + r_off
                if formula == F_PCREL or formula == F_PLT:
                    if tkind == _INT:
                        v = S + A - P
                    elif tkind == _EXT:
                        v = stub_base + stub_size * S + A - P
                    else:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                elif formula == F_ABS:
                    if tkind == _ABS:
                        v = S + A
                    elif width == 8 and rtype == spec.pointer_reloc and tkind == _INT:
                        v = S + A
                        load.append(LoadReloc(P, "base", "", v))
                    elif width == 8 and rtype == spec.pointer_reloc and tkind == _EXT:
                        v = 0
                        load.append(LoadReloc(P, "symbol", tname, A))
                    else:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                elif formula == F_GOTPCREL:
                    if tkind == _EXT:
                        slot = S
                    elif tkind == _INT:
                        slot = got_slot.get(S)
                        if slot is None:
                            slot = got_slot[S] = len(got_symbols)
                            got_symbols.append("")
                            load.append(LoadReloc(got_offset + 8 * slot, "base", "", S))
                    else:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                    v = got_offset + 8 * slot + A - P
                elif formula == F_GOTPC:
                    v = got_offset + A - P
                elif formula == F_GOTOFF:
                    if tkind != _INT:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                    v = S + A - got_offset
                elif formula == F_SIZE:
                    if tkind != _INT:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                    v = Z + A
                else:  # F_NONE
                    continue
                if wrap:
                    v &= hi
                elif not lo <= v <= hi:
                    what = f"{tname} = {S:#x}" if tkind == _ABS else tname
                    raise LinkError(f"{reloc_name(spec.em, rtype)} against {what} in {s.name} at "
                                    f"{r_off:#x}: value {v:#x} does not fit "
                                    f"[{lo:#x}, {hi:#x}]", file=o.name)
                pack.pack_into(img, P, v)

    got_size = 8 * len(got_symbols)
    end = got_offset + got_size
    size = _align(end, page) if end > data_offset else data_offset
    symbols: dict[str, int] = {}
    func_sizes: dict[str, int] = {}
    for name, (ui, k) in defs.items():
        kind, S, Z, _ = resolve_defined(ui, k)
        if kind != _INT:
            continue
        symbols[name] = S
        if objs[ui].symbols[k].type == STT_FUNC:
            func_sizes[name] = Z
    load.sort(key=lambda r: r.offset)
    return LinkedCode(spec.name, spec.byteorder, page, bytes(img[:code_size]), text_size,
                      data_offset, bytes(img[data_offset:data_end]), got_offset, got_size, size,
                      symbols, func_sizes, load, got_symbols)


def _bad_target(spec: MachineSpec, o: ObjectFile, s: elf.Section, r_off: int, rtype: int,
                tkind: int, tname: str) -> LinkError:
    rn = reloc_name(spec.em, rtype)
    if tkind == _ABS:
        why = (f"{rn} cannot refer to absolute symbol {tname} (only "
               f"{', '.join(reloc_name(spec.em, t) for t, r in spec.relocs.items() if r.formula == F_ABS)} can)")
    elif tkind == _LOST:
        why = f"{rn} refers to {tname}, which is in a section that is not linked"
    elif tkind == _EXT:
        why = f"{rn} cannot refer to external symbol {tname}"
    else:
        why = (f"{rn} against internal symbol {tname} needs an absolute address; the code must "
               f"be position independent")
    return LinkError(f"{why} (in {s.name} at {r_off:#x})", file=o.name)
