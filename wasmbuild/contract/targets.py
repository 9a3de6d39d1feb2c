"""One record per target architecture: every fact about a machine that the compiler, linker and
loader use, in one place.

`TARGETS[name]` is the `Target` of wasmbuild's name of an architecture ('x86_64', 'aarch64',
'riscv64', 's390x'); `target_of_triple(triple)` and `host_target_name()` find it from an LLVM
triple or the running machine (other spellings such as 'arm64' or 'amd64' are aliases). The
linker's relocation table of each machine is code (`link/linker.py: MACHINE_SPECS`, keyed by these
names) and takes its page size, byte order and ELF machine from here.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    aliases: tuple[str, ...]  # other spellings of the architecture in triples and `uname -m`
    elf_machine: int  # ELF e_machine
    byteorder: str  # "<" little-endian, ">" big-endian
    # The largest page size the machine's Linux kernels may use: code, data and GOT are laid out
    # on pages of this size so that each can get its own protection.
    page_size: int
    default_cpu: str  # a portable baseline, unless the user names a CPU
    # Features every target of the architecture has, put before the user's (which can still turn
    # one off).
    base_features: str = ""
    abi_name: str = ""  # LLVM's TargetOptions::MCOptions::ABIName
    # Whether the back end fails to fold `!absolute_symbol` globals into immediates: a hidden symbol
    # would be addressed PC-relatively (ADRP+ADD, AUIPC+ADDI), wrong once the code moves. Declared
    # with default visibility they are loaded from a GOT entry instead.
    absolute_via_got: bool = False
    # Whether absolute symbols reached through GOT relocations get read-only constant slots from
    # the linker (true wherever the code loads them through the GOT: the above, and s390x, whose
    # back end always does).
    constant_slots: bool = False
    # Whether the instruction cache must be flushed after code is written (not kept coherent with
    # data writes by the hardware).
    incoherent_icache: bool = False
    # Where Linux's ucontext_t keeps the interrupted program counter (glibc's layout), which the
    # fault handler of guard-page memories reads; 0 if not known, and then such a target keeps
    # explicit bounds checks (contract/abi.py: BOUNDS_GUARD).
    ucontext_pc_offset: int = 0
    # Whether LLVM guarantees tail calls here: wasm functions then use the `tailcc` convention, under
    # which a `tail call` in tail position is a jump whatever the callee's prototype (return_call and
    # friends). Where it does not (riscv64 has no tailcc; s390x makes even a musttail call an
    # ordinary call), functions keep the C convention and a function with tail calls is refused.
    tail_calls: bool = False
    # Which results a wasm function may return in registers, in both of its conventions (C and
    # tailcc): (integer registers, for integers and references; the first float registers, which
    # an f32 or f64 may take; float registers, which floats and vectors take in order). A result
    # list beyond them goes through a results area the caller passes (irtypes.results_in_memory),
    # which a tail call passes on; None: leave it to LLVM (targets without tail calls).
    return_registers: tuple[int, int, int] | None = None

    @property
    def big_endian(self) -> bool:
        return self.byteorder == ">"


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("x86_64", ("amd64", "x64"), elf_machine=62, byteorder="<", page_size=0x1000,
           default_cpu="x86-64-v2", ucontext_pc_offset=168,  # uc_mcontext.gregs[REG_RIP]
           # RAX RDX RCX; XMM0-3 for floats and vectors in order, but an f32/f64 only in XMM0-1 (C;
           # tailcc also XMM2): beyond, LLVM would use x87's ST0-1, whose loads quiet signalling
           # NaNs (measured, LLVM 22)
           tail_calls=True, return_registers=(3, 2, 4)),
    # 64 KiB: the largest page size an aarch64 Linux kernel may use (4, 16 or 64 KiB).
    Target("aarch64", ("arm64",), elf_machine=183, byteorder="<", page_size=0x10000,
           default_cpu="generic", absolute_via_got=True, constant_slots=True, incoherent_icache=True,
           ucontext_pc_offset=440,  # uc_mcontext (at 176) .pc
           tail_calls=True, return_registers=(8, 8, 8)),  # X0-X7; V0-V7 (measured, LLVM 22)
    # riscv64 Linux is RV64GC with the lp64d ABI, whose calls into libm pass doubles in FP registers;
    # without these features LLVM would make soft-float code calling __adddf3 and friends.
    Target("riscv64", (), elf_machine=243, byteorder="<", page_size=0x1000, default_cpu="generic-rv64",
           base_features="+m,+a,+f,+d,+c", abi_name="lp64d", absolute_via_got=True, constant_slots=True,
           incoherent_icache=True),
    Target("s390x", (), elf_machine=22, byteorder=">", page_size=0x1000, default_cpu="z13",
           constant_slots=True),
)}

_BY_SPELLING = {alias: t.name for t in TARGETS.values() for alias in (t.name, *t.aliases)}


def arch_name(spelling: str) -> str:
    """wasmbuild's name of an architecture spelled `spelling` ('arm64' is 'aarch64'); an unknown
    spelling is given back as it is (lower-case)."""
    spelling = spelling.lower()
    return _BY_SPELLING.get(spelling, spelling)


def triple_arch(triple: str) -> str:
    """wasmbuild's name of a triple's architecture."""
    return arch_name(triple.split("-")[0])


def host_target_name() -> str:
    """The running machine's architecture in wasmbuild's spelling."""
    return arch_name(platform.machine())


def target_of_triple(triple: str) -> Target | None:
    """The record of a triple's architecture, or None for one wasmbuild has no record of."""
    return TARGETS.get(triple_arch(triple))
