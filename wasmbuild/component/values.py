"""The Python values that stand for component values (the mapping is in docs/components.md).

bool, int (s8 ... u64, range-checked), float (f32, f64), str (char: one character; string),
list (list<T>; bytes for list<u8>), tuple, `Record`, `Variant`, str (enum: the case name),
None or the value (option<T>; `Some(x)` where the payload is itself an option), `Ok`/`Err`
(result), set of str (flags), and resource handles (made by the runtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Record:
    """A record value: one attribute per field, named as in WIT with '-' made '_'
    (`Record(x=1, y=2)`; `record.x`). Two records are equal when their fields are."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return "Record(" + ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()) + ")"


@dataclass(frozen=True)
class Variant:
    """A variant value: the case's WIT name and its payload (None for a case without one)."""

    case: str
    payload: Any = None


@dataclass(frozen=True)
class Some:
    """The some case of an option whose payload is itself an option: option<option<T>>'s
    some(none) is `Some(None)`; elsewhere an option is None or its payload."""

    value: Any


@dataclass(frozen=True)
class Ok:
    """result's ok case (value None when the ok side has no type)."""

    value: Any = None


@dataclass(frozen=True)
class Err:
    """result's error case (value None when the error side has no type)."""

    value: Any = None


def field_attr(label: str) -> str:
    """The Python attribute name of a record field: the WIT label with '-' made '_'."""
    return label.replace("-", "_")
