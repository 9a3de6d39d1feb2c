"""Building for other targets than the build machine (docs/targets.md).

The same sample graphs are built for x86-64, aarch64, riscv64 and s390x. For each image:
readelf and pyelftools read it without complaint and see the right machine and byte order; the
header and `wasmbuild inspect` report the target; the metadata does not depend on the target and
reads back right from the big-endian image; every relocation of every linked object is checked
against an independent decoding of the instruction or data it patched ("golden" checks: the
address a call or ADRP/AUIPC pair computes is the callee's, the GOT entry an absolute symbol is
loaded from holds the vmctx offset the layout gave it, ...). Builds for two targets share one cache
directory without cross hits. Loading a foreign image is refused with a clear message.

With tools/setup-qemu.sh's emulators (Debian's qemu-user-static and an aarch64 or s390x Python
sysroot; `.ci/run` sets them up, and in CI their absence fails the run), aarch64 and s390x images
also *run*: the samples' checks and a selection of spec scripts, under the emulated Python loading
the images with wasmbuild's own loader.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import subprocess
from dataclasses import dataclass

import pytest
from conftest import READELF_HINT, need, need_command, spec_core
from elftools.elf.elffile import ELFFile

from wasmbuild.build import linking as B
from wasmbuild.build import build_graph
from wasmbuild.cache import LocalStore
from wasmbuild.cli import main as cli_main
from wasmbuild.compile import CompileSettings
from wasmbuild.contract.records import ImageMeta, TargetRecord
from wasmbuild.errors import LinkError
from wasmbuild.image import ImageError, read_image, write_image
from wasmbuild.link import elf
from wasmbuild.link.elf import ObjectFile, Section, Symbol
from wasmbuild.link.linker import (MACHINE_SPECS, LinkedCode, LoadReloc, link, load_relocs_from_bytes,
                                   load_relocs_to_bytes)
from wasmbuild.loader.codemem import host_machine
from wasmbuild.loader.instance import load_image
from wasmbuild.loader.runtime import Store

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_LIB = os.path.join(ROOT, "samples", "shared-lib", "graph.toml")
NBODY = os.path.join(ROOT, "samples", "nbody", "graph.toml")

# arch → (triple, pyelftools e_machine, byte order, readelf's Machine line, readelf's Data line)
TARGETS = {
    "x86_64": ("x86_64-unknown-linux-gnu", "EM_X86_64", "<", "Advanced Micro Devices X86-64",
               "little endian"),
    "aarch64": ("aarch64-unknown-linux-gnu", "EM_AARCH64", "<", "AArch64", "little endian"),
    "riscv64": ("riscv64-unknown-linux-gnu", "EM_RISCV", "<", "RISC-V", "little endian"),
    "s390x": ("s390x-unknown-linux-gnu", "EM_S390", ">", "IBM S/390", "big endian"),
}
ARCHS = list(TARGETS)


@dataclass
class Built:
    arch: str
    triple: str
    path: str
    image: bytes
    report: object
    units: list  # the ObjectFiles the linker got (symbols renamed)
    absolutes: dict
    linked: LinkedCode  # what the linker gave (with section_bases)


def _build(manifest: str, arch: str, cache_dir: str, out_dir) -> Built:
    triple = TARGETS[arch][0]
    captured = {}
    real_link = B.link

    def capture(units, absolutes, machine):
        lc = real_link(units, absolutes, machine=machine)
        captured.update(units=list(units), absolutes=dict(absolutes), linked=lc)
        return lc

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(B, "link", capture)
        image, report = build_graph(manifest, CompileSettings(triple=triple), 1, LocalStore(cache_dir))
    name = os.path.basename(os.path.dirname(manifest))
    path = os.path.join(str(out_dir), f"{name}-{arch}.img")
    with open(path, "wb") as f:
        f.write(image)
    return Built(arch, triple, path, image, report, captured["units"], captured["absolutes"],
                 captured["linked"])


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def shared_lib(tmp_path_factory, cache_dir):
    """samples/shared-lib built for each target, one after the other, into one cache directory."""
    out = tmp_path_factory.mktemp("images")
    return {arch: _build(SHARED_LIB, arch, cache_dir, out) for arch in ARCHS}


@pytest.fixture(scope="module")
def nbody(tmp_path_factory):
    """samples/nbody (C code: jump tables, constant pools, memcpy) for each target."""
    out = tmp_path_factory.mktemp("nbody")
    cache = str(tmp_path_factory.mktemp("nbody-cache"))
    return {arch: _build(NBODY, arch, cache, out) for arch in ARCHS}


# --- the image file ---------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHS)
def test_readelf_reads_the_image(shared_lib, arch):
    b = shared_lib[arch]
    readelf = need_command("readelf", READELF_HINT)
    r = subprocess.run([readelf, "-a", "-W", b.path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert "Warning" not in out and "Error" not in out, out
    _triple, _em, _bo, machine_line, data_line = TARGETS[arch]
    assert f"Machine:                           {machine_line}" in out
    assert f"2's complement, {data_line}" in out
    assert "DYN" in out
    for sym in ("wasm0_f0", "wb_rt_trap"):
        assert f" {sym}\n" in out
    if arch == "riscv64":
        assert "RVC, double-float ABI" in out


@pytest.mark.parametrize("arch", ARCHS)
def test_pyelftools_reads_the_image(shared_lib, arch):
    b = shared_lib[arch]
    _triple, em, bo, _m, _d = TARGETS[arch]
    with open(b.path, "rb") as f:
        e = ELFFile(f)
        assert e["e_machine"] == em
        assert e.little_endian == (bo == "<")
        assert e["e_type"] == "ET_DYN"
        names = {}
        for s in e.iter_sections():
            names[s.name] = s
            s.data()
        for seg in e.iter_segments():
            assert seg["p_align"] == MACHINE_SPECS[arch].page_size
        syms = {s.name: s["st_value"] for s in names[".symtab"].iter_symbols() if s.name}
        header = json.loads(names[".wb.header"].data())
        meta = json.loads(names[".wb.meta"].data())
        text = names[".text"].data()
        if arch == "riscv64":
            assert e["e_flags"] == elf.EF_RISCV_RVC | elf.EF_RISCV_FLOAT_ABI_DOUBLE
        else:
            assert e["e_flags"] == 0
    assert header["target"]["triple"] == b.triple
    assert header["target"]["machine"] == arch
    assert header["target"]["byteorder"] == bo
    assert dict(meta["symbols"]) == {k: v for k, v in syms.items()}
    assert text == b.linked.code


@pytest.mark.parametrize("arch", ARCHS)
def test_inspect_reports_the_target(shared_lib, arch, capsys):
    b = shared_lib[arch]
    assert cli_main(["inspect", b.path]) == 0
    first = capsys.readouterr().out.splitlines()[1]
    _triple, em, bo, _m, _d = TARGETS[arch]
    assert b.triple in first and em in first
    assert ("big-endian" if bo == ">" else "little-endian") in first
    assert f"cpu={read_image(b.image).header.target.cpu}" in first


def test_metadata_does_not_depend_on_the_target(shared_lib):
    """Types, modules (with their VMContext layouts), initializers and trampolines are the same
    JSON for every target; only the code offsets in "symbols" differ."""
    metas = {arch: read_image(b.image).meta for arch, b in shared_lib.items()}
    ref = dataclasses.replace(metas["x86_64"], symbols=None)
    for arch, meta in metas.items():
        assert dataclasses.replace(meta, symbols=None) == ref, arch
        assert [n for n, _ in meta.symbols] == [n for n, _ in metas["x86_64"].symbols]


def test_big_endian_image_reads_back(shared_lib):
    """The s390x image: header, load relocations and code read back as written; the values the
    linker stored for the code (constant slots, stubs' displacements) are big-endian."""
    b = shared_lib["s390x"]
    img = read_image(b.image)
    lc = img.linked
    assert lc.byteorder == ">" and lc.machine == "s390x"
    assert lc.load_relocs == b.linked.load_relocs
    assert lc.code == b.linked.code
    # The GOT: one "symbol" load relocation per external function, in its slot, sorted by name.
    externals = [n for n in b.linked.got_symbols if n]
    assert externals == sorted(externals) and externals
    slots = {r.offset: r.symbol for r in lc.load_relocs if r.kind == "symbol"}
    assert slots == {lc.got_offset + 8 * i: n for i, n in enumerate(externals)}
    # Constant slots hold the absolute symbols' values in big-endian order.
    assert b.linked.const_slots
    for value, at in b.linked.const_slots.items():
        assert struct.unpack_from(">Q", lc.code, at)[0] == value
        assert struct.unpack_from("<Q", lc.code, at)[0] != value or value == 0
    assert set(b.linked.const_slots) == set(b.absolutes.values())
    # The load-relocation table itself is little-endian whatever the target.
    with open(b.path, "rb") as f:
        raw = ELFFile(f).get_section_by_name(".wb.relocs").data()
    assert raw[:4] == b"WBLR" and struct.unpack_from("<I", raw, 8)[0] == len(lc.load_relocs)


def test_big_endian_data_and_relocations_round_trip():
    """A value written into a big-endian image's data reads back right, with pyelftools and with
    read_image, and the load relocations survive the trip."""
    value = 0x0102030405060708
    data = struct.pack(">Q", value) + struct.pack(">I", 0xCAFEBABE)
    relocs = [LoadReloc(0x1000, "base", "", 0x40), LoadReloc(0x1010, "symbol", "memmove", -8)]
    lc = LinkedCode("s390x", ">", 0x1000, b"\x07\x07" * 8, 16, 0x1000, data, 0x1010, 8, 0x2000,
                    {"f": 0}, {"f": 16}, relocs, ["memmove"])
    target = TargetRecord("s390x-unknown-linux-gnu", "z13", "", "s390x", ">", "E")
    meta = ImageMeta((), (), (), (), (), (("f", 0),))
    blob = write_image(lc, target, {}, {"opt_level": 2, "bounds_checks": "explicit", "wasm_features": "wasm3"}, meta, b"", [("f", 0, 16)])
    back = read_image(blob)
    assert struct.unpack_from(">Q", back.linked.data, 0)[0] == value
    assert struct.unpack_from(">I", back.linked.data, 8)[0] == 0xCAFEBABE
    assert back.linked.load_relocs == relocs
    assert load_relocs_from_bytes(load_relocs_to_bytes(relocs)) == relocs
    import io
    e = ELFFile(io.BytesIO(blob))
    assert not e.little_endian and e["e_machine"] == "EM_S390"
    rel = e.get_section_by_name(".data.rel.ro")
    assert rel["sh_addr"] == 0x1000 and struct.unpack(">Q", rel.data()[:8])[0] == value


# --- golden relocation checks ------------------------------------------------------------------

def _sext(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class _Golden:
    """Resolves relocation targets from the linker's inputs and output independently of the
    linker's formulas, and decodes what ended up in the image."""

    def __init__(self, b: Built):
        self.b = b
        self.lc = b.linked
        self.code = read_image(b.image).linked.code  # what the image file holds
        self.spec = MACHINE_SPECS[b.arch]
        self.externals = [n for n in self.lc.got_symbols if n]
        self.stub_base = self.lc.text_size - self.spec.stub_size * len(self.externals)
        self.bo = self.spec.byteorder
        self.kinds: dict[str, int] = {}

    def target(self, ui: int, k: int):
        """('int', address) for code or data in the image (an external function: its stub),
        ('abs', value) for an absolute symbol, ('ext', name) for the external itself."""
        o = self.b.units[ui]
        sym = o.symbols[k]
        if sym.bind != elf.STB_LOCAL and sym.type != elf.STT_SECTION and sym.name:
            if sym.name in self.lc.symbols:
                return "int", self.lc.symbols[sym.name]
            if sym.name in self.b.absolutes:
                return "abs", self.b.absolutes[sym.name]
            assert sym.shndx == elf.SHN_UNDEF and sym.name in self.externals, sym
            return "ext", sym.name
        base = self.lc.section_bases[ui][sym.shndx]
        assert base is not None, sym
        return "int", base + sym.value

    def address(self, t) -> int:
        """Where a call or PC-relative reference to `t` must land."""
        kind, v = t
        if kind == "ext":
            return self.stub_base + self.spec.stub_size * self.externals.index(v)
        assert kind == "int", t
        return v

    def slot_for(self, t) -> int:
        """The slot a GOT relocation against `t` must use, after checking what it holds."""
        kind, v = t
        if kind == "abs":
            at = self.lc.const_slots[v]
            assert struct.unpack_from(self.bo + "Q", self.code, at)[0] == v
            return at
        assert kind == "ext", t
        at = self.lc.got_offset + 8 * self.externals.index(v)
        assert LoadReloc(at, "symbol", v, 0) in self.lc.load_relocs
        return at

    def word(self, fmt: str, at: int) -> int:
        return struct.unpack_from(fmt, self.code, at)[0]

    def check_all(self) -> dict[str, int]:
        em = self.spec.em
        check = getattr(self, "_" + self.b.arch)
        for ui, o in enumerate(self.b.units):
            for s in o.sections:
                base = self.lc.section_bases[ui][s.index]
                if not s.relocs or base is None:
                    continue
                pending = {}  # RISC-V: AUIPC place → the address its %pcrel_hi part reaches
                pairs = {}  # RISC-V ADD/SUB: place → net value
                for r_off, rtype, k, A in sorted(s.relocs, key=lambda r: (r[1] in (
                        elf.R_RISCV_PCREL_LO12_I, elf.R_RISCV_PCREL_LO12_S) if em == elf.EM_RISCV
                        else 0)):
                    name = elf.reloc_name(em, rtype)
                    P = base + r_off
                    assert P + 4 <= len(self.code) or rtype in (elf.R_RISCV_ADD32, elf.R_RISCV_SUB32)
                    check(rtype, P, self.target(ui, k), A, o, k, base, pending, pairs)
                    self.kinds[name] = self.kinds.get(name, 0) + 1
                for P, net in pairs.items():
                    assert self.word("<I", P) == net & 0xFFFFFFFF
        return self.kinds

    def _x86_64(self, rtype, P, t, A, o, k, base, pending, pairs):
        E = elf
        if rtype == E.R_X86_64_PC32 and t[0] == "abs":  # a lea made a mov by the linker
            assert self.code[P - 3] & 0xFE == 0x48 and self.code[P - 2] == 0xC7
            assert self.word("<i", P) == t[1] + A + 4
        elif rtype in (E.R_X86_64_PLT32, E.R_X86_64_PC32):
            disp = self.word("<i", P)
            if A == -4:  # a rel32 operand at the end of its instruction
                assert P + 4 + disp == self.address(t)
            else:  # e.g. a jump table entry relative to its table
                assert P + disp == self.address(t) + A
        elif rtype in (E.R_X86_64_32S, E.R_X86_64_32):
            assert t[0] == "abs" and self.word("<i" if rtype == E.R_X86_64_32S else "<I", P) == t[1] + A
        elif rtype in (E.R_X86_64_GOTPCREL, E.R_X86_64_GOTPCRELX, E.R_X86_64_REX_GOTPCRELX):
            assert A == -4 and P + 4 + self.word("<i", P) == self.slot_for(t)  # a rel32 to the slot
        else:
            raise AssertionError(f"no golden check for {elf.reloc_name(E.EM_X86_64, rtype)}")

    def _aarch64(self, rtype, P, t, A, o, k, base, pending, pairs):
        E = elf
        insn = self.word("<I", P)
        adrp = lambda: (P & ~0xFFF) + (_sext(((insn >> 5) & 0x7FFFF) << 2 | (insn >> 29) & 3, 21) << 12)  # noqa: E731
        lo12 = (insn >> 10) & 0xFFF
        if rtype in (E.R_AARCH64_CALL26, E.R_AARCH64_JUMP26):
            assert insn >> 26 in (0b100101, 0b000101)  # BL, B
            assert P + 4 * _sext(insn, 26) == self.address(t) + A
        elif rtype == E.R_AARCH64_ADR_PREL_PG_HI21:
            assert insn & 0x9F000000 == 0x90000000  # ADRP
            assert adrp() == (self.address(t) + A) & ~0xFFF
        elif rtype == E.R_AARCH64_ADD_ABS_LO12_NC:
            assert lo12 == (self.address(t) + A) & 0xFFF
        elif rtype in (E.R_AARCH64_LDST8_ABS_LO12_NC, E.R_AARCH64_LDST16_ABS_LO12_NC,
                       E.R_AARCH64_LDST32_ABS_LO12_NC, E.R_AARCH64_LDST64_ABS_LO12_NC,
                       E.R_AARCH64_LDST128_ABS_LO12_NC):
            shift = {E.R_AARCH64_LDST8_ABS_LO12_NC: 0, E.R_AARCH64_LDST16_ABS_LO12_NC: 1,
                     E.R_AARCH64_LDST32_ABS_LO12_NC: 2, E.R_AARCH64_LDST64_ABS_LO12_NC: 3,
                     E.R_AARCH64_LDST128_ABS_LO12_NC: 4}[rtype]
            assert lo12 << shift == (self.address(t) + A) & 0xFFF
        elif rtype == E.R_AARCH64_ADR_GOT_PAGE:
            assert insn & 0x9F000000 == 0x90000000
            assert adrp() == self.slot_for(t) & ~0xFFF
        elif rtype == E.R_AARCH64_LD64_GOT_LO12_NC:
            assert insn & 0xFFC00000 == 0xF9400000  # LDR Xt, [Xn, #imm]
            assert lo12 * 8 == self.slot_for(t) & 0xFFF
        else:
            raise AssertionError(f"no golden check for {elf.reloc_name(E.EM_AARCH64, rtype)}")

    def _riscv64(self, rtype, P, t, A, o, k, base, pending, pairs):
        E = elf
        insn = self.word("<I", P)
        if rtype in (E.R_RISCV_CALL_PLT, E.R_RISCV_CALL):
            auipc, jalr = insn, self.word("<I", P + 4)
            assert auipc & 0x7F == 0x17 and jalr & 0x707F == 0x67
            assert P + (_sext(auipc >> 12, 20) << 12) + _sext(jalr >> 20, 12) == self.address(t) + A
        elif rtype in (E.R_RISCV_PCREL_HI20, E.R_RISCV_GOT_HI20):
            assert insn & 0x7F == 0x17  # AUIPC
            want = self.address(t) + A if rtype == E.R_RISCV_PCREL_HI20 else self.slot_for(t)
            pending[P] = (P + (_sext(insn >> 12, 20) << 12), want)
        elif rtype in (E.R_RISCV_PCREL_LO12_I, E.R_RISCV_PCREL_LO12_S):
            label = base + o.symbols[k].value
            partial, want = pending[label]
            if rtype == E.R_RISCV_PCREL_LO12_I:
                lo = _sext(insn >> 20, 12)
            else:
                lo = _sext(((insn >> 25) << 5) | ((insn >> 7) & 0x1F), 12)
            assert partial + lo == want
        elif rtype in (E.R_RISCV_ADD32, E.R_RISCV_SUB32):
            sign = 1 if rtype == E.R_RISCV_ADD32 else -1
            pairs[P] = pairs.get(P, 0) + sign * (self.address(t) + A)
        elif rtype in (E.R_RISCV_JAL, E.R_RISCV_BRANCH):
            if rtype == E.R_RISCV_JAL:
                d = (((insn >> 31) & 1) << 20 | ((insn >> 12) & 0xFF) << 12 | ((insn >> 20) & 1) << 11
                     | ((insn >> 21) & 0x3FF) << 1)
                d = _sext(d, 21)
            else:
                d = (((insn >> 31) & 1) << 12 | ((insn >> 7) & 1) << 11 | ((insn >> 25) & 0x3F) << 5
                     | ((insn >> 8) & 0xF) << 1)
                d = _sext(d, 13)
            assert P + d == self.address(t) + A
        elif rtype in (E.R_RISCV_RELAX, E.R_RISCV_ALIGN):
            pass
        else:
            raise AssertionError(f"no golden check for {elf.reloc_name(E.EM_RISCV, rtype)}")

    def _s390x(self, rtype, P, t, A, o, k, base, pending, pairs):
        E = elf
        if rtype in (E.R_390_PLT32DBL, E.R_390_PC32DBL, E.R_390_GOTENT):
            field = self.word(">i", P)
            insn_at = P - 2  # the 32-bit immediate follows a 2-byte opcode/register part
            # the addend is +2 (the field is 2 bytes into the instruction) plus an offset into
            # the target (a constant in a section); GOT relocations have no such offset
            where = self.slot_for(t) if rtype == E.R_390_GOTENT else self.address(t)
            assert insn_at + 2 * field == where + A - 2
            assert rtype != E.R_390_GOTENT or A == 2
            if rtype == E.R_390_PLT32DBL:
                assert self.code[insn_at] == 0xC0 and self.code[insn_at + 1] & 0x0F in (4, 5)  # BRCL/BRASL
        elif rtype == E.R_390_PC32:
            assert P + self.word(">i", P) == self.address(t) + A
        else:
            raise AssertionError(f"no golden check for {elf.reloc_name(E.EM_S390, rtype)}")


# Relocation kinds each target's code is known to use (the golden checks must see them all).
EXPECTED_KINDS = {
    "x86_64": {"R_X86_64_PLT32", "R_X86_64_32S", "R_X86_64_PC32"},
    "aarch64": {"R_AARCH64_CALL26", "R_AARCH64_JUMP26", "R_AARCH64_ADR_GOT_PAGE",
                "R_AARCH64_LD64_GOT_LO12_NC", "R_AARCH64_ADR_PREL_PG_HI21",
                "R_AARCH64_ADD_ABS_LO12_NC"},
    "riscv64": {"R_RISCV_CALL_PLT", "R_RISCV_GOT_HI20", "R_RISCV_PCREL_HI20",
                "R_RISCV_PCREL_LO12_I", "R_RISCV_ADD32", "R_RISCV_SUB32"},
    "s390x": {"R_390_PLT32DBL", "R_390_GOTENT", "R_390_PC32DBL", "R_390_PC32"},
}


@pytest.mark.parametrize("arch", ARCHS)
def test_relocations_resolve_to_the_right_address(shared_lib, nbody, arch):
    kinds = {}
    for b in (shared_lib[arch], nbody[arch]):
        for name, n in _Golden(b).check_all().items():
            kinds[name] = kinds.get(name, 0) + n
    assert EXPECTED_KINDS[arch] <= set(kinds), kinds


@pytest.mark.parametrize("arch", ARCHS)
def test_a_call_between_two_functions_lands_on_the_callee(shared_lib, arch):
    """The example of the issue, spelt out: take each direct call from one compiled function to
    another and decode the branch instruction's displacement by hand."""
    b = shared_lib[arch]
    g = _Golden(b)
    code = g.code
    found = 0
    for ui, o in enumerate(b.units):
        if not o.name.startswith("wasm"):
            continue
        text = o.section(".text")
        for r_off, rtype, k, A in text.relocs:
            name = o.symbols[k].name
            if not name.startswith("wasm") or name == o.name or name not in b.linked.symbols:
                continue  # not a direct call of another compiled function
            callee = b.linked.symbols[name]
            P = b.linked.section_bases[ui][text.index] + r_off
            if arch == "x86_64":
                assert code[P - 1] == 0xE8  # call rel32
                assert P + 4 + struct.unpack_from("<i", code, P)[0] == callee
            elif arch == "aarch64":
                insn = struct.unpack_from("<I", code, P)[0]
                assert insn >> 26 == 0b100101  # BL
                assert P + 4 * _sext(insn, 26) == callee
            elif arch == "riscv64":
                auipc, jalr = struct.unpack_from("<II", code, P)
                assert P + (_sext(auipc >> 12, 20) << 12) + _sext(jalr >> 20, 12) == callee
            else:
                assert code[P - 2:P] == b"\xc0\xe5"  # brasl %r14, ...
                assert P - 2 + 2 * struct.unpack_from(">i", code, P)[0] == callee
            found += 1
    assert found


@pytest.mark.parametrize("arch", ARCHS)
def test_absolute_symbols_hold_the_layout_offsets(shared_lib, arch):
    """Every vmctx offset a function uses is the one its module's layout (as the image metadata
    records it) gives that kind of item; on x86-64 it is an immediate, elsewhere a read-only
    constant slot the code loads through a GOT relocation (checked by the golden test)."""
    b = shared_lib[arch]
    meta = read_image(b.image).meta
    layouts = [m.layout for m in meta.modules]
    fields = {"import": lambda l: l.import_slots.values(), "funcref": lambda l: l.funcrefs.values(),
              "global": lambda l: l.global_ptrs, "table": lambda l: l.table_ptrs,
              "type": lambda l: l.type_ids, "data": lambda l: l.data_slots,
              "elem": lambda l: l.elem_slots}
    assert b.absolutes
    for name, value in b.absolutes.items():
        func, kind, _ordinal = name.split(".")
        mi = int(func[len("wasm"):func.index("_")])
        assert value in fields[kind](layouts[mi]), name
    if arch == "x86_64":
        assert not b.linked.const_slots
    else:
        assert set(b.linked.const_slots) == set(b.absolutes.values())


# --- cache, determinism, settings -------------------------------------------------------------

def test_builds_for_two_targets_share_a_cache_without_cross_hits(shared_lib, cache_dir, tmp_path):
    # The fixture built the four targets one after the other into one cache directory: each
    # compiled everything (no hit from another target's entries).
    for arch, b in shared_lib.items():
        assert b.report.cached == 0 and b.report.compiled == b.report.functions > 0, arch
    # Built again, each target finds all its functions, and gets the same bytes.
    for arch in ("aarch64", "s390x"):
        again = _build(SHARED_LIB, arch, cache_dir, tmp_path)
        assert again.report.cached == again.report.functions and again.report.compiled == 0
        assert again.image == shared_lib[arch].image


@pytest.mark.parametrize("arch", ["aarch64", "riscv64", "s390x"])
def test_images_are_deterministic(shared_lib, arch, tmp_path):
    from wasmbuild.build import build_graph as bg
    image, report = bg(SHARED_LIB, CompileSettings(triple=TARGETS[arch][0]), 2, None)
    assert report.compiled == report.functions
    assert image == shared_lib[arch].image


def test_target_from_the_environment(tmp_path, monkeypatch):
    out = str(tmp_path / "env.img")
    monkeypatch.setenv("WASMBUILD_TARGET", "aarch64-unknown-linux-gnu")
    assert cli_main(["build", SHARED_LIB, "-o", out, "--no-cache", "-j", "1"]) == 0
    with open(out, "rb") as f:
        header = read_image(f.read()).header
    assert header.target.triple == "aarch64-unknown-linux-gnu"
    assert header.target.machine == "aarch64"
    # --target wins over the environment
    assert cli_main(["build", SHARED_LIB, "-o", out, "--no-cache", "-j", "1",
                     "--target", "s390x-unknown-linux-gnu"]) == 0
    with open(out, "rb") as f:
        assert read_image(f.read()).header.target.byteorder == ">"


def test_riscv64_baseline_is_rv64gc():
    s = CompileSettings(triple="riscv64-unknown-linux-gnu").resolved()
    assert s.features.startswith("+m,+a,+f,+d,+c")
    assert s.resolved() == s
    s = CompileSettings(triple="riscv64-unknown-linux-gnu", features="+v").resolved()
    assert s.features == "+m,+a,+f,+d,+c,+v"


def test_riscv64_code_calls_no_soft_float_helpers(shared_lib, nbody):
    for b in (shared_lib["riscv64"], nbody["riscv64"]):
        assert not [n for n in b.linked.got_symbols if n.startswith("__")], b.linked.got_symbols


def test_unknown_target_is_a_clear_error(tmp_path, capsys):
    assert cli_main(["build", SHARED_LIB, "-o", str(tmp_path / "x.img"), "--no-cache",
                     "--target", "mips64-unknown-linux-gnu"]) == 1
    err = capsys.readouterr().err
    assert "mips64" in err and "Traceback" not in err


# --- loading ----------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHS)
def test_foreign_images_are_refused(shared_lib, arch, capsys):
    b = shared_lib[arch]
    if arch == host_machine():
        inst = load_image(Store(), b.image, b.path).instantiate()
        assert inst.exports["rms"](10) == 6
        return
    with pytest.raises(ImageError) as info:
        load_image(Store(), b.image, b.path)
    msg = str(info.value)
    assert f"image is for {b.triple} ({arch})" in msg and "cannot run here" in msg
    assert cli_main(["run", b.path, "--invoke", "rms", "10"]) == 1
    err = capsys.readouterr().err
    assert "cannot run here" in err and "Traceback" not in err


# --- linker errors and range checks for the new machines ---------------------------------------

def _unit(name: str, machine: int, byteorder: str, text: bytes, relocs=(), symbols=(), flags=0,
          extra_sections=()) -> ObjectFile:
    secs = [Section(0, "", 0, 0, 1, 0, b""),
            Section(1, ".text", elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_EXECINSTR, 4, len(text),
                    text, relocs=list(relocs))]
    for i, (sname, data) in enumerate(extra_sections, start=2):
        secs.append(Section(i, sname, elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_EXECINSTR, 4,
                            len(data), data))
    syms = [Symbol("", 0, 0, 0, 0, 0, 0), Symbol(name, 1, 0, len(text), elf.STB_GLOBAL, elf.STT_FUNC,
                                                 elf.STV_HIDDEN)]
    syms += list(symbols)
    return ObjectFile(name, machine, byteorder, secs, syms, flags)


def _undef(name: str, hidden: bool = True) -> Symbol:
    return Symbol(name, elf.SHN_UNDEF, 0, 0, elf.STB_GLOBAL, elf.STT_NOTYPE,
                  elf.STV_HIDDEN if hidden else elf.STV_DEFAULT)


@pytest.mark.parametrize("arch, rtype, insn, reach", [
    ("aarch64", elf.R_AARCH64_TSTBR14, struct.pack("<I", 0x36000000), 1 << 15),
    ("aarch64", elf.R_AARCH64_CONDBR19, struct.pack("<I", 0x54000000), 1 << 20),
    ("riscv64", elf.R_RISCV_BRANCH, struct.pack("<I", 0x00000063), 1 << 12),
    ("riscv64", elf.R_RISCV_JAL, struct.pack("<I", 0x0000006F), 1 << 20),
    ("s390x", elf.R_390_PC16DBL, b"\xa7\x44\x00\x00", 1 << 16),
])
def test_branch_out_of_range_is_a_link_error(arch, rtype, insn, reach):
    spec = MACHINE_SPECS[arch]
    r_off = 2 if arch == "s390x" else 0
    A = 2 if arch == "s390x" else 0

    def units(gap: int):
        caller = _unit("caller", spec.em, spec.byteorder, insn, [(r_off, rtype, 2, A)],
                       [_undef("callee")])
        filler = _unit("filler", spec.em, spec.byteorder, bytes(gap))
        callee = _unit("callee", spec.em, spec.byteorder, insn)
        return [caller, filler, callee]

    lc = link(units(reach // 2), machine=arch)
    assert lc.symbols["callee"] - lc.symbols["caller"] > 0
    with pytest.raises(LinkError, match="does not fit"):
        link(units(reach), machine=arch)


def test_aarch64_misaligned_low12_is_a_link_error():
    insn = struct.pack("<I", 0xF9400000)  # ldr x0, [x0, #0]
    u = _unit("f", elf.EM_AARCH64, "<", insn, [(0, elf.R_AARCH64_LDST64_ABS_LO12_NC, 2, 0)],
              [_undef("off")])
    assert struct.unpack("<I", link([u], {"off": 0x18}, "aarch64").code[:4])[0] == 0xF9400000 | (3 << 10)
    with pytest.raises(LinkError, match="not a multiple of 8"):
        link([u], {"off": 0x14}, "aarch64")


def test_pc_relative_reference_to_an_absolute_symbol_is_a_link_error():
    insn = struct.pack("<I", 0x90000000)  # adrp x0, ...
    u = _unit("f", elf.EM_AARCH64, "<", insn, [(0, elf.R_AARCH64_ADR_PREL_PG_HI21, 2, 0)],
              [_undef("off")])
    with pytest.raises(LinkError, match="cannot refer to absolute symbol off"):
        link([u], {"off": 0x18}, "aarch64")


def test_riscv_pcrel_lo_without_its_hi_is_a_link_error():
    label = Symbol(".Lpcrel_hi0", 1, 4, 0, elf.STB_LOCAL, elf.STT_NOTYPE, 0)
    text = struct.pack("<II", 0x00000517, 0x00050513)  # auipc a0, 0; addi a0, a0, 0
    u = _unit("f", elf.EM_RISCV, "<", text, [(4, elf.R_RISCV_PCREL_LO12_I, 2, 0)], [label])
    with pytest.raises(LinkError, match="not the place of a PCREL_HI20 or GOT_HI20"):
        link([u], machine="riscv64")


def test_riscv_pcrel_pair_and_external_call_through_a_stub():
    label = Symbol(".Lpcrel_hi0", 1, 0, 0, elf.STB_LOCAL, elf.STT_NOTYPE, 0)
    # auipc a0, %pcrel_hi(data); addi a0, a0, %pcrel_lo(.Lpcrel_hi0); call memmove (auipc+jalr)
    text = struct.pack("<IIII", 0x00000517, 0x00050513, 0x00000097, 0x000080E7)
    u = _unit("f", elf.EM_RISCV, "<", text,
              [(8, elf.R_RISCV_CALL_PLT, 4, 0), (8, elf.R_RISCV_RELAX, 0, 0),
               (4, elf.R_RISCV_PCREL_LO12_I, 2, 0), (0, elf.R_RISCV_PCREL_HI20, 3, 0x123)],
              [label, Symbol("g", 2, 0, 4, elf.STB_GLOBAL, elf.STT_FUNC, elf.STV_HIDDEN),
               _undef("memmove", hidden=False)],
              flags=elf.EF_RISCV_FLOAT_ABI_DOUBLE, extra_sections=[(".text.g", b"\x00" * 4)])
    lc = link([u], machine="riscv64")
    auipc, addi, auipc2, jalr = struct.unpack_from("<IIII", lc.code, 0)
    assert (_sext(auipc >> 12, 20) << 12) + _sext(addi >> 20, 12) == lc.symbols["g"] + 0x123
    stub = lc.text_size - 16
    assert 8 + (_sext(auipc2 >> 12, 20) << 12) + _sext(jalr >> 20, 12) == stub
    # the stub loads the GOT slot and jumps
    s_auipc, s_ld, s_jalr, _nop = struct.unpack_from("<IIII", lc.code, stub)
    assert stub + (_sext(s_auipc >> 12, 20) << 12) + _sext(s_ld >> 20, 12) == lc.got_offset
    assert lc.load_relocs == [LoadReloc(lc.got_offset, "symbol", "memmove", 0)]
    assert lc.e_flags == elf.EF_RISCV_FLOAT_ABI_DOUBLE
    soft = _unit("h", elf.EM_RISCV, "<", b"\x00" * 4, flags=0)
    with pytest.raises(LinkError, match="different RISC-V float ABIs"):
        link([u, soft], machine="riscv64")


@pytest.mark.parametrize("arch", ["aarch64", "s390x"])
def test_stubs_reach_their_got_slots(arch):
    spec = MACHINE_SPECS[arch]
    if arch == "aarch64":
        insn, rtype, r_off, A = struct.pack("<I", 0x94000000), elf.R_AARCH64_CALL26, 0, 0
    else:
        insn, rtype, r_off, A = b"\xc0\xe5\x00\x00\x00\x00", elf.R_390_PLT32DBL, 2, 2
    u = _unit("f", spec.em, spec.byteorder, insn, [(r_off, rtype, 2, A)], [_undef("memset", hidden=False)])
    lc = link([u], machine=arch)
    stub = lc.text_size - 16
    if arch == "aarch64":
        bl = struct.unpack_from("<I", lc.code, 0)[0]
        assert 4 * _sext(bl, 26) == stub
        adrp, ldr, br, _brk = struct.unpack_from("<IIII", lc.code, stub)
        page = (stub & ~0xFFF) + (_sext(((adrp >> 5) & 0x7FFFF) << 2 | (adrp >> 29) & 3, 21) << 12)
        assert page + ((ldr >> 10) & 0xFFF) * 8 == lc.got_offset
        assert br == 0xD61F0200
    else:
        assert 2 * struct.unpack_from(">i", lc.code, 2)[0] == stub
        assert lc.code[stub:stub + 2] == b"\xc0\x10"  # larl %r1
        assert stub + 2 * struct.unpack_from(">i", lc.code, stub + 2)[0] == lc.got_offset
        assert lc.code[stub + 6:stub + 14] == b"\xe3\x10\x10\x00\x00\x04\x07\xf1"
    assert lc.load_relocs == [LoadReloc(lc.got_offset, "symbol", "memset", 0)]


# --- running under qemu-user --------------------------------------------------------------------

def _emulator(arch):
    from wasmbuild.testing.qemu import find_emulator
    return need(f"qemu-{arch}", find_emulator(arch), f"run tools/setup-qemu.sh {arch} as root")


SAMPLES = ["arith", "two-counters", "reexport", "shared-lib", "nbody", "wordfreq", "atomics", "cpp-exceptions"]
# Samples a target cannot build yet (the build says so: "unsupported: ...").
SAMPLES_UNSUPPORTED = {"s390x": {"atomics"}}   # narrow atomic read-modify-write on big-endian


@pytest.mark.parametrize("arch", ["aarch64", "s390x"])
def test_samples_run_under_qemu(arch, tmp_path):
    """Every sample, built here for `arch`, loaded and checked by wasmbuild's loader running in
    an emulated `arch` Python (calls, imports between instances, WASI programs)."""
    emu = _emulator(arch)
    r = emu.run_python(["-c", "from wasmbuild.loader import codemem as c; "
                              "print(c.host_machine(), bool(c._clear_cache_fn()))"])
    # the emulated Python is an `arch` host; on aarch64 the loader flushes the icache with libgcc
    machine, has_clear_cache = r.stdout.split()
    assert machine == arch and (arch != "aarch64" or has_clear_cache == "True"), r.stdout + r.stderr
    cache = LocalStore(str(tmp_path / "cache"))
    failures = []
    for name in SAMPLES:
        if name in SAMPLES_UNSUPPORTED.get(arch, ()):
            continue
        d = os.path.join(ROOT, "samples", name)
        src = os.path.join(d, "graph.toml")
        if not os.path.exists(src):
            src = os.path.join(d, name + ".wat")
        expected = "expected.toml" if os.path.exists(os.path.join(d, "expected.toml")) else "expected.txt"
        out = str(tmp_path / f"{name}.img")
        args = [src, "-o", out, "-j", "1", "--cache-dir", cache.directory, "--target", TARGETS[arch][0]]
        assert cli_main(["build", *args]) == 0
        r = emu.run_python(["-m", "wasmbuild.samplecheck", out, expected], cwd=d)
        if r.returncode != 0 or "checks passed" not in r.stdout:
            failures.append(f"{name}: {r.stdout}{r.stderr[-2000:]}")
    assert not failures, "\n".join(failures)


QEMU_SCRIPTS = {
    # traps (unwinding through _longjmp), jump tables, indirect calls, stack exhaustion, memory
    # bounds, conversions, floats, globals, tables, bulk memory
    "aarch64": ["traps", "br_table", "call_indirect", "call", "fac", "memory_trap", "conversions",
                "int_exprs", "float_exprs", "f64", "global", "table_copy", "memory_copy",
                "memory_grow", "skip-stack-guard-page", "linking", "imports"],
    # big-endian: linear memory is little-endian, so every multi-byte access is byte-swapped
    "s390x": ["traps", "br_table", "call_indirect", "call", "fac", "conversions", "int_exprs",
              "i32", "i64", "f64", "global", "table_copy", "linking", "endianness", "memory",
              "address", "float_memory", "left-to-right", "memory_copy"],
}


@pytest.mark.parametrize("arch", ["aarch64", "s390x"])
def test_spec_scripts_run_under_qemu(arch, tmp_path):
    emu = _emulator(arch)
    spec = spec_core()
    from wasmbuild.testing.qemu import prebuild_wast
    from wasmbuild.wast import find_scripts
    scripts = find_scripts([str(spec / s) for s in QEMU_SCRIPTS[arch]])
    # 2.0 scripts, so 2.0 rules (some of these scripts changed in 3.0: global, imports, ...)
    prebuild_wast(scripts, CompileSettings(triple=TARGETS[arch][0], wasm_features="wasm2"), str(tmp_path))
    r = emu.run_python(["-m", "wasmbuild.testing.qemu", "wast", str(tmp_path), *scripts],
                       timeout=1200)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-3000:]
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    assert last.endswith(" 0 failed, 0 skipped") and int(last.split()[0]) > 1000, last
