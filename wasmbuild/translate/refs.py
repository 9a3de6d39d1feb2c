"""What one function refers to outside itself, numbered so that the numbering is index-free.

A compiled function never names another function, global, table, type or segment by its index.
It names `call.0`, `global.1`, ... : the k-th distinct item of that kind in order of first use in
the body. The link step maps those names to real symbols and vmctx offsets. So inserting or removing
an unrelated function or global changes no compiled object, only the mapping.

`scan_references(instrs, num_imported_funcs)` gives the ordered list of `(kind, index)` pairs; the
translator and the linker both use it, so they agree by construction.
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

KINDS = (CALL, IMPORT, FUNCREF, GLOBAL, TABLE, TYPE, DATA, ELEM)

_FC = ops.FC
_GLOBAL_OPS = frozenset((0x23, 0x24))
_TABLE_OPS = frozenset((0x25, 0x26, _FC | 15, _FC | 16, _FC | 17))


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


def scan_references(instrs, num_imported_funcs: int) -> References:
    seen: dict[tuple[str, int], None] = {}

    def add(kind, index):
        if (kind, index) not in seen:
            seen[(kind, index)] = None

    for op, imm, _ in instrs:
        if op == 0x10:
            add(CALL if imm >= num_imported_funcs else IMPORT, imm)
        elif op in _GLOBAL_OPS:
            add(GLOBAL, imm)
        elif op == 0x11:
            add(TABLE, imm[1])
            add(TYPE, imm[0])
        elif op in _TABLE_OPS:
            add(TABLE, imm)
        elif op == 0xD2:
            add(FUNCREF, imm)
        elif op == _FC | 8 or op == _FC | 9:
            add(DATA, imm)
        elif op == _FC | 12:
            add(ELEM, imm[0])
            add(TABLE, imm[1])
        elif op == _FC | 13:
            add(ELEM, imm)
        elif op == _FC | 14:
            add(TABLE, imm[0])
            add(TABLE, imm[1])
    return References(list(seen))
