"""Relocation fields that are not plain integers: immediates inside instruction words.

Each class here has the interface the linker uses for `RelocSpec.pack`: `size` (bytes patched) and
`pack_into(buffer, offset, value)`, which reads the instruction word(s) at `offset`, inserts
`value` (already computed by the relocation's formula and checked against its range) into the
immediate field and writes the word(s) back. A value the field cannot hold for a reason other
than its range (a branch displacement that is not a multiple of the instruction size, a low-12-bit
offset that is not a multiple of a load's access size) raises `FieldError`, which the linker turns
into a `LinkError` naming the relocation.

Instruction words are little-endian on AArch64 and RISC-V (whatever the data byte order) and
big-endian on s390x; the byte order is part of each field's `struct` format.
"""

from __future__ import annotations

import struct


class FieldError(ValueError):
    """The value does not suit the field (misaligned); the message says why."""


class Masked:
    """A plain integer field that accepts signed and unsigned values alike (e.g. AArch64 ABS32,
    which allows -2**31 <= X < 2**32): the value is stored modulo 2**bits."""

    def __init__(self, fmt: str):
        self._st = struct.Struct(fmt)
        self.size = self._st.size
        self._mask = (1 << (8 * self.size)) - 1

    def pack_into(self, buf, off: int, v: int) -> None:
        self._st.pack_into(buf, off, v & self._mask)


class AddSub:
    """RISC-V ADD*/SUB*: the field (a plain integer) is incremented or decremented by the value,
    modulo its width. The pair ADD32 L / SUB32 M in a jump table leaves L - M there."""

    def __init__(self, fmt: str, sign: int):
        self._st = struct.Struct(fmt)
        self.size = self._st.size
        self._mask = (1 << (8 * self.size)) - 1
        self._sign = sign

    def pack_into(self, buf, off: int, v: int) -> None:
        (old,) = self._st.unpack_from(buf, off)
        self._st.pack_into(buf, off, (old + self._sign * v) & self._mask)


class Insn:
    """An immediate field of one instruction word: `encode(word, value) -> word`."""

    def __init__(self, fmt: str, encode, what: str = ""):
        self._st = struct.Struct(fmt)
        self.size = self._st.size
        self._encode = encode
        self.what = what

    def pack_into(self, buf, off: int, v: int) -> None:
        (word,) = self._st.unpack_from(buf, off)
        self._st.pack_into(buf, off, self._encode(word, v))


def _aligned(v: int, n: int, what: str) -> None:
    if v & (n - 1):
        raise FieldError(f"{what} {v:#x} is not a multiple of {n}")


# --- AArch64 (A64 instruction words are always little-endian) -----------------------------------

def a64_imm26(word: int, v: int) -> int:
    """B/BL: imm26 = v >> 2 (bits 0..25)."""
    _aligned(v, 4, "branch displacement")
    return (word & ~0x3FFFFFF) | ((v >> 2) & 0x3FFFFFF)


def a64_imm19(word: int, v: int) -> int:
    """B.cond, CBZ, LDR (literal): imm19 = v >> 2 (bits 5..23)."""
    _aligned(v, 4, "displacement")
    return (word & ~(0x7FFFF << 5)) | (((v >> 2) & 0x7FFFF) << 5)


def a64_imm14(word: int, v: int) -> int:
    """TBZ/TBNZ: imm14 = v >> 2 (bits 5..18)."""
    _aligned(v, 4, "branch displacement")
    return (word & ~(0x3FFF << 5)) | (((v >> 2) & 0x3FFF) << 5)


def a64_adr(word: int, v: int) -> int:
    """ADR: the 21-bit immediate, immlo (bits 29..30) and immhi (bits 5..23)."""
    return (word & ~((3 << 29) | (0x7FFFF << 5))) | ((v & 3) << 29) | (((v >> 2) & 0x7FFFF) << 5)


def a64_adrp(word: int, v: int) -> int:
    """ADRP: v is a difference of 4 KiB pages; the immediate is v >> 12."""
    return a64_adr(word, v >> 12)


def a64_add_lo12(word: int, v: int) -> int:
    """ADD (immediate): imm12 (bits 10..21) = the low 12 bits of v."""
    return (word & ~(0xFFF << 10)) | ((v & 0xFFF) << 10)


def a64_ldst_lo12(shift: int):
    """LDR/STR (unsigned offset) of 1 << shift bytes: imm12 = low 12 bits of v, scaled."""
    def encode(word: int, v: int) -> int:
        lo = v & 0xFFF
        _aligned(lo, 1 << shift, f"offset for a {8 << shift}-bit access")
        return (word & ~(0xFFF << 10)) | ((lo >> shift) << 10)
    return encode


def a64_movw(group: int):
    """MOVZ/MOVK: imm16 (bits 5..20) = bits 16*group .. 16*group+15 of v."""
    def encode(word: int, v: int) -> int:
        return (word & ~(0xFFFF << 5)) | (((v >> (16 * group)) & 0xFFFF) << 5)
    return encode


def a64_stub(stub: int, slot: int) -> bytes:
    """`adrp x16, slot; ldr x16, [x16, :lo12:slot]; br x16; brk #0` (16 bytes)."""
    adrp = a64_adrp(0x90000010, (slot & ~0xFFF) - (stub & ~0xFFF))
    ldr = a64_ldst_lo12(3)(0xF9400210, slot)
    return struct.pack("<IIII", adrp, ldr, 0xD61F0200, 0xD4200000)


# --- RISC-V (instruction parcels are always little-endian) --------------------------------------

def rv_hi20(v: int) -> int:
    """The upper 20 bits for AUIPC/LUI so that hi20 << 12 plus the sign-extended low 12 bits is v."""
    return ((v + 0x800) >> 12) & 0xFFFFF


def rv_lo12(v: int) -> int:
    """The low 12 bits (as a signed number) that go with `rv_hi20(v)`."""
    return v - (((v + 0x800) >> 12) << 12)


def rv_u(word: int, v: int) -> int:
    """U-type (AUIPC, LUI): bits 12..31 = hi20(v)."""
    return (word & 0xFFF) | (rv_hi20(v) << 12)


def rv_i(word: int, v: int) -> int:
    """I-type (ADDI, loads, JALR): bits 20..31 = lo12(v)."""
    return (word & 0xFFFFF) | ((rv_lo12(v) & 0xFFF) << 20)


def rv_s(word: int, v: int) -> int:
    """S-type (stores): imm[11:5] in bits 25..31, imm[4:0] in bits 7..11, with lo12(v)."""
    lo = rv_lo12(v) & 0xFFF
    return (word & 0x01FFF07F) | ((lo >> 5) << 25) | ((lo & 0x1F) << 7)


def rv_call(words: int, v: int) -> int:
    """AUIPC + JALR pair (CALL, CALL_PLT), read as one little-endian 64-bit integer: the AUIPC
    is the low word."""
    _aligned(v, 2, "call displacement")
    auipc, jalr = words & 0xFFFFFFFF, words >> 32
    return rv_u(auipc, v) | (rv_i(jalr, v) << 32)


def rv_jal(word: int, v: int) -> int:
    """J-type: imm[20|10:1|11|19:12] in bits 31..12."""
    _aligned(v, 2, "jump displacement")
    return ((word & 0xFFF) | (((v >> 20) & 1) << 31) | (((v >> 1) & 0x3FF) << 21)
            | (((v >> 11) & 1) << 20) | (((v >> 12) & 0xFF) << 12))


def rv_branch(word: int, v: int) -> int:
    """B-type: imm[12|10:5] in bits 31..25, imm[4:1|11] in bits 11..7."""
    _aligned(v, 2, "branch displacement")
    return ((word & 0x01FFF07F) | (((v >> 12) & 1) << 31) | (((v >> 5) & 0x3F) << 25)
            | (((v >> 1) & 0xF) << 8) | (((v >> 11) & 1) << 7))


def _bit(v: int, i: int) -> int:
    return (v >> i) & 1


def rv_cj(half: int, v: int) -> int:
    """CJ format (C.J): imm[11|4|9:8|10|6|7|3:1|5] in bits 12..2."""
    _aligned(v, 2, "jump displacement")
    return ((half & 0xE003) | (_bit(v, 11) << 12) | (_bit(v, 4) << 11) | (_bit(v, 9) << 10)
            | (_bit(v, 8) << 9) | (_bit(v, 10) << 8) | (_bit(v, 6) << 7) | (_bit(v, 7) << 6)
            | (_bit(v, 3) << 5) | (_bit(v, 2) << 4) | (_bit(v, 1) << 3) | (_bit(v, 5) << 2))


def rv_cb(half: int, v: int) -> int:
    """CB format (C.BEQZ/C.BNEZ): imm[8|4:3] in bits 12..10, imm[7:6|2:1|5] in bits 6..2."""
    _aligned(v, 2, "branch displacement")
    return ((half & 0xE383) | (_bit(v, 8) << 12) | (_bit(v, 4) << 11) | (_bit(v, 3) << 10)
            | (_bit(v, 7) << 6) | (_bit(v, 6) << 5) | (_bit(v, 2) << 4) | (_bit(v, 1) << 3)
            | (_bit(v, 5) << 2))


def rv_stub(stub: int, slot: int) -> bytes:
    """`auipc t3, %pcrel_hi(slot); ld t3, %pcrel_lo(slot)(t3); jalr t1, t3; nop` (16 bytes), the
    psABI's PLT entry."""
    d = slot - stub
    auipc = rv_u(0x00000E17, d)            # auipc t3, 0
    ld = rv_i(0x000E3E03, d)               # ld t3, 0(t3)
    return struct.pack("<IIII", auipc, ld, 0x000E0367, 0x00000013)  # jalr t1, 0(t3); nop


# --- s390x (big-endian) -------------------------------------------------------------------------

def s390_dbl(word: int, v: int) -> int:
    """PC-relative halfword count (PC16DBL, PC32DBL, GOTENT, ...): the field holds v / 2."""
    _aligned(v, 2, "PC-relative displacement")
    return v >> 1


def s390_12(half: int, v: int) -> int:
    """12-bit displacement: the low 12 bits of the halfword."""
    return (half & 0xF000) | (v & 0xFFF)


def s390_20(word: int, v: int) -> int:
    """20-bit displacement (RXY/RSY): DL (12 bits) in bits 16..27 of the big-endian word at the
    field, DH (8 bits) in bits 8..15."""
    return (word & 0xF00000FF) | ((v & 0xFFF) << 16) | (((v >> 12) & 0xFF) << 8)


def s390_stub(stub: int, slot: int) -> bytes:
    """`larl %r1, slot; lg %r1, 0(%r1); br %r1; nopr` (16 bytes), like the PLT's use of %r1."""
    d = slot - stub
    if d & 1:
        raise FieldError(f"GOT slot at odd distance {d:#x} from its stub")
    return (b"\xc0\x10" + struct.pack(">i", d >> 1) + b"\xe3\x10\x10\x00\x00\x04" + b"\x07\xf1"
            + b"\x07\x00")
