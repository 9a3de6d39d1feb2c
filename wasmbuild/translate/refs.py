"""What one function refers to outside itself, numbered so that the numbering is index-free.

A compiled function never names another function, global, table, type or segment by its index.
It names `call.0`, `global.1`, ... : the k-th distinct item of that kind in order of first use in
the body. The link step maps those names to real symbols and vmctx offsets. So inserting or removing
an unrelated function or global changes no compiled object, only the mapping.

`scan_references(instrs, num_imported_funcs)` gives the ordered list of `(kind, index)` pairs; the
translator and the linker both use it, so they agree by construction. Which immediates hold which
indices, and in which order they are numbered, is `opcodes.INDEXES`; `instruction_references` gives
the references of one instruction (for the cache key's normalised instructions, too).
"""

from __future__ import annotations

from ..contract import opcodes as ops

CALL = "call"        # direct call of a function defined in the module -> its code symbol
IMPORT = "import"    # call of an imported function -> vmctx offset of its import slot
FUNCREF = "funcref"  # ref.func -> vmctx offset of the function's FuncRef record
GLOBAL = "global"    # vmctx offset of the global's cell pointer
TABLE = "table"      # vmctx offset of the table's TableDef pointer
TYPE = "type"        # vmctx offset of the slot holding the type's canonical id (call_indirect)
DATA = "data"        # vmctx offset of the data segment slot
ELEM = "elem"        # vmctx offset of the element segment slot
TAG = "tag"          # vmctx offset of the tag's pointer (exception handling)

KINDS = (CALL, IMPORT, FUNCREF, GLOBAL, TABLE, TYPE, DATA, ELEM, TAG)

# The kind of reference an index makes, by its index space (opcodes.INDEXES); a function index is
# a callee (CALL or IMPORT), or FUNCREF in ref.func.
_KINDS_OF_SPACES = {ops.TYPE_INDEX: TYPE, ops.TABLE_INDEX: TABLE, ops.GLOBAL_INDEX: GLOBAL,
                    ops.DATA_INDEX: DATA, ops.ELEM_INDEX: ELEM, ops.TAG_INDEX: TAG}


def symbol(kind: str, ordinal: int) -> str:
    return f"{kind}.{ordinal}"


class References:
    """Ordered references of one function: `(kind, index)` -> symbol name."""

    __slots__ = ("items", "_names")

    def __init__(self, items: list[tuple[str, int]]):
        self.items = items
        counts = dict.fromkeys(KINDS, 0)
        names = {}
        for kind, index in items:
            names[(kind, index)] = symbol(kind, counts[kind])
            counts[kind] += 1
        self._names = names

    def name(self, kind: str, index: int) -> str:
        return self._names[(kind, index)]

    def __iter__(self):
        for item in self.items:
            yield item, self._names[item]


def instruction_references(op: int, imm, num_imported_funcs: int) -> list[tuple[int | None, str, int]]:
    """`(part, kind, index)` of each reference the immediate `imm` of `op` holds, in numbering order;
    `part` is the position of the index in the immediate, as in `opcodes.INDEXES` (empty for an
    instruction that refers to nothing outside the function)."""
    found = []
    for part, space in ops.INDEXES.get(op, ()):
        if part == ops.CATCH_TAGS:  # try_table: the tag of each catch clause that has one
            found.extend((part, TAG, tag) for _kind, tag, _label in imm[1] if tag is not None)
            continue
        index = imm if part is None else imm[part]
        if space != ops.FUNC_INDEX:
            kind = _KINDS_OF_SPACES[space]
        elif op == ops.REF_FUNC:
            kind = FUNCREF
        else:
            kind = CALL if index >= num_imported_funcs else IMPORT
        found.append((part, kind, index))
    return found


def scan_references(instrs, num_imported_funcs: int) -> References:
    """The references of the `(op, imm, offset)` instructions `instrs`, numbered in order of first use."""
    seen: dict[tuple[str, int], None] = {}
    indexes = ops.INDEXES
    for op, imm, _ in instrs:
        if op in indexes:
            for _part, kind, index in instruction_references(op, imm, num_imported_funcs):
                seen[(kind, index)] = None  # a key seen before keeps its place
    return References(list(seen))
