"""Component values as text (for expected-results files): read guided by a type, written back.

`parse_values(text, types)` reads the values of `types` (component/types.py value types), one after
another, separated by blanks, and gives their Python values (component/values.py);
`format_value(value, type)` writes one value so that `parse_values` reads it back. Malformed text
raises `ValueTextError` saying where. The syntax (WAVE-like, the way WIT spells things):

    bool            true  false
    s8 ... u64      -12  42  0x2a                   (range-checked)
    f32, f64        1.5  -2  1e-3  nan  inf  -inf
    char            'x'  '\\n'  '\\u{1f600}'
    string          "text"  with \\" \\\\ \\n \\t \\r \\' \\u{HEX} escapes
    list<T>         [1, 2, 3]  []                   (list<u8> too: bytes in Python)
    tuple<...>      (1, "a")
    record          {x: 1, y: 2}                    (WIT field names, all fields, in any order)
    variant         circle(2.5)  dot                (the case name, its payload in parentheses)
    enum            red
    option<T>       none  some(3)
    result<T, E>    ok  ok(1)  err  err("why")
    flags           {read, exec}  {}
Resource handles have no text.
"""

from __future__ import annotations

import math
import struct

from . import types as ct
from .values import Err, Ok, Record, Some, Variant, field_attr


class ValueTextError(ValueError):
    """Text that is not a value of the type asked for."""


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, message: str) -> ValueTextError:
        return ValueTextError(f"at column {self.pos + 1}: {message}")

    def blanks(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.blanks()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def take(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def word(self) -> str:
        """A WIT name (kebab-case, `%` for a keyword) or a number's characters."""
        self.blanks()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "-_.+%"):
            self.pos += 1
        if start == self.pos:
            raise self.error("expected a value")
        return self.text[start:self.pos]

    def name(self) -> str:
        word = self.word()
        return word[1:] if word.startswith("%") else word

    def quoted(self, quote: str) -> str:
        self.expect(quote)
        out = []
        while True:
            if self.pos >= len(self.text):
                raise self.error(f"unterminated {quote}")
            c = self.text[self.pos]
            self.pos += 1
            if c == quote:
                return "".join(out)
            if c != "\\":
                out.append(c)
                continue
            e = self.text[self.pos:self.pos + 1]
            self.pos += 1
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
            elif e == "u" and self.text[self.pos:self.pos + 1] == "{":
                end = self.text.find("}", self.pos)
                try:
                    code = int(self.text[self.pos + 1:end], 16) if end > 0 else -1
                    out.append(chr(code))
                except ValueError:
                    raise self.error("bad \\u{...} escape") from None
                if 0xD800 <= code <= 0xDFFF:
                    raise self.error("a surrogate is not a Unicode scalar value")
                self.pos = end + 1
            else:
                raise self.error(f"unknown escape \\{e}")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def parse_values(text: str, types) -> list:
    """The Python values of `types` read one after another from `text` (nothing may follow)."""
    reader = _Reader(text)
    values = [_parse(reader, t) for t in types]
    if reader.peek():
        raise reader.error("more text than values")
    return values


def _parse(r: _Reader, t):
    if isinstance(t, ct.Prim):
        return _parse_prim(r, t.name)
    if isinstance(t, ct.List):
        r.expect("[")
        items = []
        while not r.take("]"):
            if items:
                r.expect(",")
                if r.take("]"):  # a trailing comma
                    break
            items.append(_parse(r, t.elem))
        return bytes(items) if t.elem == ct.Prim("u8") else items
    if isinstance(t, ct.Tuple):
        r.expect("(")
        items = []
        for i, elem in enumerate(t.types):
            if i:
                r.expect(",")
            items.append(_parse(r, elem))
        r.take(",")
        r.expect(")")
        return tuple(items)
    if isinstance(t, ct.Record):
        fields = dict(t.fields)
        got = {}
        r.expect("{")
        while not r.take("}"):
            if got:
                r.expect(",")
                if r.take("}"):
                    break
            label = r.name()
            if label not in fields:
                raise r.error(f"no field {label!r} (fields: {', '.join(fields)})")
            if label in got:
                raise r.error(f"field {label!r} given twice")
            r.expect(":")
            got[label] = _parse(r, fields[label])
        missing = [label for label in fields if label not in got]
        if missing:
            raise r.error(f"missing field {missing[0]!r}")
        return Record(**{field_attr(label): got[label] for label, _ in t.fields})
    if isinstance(t, ct.Flags):
        r.expect("{")
        names = set()
        while not r.take("}"):
            if names:
                r.expect(",")
            name = r.name()
            if name not in t.names:
                raise r.error(f"no flag {name!r} (flags: {', '.join(t.names)})")
            names.add(name)
        return names
    if isinstance(t, ct.Enum):
        name = r.name()
        if name not in t.names:
            raise r.error(f"no case {name!r} (cases: {', '.join(t.names)})")
        return name
    if isinstance(t, ct.Variant):
        name = r.name()
        cases = dict(t.cases)
        if name not in cases:
            raise r.error(f"no case {name!r} (cases: {', '.join(cases)})")
        return Variant(name, _payload(r, cases[name], name))
    if isinstance(t, ct.Option):
        name = r.name()
        if name == "none":
            return None
        if name != "some":
            raise r.error(f"expected none or some(...), got {name!r}")
        value = _payload(r, t.type, name)
        return Some(value) if isinstance(t.type, ct.Option) else value
    if isinstance(t, ct.Result):
        name = r.name()
        if name not in ("ok", "err"):
            raise r.error(f"expected ok or err, got {name!r}")
        value = _payload(r, t.ok if name == "ok" else t.err, name)
        return Ok(value) if name == "ok" else Err(value)
    raise r.error(f"values of type {t} have no text")


def _payload(r: _Reader, t, case: str):
    """The parenthesised payload of a case that has one; nothing for one that has none."""
    if t is None:
        if r.peek() == "(":
            raise r.error(f"{case} has no payload")
        return None
    r.expect("(")
    value = _parse(r, t)
    r.expect(")")
    return value


def _parse_prim(r: _Reader, name: str):
    if name == "string":
        return r.quoted('"')
    if name == "char":
        s = r.quoted("'")
        if len(s) != 1:
            raise r.error("a char is one character")
        return s
    word = r.word()
    if name == "bool":
        if word not in ("true", "false"):
            raise r.error(f"expected true or false, got {word!r}")
        return word == "true"
    if name in ("f32", "f64"):
        try:
            return float(word)
        except ValueError:
            raise r.error(f"expected a float, got {word!r}") from None
    try:
        value = int(word, 0)
    except ValueError:
        raise r.error(f"expected an integer, got {word!r}") from None
    low, high = ct.INT_RANGES[name]
    if not low <= value <= high:
        raise r.error(f"{value} is out of range for {name}")
    return value


def format_value(value, t) -> str:
    """The text of `value` (a Python value of type `t`) in the syntax above."""
    if isinstance(t, ct.Prim):
        return _format_prim(value, t.name)
    if isinstance(t, ct.List):
        return "[" + ", ".join(format_value(v, t.elem) for v in value) + "]"
    if isinstance(t, ct.Tuple):
        return "(" + ", ".join(format_value(v, e) for v, e in zip(value, t.types)) + ")"
    if isinstance(t, ct.Record):
        return "{" + ", ".join(f"{label}: {format_value(getattr(value, field_attr(label)), ft)}"
                               for label, ft in t.fields) + "}"
    if isinstance(t, ct.Flags):
        return "{" + ", ".join(name for name in t.names if name in value) + "}"
    if isinstance(t, ct.Enum):
        return value
    if isinstance(t, ct.Variant):
        payload = dict(t.cases)[value.case]
        return value.case + ("" if payload is None else f"({format_value(value.payload, payload)})")
    if isinstance(t, ct.Option):
        if value is None:
            return "none"
        inner = value.value if isinstance(value, Some) else value
        return f"some({format_value(inner, t.type)})"
    if isinstance(t, ct.Result):
        name, side = ("ok", t.ok) if isinstance(value, Ok) else ("err", t.err)
        return name if side is None else f"{name}({format_value(value.value, side)})"
    return repr(value)


def _format_prim(value, name: str) -> str:
    if name == "bool":
        return "true" if value else "false"
    if name == "string":
        return '"' + "".join(_escape(c, '"') for c in value) + '"'
    if name == "char":
        return "'" + _escape(value, "'") + "'"
    if name in ("f32", "f64"):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return _shortest_f32(value) if name == "f32" else repr(value)
    return str(value)


def _escape(c: str, quote: str) -> str:
    if c in (quote, "\\"):
        return "\\" + c
    if c in "\n\t\r":
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}[c]
    if ord(c) < 0x20 or ord(c) == 0x7F:
        return f"\\u{{{ord(c):x}}}"
    return c


def _shortest_f32(value: float) -> str:
    """The shortest decimal that reads back as the same f32."""
    bits = struct.pack("<f", value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack("<f", float(text)) == bits:
            return repr(float(text))
    return repr(value)
