"""Deterministic mutants of WebAssembly binaries, to fuzz wasmbuild's decoder and validator.

Takes module bytes (typically every `.wasm` under the spec suite's `core` directory) and a seed; gives:

- `load_corpus(directory)`: `(relative path, bytes)` of every `.wasm` file under it, sorted by path;
- `mutate(data, rng)`: a mutant of `data` and a description of its edits (1 to 3 of: bit flips, byte
  overwrites, truncation, inserted bytes, deleted ranges, duplicated section bytes, section-size
  changes);
- `mutants(corpus, seed, count)`: the run's `Mutant`s in order. Mutant `i` uses its own
  `random.Random(sub_seed)`, drawn from `random.Random(seed)`, so `mutant_at(corpus, seed, i)`
  rebuilds any one of them;
- `check(data)`: decode and validate, returning "valid", "malformed" or "invalid"; any other exception
  propagates (it is a bug);
- `run(corpus, seed, count, timeout)`: all of them on a worker thread watched by the caller's thread,
  so a mutant that hangs is reported (and abandoned) after `timeout` seconds instead of blocking the
  caller; returns a `FuzzReport`.
"""

from __future__ import annotations

import os
import random
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

from ..binary import decode_module
from ..errors import InvalidError, MalformedError
from ..valid import validate_module

HEADER_SIZE = 8
# Bytes that mean something in the binary format: LEB128 edges, value types, block/section markers.
_INTERESTING = (0x00, 0x01, 0x02, 0x05, 0x0B, 0x0C, 0x10, 0x11, 0x1C, 0x3F, 0x40, 0x41, 0x60, 0x6F,
                0x70, 0x7B, 0x7C, 0x7F, 0x80, 0x81, 0xC0, 0xD2, 0xFC, 0xFD, 0xFF)


class Mutant(NamedTuple):
    index: int
    sub_seed: int
    source: str  # corpus path of the module it was made from
    edits: str  # what was done, e.g. "flip bit 3 at 0x1c; truncate to 40"
    data: bytes

    def describe(self, seed: int) -> str:
        return (f"seed {seed} mutant {self.index} (sub-seed {self.sub_seed:#x}) from {self.source}: "
                f"{self.edits} [{len(self.data)} bytes]")


def load_corpus(directory: str) -> list[tuple[str, bytes]]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for fname in files:
            if fname.endswith(".wasm"):
                path = os.path.join(root, fname)
                with open(path, "rb") as f:
                    found.append((os.path.relpath(path, directory), f.read()))
    found.sort()
    return found


def _sections(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each section that parses as id + LEB128 size within the data; stops at the
    first that does not."""
    out = []
    pos = HEADER_SIZE
    n = len(data)
    while pos < n:
        start = pos
        pos += 1
        size = shift = 0
        while True:
            if pos >= n or shift > 28:
                return out
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if pos + size > n:
            return out
        pos += size
        out.append((start, pos))
    return out


def _position(data, rng: random.Random) -> int:
    # Mostly after the header: header edits only ever give "magic"/"version" errors.
    if len(data) > HEADER_SIZE and rng.random() < 0.95:
        return rng.randrange(HEADER_SIZE, len(data))
    return rng.randrange(len(data)) if data else 0


def _edit(data: bytearray, rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind <= 1 and data:  # bit flip
        pos = _position(data, rng)
        bit = rng.randrange(8)
        data[pos] ^= 1 << bit
        return f"flip bit {bit} at {pos:#x}"
    if kind == 2 and data:  # overwrite a byte
        pos = _position(data, rng)
        value = rng.choice(_INTERESTING) if rng.random() < 0.6 else rng.randrange(256)
        data[pos] = value
        return f"set {pos:#x} to {value:#04x}"
    if kind == 3:  # truncate
        cut = rng.randrange(len(data)) if data else 0
        del data[cut:]
        return f"truncate to {cut}"
    if kind == 4:  # insert bytes
        pos = rng.randrange(len(data) + 1)
        n = rng.randint(1, 8)
        new = bytes(rng.choice(_INTERESTING) if rng.random() < 0.5 else rng.randrange(256)
                    for _ in range(n))
        data[pos:pos] = new
        return f"insert {new.hex()} at {pos:#x}"
    if kind == 5 and data:  # delete a range
        pos = _position(data, rng)
        n = rng.randint(1, 16)
        del data[pos:pos + n]
        return f"delete {n} at {pos:#x}"
    sections = _sections(bytes(data))
    if kind == 6 and sections:  # duplicate a section's bytes somewhere at a section boundary
        start, end = rng.choice(sections)
        at = rng.choice([s for s, _ in sections] + [len(data)])
        data[at:at] = data[start:end]
        return f"duplicate section {start:#x}..{end:#x} at {at:#x}"
    if kind == 7 and sections:  # change a section's size byte
        start, _ = rng.choice(sections)
        pos = start + 1
        delta = rng.choice((-2, -1, 1, 2))
        data[pos] = (data[pos] & 0x80) | ((data[pos] + delta) & 0x7F)
        return f"size byte at {pos:#x} {delta:+d}"
    # No sections to work on (or empty data): duplicate a random range instead.
    if not data:
        data.extend(b"\0asm")
        return "restore magic"
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.randint(1, 32))
    at = rng.randrange(len(data) + 1)
    data[at:at] = data[start:end]
    return f"duplicate {start:#x}..{end:#x} at {at:#x}"


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    out = bytearray(data)
    n = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    edits = [_edit(out, rng) for _ in range(n)]
    return bytes(out), "; ".join(edits)


def _make(corpus, index: int, sub_seed: int) -> Mutant:
    rng = random.Random(sub_seed)
    source, original = corpus[rng.randrange(len(corpus))]
    data, edits = mutate(original, rng)
    return Mutant(index, sub_seed, source, edits, data)


def mutants(corpus: list[tuple[str, bytes]], seed: int, count: int) -> Iterator[Mutant]:
    if not corpus:
        raise ValueError("empty corpus")
    master = random.Random(seed)
    for index in range(count):
        yield _make(corpus, index, master.getrandbits(64))


def mutant_at(corpus: list[tuple[str, bytes]], seed: int, index: int) -> Mutant:
    master = random.Random(seed)
    for _ in range(index):
        master.getrandbits(64)
    return _make(corpus, index, master.getrandbits(64))


def check(data: bytes, filename: str = "mutant.wasm") -> str:
    try:
        validate_module(decode_module(data, filename))
    except MalformedError:
        return "malformed"
    except InvalidError:
        return "invalid"
    return "valid"


@dataclass
class FuzzReport:
    seed: int
    count: int
    tried: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {"valid": 0, "malformed": 0, "invalid": 0})
    failures: list[str] = field(default_factory=list)  # mutant descriptions with their tracebacks
    other: int = 0  # mutants that raised anything but MalformedError/InvalidError
    slow: list[str] = field(default_factory=list)  # finished, but took longer than the timeout
    hung: str | None = None  # still running when abandoned
    slowest_seconds: float = 0.0
    slowest: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.other and not self.slow and self.hung is None

    def summary(self) -> str:
        lines = [f"mutants tried      {self.tried} (seed {self.seed})",
                 f"accepted (valid)   {self.outcomes['valid']}",
                 f"malformed          {self.outcomes['malformed']}",
                 f"invalid            {self.outcomes['invalid']}",
                 f"other exceptions   {self.other}",
                 f"mutants/s          {self.tried / self.seconds if self.seconds else 0:.0f}",
                 f"slowest mutant ms  {self.slowest_seconds * 1000:.1f} ({self.slowest})"]
        if self.hung:
            lines.append(f"HUNG: {self.hung}")
        for text in self.slow[:5]:
            lines.append(f"SLOW: {text}")
        for text in self.failures[:5]:
            lines.append(f"FAILED: {text}")
        return "\n".join(lines)


def run(corpus: list[tuple[str, bytes]], seed: int, count: int, timeout: float = 5.0,
        keep_failures: int = 10) -> FuzzReport:
    """Check `count` mutants on a worker thread; the calling thread watches the clock. A mutant that
    runs past `timeout` is recorded as `hung` and the run stops there (the worker thread is a daemon
    and is left behind)."""
    report = FuzzReport(seed, count)
    current: list = [None]  # (Mutant, start time) of the mutant being checked
    finished = threading.Event()
    stop = threading.Event()

    def worker():
        try:
            for m in mutants(corpus, seed, count):
                if stop.is_set():
                    break
                start = time.perf_counter()
                current[0] = (m, start)
                try:
                    report.outcomes[check(m.data)] += 1
                except Exception:  # noqa: BLE001 - any other exception is the bug being hunted
                    report.other += 1
                    if len(report.failures) < keep_failures:
                        report.failures.append(m.describe(seed) + "\n" + traceback.format_exc())
                elapsed = time.perf_counter() - start
                current[0] = None
                report.tried += 1
                if elapsed > report.slowest_seconds:
                    report.slowest_seconds = elapsed
                    report.slowest = m.describe(seed)
                if elapsed > timeout:
                    report.slow.append(f"{elapsed:.1f} s: " + m.describe(seed))
        finally:
            finished.set()

    began = time.perf_counter()
    thread = threading.Thread(target=worker, name="wasmbuild-fuzz", daemon=True)
    thread.start()
    while not finished.wait(0.05):
        running = current[0]
        if running is not None and time.perf_counter() - running[1] > timeout:
            m, start = running
            report.hung = f"over {timeout:.0f} s and still running: " + m.describe(seed)
            stop.set()
            break
    report.seconds = time.perf_counter() - began
    return report
