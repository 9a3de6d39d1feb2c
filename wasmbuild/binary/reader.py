"""Bounded reading of WebAssembly binary primitives: LEB128 integers, bytes, names, value types.

`Reader` walks `data[pos:end]`. Every read past `end` raises `MalformedError`, with the reason the
spec tests use: "unexpected end" when the file itself ends, "unexpected end of section or function"
when a section or function body ends first. LEB128 reads enforce the spec's size and unused-bit rules
("integer representation too long", "integer too large").
"""

from __future__ import annotations

import struct

from ..errors import MalformedError
from ..contract import features as _features
from ..contract.types import EXNREF, REF_TYPES, VAL_TYPES

_F32 = struct.Struct("<I")
_F64 = struct.Struct("<Q")


class Reader:
    __slots__ = ("data", "pos", "end", "filename", "eof_reason", "features")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None, filename: str | None = None,
                 eof_reason: str = "unexpected end", features: frozenset[str] = _features.DEFAULT):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.filename = filename
        # What running out of bytes means here: the file ending ("unexpected end") or the
        # section or function body ending ("unexpected end of section or function").
        self.eof_reason = eof_reason
        self.features = features  # the proposals whose encodings are accepted

    # --- errors ---
    def error(self, reason: str, offset: int | None = None) -> MalformedError:
        return MalformedError(reason, file=self.filename, offset=self.pos if offset is None else offset)

    def eof_error(self) -> MalformedError:
        return self.error(self.eof_reason, self.end)

    # --- primitives ---
    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise self.eof_error()
        self.pos = pos + 1
        return self.data[pos]

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < self.end else None

    def bytes(self, n: int) -> bytes:
        pos = self.pos
        if n > self.end - pos:
            self.pos = self.end
            raise self.eof_error()
        self.pos = pos + n
        return self.data[pos:pos + n]

    def u32(self) -> int:
        # Fast path: one byte.
        pos = self.pos
        if pos < self.end:
            b = self.data[pos]
            if b < 0x80:
                self.pos = pos + 1
                return b
        return self._uleb(32)

    def _uleb(self, bits: int) -> int:
        data, end = self.data, self.end
        pos = self.pos
        result = shift = 0
        maxbytes = (bits + 6) // 7
        for i in range(maxbytes):
            if pos >= end:
                self.pos = pos
                raise self.eof_error()
            b = data[pos]
            pos += 1
            if i == maxbytes - 1:
                # The reference interpreter checks the unused bits before the continuation bit.
                if (b & 0x7F) >> (bits - shift):
                    self.pos = pos
                    raise self.error("integer too large", pos - 1)
                if b & 0x80:
                    self.pos = pos
                    raise self.error("integer representation too long", pos - 1)
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        self.pos = pos
        return result

    def u64(self) -> int:
        return self._uleb(64)

    def sleb(self, bits: int) -> int:
        data, end = self.data, self.end
        pos = self.pos
        result = shift = 0
        maxbytes = (bits + 6) // 7
        for i in range(maxbytes):
            if pos >= end:
                self.pos = pos
                raise self.eof_error()
            b = data[pos]
            pos += 1
            if i == maxbytes - 1:
                # The bits above the value's width must all equal its sign bit (checked before the
                # continuation bit, as the reference interpreter does).
                used = bits - shift  # bits of the value held by this byte
                if used < 7:
                    rest = (b & 0x7F) >> (used - 1)  # the sign bit and everything above it
                    if rest != 0 and rest != (0x7F >> (used - 1)):
                        self.pos = pos
                        raise self.error("integer too large", pos - 1)
                if b & 0x80:
                    self.pos = pos
                    raise self.error("integer representation too long", pos - 1)
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                break
        self.pos = pos
        return result

    def s32(self) -> int:
        pos = self.pos
        if pos < self.end:
            b = self.data[pos]
            if b < 0x40:
                self.pos = pos + 1
                return b
        return self.sleb(32)

    def s64(self) -> int:
        return self.sleb(64)

    def f32_bits(self) -> int:
        return _F32.unpack(self.bytes(4))[0]

    def f64_bits(self) -> int:
        return _F64.unpack(self.bytes(8))[0]

    # --- composite ---
    def length(self) -> int:
        """A u32 that counts bytes or items still to come. Like the reference interpreter, it must
        not exceed the bytes left counted from the start of its own encoding."""
        start = self.pos
        n = self.u32()
        if n > self.end - start:
            raise self.error("length out of bounds", start)
        return n

    def name(self) -> str:
        start = self.pos
        n = self.length()
        raw = self.bytes(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("malformed UTF-8 encoding", start) from None

    def valtype(self) -> int:
        pos = self.pos
        t = self.byte()
        if t not in VAL_TYPES:
            raise self.error("malformed value type", pos)
        if t == EXNREF:
            self.require(_features.EXCEPTIONS, "the exnref type", "malformed value type", pos)
        return t

    def reftype(self) -> int:
        pos = self.pos
        t = self.byte()
        if t not in REF_TYPES:
            raise self.error("malformed reference type", pos)
        if t == EXNREF:
            self.require(_features.EXCEPTIONS, "the exnref type", "malformed reference type", pos)
        return t

    def require(self, feature: str, what: str, reason: str, offset: int) -> None:
        """MalformedError at `offset` unless `feature` is on (see `features.require`)."""
        _features.require(self.features, feature, what, reason=reason, file=self.filename, offset=offset)
