"""The WebAssembly proposals beyond 2.0 that a build can turn on or off, and the set it enables.

A feature set is a frozenset of the names below. `DEFAULT` is Wasm 3.0 (without GC, which is not
supported yet) plus threads and the legacy exception instructions, as real toolchains emit them;
`WASM2` is none of them. `parse_features("wasm2,+multi-memory")` reads the setting of
`--wasm-features` (items separated by commas: a preset `wasm2`/`wasm3` that replaces the set, `NAME`
or `+NAME` to turn one on, `-NAME` to turn it off) and `format_features` writes a set in one
canonical form (recorded in cache keys and image headers).

The decoder and validator call `require(features, name, ...)` where a construct of a proposal
appears: with the feature off, the error keeps the reason a 2.0 engine gives (so a 2.0 suite still
matches) and says which feature the construct needs, e.g. `malformed section id: the tag section
needs exception handling (exceptions), which is off`.
"""

from __future__ import annotations

from ..errors import MalformedError, WasmbuildError

EXCEPTIONS = "exceptions"
LEGACY_EXCEPTIONS = "legacy-exceptions"
TAIL_CALL = "tail-call"
MEMORY64 = "memory64"
MULTI_MEMORY = "multi-memory"
FUNCTION_REFERENCES = "function-references"
EXTENDED_CONST = "extended-const"
RELAXED_SIMD = "relaxed-simd"
THREADS = "threads"
GC = "gc"

# What each feature is called in messages.
DESCRIPTIONS = {
    EXCEPTIONS: "exception handling",
    LEGACY_EXCEPTIONS: "the legacy exception instructions",
    TAIL_CALL: "tail calls",
    MEMORY64: "64-bit memories and tables",
    MULTI_MEMORY: "multiple memories",
    FUNCTION_REFERENCES: "typed function references",
    EXTENDED_CONST: "extended constant expressions",
    RELAXED_SIMD: "relaxed SIMD",
    THREADS: "threads (atomics and shared memories)",
    GC: "garbage collection",
}
ALL = tuple(DESCRIPTIONS)            # the canonical order
SUPPORTED = frozenset(ALL) - {GC}    # what this version can compile

WASM2: frozenset[str] = frozenset()
DEFAULT: frozenset[str] = SUPPORTED
_PRESETS = {"wasm2": WASM2, "wasm3": DEFAULT}


class FeatureError(WasmbuildError):
    """A --wasm-features setting that names no feature."""

    phase = "settings"


def parse_features(text: str | None) -> frozenset[str]:
    """The feature set a `--wasm-features` setting describes ("" or None: `DEFAULT`)."""
    enabled = set(DEFAULT)
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        if item in _PRESETS:
            enabled = set(_PRESETS[item])
            continue
        on = not item.startswith("-")
        name = item.lstrip("+-")
        if name not in DESCRIPTIONS:
            raise FeatureError(f"unknown wasm feature {name!r} in {text!r} "
                               f"(known: {', '.join(ALL)}; presets: {', '.join(_PRESETS)})")
        if on and name not in SUPPORTED:
            raise FeatureError(f"{DESCRIPTIONS[name]} ({name}) is not supported yet")
        (enabled.add if on else enabled.discard)(name)
    return frozenset(enabled)


def format_features(features: frozenset[str]) -> str:
    """The canonical text of a feature set: the preset nearest to it, then the differences in `ALL`
    order (`wasm3`, `wasm3,-threads`, `wasm2,+multi-memory`); `parse_features` reads it back."""
    def text(preset: str) -> str:
        base = _PRESETS[preset]
        return ",".join([preset] + [("+" if name in features else "-") + name
                                    for name in ALL if (name in features) != (name in base)])
    return min((text(preset) for preset in _PRESETS), key=lambda t: (t.count(","), t))


def off_message(name: str, what: str) -> str:
    """`what` (e.g. "the tag section") needs feature `name`, which is off (or not supported)."""
    state = "which is off" if name in SUPPORTED else "which is not supported yet"
    return f"{what} needs {DESCRIPTIONS[name]} ({name}), {state}"


def require(features: frozenset[str], name: str, what: str, *, reason: str, file: str | None,
            offset: int, error=MalformedError) -> None:
    """Raise `error` at `offset` unless feature `name` is on. `reason` is what a 2.0 engine says of
    the construct (kept first, so that spec scripts that expect it still match)."""
    if name not in features:
        raise error(f"{reason}: {off_message(name, what)}", file=file, offset=offset)
