"""Whether an extern satisfies an import: the one rule, used when a graph is checked at build time
(`graph.py`, with the types the exporting module declares) and when an instance is made at load time
(`loader/instance.py`, with the live object's current size and maximum).

`import_mismatch(want_kind, want, have_kind, have)` gives None when an extern of kind `have_kind`
and type `have` satisfies an import of kind `want_kind` and type `want`, else the reason, phrased
to follow the extern's name ("has type [i64] -> [i64], the import wants [i32] -> [i32]"). Types
are those of `contract.types`: a FuncType (of a function or a tag), TableType, MemoryType or GlobalType.
"""

from __future__ import annotations

from .types import (EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_NAMES, EXTERN_TABLE, EXTERN_TAG, Limits,
                    matches, type_name)


def limits_match(have: Limits, want: Limits) -> bool:
    """The spec's import subtyping of limits: at least the minimum; no maximum above the wanted one."""
    if have.min < want.min:
        return False
    return want.max is None or (have.max is not None and have.max <= want.max)


def import_mismatch(want_kind: int, want, have_kind: int, have) -> str | None:
    if have_kind != want_kind:
        return f"is a {EXTERN_NAMES[have_kind]}, the import wants a {EXTERN_NAMES[want_kind]}"
    if want_kind == EXTERN_FUNC or want_kind == EXTERN_TAG:
        # (function types are subtypes only of themselves before GC)
        return None if have == want else f"has type {have}, the import wants {want}"
    if want_kind == EXTERN_GLOBAL:
        # An immutable global may have a subtype of the wanted type; a mutable one must be equal.
        if have.mutable == want.mutable and (have.valtype == want.valtype or (
                not want.mutable and matches(have.valtype, want.valtype))):
            return None
        return "has an incompatible global type"
    if want_kind == EXTERN_TABLE and have.elem != want.elem:
        return "has an incompatible table element type"
    if have.addr != want.addr:  # memories and tables: i32 or i64 addresses (memory64)
        return f"has {type_name(have.addr)} addresses, the import wants {type_name(want.addr)}"
    if want_kind == EXTERN_MEMORY and have.shared != want.shared:
        return "is a shared memory, the import wants an unshared one" if have.shared else \
            "is an unshared memory, the import wants a shared one"
    if not limits_match(have.limits, want.limits):
        return (f"has limits {have.limits.min}..{have.limits.max}, the import wants "
                f"{want.limits.min}..{want.limits.max}")
    return None
