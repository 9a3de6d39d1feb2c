"""The linker: per-function ELF objects in, one position-independent code image out.

Takes `link(units, absolute_symbols, machine)`:
- `units`: `(unit_name, object_bytes)` pairs (or `(unit_name, ObjectFile)`, or `ObjectFile`s) in
  the order their code must be laid out;
- `absolute_symbols`: name → int for the symbols whose *value* is the datum (vmctx field offsets,
  type ids), which the compiler declares with `!absolute_symbol` so that LLVM folds them into
  instructions as immediates and displacements (x86-64), or loads them from a GOT entry (aarch64,
  riscv64, s390x: the linker gives each distinct value a read-only "constant slot");
- `machine`: a key of `MACHINE_SPECS`: 'x86_64', 'aarch64', 'riscv64' or 's390x' (see
  docs/targets.md for the relocation types each handles).

Gives a `LinkedCode`. Its layout (offsets from the load address, all deterministic):

    0            .text-like sections (SHF_EXECINSTR) of every unit, in unit order, each aligned
                 PLT stubs: one per external symbol, `jmp *slot(%rip)` (sorted like the GOT; on
                 the other machines: load the slot's address PC-relatively, jump through it)
    text_size    read-only sections (.rodata, .rodata.cst*, ...) of every unit, in unit order;
                 identical mergeable constant sections without relocations are stored once
                 constant slots (abs_via_got machines): 8 bytes per distinct absolute value
                 referenced, in the machine's byte order, sorted by value
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
an external symbol); the stores are pointer-sized in the target's byte order.
`load_relocs_to_bytes`/`load_relocs_from_bytes` serialise them (little-endian, independent of the
host and of the target).

Relocations whose field is an instruction immediate (AArch64, RISC-V, s390x) are encoded by the
inserters of `fields.py`. RISC-V `%pcrel_lo` relocations name the AUIPC of their `%pcrel_hi` or
`%got_pcrel_hi` by a label: they are applied after the other relocations of their section, with
the value computed for that AUIPC. R_RISCV_RELAX and R_RISCV_ALIGN are accepted and ignored (no
relaxation: the code stays as compiled, which is correct, just not shortened). Page-relative
AArch64 relocations (ADRP, `:lo12:`) use 4 KiB pages, so they hold wherever the image is loaded on
a page boundary.

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

from ..contract.targets import TARGETS, Target
from ..errors import LinkError
from . import elf, fields
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
    e_flags: int = 0  # the ELF header's e_flags for the image (RISC-V: float ABI, RVC)
    const_slots: dict[int, int] = field(default_factory=dict)  # absolute value → its slot's offset
    # Where each unit's sections went (unit index → section index → offset, None if not linked):
    # for tests and diagnostics; not stored in images.
    section_bases: list = field(default_factory=list, repr=False, compare=False)

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
F_PAGE_PCREL = 8  # Page(S + A) - Page(P), 4 KiB pages (AArch64 ADRP; internal only)
F_LO = 9  # S + A, of which the field keeps only bits below 4 KiB (internal: valid, the load
#           address being page aligned; absolute: the value)
F_GOT_PAGE = 10  # Page(G) - Page(P)
F_GOT_LO = 11  # G, of which the field keeps only bits below 4 KiB
F_PCREL_LO = 12  # RISC-V: the low 12 bits of the value of the HI20 relocation at the label S
F_ADD = 13  # field + S + A  (RISC-V ADD*; used in pairs with F_SUB, so the sum is position free)
F_SUB = 14  # field - (S + A)

_GOT_FORMULAS = (F_GOTPCREL, F_GOT_PAGE, F_GOT_LO)


class RelocSpec(NamedTuple):
    formula: int
    width: int  # bytes patched
    pack: struct.Struct  # how the value is stored (its byte order is the machine's), or a
    #                      `fields` inserter for immediates inside instruction words
    lo: int  # allowed value range (inclusive)
    hi: int
    wrap: bool  # reduce modulo 2**(8*width) instead of checking (pointer-sized fields)


@dataclass(frozen=True)
class MachineSpec:
    """What the linker needs to know about one machine besides its `Target` record (name, ELF
    machine, byte order, page size, constant slots): relocation table and stub code (for field
    encodings that are not plain integers, RelocSpec.pack is a `fields` inserter)."""

    target: Target
    pointer_reloc: int  # the pointer-sized absolute relocation (becomes a load relocation)
    text_fill: int  # padding byte between code sections (a trap instruction)
    stub_size: int
    stub_align: int
    make_stub: Callable[[int, int], bytes]  # (stub offset, GOT slot offset) → bytes
    relocs: dict[int, RelocSpec]
    # Relocations whose value a later F_PCREL_LO relocation names by the label at their place.
    hi_relocs: frozenset = frozenset()
    merge_flags: Callable[[list], int] | None = None  # objects' e_flags → the image's
    # Rewrites, in place, the instruction whose PC-relative field is at the given image offset so
    # that the field holds an absolute value instead; False if it does not know that instruction.
    absolute_pcrel: Callable[[bytearray, int], bool] | None = None
    code_align: int = 1  # each code section (a function, a helper) starts at a multiple of this

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def em(self) -> int:
        return self.target.elf_machine

    @property
    def byteorder(self) -> str:
        return self.target.byteorder

    @property
    def page_size(self) -> int:
        return self.target.page_size

    @property
    def abs_via_got(self) -> bool:
        """Absolute symbols reached through GOT relocations get a read-only slot holding their
        value (the "constant slots" after the read-only data)."""
        return self.target.constant_slots


def _masked(formula: int, fmt: str, lo: int, hi: int) -> RelocSpec:
    m = fields.Masked(fmt)
    return RelocSpec(formula, m.size, m, lo, hi, False)


def _insn(formula: int, fmt: str, encode, lo: int, hi: int, wrap: bool = False) -> RelocSpec:
    f = fields.Insn(fmt, encode)
    return RelocSpec(formula, f.size, f, lo, hi, wrap)


_NONE = RelocSpec(F_NONE, 0, struct.Struct("<"), 0, 0, True)
_ANY = (-(1 << 64), 1 << 64)  # no range check (the field keeps what it can: "_NC" relocations)


def _addsub(formula: int, fmt: str, sign: int) -> RelocSpec:
    f = fields.AddSub(fmt, sign)
    return RelocSpec(formula, f.size, f, 0, (1 << (8 * f.size)) - 1, True)


def _s(bits: int) -> tuple[int, int]:
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _u(bits: int) -> tuple[int, int]:
    return 0, (1 << bits) - 1


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


def _aarch64_relocs() -> dict[int, RelocSpec]:
    E, F = elf, fields
    lo12 = _ANY
    return {
        E.R_AARCH64_NONE: _NONE,
        256: _NONE,  # R_AARCH64_NONE's other number
        E.R_AARCH64_ABS64: _spec(F_ABS, "<Q", wrap=True),
        E.R_AARCH64_ABS32: _masked(F_ABS, "<I", -(1 << 31), (1 << 32) - 1),
        E.R_AARCH64_ABS16: _masked(F_ABS, "<H", -(1 << 15), (1 << 16) - 1),
        E.R_AARCH64_PREL64: _spec(F_PCREL, "<q", wrap=True),
        E.R_AARCH64_PREL32: _masked(F_PCREL, "<I", -(1 << 31), (1 << 32) - 1),
        E.R_AARCH64_PREL16: _masked(F_PCREL, "<H", -(1 << 15), (1 << 16) - 1),
        E.R_AARCH64_MOVW_UABS_G0: _insn(F_ABS, "<I", F.a64_movw(0), *_u(16)),
        E.R_AARCH64_MOVW_UABS_G0_NC: _insn(F_ABS, "<I", F.a64_movw(0), *_ANY),
        E.R_AARCH64_MOVW_UABS_G1: _insn(F_ABS, "<I", F.a64_movw(1), *_u(32)),
        E.R_AARCH64_MOVW_UABS_G1_NC: _insn(F_ABS, "<I", F.a64_movw(1), *_ANY),
        E.R_AARCH64_MOVW_UABS_G2: _insn(F_ABS, "<I", F.a64_movw(2), *_u(48)),
        E.R_AARCH64_MOVW_UABS_G2_NC: _insn(F_ABS, "<I", F.a64_movw(2), *_ANY),
        E.R_AARCH64_MOVW_UABS_G3: _insn(F_ABS, "<I", F.a64_movw(3), *_ANY),
        E.R_AARCH64_LD_PREL_LO19: _insn(F_PCREL, "<I", F.a64_imm19, *_s(21)),
        E.R_AARCH64_ADR_PREL_LO21: _insn(F_PCREL, "<I", F.a64_adr, *_s(21)),
        E.R_AARCH64_ADR_PREL_PG_HI21: _insn(F_PAGE_PCREL, "<I", F.a64_adrp, *_s(33)),
        E.R_AARCH64_ADR_PREL_PG_HI21_NC: _insn(F_PAGE_PCREL, "<I", F.a64_adrp, *_ANY),
        E.R_AARCH64_ADD_ABS_LO12_NC: _insn(F_LO, "<I", F.a64_add_lo12, *lo12),
        E.R_AARCH64_LDST8_ABS_LO12_NC: _insn(F_LO, "<I", F.a64_ldst_lo12(0), *lo12),
        E.R_AARCH64_LDST16_ABS_LO12_NC: _insn(F_LO, "<I", F.a64_ldst_lo12(1), *lo12),
        E.R_AARCH64_LDST32_ABS_LO12_NC: _insn(F_LO, "<I", F.a64_ldst_lo12(2), *lo12),
        E.R_AARCH64_LDST64_ABS_LO12_NC: _insn(F_LO, "<I", F.a64_ldst_lo12(3), *lo12),
        E.R_AARCH64_LDST128_ABS_LO12_NC: _insn(F_LO, "<I", F.a64_ldst_lo12(4), *lo12),
        E.R_AARCH64_TSTBR14: _insn(F_PLT, "<I", F.a64_imm14, *_s(16)),
        E.R_AARCH64_CONDBR19: _insn(F_PLT, "<I", F.a64_imm19, *_s(21)),
        E.R_AARCH64_JUMP26: _insn(F_PLT, "<I", F.a64_imm26, *_s(28)),
        E.R_AARCH64_CALL26: _insn(F_PLT, "<I", F.a64_imm26, *_s(28)),
        E.R_AARCH64_GOT_LD_PREL19: _insn(F_GOTPCREL, "<I", F.a64_imm19, *_s(21)),
        E.R_AARCH64_ADR_GOT_PAGE: _insn(F_GOT_PAGE, "<I", F.a64_adrp, *_s(33)),
        E.R_AARCH64_LD64_GOT_LO12_NC: _insn(F_GOT_LO, "<I", F.a64_ldst_lo12(3), *lo12),
    }


def _riscv64_relocs() -> dict[int, RelocSpec]:
    E, F = elf, fields
    hi20 = (-(1 << 31) - 0x800, (1 << 31) - 0x801)  # what AUIPC/LUI + a 12-bit part can reach
    return {
        E.R_RISCV_NONE: _NONE,
        E.R_RISCV_RELAX: _NONE,  # we do not relax: the code stays as compiled
        E.R_RISCV_ALIGN: _NONE,  # no relaxation, so the padding NOPs stay (still correct code)
        E.R_RISCV_64: _spec(F_ABS, "<Q", wrap=True),
        E.R_RISCV_32: _masked(F_ABS, "<I", -(1 << 31), (1 << 32) - 1),
        E.R_RISCV_32_PCREL: _spec(F_PCREL, "<i"),
        E.R_RISCV_PLT32: _spec(F_PLT, "<i"),
        E.R_RISCV_BRANCH: _insn(F_PLT, "<I", F.rv_branch, *_s(13)),
        E.R_RISCV_JAL: _insn(F_PLT, "<I", F.rv_jal, *_s(21)),
        E.R_RISCV_RVC_BRANCH: _insn(F_PLT, "<H", F.rv_cb, *_s(9)),
        E.R_RISCV_RVC_JUMP: _insn(F_PLT, "<H", F.rv_cj, *_s(12)),
        E.R_RISCV_CALL: _insn(F_PLT, "<Q", F.rv_call, *hi20),
        E.R_RISCV_CALL_PLT: _insn(F_PLT, "<Q", F.rv_call, *hi20),
        E.R_RISCV_PCREL_HI20: _insn(F_PCREL, "<I", F.rv_u, *hi20),
        E.R_RISCV_GOT_HI20: _insn(F_GOTPCREL, "<I", F.rv_u, *hi20),
        E.R_RISCV_PCREL_LO12_I: _insn(F_PCREL_LO, "<I", F.rv_i, *_ANY),
        E.R_RISCV_PCREL_LO12_S: _insn(F_PCREL_LO, "<I", F.rv_s, *_ANY),
        E.R_RISCV_HI20: _insn(F_ABS, "<I", F.rv_u, *hi20),
        E.R_RISCV_LO12_I: _insn(F_ABS, "<I", F.rv_i, *_ANY),
        E.R_RISCV_LO12_S: _insn(F_ABS, "<I", F.rv_s, *_ANY),
        E.R_RISCV_ADD8: _addsub(F_ADD, "<B", 1),
        E.R_RISCV_ADD16: _addsub(F_ADD, "<H", 1),
        E.R_RISCV_ADD32: _addsub(F_ADD, "<I", 1),
        E.R_RISCV_ADD64: _addsub(F_ADD, "<Q", 1),
        E.R_RISCV_SUB8: _addsub(F_SUB, "<B", -1),
        E.R_RISCV_SUB16: _addsub(F_SUB, "<H", -1),
        E.R_RISCV_SUB32: _addsub(F_SUB, "<I", -1),
        E.R_RISCV_SUB64: _addsub(F_SUB, "<Q", -1),
    }


def _riscv_flags(flags: list) -> int:
    """RVC if any object uses compressed instructions; one float ABI for all objects."""
    abis = {f & elf.EF_RISCV_FLOAT_ABI for f in flags}
    if len(abis) > 1:
        names = {0: "soft", 2: "single", 4: "double", 6: "quad"}
        raise LinkError(f"objects use different RISC-V float ABIs "
                        f"({', '.join(names[a] for a in sorted(abis))}); compile all of them with "
                        f"the same target features")
    out = 0
    for f in flags:
        out |= f
    return out


def _s390x_relocs() -> dict[int, RelocSpec]:
    E, F = elf, fields
    dbl32 = (-(1 << 32), (1 << 32) - 2)
    dbl16 = (-(1 << 16), (1 << 16) - 2)
    return {
        E.R_390_NONE: RelocSpec(F_NONE, 0, struct.Struct(">"), 0, 0, True),
        E.R_390_64: _spec(F_ABS, ">Q", wrap=True),
        E.R_390_32: _masked(F_ABS, ">I", -(1 << 31), (1 << 32) - 1),
        E.R_390_16: _masked(F_ABS, ">H", -(1 << 15), (1 << 16) - 1),
        E.R_390_8: _masked(F_ABS, ">B", -(1 << 7), (1 << 8) - 1),
        E.R_390_12: _insn(F_ABS, ">H", F.s390_12, *_u(12)),
        E.R_390_20: _insn(F_ABS, ">I", F.s390_20, *_s(20)),
        E.R_390_PC64: _spec(F_PCREL, ">q"),
        E.R_390_PC32: _spec(F_PCREL, ">i"),
        E.R_390_PC16: _spec(F_PCREL, ">h"),
        E.R_390_PLT64: _spec(F_PLT, ">q"),
        E.R_390_PLT32: _spec(F_PLT, ">i"),
        E.R_390_PC32DBL: _insn(F_PCREL, ">i", F.s390_dbl, *dbl32),
        E.R_390_PLT32DBL: _insn(F_PLT, ">i", F.s390_dbl, *dbl32),
        E.R_390_PC16DBL: _insn(F_PCREL, ">h", F.s390_dbl, *dbl16),
        E.R_390_PLT16DBL: _insn(F_PLT, ">h", F.s390_dbl, *dbl16),
        E.R_390_GOTENT: _insn(F_GOTPCREL, ">i", F.s390_dbl, *dbl32),
        E.R_390_GOTPCDBL: _insn(F_GOTPC, ">i", F.s390_dbl, *dbl32),
        E.R_390_GOTOFF64: _spec(F_GOTOFF, ">q"),
    }



def _x86_64_lea_to_mov(img: bytearray, at: int) -> bool:
    """LLVM sometimes computes `absolute symbol + offset` as `lea r64, [rip + sym + offset]`
    (REX.W 8D, ModRM mod 00 r/m 101, disp32 at `at`), right only where the code sits at address 0.
    Rewritten to `mov r64, imm32` (REX.W C7 /0, sign-extended), the same 7 bytes, the disp32
    becoming the immediate."""
    if at < 3:
        return False
    rex, opcode, modrm = img[at - 3], img[at - 2], img[at - 1]
    if rex & 0xFB != 0x48 or opcode != 0x8D or modrm & 0xC7 != 0x05:  # REX.W (and R), lea, [rip+disp32]
        return False
    img[at - 3] = 0x48 | (rex >> 2) & 1  # REX.R (the register's high bit) moves to REX.B
    img[at - 2] = 0xC7
    img[at - 1] = 0xC0 | (modrm >> 3) & 7
    return True

MACHINE_SPECS: dict[str, MachineSpec] = {
    "x86_64": MachineSpec(TARGETS["x86_64"], elf.R_X86_64_64, 0xCC, 8, 8, _x86_64_stub, _x86_64_relocs(),
                          absolute_pcrel=_x86_64_lea_to_mov,
                          # Functions at 64 bytes (a cache line) instead of LLVM's 16: the run time
                          # of a switch-dispatched interpreter (bench/runtime.py interp) varied by 2x
                          # with where its loop fell among the lines (0.45-0.58x wasmtime at 64,
                          # 0.72-1.17x at 16 or 32, as functions before it grew or shrank).
                          code_align=64),
    # All-zero words are permanently undefined instructions on aarch64, riscv64 and s390x.
    "aarch64": MachineSpec(TARGETS["aarch64"], elf.R_AARCH64_ABS64, 0x00, 16, 16, fields.a64_stub,
                           _aarch64_relocs()),
    "riscv64": MachineSpec(TARGETS["riscv64"], elf.R_RISCV_64, 0x00, 16, 16, fields.rv_stub, _riscv64_relocs(),
                           hi_relocs=frozenset({elf.R_RISCV_PCREL_HI20, elf.R_RISCV_GOT_HI20}),
                           merge_flags=_riscv_flags),
    "s390x": MachineSpec(TARGETS["s390x"], elf.R_390_64, 0x00, 16, 16, fields.s390_stub, _s390x_relocs()),
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
    pool_values = set()  # values of the absolute symbols referenced (spec.abs_via_got)
    abs_via_got = spec.abs_via_got
    for ui, sym in undefs:
        name = sym.name
        if name in defs:
            continue
        if name in absolute:
            if abs_via_got:
                pool_values.add(absolute[name])
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
        off = _align(off, max(s.align, spec.code_align))
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
    # Constant slots: one 8-byte read-only slot per distinct absolute value that code may load
    # through a GOT relocation (machines whose back end does not fold absolute symbols).
    const_slots: dict[int, int] = {}
    if pool_values:
        off = _align(off, 8)
        for v in sorted(pool_values):
            const_slots[v] = off
            off += 8
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
    if const_slots:
        q = struct.Struct(spec.byteorder + "Q")
        for v, at in const_slots.items():
            q.pack_into(img, at, v & 0xFFFFFFFFFFFFFFFF)
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
    hi_relocs = spec.hi_relocs
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
            hi_values: dict[int, int] | None = {} if hi_relocs else None
            deferred = []
            for r_off, rtype, k, A in s.relocs:
                rs = relocs_table.get(rtype)
                if rs is None:
                    raise LinkError(f"unsupported relocation {reloc_name(spec.em, rtype)} in "
                                    f"{s.name} at {r_off:#x}", file=o.name)
                formula, width, pack, lo, hi, wrap = rs
                if r_off + width > size:
                    raise LinkError(f"malformed object: relocation at {r_off:#x} outside "
                                    f"{s.name} (size {size:#x})", file=o.name)
                if formula == F_PCREL_LO:
                    deferred.append((r_off, rtype, k, rs))
                    continue
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
                    elif tkind == _ABS and width == 4 and spec.absolute_pcrel and spec.absolute_pcrel(img, P):
                        v = S + A + 4  # the field ends the instruction: A is the offset minus 4
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
                elif formula == F_GOTPCREL or formula == F_GOT_PAGE or formula == F_GOT_LO:
                    if tkind == _EXT:
                        G = got_offset + 8 * S
                    elif tkind == _INT:
                        slot = got_slot.get(S)
                        if slot is None:
                            slot = got_slot[S] = len(got_symbols)
                            got_symbols.append("")
                            load.append(LoadReloc(got_offset + 8 * slot, "base", "", S))
                        G = got_offset + 8 * slot
                    elif tkind == _ABS and S in const_slots:
                        G = const_slots[S]
                    else:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                    if formula == F_GOTPCREL:
                        v = G + A - P
                    elif A:
                        raise LinkError(f"{reloc_name(spec.em, rtype)} against {tname} in {s.name} "
                                        f"at {r_off:#x} has addend {A}; GOT entries for "
                                        f"symbol + addend are not supported", file=o.name)
                    elif formula == F_GOT_PAGE:
                        v = (G & -0x1000) - (P & -0x1000)
                    else:
                        v = G
                elif formula == F_PAGE_PCREL:
                    if tkind != _INT:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                    v = ((S + A) & -0x1000) - (P & -0x1000)
                elif formula == F_LO:
                    if tkind != _INT and tkind != _ABS:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                    v = S + A
                elif formula == F_ADD or formula == F_SUB:
                    if tkind != _INT and tkind != _ABS:
                        raise _bad_target(spec, o, s, r_off, rtype, tkind, tname)
                    v = S + A
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
                if hi_values is not None and rtype in hi_relocs:
                    hi_values[P] = v
                try:
                    pack.pack_into(img, P, v)
                except fields.FieldError as e:
                    raise LinkError(f"{reloc_name(spec.em, rtype)} against {tname} in {s.name} at "
                                    f"{r_off:#x}: {e}", file=o.name) from None
            for r_off, rtype, k, rs in deferred:
                # RISC-V %pcrel_lo(label): the low part of the value computed for the
                # %pcrel_hi / %got_pcrel_hi relocation at `label` (an AUIPC in this section).
                sym = o.symbols[k]
                v = None
                if sym.shndx == s.index:
                    v = hi_values.get(sbase + sym.value) if hi_values is not None else None
                if v is None:
                    raise LinkError(f"{reloc_name(spec.em, rtype)} in {s.name} at {r_off:#x} "
                                    f"names {sym.name or 'a symbol'}, which is not the place of a "
                                    f"PCREL_HI20 or GOT_HI20 relocation in {s.name}", file=o.name)
                rs.pack.pack_into(img, sbase + r_off, v)

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
    e_flags = spec.merge_flags([o.flags for o in objs]) if spec.merge_flags and objs else 0
    return LinkedCode(spec.name, spec.byteorder, page, bytes(img[:code_size]), text_size,
                      data_offset, bytes(img[data_offset:data_end]), got_offset, got_size, size,
                      symbols, func_sizes, load, got_symbols, e_flags, const_slots, bases)


def _bad_target(spec: MachineSpec, o: ObjectFile, s: elf.Section, r_off: int, rtype: int,
                tkind: int, tname: str) -> LinkError:
    rn = reloc_name(spec.em, rtype)
    if tkind == _ABS:
        ok = (F_ABS, F_LO) + (_GOT_FORMULAS if spec.abs_via_got else ())
        why = (f"{rn} cannot refer to absolute symbol {tname} (only "
               f"{', '.join(reloc_name(spec.em, t) for t, r in spec.relocs.items() if r.formula in ok)} can)")
    elif tkind == _LOST:
        why = f"{rn} refers to {tname}, which is in a section that is not linked"
    elif tkind == _EXT:
        why = f"{rn} cannot refer to external symbol {tname}"
    else:
        why = (f"{rn} against internal symbol {tname} needs an absolute address; the code must "
               f"be position independent")
    return LinkError(f"{why} (in {s.name} at {r_off:#x})", file=o.name)
