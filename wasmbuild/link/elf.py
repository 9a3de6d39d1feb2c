"""ELF64 constants, a fast reader of relocatable objects, and the writer of the final image.

Takes:
- `parse_object(data, name)`: the bytes of one ELF64 relocatable object (ET_REL) of either byte
  order, as LLVM emits them for one compiled function (or a batch of them);
- `write_elf(machine, byteorder, sections, symbols)`: the sections and symbols of a linked image.

Gives:
- an `ObjectFile`: its machine and byte order, its `Section`s (name, type, flags, alignment,
  contents or NOBITS size, and the RELA `Reloc`s that apply to it) and its `Symbol`s (name,
  section index or SHN_UNDEF / SHN_ABS / SHN_COMMON, value, size, binding, type, visibility);
- the bytes of an ELF64 `ET_DYN` file with `.symtab`/`.strtab`/`.shstrtab` and one `PT_LOAD`
  program header per run of allocated sections with equal permissions.

The reader uses `struct` on the few tables a linker needs (section headers, the symbol table, the
string tables, RELA tables); it is about a hundred times faster than pyelftools, which the tests use
to cross-check it. It never assumes the host byte order: EI_DATA picks the `struct` prefix. A
malformed object raises `LinkError` naming the unit. The writer is deterministic: the same
arguments give the same bytes (no timestamps, symbols sorted, string tables in first-use order).

Why `ET_DYN`: the image is position independent. Its addresses are offsets from wherever our loader
maps it (that is the meaning of addresses in PIE executables and shared objects, which are ET_DYN
with a first segment at 0); `ET_EXEC` would claim the code must sit at those absolute addresses.
The image has no PT_DYNAMIC: it is not meant for ld.so, only for `wasmbuild.load`.
"""

from __future__ import annotations

import gc
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import NamedTuple, Sequence

from ..contract.targets import TARGETS
from ..errors import LinkError

# --- identification ---------------------------------------------------------------------------

ELFMAG = b"\x7fELF"
ELFCLASS32 = 1
ELFCLASS64 = 2
ELFDATA2LSB = 1
ELFDATA2MSB = 2
EV_CURRENT = 1
ELFOSABI_SYSV = 0

ET_NONE = 0
ET_REL = 1
ET_EXEC = 2
ET_DYN = 3

#: wasmbuild's machine names (contract/targets.py) → e_machine, and back.
MACHINES = {t.name: t.elf_machine for t in TARGETS.values()}
MACHINE_NAMES = {em: name for name, em in MACHINES.items()}
EM_X86_64, EM_AARCH64, EM_RISCV, EM_S390 = (MACHINES[n] for n in ("x86_64", "aarch64", "riscv64", "s390x"))

# --- sections ---------------------------------------------------------------------------------

SHT_NULL = 0
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_RELA = 4
SHT_HASH = 5
SHT_DYNAMIC = 6
SHT_NOTE = 7
SHT_NOBITS = 8
SHT_REL = 9
SHT_DYNSYM = 11
SHT_INIT_ARRAY = 14
SHT_FINI_ARRAY = 15
SHT_PREINIT_ARRAY = 16
SHT_GROUP = 17
SHT_SYMTAB_SHNDX = 18
SHT_LLVM_ADDRSIG = 0x6FFF4C03
SHT_X86_64_UNWIND = 0x70000001

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
SHF_MERGE = 0x10
SHF_STRINGS = 0x20
SHF_INFO_LINK = 0x40
SHF_LINK_ORDER = 0x80
SHF_GROUP = 0x200
SHF_TLS = 0x400
SHF_EXCLUDE = 0x80000000

SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2
SHN_XINDEX = 0xFFFF

# --- symbols ----------------------------------------------------------------------------------

STB_LOCAL = 0
STB_GLOBAL = 1
STB_WEAK = 2

STT_NOTYPE = 0
STT_OBJECT = 1
STT_FUNC = 2
STT_SECTION = 3
STT_FILE = 4
STT_COMMON = 5
STT_TLS = 6

STV_DEFAULT = 0
STV_INTERNAL = 1
STV_HIDDEN = 2
STV_PROTECTED = 3

# --- program headers --------------------------------------------------------------------------

PT_NULL = 0
PT_LOAD = 1
PF_X = 0x1
PF_W = 0x2
PF_R = 0x4

# --- x86-64 relocation types (System V psABI) -------------------------------------------------

R_X86_64_NONE = 0
R_X86_64_64 = 1
R_X86_64_PC32 = 2
R_X86_64_GOT32 = 3
R_X86_64_PLT32 = 4
R_X86_64_COPY = 5
R_X86_64_GLOB_DAT = 6
R_X86_64_JUMP_SLOT = 7
R_X86_64_RELATIVE = 8
R_X86_64_GOTPCREL = 9
R_X86_64_32 = 10
R_X86_64_32S = 11
R_X86_64_16 = 12
R_X86_64_PC16 = 13
R_X86_64_8 = 14
R_X86_64_PC8 = 15
R_X86_64_DTPMOD64 = 16
R_X86_64_DTPOFF64 = 17
R_X86_64_TPOFF64 = 18
R_X86_64_TLSGD = 19
R_X86_64_TLSLD = 20
R_X86_64_DTPOFF32 = 21
R_X86_64_GOTTPOFF = 22
R_X86_64_TPOFF32 = 23
R_X86_64_PC64 = 24
R_X86_64_GOTOFF64 = 25
R_X86_64_GOTPC32 = 26
R_X86_64_GOT64 = 27
R_X86_64_GOTPCREL64 = 28
R_X86_64_GOTPC64 = 29
R_X86_64_GOTPLT64 = 30
R_X86_64_PLTOFF64 = 31
R_X86_64_SIZE32 = 32
R_X86_64_SIZE64 = 33
R_X86_64_GOTPC32_TLSDESC = 34
R_X86_64_TLSDESC_CALL = 35
R_X86_64_TLSDESC = 36
R_X86_64_IRELATIVE = 37
R_X86_64_RELATIVE64 = 38
R_X86_64_GOTPCRELX = 41
R_X86_64_REX_GOTPCRELX = 42

# --- AArch64 relocation types (ELF for the Arm 64-bit Architecture) ---------------------------

R_AARCH64_NONE = 0
R_AARCH64_ABS64 = 257
R_AARCH64_ABS32 = 258
R_AARCH64_ABS16 = 259
R_AARCH64_PREL64 = 260
R_AARCH64_PREL32 = 261
R_AARCH64_PREL16 = 262
R_AARCH64_MOVW_UABS_G0 = 263
R_AARCH64_MOVW_UABS_G0_NC = 264
R_AARCH64_MOVW_UABS_G1 = 265
R_AARCH64_MOVW_UABS_G1_NC = 266
R_AARCH64_MOVW_UABS_G2 = 267
R_AARCH64_MOVW_UABS_G2_NC = 268
R_AARCH64_MOVW_UABS_G3 = 269
R_AARCH64_LD_PREL_LO19 = 273
R_AARCH64_ADR_PREL_LO21 = 274
R_AARCH64_ADR_PREL_PG_HI21 = 275
R_AARCH64_ADR_PREL_PG_HI21_NC = 276
R_AARCH64_ADD_ABS_LO12_NC = 277
R_AARCH64_LDST8_ABS_LO12_NC = 278
R_AARCH64_TSTBR14 = 279
R_AARCH64_CONDBR19 = 280
R_AARCH64_JUMP26 = 282
R_AARCH64_CALL26 = 283
R_AARCH64_LDST16_ABS_LO12_NC = 284
R_AARCH64_LDST32_ABS_LO12_NC = 285
R_AARCH64_LDST64_ABS_LO12_NC = 286
R_AARCH64_LDST128_ABS_LO12_NC = 299
R_AARCH64_GOT_LD_PREL19 = 309
R_AARCH64_ADR_GOT_PAGE = 311
R_AARCH64_LD64_GOT_LO12_NC = 312

# --- RISC-V relocation types (RISC-V ELF psABI) -----------------------------------------------

R_RISCV_NONE = 0
R_RISCV_32 = 1
R_RISCV_64 = 2
R_RISCV_BRANCH = 16
R_RISCV_JAL = 17
R_RISCV_CALL = 18
R_RISCV_CALL_PLT = 19
R_RISCV_GOT_HI20 = 20
R_RISCV_PCREL_HI20 = 23
R_RISCV_PCREL_LO12_I = 24
R_RISCV_PCREL_LO12_S = 25
R_RISCV_HI20 = 26
R_RISCV_LO12_I = 27
R_RISCV_LO12_S = 28
R_RISCV_ADD8 = 33
R_RISCV_ADD16 = 34
R_RISCV_ADD32 = 35
R_RISCV_ADD64 = 36
R_RISCV_SUB8 = 37
R_RISCV_SUB16 = 38
R_RISCV_SUB32 = 39
R_RISCV_SUB64 = 40
R_RISCV_ALIGN = 43
R_RISCV_RVC_BRANCH = 44
R_RISCV_RVC_JUMP = 45
R_RISCV_RELAX = 51
R_RISCV_SUB6 = 52
R_RISCV_SET6 = 53
R_RISCV_SET8 = 54
R_RISCV_SET16 = 55
R_RISCV_SET32 = 56
R_RISCV_32_PCREL = 57
R_RISCV_PLT32 = 59
R_RISCV_SET_ULEB128 = 60
R_RISCV_SUB_ULEB128 = 61

#: RISC-V e_flags: compressed instructions, and the floating-point ABI (a 2-bit field).
EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI = 0x6
EF_RISCV_FLOAT_ABI_DOUBLE = 0x4

# --- s390x relocation types (z/Architecture ELF ABI) ------------------------------------------

R_390_NONE = 0
R_390_8 = 1
R_390_12 = 2
R_390_16 = 3
R_390_32 = 4
R_390_PC32 = 5
R_390_GOT12 = 6
R_390_GOT32 = 7
R_390_PLT32 = 8
R_390_GOTOFF32 = 13
R_390_GOTPC = 14
R_390_GOT16 = 15
R_390_PC16 = 16
R_390_PC16DBL = 17
R_390_PLT16DBL = 18
R_390_PC32DBL = 19
R_390_PLT32DBL = 20
R_390_GOTPCDBL = 21
R_390_64 = 22
R_390_PC64 = 23
R_390_GOT64 = 24
R_390_PLT64 = 25
R_390_GOTENT = 26
R_390_GOTOFF16 = 27
R_390_GOTOFF64 = 28
R_390_GOTPLTENT = 33
R_390_20 = 57
R_390_GOT20 = 58
R_390_PC12DBL = 62
R_390_PLT12DBL = 63
R_390_PC24DBL = 64
R_390_PLT24DBL = 65

#: e_machine → {relocation type number: name}, for messages.
RELOC_NAMES: dict[int, dict[int, str]] = {
    EM_X86_64: {v: k for k, v in globals().items() if k.startswith("R_X86_64_")},
    EM_AARCH64: {v: k for k, v in globals().items() if k.startswith("R_AARCH64_")},
    EM_RISCV: {v: k for k, v in globals().items() if k.startswith("R_RISCV_")},
    EM_S390: {v: k for k, v in globals().items() if k.startswith("R_390_")},
}


def reloc_name(machine: int, rtype: int) -> str:
    """The psABI name of relocation type `rtype` on e_machine `machine`, or a numeric stand-in."""
    return RELOC_NAMES.get(machine, {}).get(rtype, f"relocation type {rtype}")


# --- the reader -------------------------------------------------------------------------------

class Reloc(NamedTuple):
    """One RELA entry: patch `offset` (within its section) with `type`, against symbol index `symbol`
    (into `ObjectFile.symbols`; a section symbol stands for its section's start) plus `addend`."""

    offset: int
    type: int
    symbol: int
    addend: int


class Symbol(NamedTuple):
    """One symbol table entry. `shndx` is a section index, SHN_UNDEF, SHN_ABS or SHN_COMMON
    (SHN_XINDEX is already resolved). For a section symbol, `name` is the section's name."""

    name: str
    shndx: int
    value: int
    size: int
    bind: int
    type: int
    visibility: int


@dataclass(eq=False, slots=True)
class Section:
    """One section header and its contents (`data` is None for SHT_NOBITS; `size` is always set).
    `relocs` are the RELA entries that apply to this section (from the `.rela*` section whose
    sh_info names it); an empty tuple when there are none (fewer objects for the cyclic GC)."""

    index: int
    name: str
    type: int
    flags: int
    align: int
    size: int
    data: bytes | None
    entsize: int = 0
    link: int = 0
    info: int = 0
    relocs: list[Reloc] | tuple = ()


@dataclass(eq=False, slots=True)
class ObjectFile:
    """A parsed relocatable object. `sections[i]` has section index i (index 0 is the null section)."""

    name: str
    machine: int
    byteorder: str  # '<' or '>'
    sections: list[Section]
    symbols: list[Symbol]
    flags: int = 0  # e_flags (RISC-V: float ABI and RVC)

    def section(self, name: str) -> Section | None:
        """The first section called `name`, or None."""
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def symbol(self, name: str) -> Symbol | None:
        """The first non-section symbol called `name`, or None."""
        for s in self.symbols:
            if s.name == name and s.type != STT_SECTION:
                return s
        return None


class _Formats:
    """Precompiled structs for one byte order."""

    def __init__(self, bo: str):
        self.ehdr = struct.Struct(bo + "16sHHIQQQIHHHHHH")
        self.shdr = struct.Struct(bo + "IIQQQQIIQQ")
        self.phdr = struct.Struct(bo + "IIQQQQQQ")
        self.sym = struct.Struct(bo + "IBBHQQ")
        # r_info is (sym << 32) | type: reading it as two 32-bit words gives (type, sym) in
        # little-endian files and (sym, type) in big-endian ones.
        self.rela = struct.Struct(bo + "QIIq")
        self.rela_type_first = bo == "<"
        self.rel = struct.Struct(bo + "QII")
        self.word = struct.Struct(bo + "I")


_FORMATS = {"<": _Formats("<"), ">": _Formats(">")}


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for a block. Parsing and linking thousands of objects
    allocate many small containers, and the collector's passes over them took about two thirds of
    the time; nothing they allocate forms a cycle."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_objects(units) -> list[ObjectFile]:
    """Parse `(name, bytes)` pairs with the garbage collector paused (see `gc_paused`)."""
    with gc_paused():
        return [parse_object(data, name) for name, data in units]


def parse_object(data: bytes, name: str) -> ObjectFile:
    """Parse an ELF64 relocatable object. Raises `LinkError` (file=`name`) if it is malformed."""
    try:
        return _parse(bytes(data), name)
    except LinkError:
        raise
    except (struct.error, ValueError, IndexError, UnicodeDecodeError, OverflowError) as e:
        raise LinkError(f"malformed object: {e}", file=name) from None


def _bad(name: str, msg: str) -> LinkError:
    return LinkError(f"malformed object: {msg}", file=name)


def _parse(data: bytes, name: str) -> ObjectFile:
    # Written for speed (tens of microseconds per small object): no helper calls per entry,
    # namedtuples built with tuple.__new__, RELA entries unpacked straight into Reloc order.
    n = len(data)
    if n < 64 or data[:4] != ELFMAG:
        raise _bad(name, "not an ELF file")
    if data[4] != ELFCLASS64:
        raise _bad(name, f"not ELF64 (EI_CLASS {data[4]})")
    if data[5] == ELFDATA2LSB:
        bo = "<"
    elif data[5] == ELFDATA2MSB:
        bo = ">"
    else:
        raise _bad(name, f"unknown byte order (EI_DATA {data[5]})")
    F = _FORMATS[bo]
    (_ident, e_type, e_machine, _ver, _entry, _phoff, e_shoff, e_flags, _ehsize, _phentsize,
     _phnum, e_shentsize, e_shnum, e_shstrndx) = F.ehdr.unpack_from(data, 0)
    if e_type != ET_REL:
        raise _bad(name, f"not a relocatable object (e_type {e_type})")
    if e_shoff == 0:
        raise _bad(name, "no section header table")
    if e_shentsize != 64:
        raise _bad(name, f"section header size {e_shentsize}, expected 64")
    if e_shoff + 64 > n:
        raise _bad(name, "section header table outside the file")
    if e_shnum == 0 or e_shstrndx == SHN_XINDEX:
        # Extended numbering: the real values are in section header 0.
        _n, _t, _f, _a, _o, size0, link0, _i, _al, _es = F.shdr.unpack_from(data, e_shoff)
        if e_shnum == 0:
            e_shnum = size0
        if e_shstrndx == SHN_XINDEX:
            e_shstrndx = link0
    end = e_shoff + 64 * e_shnum
    if end > n:
        raise _bad(name, "section header table outside the file")
    headers = list(F.shdr.iter_unpack(data[e_shoff:end]))
    if not 0 < e_shstrndx < e_shnum:
        raise _bad(name, f"section name table index {e_shstrndx} out of range")
    h = headers[e_shstrndx]
    if h[4] + h[5] > n:
        raise _bad(name, "section name table outside the file")
    shstr = data[h[4]:h[4] + h[5]]

    sections: list[Section] = [Section(0, "", 0, 0, 1, 0, b"", 0, 0, 0, ())]
    symtab_i = -1
    rela_secs = []
    i = 0
    for sh_name, sh_type, sh_flags, _addr, sh_off, sh_size, sh_link, sh_info, sh_align, sh_ent \
            in headers[1:]:
        i += 1
        if sh_align & (sh_align - 1):
            raise _bad(name, f"section {i} alignment {sh_align} is not a power of two")
        if sh_type == SHT_NOBITS:
            body = None
        else:
            if sh_off + sh_size > n:
                raise _bad(name, f"section {i} contents outside the file")
            body = data[sh_off:sh_off + sh_size]
        sec = Section(i, shstr[sh_name:shstr.index(b"\0", sh_name)].decode(), sh_type, sh_flags,
                      sh_align or 1, sh_size, body, sh_ent, sh_link, sh_info, ())
        sections.append(sec)
        if sh_type == SHT_RELA or sh_type == SHT_REL:
            rela_secs.append(sec)
        elif sh_type == SHT_SYMTAB:
            if symtab_i >= 0:
                raise _bad(name, "more than one symbol table")
            symtab_i = i

    symbols: list[Symbol] = []
    if symtab_i >= 0:
        st = sections[symtab_i]
        if st.entsize != 24 or st.size % 24:
            raise _bad(name, "symbol table entry size is not 24")
        if not 0 < st.link < e_shnum:
            raise _bad(name, "symbol table has no string table")
        strtab = sections[st.link].data or b""
        xindex: bytes | None = None
        for s in sections:
            if s.type == SHT_SYMTAB_SHNDX and s.link == symtab_i:
                xindex = s.data
        nsec = e_shnum
        append = symbols.append
        tnew = tuple.__new__
        k = -1
        for st_name, st_info, st_other, st_shndx, st_value, st_size in F.sym.iter_unpack(st.data):
            k += 1
            typ = st_info & 15
            if st_shndx >= nsec:
                if st_shndx == SHN_XINDEX:
                    if xindex is None:
                        raise _bad(name, "SHN_XINDEX symbol without SHT_SYMTAB_SHNDX")
                    (st_shndx,) = F.word.unpack_from(xindex, 4 * k)
                    if st_shndx >= nsec:
                        raise _bad(name, f"symbol {k} has section index {st_shndx} out of range")
                elif st_shndx < SHN_LORESERVE:
                    raise _bad(name, f"symbol {k} has section index {st_shndx} out of range")
            if st_name:
                sym_name = strtab[st_name:strtab.index(b"\0", st_name)].decode()
            elif typ == STT_SECTION and st_shndx < nsec:
                sym_name = sections[st_shndx].name
            else:
                sym_name = ""
            append(tnew(Symbol, (sym_name, st_shndx, st_value, st_size, st_info >> 4, typ,
                                 st_other & 3)))

    nsym = len(symbols)
    for s in rela_secs:
        if s.link != symtab_i:
            raise _bad(name, f"relocation section {s.name} does not use the symbol table")
        if not 0 < s.info < e_shnum:
            raise _bad(name, f"relocation section {s.name} applies to section {s.info}")
        target = sections[s.info]
        if s.type == SHT_REL:
            if target.flags & SHF_ALLOC:
                raise _bad(name, f"SHT_REL section {s.name} (implicit addends) is not supported")
            continue
        if s.entsize != 24 or s.size % 24:
            raise _bad(name, f"relocation section {s.name} entry size is not 24")
        if F.rela_type_first:
            rel = list(map(_new_reloc, F.rela.iter_unpack(s.data)))
        else:
            rel = [_new_reloc((o, t, y, a)) for o, y, t, a in F.rela.iter_unpack(s.data)]
        if rel and max(map(_reloc_symbol, rel)) >= nsym:
            raise _bad(name, f"relocation in {s.name} names a symbol beyond the {nsym} symbols")
        target.relocs = [*target.relocs, *rel] if target.relocs else rel
    return ObjectFile(name, e_machine, bo, sections, symbols, e_flags)


_new_reloc = partial(tuple.__new__, Reloc)
_reloc_symbol = itemgetter(2)


# --- the writer -------------------------------------------------------------------------------

_PAGE = 0x1000


@dataclass(frozen=True)
class OutSection:
    """A section of the image. `addr` None lets the writer place an allocated section after the
    previous one (on a fresh page when its permissions differ). For SHT_NOBITS give `size`."""

    name: str
    type: int
    flags: int
    align: int
    data: bytes = b""
    addr: int | None = None
    size: int | None = None
    entsize: int = 0


@dataclass(frozen=True)
class OutSymbol:
    """A symbol of the image. `value` is relative to the start of `section` (None: SHN_ABS, value
    taken as is); the writer stores the virtual address (section address + value), as ELF requires
    for ET_DYN. `type`/`binding` are STT_*/STB_* numbers or the names 'FUNC', 'OBJECT', 'NOTYPE',
    'GLOBAL', 'LOCAL', 'WEAK'."""

    name: str
    section: str | None
    value: int
    size: int = 0
    type: int | str = STT_FUNC
    binding: int | str = STB_GLOBAL


_STT_BY_NAME = {"NOTYPE": STT_NOTYPE, "OBJECT": STT_OBJECT, "FUNC": STT_FUNC,
                "SECTION": STT_SECTION}
_STB_BY_NAME = {"LOCAL": STB_LOCAL, "GLOBAL": STB_GLOBAL, "WEAK": STB_WEAK}


class _StrTab:
    def __init__(self):
        self.buf = bytearray(b"\0")
        self.index: dict[str, int] = {"": 0}

    def add(self, s: str) -> int:
        off = self.index.get(s)
        if off is None:
            off = self.index[s] = len(self.buf)
            self.buf += s.encode("utf-8") + b"\0"
        return off


def _align(x: int, a: int) -> int:
    return (x + a - 1) & -a if a > 1 else x


def _perm(flags: int) -> int:
    return PF_R | (PF_W if flags & SHF_WRITE else 0) | (PF_X if flags & SHF_EXECINSTR else 0)


def write_elf(machine: int | str, byteorder: str, sections: Sequence[OutSection | tuple],
              symbols: Sequence[OutSymbol | tuple] = (), *, e_type: int = ET_DYN,
              e_flags: int = 0, entry: int = 0, page_size: int = _PAGE) -> bytes:
    """Write an ELF64 image and return its bytes.

    `machine` is an EM_* number or a name of `MACHINES`; `byteorder` is '<'/'little' or
    '>'/'big'. `sections` are written in the given order (after the null section), followed by
    `.symtab`, `.strtab` and `.shstrtab`. Every run of allocated sections (in address order) with
    the same permissions becomes one PT_LOAD (R+X for SHF_EXECINSTR, R+W for SHF_WRITE, R
    otherwise) whose file offset is congruent to its address modulo `page_size`. Symbols are
    sorted (locals first, then by section, value and name), so the output depends only on the
    arguments' contents. Raises ValueError for inconsistent arguments (a bug in the caller).
    """
    em = MACHINES[machine] if isinstance(machine, str) else int(machine)
    bo = {"<": "<", "little": "<", ">": ">", "big": ">"}[byteorder]
    F = _FORMATS[bo]
    secs = [s if isinstance(s, OutSection) else OutSection(*s) for s in sections]
    syms = [s if isinstance(s, OutSymbol) else OutSymbol(*s) for s in symbols]
    names = [s.name for s in secs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate section names")
    for reserved in (".symtab", ".strtab", ".shstrtab"):
        if reserved in names:
            raise ValueError(f"section {reserved} is written by write_elf itself")
    sec_index = {s.name: i + 1 for i, s in enumerate(secs)}

    def size_of(s: OutSection) -> int:
        if s.type == SHT_NOBITS:
            return s.size or 0
        if s.size is not None and s.size != len(s.data):
            raise ValueError(f"section {s.name}: size {s.size} != len(data) {len(s.data)}")
        return len(s.data)

    sizes = [size_of(s) for s in secs]
    for s in secs:
        if s.align <= 0 or s.align & (s.align - 1):
            raise ValueError(f"section {s.name}: alignment {s.align} is not a power of two")

    # Addresses of allocated sections.
    addrs = [0] * len(secs)
    cursor = 0
    prev_perm = None
    for i, s in enumerate(secs):
        if not s.flags & SHF_ALLOC:
            if s.addr:
                raise ValueError(f"section {s.name} is not allocated but has an address")
            continue
        perm = _perm(s.flags)
        if s.addr is None:
            a = cursor
            if prev_perm is not None and perm != prev_perm:
                a = _align(a, page_size)
            a = _align(a, s.align)
        else:
            a = s.addr
            if a % s.align:
                raise ValueError(f"section {s.name}: address {a:#x} not aligned to {s.align}")
        addrs[i] = a
        cursor = max(cursor, a + sizes[i])
        prev_perm = perm
    alloc = sorted((i for i, s in enumerate(secs) if s.flags & SHF_ALLOC),
                   key=lambda i: (addrs[i], i))
    for a, b in zip(alloc, alloc[1:]):
        if addrs[a] + sizes[a] > addrs[b]:
            raise ValueError(f"sections {secs[a].name} and {secs[b].name} overlap")

    # Segments: runs of allocated sections with one permission, NOBITS only at the end.
    segments: list[list[int]] = []
    for i in alloc:
        if segments:
            seg = segments[-1]
            last = seg[-1]
            gap = addrs[i] - (addrs[last] + sizes[last])
            if (_perm(secs[i].flags) == _perm(secs[last].flags) and gap < page_size
                    and not (secs[last].type == SHT_NOBITS and secs[i].type != SHT_NOBITS)):
                seg.append(i)
                continue
        segments.append([i])
    segments = [g for g in segments if any(sizes[i] for i in g)]

    # File layout: header, program headers, segments, other sections, section headers.
    nph = len(segments)
    off = 64 + F.phdr.size * nph
    offsets = [0] * len(secs)
    phdrs = []
    for seg in segments:
        vaddr = addrs[seg[0]]
        seg_off = off + ((vaddr - off) % page_size)
        filesz = 0
        memsz = 0
        for i in seg:
            offsets[i] = seg_off + addrs[i] - vaddr
            end = addrs[i] - vaddr + sizes[i]
            memsz = max(memsz, end)
            if secs[i].type != SHT_NOBITS:
                filesz = max(filesz, end)
        phdrs.append((PT_LOAD, _perm(secs[seg[0]].flags), seg_off, vaddr, vaddr, filesz, memsz,
                      page_size))
        off = seg_off + filesz
    for i, s in enumerate(secs):
        if s.flags & SHF_ALLOC and not offsets[i]:  # in no segment (empty): keep it in order
            offsets[i] = off
    for i, s in enumerate(secs):
        if not s.flags & SHF_ALLOC:
            off = _align(off, s.align)
            offsets[i] = off
            if s.type != SHT_NOBITS:
                off += sizes[i]

    # Symbol table.
    strtab = _StrTab()
    entries = []
    for s in syms:
        typ = _STT_BY_NAME[s.type] if isinstance(s.type, str) else int(s.type)
        bind = _STB_BY_NAME[s.binding] if isinstance(s.binding, str) else int(s.binding)
        if s.section is None:
            shndx, value = SHN_ABS, s.value
        else:
            if s.section not in sec_index:
                raise ValueError(f"symbol {s.name} names unknown section {s.section}")
            shndx = sec_index[s.section]
            value = addrs[shndx - 1] + s.value
        entries.append((bind != STB_LOCAL, shndx, value, s.name, typ, bind, s.size))
    entries.sort()
    symdata = bytearray(F.sym.size)  # the null symbol
    first_global = 1
    for k, (is_global, shndx, value, nm, typ, bind, size) in enumerate(entries):
        if not is_global:
            first_global = k + 2
        symdata += F.sym.pack(strtab.add(nm), (bind << 4) | typ, 0, shndx, value, size)

    shstr = _StrTab()
    nsec = len(secs) + 4
    symtab_i, strtab_i, shstrtab_i = len(secs) + 1, len(secs) + 2, len(secs) + 3
    shdr_names = [shstr.add(s.name) for s in secs]
    symtab_name = shstr.add(".symtab")
    strtab_name = shstr.add(".strtab")
    shstrtab_name = shstr.add(".shstrtab")

    off = _align(off, 8)
    symtab_off = off
    off += len(symdata)
    strtab_off = off
    off += len(strtab.buf)
    shstrtab_off = off
    off += len(shstr.buf)
    shoff = _align(off, 8)

    out = bytearray(shoff + 64 * nsec)
    ident = ELFMAG + bytes([ELFCLASS64, ELFDATA2LSB if bo == "<" else ELFDATA2MSB, EV_CURRENT,
                            ELFOSABI_SYSV]) + bytes(8)
    F.ehdr.pack_into(out, 0, ident, e_type, em, EV_CURRENT, entry, 64 if nph else 0, shoff,
                     e_flags, 64, F.phdr.size, nph, 64, nsec, shstrtab_i)
    for k, ph in enumerate(phdrs):
        F.phdr.pack_into(out, 64 + F.phdr.size * k, *ph)
    for i, s in enumerate(secs):
        if s.type != SHT_NOBITS and sizes[i]:
            out[offsets[i]:offsets[i] + sizes[i]] = s.data
    out[symtab_off:symtab_off + len(symdata)] = symdata
    out[strtab_off:strtab_off + len(strtab.buf)] = strtab.buf
    out[shstrtab_off:shstrtab_off + len(shstr.buf)] = shstr.buf
    p = shoff + 64  # header 0 stays zero
    for i, s in enumerate(secs):
        F.shdr.pack_into(out, p, shdr_names[i], s.type, s.flags, addrs[i], offsets[i], sizes[i],
                         0, 0, s.align, s.entsize)
        p += 64
    F.shdr.pack_into(out, p, symtab_name, SHT_SYMTAB, 0, 0, symtab_off, len(symdata), strtab_i,
                     first_global, 8, F.sym.size)
    p += 64
    F.shdr.pack_into(out, p, strtab_name, SHT_STRTAB, 0, 0, strtab_off, len(strtab.buf), 0, 0,
                     1, 0)
    p += 64
    F.shdr.pack_into(out, p, shstrtab_name, SHT_STRTAB, 0, 0, shstrtab_off, len(shstr.buf), 0, 0,
                     1, 0)
    return bytes(out)
