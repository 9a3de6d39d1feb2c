"""Unit tests of `wasmbuild.binary.reader.Reader`: LEB128 integers, EOF reasons and UTF-8 names.

Expected values come from the small reference encoders below (written from the LEB128 definition,
not from the reader), from the binary-format rules of the spec, and from the reference interpreter's
error wording ("integer representation too long", "integer too large", "unexpected end",
"malformed UTF-8 encoding", "length out of bounds").
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmbuild.binary.reader import Reader
from wasmbuild.errors import MalformedError

IN_SECTION = "unexpected end of section or function"


# --- reference encoders ------------------------------------------------------------------------

def ref_uleb(value: int, length: int | None = None) -> bytes:
    """Unsigned LEB128 of `value`, padded with redundant 0x80 groups to `length` bytes if given."""
    assert value >= 0
    groups = []
    while True:
        groups.append(value & 0x7F)
        value >>= 7
        if not value:
            break
    if length is not None:
        assert length >= len(groups)
        groups += [0] * (length - len(groups))
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def ref_sleb(value: int, length: int | None = None) -> bytes:
    """Signed LEB128 of `value` (two's complement), padded with sign groups to `length` bytes."""
    groups = []
    while True:
        groups.append(value & 0x7F)
        value >>= 7  # floor division: -1 stays -1
        last = groups[-1]
        if (value == 0 and not last & 0x40) or (value == -1 and last & 0x40):
            break
    if length is not None:
        assert length >= len(groups)
        pad = 0x7F if value == -1 else 0x00
        groups += [pad] * (length - len(groups))
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def test_reference_encoders_match_the_spec_examples():
    # Worked examples: 624485 is the classic unsigned example, -123456 the signed one.
    assert ref_uleb(624485) == bytes([0xE5, 0x8E, 0x26])
    assert ref_sleb(-123456) == bytes([0xC0, 0xBB, 0x78])
    assert ref_uleb(0, 5) == bytes([0x80, 0x80, 0x80, 0x80, 0x00])
    assert ref_sleb(-1, 5) == bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
    assert ref_sleb(64) == bytes([0xC0, 0x00])
    assert ref_sleb(-65) == bytes([0xBF, 0x7F])


def read(method: str, data: bytes, *args):
    """Read one value; return it with the number of bytes consumed."""
    r = Reader(data)
    value = getattr(r, method)(*args)
    return value, r.pos


def malformed(method: str, data: bytes, *args, **kw) -> MalformedError:
    r = Reader(data, **kw)
    with pytest.raises(MalformedError) as info:
        getattr(r, method)(*args)
    return info.value


# --- values and lengths ------------------------------------------------------------------------

U32_VALUES = [0, 1, 63, 64, 127, 128, 255, 256, 16383, 16384, 2**21 - 1, 2**21, 2**28 - 1, 2**28,
              2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]


@pytest.mark.parametrize("value", U32_VALUES)
def test_u32_reads_every_length_up_to_five_bytes(value):
    shortest = len(ref_uleb(value))
    for length in range(shortest, 6):
        data = ref_uleb(value, length)
        assert read("u32", data + b"\xAA") == (value, length), data.hex()


S32_VALUES = [0, 1, -1, 63, 64, -64, -65, 127, 128, -128, -129, 8191, 8192, -8192, -8193,
              2**31 - 1, -(2**31), 2**30, -(2**30) - 1]


@pytest.mark.parametrize("value", S32_VALUES)
def test_s32_reads_every_length_up_to_five_bytes(value):
    shortest = len(ref_sleb(value))
    for length in range(shortest, 6):
        data = ref_sleb(value, length)
        assert read("s32", data + b"\xAA") == (value, length), data.hex()


S64_VALUES = [0, 1, -1, 63, 64, -64, -65, 2**31, -(2**31) - 1, 2**32, 2**56 - 1, -(2**56),
              2**62, 2**63 - 1, -(2**63), -(2**63) + 1]


@pytest.mark.parametrize("value", S64_VALUES)
def test_s64_reads_every_length_up_to_ten_bytes(value):
    shortest = len(ref_sleb(value))
    for length in range(shortest, 11):
        data = ref_sleb(value, length)
        assert read("s64", data) == (value, length), data.hex()


@pytest.mark.parametrize("value", [0, 1, 127, 128, 2**32, 2**63, 2**64 - 1])
def test_u64_reads_every_length_up_to_ten_bytes(value):
    shortest = len(ref_uleb(value))
    for length in range(shortest, 11):
        data = ref_uleb(value, length)
        assert read("u64", data) == (value, length), data.hex()


@pytest.mark.parametrize("value", [0, -1, 2**31, 2**32 - 1, -(2**32), -(2**31) - 1, -(2**32) + 1])
def test_s33_reads_the_block_type_range(value):
    shortest = len(ref_sleb(value))
    for length in range(shortest, 6):
        data = ref_sleb(value, length)
        assert read("sleb", data, 33) == (value, length), data.hex()


def test_extreme_encodings_by_hand():
    assert read("u32", bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])) == (0xFFFF_FFFF, 5)
    assert read("s32", bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x07])) == (0x7FFF_FFFF, 5)
    assert read("s32", bytes([0x80, 0x80, 0x80, 0x80, 0x78])) == (-(2**31), 5)
    assert read("s64", bytes([0xFF] * 9 + [0x00])) == (2**63 - 1, 10)
    assert read("s64", bytes([0x80] * 9 + [0x7F])) == (-(2**63), 10)
    assert read("u64", bytes([0xFF] * 9 + [0x01])) == (2**64 - 1, 10)


def _round_trip(method: str, encoder, lo: int, hi: int, max_len: int, value: int, pad: int) -> None:
    data = encoder(value)
    data = encoder(value, min(max_len, len(data) + pad))
    assert read(method, data) == (value, len(data)), data.hex()


ROUND_TRIPS = [("u32", ref_uleb, 0, 2**32 - 1, 5), ("s32", ref_sleb, -(2**31), 2**31 - 1, 5),
               ("u64", ref_uleb, 0, 2**64 - 1, 10), ("s64", ref_sleb, -(2**63), 2**63 - 1, 10)]


@pytest.mark.parametrize("method,encoder,lo,hi,max_len", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_seeded_round_trips(method, encoder, lo, hi, max_len):
    rng = random.Random(f"leb {method}")
    for _ in range(3000):
        # Values of every bit length, not just large ones.
        bits = rng.randrange(1, (hi - lo).bit_length() + 1)
        value = max(lo, min(hi, rng.choice((1, -1)) * rng.getrandbits(bits)))
        _round_trip(method, encoder, lo, hi, max_len, value, rng.randrange(max_len))


@pytest.mark.parametrize("method,encoder,lo,hi,max_len", ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
@given(data=st.data())
def test_hypothesis_round_trips(method, encoder, lo, hi, max_len, data):
    value = data.draw(st.integers(lo, hi))
    pad = data.draw(st.integers(0, max_len - 1))
    _round_trip(method, encoder, lo, hi, max_len, value, pad)


def test_reads_start_at_pos_and_stop_at_the_value_end():
    data = b"\x01" + ref_uleb(300) + ref_sleb(-300) + b"\x7f"
    r = Reader(data, pos=1)
    assert r.u32() == 300
    assert r.pos == 3
    assert r.s32() == -300
    assert r.pos == 5
    assert r.s32() == -1  # 0x7f is -1 as a signed LEB128, 127 unsigned
    assert Reader(b"\x7f").u32() == 127


# --- too long ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method,args,max_bytes,pad", [
    ("u32", (), 5, 0x00), ("s32", (), 5, 0x00), ("s32", (), 5, 0x7F), ("u64", (), 10, 0x00),
    ("s64", (), 10, 0x00), ("s64", (), 10, 0x7F), ("sleb", (33,), 5, 0x00)])
def test_one_byte_past_the_maximum_length_is_too_long(method, args, max_bytes, pad):
    # max_bytes continuation bytes then a terminator: the value is fine, the encoding is too long.
    data = bytes([0x80 | pad] * max_bytes + [pad])
    err = malformed(method, data, *args)
    assert err.reason == "integer representation too long"
    assert err.offset == max_bytes - 1  # the last permitted byte, whose continuation bit is set


def test_too_long_is_reported_even_if_more_bytes_follow():
    err = malformed("u32", bytes([0x82, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00]))
    assert err.reason == "integer representation too long"


# --- unused bits in the last byte ---------------------------------------------------------------

def _last_byte_cases(max_bytes: int, prefix_byte: int):
    prefix = bytes([prefix_byte] * (max_bytes - 1))
    for last in range(0x80):
        yield prefix, last


def test_u32_fifth_byte_may_only_use_its_low_four_bits():
    for prefix, last in _last_byte_cases(5, 0x80):
        data = prefix + bytes([last])
        if last < 0x10:
            assert read("u32", data) == (last << 28, 5)
        else:
            err = malformed("u32", data)
            assert err.reason == "integer too large", data.hex()
            assert err.offset == 4


def test_u64_tenth_byte_may_only_use_its_low_bit():
    for prefix, last in _last_byte_cases(10, 0xFF):
        data = prefix + bytes([last])
        if last < 0x02:
            assert read("u64", data) == ((2**63 - 1) | (last << 63), 10)
        else:
            err = malformed("u64", data)
            assert err.reason == "integer too large", data.hex()


def _signed_last_byte_ok(last: int, value_bits_in_last: int) -> bool:
    # The bits above the value's width (sign bit included) must all be equal.
    mask = (0x7F << (value_bits_in_last - 1)) & 0x7F
    return last & mask in (0, mask)


@pytest.mark.parametrize("method,args,max_bytes,bits_in_last", [
    ("s32", (), 5, 4), ("s64", (), 10, 1), ("sleb", (33,), 5, 5)])
def test_signed_last_byte_unused_bits_must_copy_the_sign(method, args, max_bytes, bits_in_last):
    accepted = 0
    for prefix_byte in (0x80, 0xFF):
        for prefix, last in _last_byte_cases(max_bytes, prefix_byte):
            data = prefix + bytes([last])
            if _signed_last_byte_ok(last, bits_in_last):
                accepted += 1
                value = 0
                for i, b in enumerate(data):
                    value |= (b & 0x7F) << (7 * i)
                width = 7 * max_bytes
                if value >> (width - 1):
                    value -= 1 << width
                assert read(method, data, *args) == (value, max_bytes), data.hex()
            else:
                err = malformed(method, data, *args)
                assert err.reason == "integer too large", data.hex()
                assert err.offset == max_bytes - 1
    # s32: 0x00-0x07 and 0x78-0x7f; s64: 0x00 and 0x7f; s33: 0x00-0x0f and 0x70-0x7f (per prefix).
    assert accepted == 2 * 2 * (1 << (bits_in_last - 1))


def test_spec_examples_of_too_large():
    # From binary-leb128.wast: i32.const with unused bits set, i64.const likewise.
    for data in ("ffffffff0f", "808080801f", "ffffffff4f", "8080808070"):
        assert malformed("s32", bytes.fromhex(data)).reason == "integer too large"
    for data in ("8080808080808080807e", "ffffffffffffffffff01",
                 "80808080808080808002", "ffffffffffffffffff41"):
        assert malformed("s64", bytes.fromhex(data)).reason == "integer too large"


@pytest.mark.parametrize("method,data", [("u32", "80808080f000"), ("s32", "8080808090"),
                                         ("u64", "80808080808080808082")])
def test_last_byte_with_unused_bits_and_continuation_is_too_large(method, data):
    assert malformed(method, bytes.fromhex(data)).reason == "integer too large"


# --- end of data -------------------------------------------------------------------------------

@pytest.mark.parametrize("method,args", [("u32", ()), ("s32", ()), ("u64", ()), ("s64", ()),
                                         ("sleb", (33,)), ("byte", ()), ("name", ())])
def test_empty_input_is_unexpected_end(method, args):
    err = malformed(method, b"", *args)
    assert err.reason == "unexpected end"
    assert err.offset == 0


@pytest.mark.parametrize("data", ["80", "ff", "8080", "ffffffff"])
@pytest.mark.parametrize("method", ["u32", "s32", "s64"])
def test_unterminated_leb_is_unexpected_end_at_the_end(data, method):
    raw = bytes.fromhex(data)
    err = malformed(method, raw)
    assert err.reason == "unexpected end"
    assert err.offset == len(raw)


@pytest.mark.parametrize("method", ["u32", "s32", "s64", "u64"])
def test_eof_reason_is_the_readers(method):
    err = malformed(method, b"\x80\x80", eof_reason=IN_SECTION)
    assert err.reason == IN_SECTION


def test_end_bounds_the_reader_even_if_the_data_goes_on():
    data = b"\x80\x01\x05"
    assert Reader(data).u32() == 128
    err = malformed("u32", data, end=1, eof_reason=IN_SECTION)
    assert err.reason == IN_SECTION
    assert err.offset == 1
    r = Reader(data, pos=2, end=3)
    assert r.u32() == 5 and r.at_end()
    with pytest.raises(MalformedError):
        r.byte()


def test_bytes_past_the_end_raise_and_leave_the_reader_at_the_end():
    r = Reader(b"abcdef", end=4, eof_reason=IN_SECTION)
    assert r.bytes(2) == b"ab"
    with pytest.raises(MalformedError) as info:
        r.bytes(3)
    assert info.value.reason == IN_SECTION


def test_fixed_width_floats_are_little_endian():
    r = Reader(bytes.fromhex("0000803f" "000000000000f0bf"))
    assert r.f32_bits() == 0x3F800000
    assert r.f64_bits() == 0xBFF0000000000000
    assert malformed("f32_bits", b"\x00\x00\x80").reason == "unexpected end"
    assert malformed("f64_bits", b"\x00" * 7, eof_reason=IN_SECTION).reason == IN_SECTION


def test_errors_name_the_file():
    err = malformed("u32", b"\x80", filename="m.wasm")
    assert err.file == "m.wasm"
    assert "m.wasm" in str(err) and "0x1" in str(err) and "unexpected end" in str(err)


# --- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "a", "memory", "é", "中文", "😀", "\u0000", "\uffff", "\U0010ffff",
                                  "a\u0080b\u07ffc\u0800d\ud7ff\ue000"])
def test_valid_names_decode(text):
    raw = text.encode("utf-8")
    value, consumed = read("name", ref_uleb(len(raw)) + raw + b"tail")
    assert value == text
    assert consumed == len(ref_uleb(len(raw))) + len(raw)


def test_name_with_padded_length():
    assert read("name", ref_uleb(3, 5) + b"abc") == ("abc", 8)


BAD_UTF8 = {
    "lone continuation byte": "80",
    "continuation byte 0xbf": "bf",
    "truncated two-byte sequence": "c3",
    "truncated three-byte sequence": "e4b8",
    "truncated four-byte sequence": "f09f98",
    "overlong NUL (2 bytes)": "c080",
    "overlong 0x7f (2 bytes)": "c1bf",
    "overlong (3 bytes)": "e08080",
    "overlong 0x7ff (3 bytes)": "e09fbf",
    "overlong (4 bytes)": "f0808080",
    "overlong 0xffff (4 bytes)": "f08fbfbf",
    "high surrogate": "eda080",
    "low surrogate": "edbfbf",
    "surrogate pair as CESU-8": "eda0bdedb880",
    "above U+10FFFF": "f4908080",
    "five-byte form": "f888808080",
    "byte 0xfe": "fe",
    "byte 0xff": "ff",
    "bad continuation": "c341",
    "valid then invalid": "61e282",
}


@pytest.mark.parametrize("raw", list(BAD_UTF8.values()), ids=list(BAD_UTF8))
def test_malformed_utf8_names_are_rejected(raw):
    payload = bytes.fromhex(raw)
    data = b"\x00" + ref_uleb(len(payload)) + payload
    r = Reader(data, pos=1, filename="n.wasm")
    with pytest.raises(MalformedError) as info:
        r.name()
    assert info.value.reason == "malformed UTF-8 encoding"
    assert info.value.offset == 1  # where the name starts
    assert info.value.file == "n.wasm"


def test_name_longer_than_all_remaining_bytes_is_length_out_of_bounds():
    # The length (5) exceeds every byte left counting from the length itself: the reference
    # interpreter's len32 says "length out of bounds".
    err = malformed("name", b"\x05abc")
    assert err.reason == "length out of bounds"
    assert err.offset == 0


def test_name_overshooting_by_its_length_byte_is_unexpected_end():
    # 3 bytes counted from the length byte: 3 <= 3, so the string read itself runs off the end.
    err = malformed("name", b"\x03ab", eof_reason=IN_SECTION)
    assert err.reason == IN_SECTION
