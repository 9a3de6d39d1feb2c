"""Versioned interface names (`wasi:cli/stdout@0.2.12`) and which versions are compatible.

`compatible_names(names, wanted)` gives the names among `names` that an import named `wanted`
matches: `[wanted]` when it is there, else those of the same interface in a semver-compatible
version (same major; for 0.x, same minor), in the order given — several when it is ambiguous.
Used by the loader to find a host's item and by composition to find an export.
"""

from __future__ import annotations

import re

_VERSIONED = re.compile(r"^(?P<base>[^@]+)@(?P<version>\d+(\.\d+){0,2}.*)$")


def split_version(name: str) -> tuple[str, str | None]:
    """ "wasi:io/streams@0.2.9" -> ("wasi:io/streams", "0.2.9"); a name without one -> (name, None)."""
    m = _VERSIONED.match(name)
    return (name, None) if m is None else (m["base"], m["version"])


def compatible_line(version: str) -> tuple:
    """The part of a semver version that compatible versions share."""
    parts = version.split("-")[0].split("+")[0].split(".")
    return (parts[0],) if parts[0] != "0" else tuple(parts[:2])


def compatible_names(names, wanted: str) -> list[str]:
    names = list(names)
    if wanted in names:
        return [wanted]
    base, version = split_version(wanted)
    if version is None:
        return []
    line = compatible_line(version)
    found = []
    for name in names:
        b, v = split_version(name)
        if b == base and v is not None and compatible_line(v) == line:
            found.append(name)
    return found
