"""Where each item of an instance lives in its VMContext.

`VMLayout.for_module(module, refs)` lays out, after the fixed header of `abi.py` and the pointers of
memories beyond the first (`abi.vm_memory`):
  - an import slot (code, vmctx) per imported function,
  - a FuncRef record per function that can become a funcref value (`refs`: the functions named by
    elem segments, `ref.func` and exports), so `ref.func` is just `vmctx + offset`,
  - a cell pointer per global (cells, TableDefs and MemoryDefs belong to the runtime's Global,
    Table and Memory objects, which instances share when they import and export them),
  - a TableDef pointer per table,
  - a segment slot (pointer, length) per data and per element segment,
  - a tag pointer per tag (the runtime's Tag objects, whose addresses are their identities, shared
    by the instances that import and export them),
  - a slot per type of the module holding its canonical type id (set when the instance is made, from
    the store's type registry, so funcrefs from any image compare right in `call_indirect`).
The compiled code reaches these fields through absolute symbols whose values `symbol_value` gives,
so the layout can change (an import added, a global removed) without recompiling unrelated code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..contract.types import EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_TABLE
from ..binary.types import Module
from ..contract import abi
from ..translate import refs

@dataclass
class VMLayout:
    size: int = abi.VM_HEADER_SIZE
    import_slots: dict[int, int] = field(default_factory=dict)  # function index -> offset
    funcrefs: dict[int, int] = field(default_factory=dict)      # function index -> offset
    global_ptrs: list[int] = field(default_factory=list)
    table_ptrs: list[int] = field(default_factory=list)
    data_slots: list[int] = field(default_factory=list)
    elem_slots: list[int] = field(default_factory=list)
    type_ids: list[int] = field(default_factory=list)
    tag_ptrs: list[int] = field(default_factory=list)

    @classmethod
    def for_module(cls, m: Module, escaping: set[int]) -> "VMLayout":
        lay = cls()
        at = abi.VM_HEADER_SIZE + abi.vm_memories_size(len(m.all_memories()))

        def take(n: int, align: int = 8) -> int:
            nonlocal at
            at = (at + align - 1) // align * align
            offset = at
            at += n
            return offset

        func_index = 0
        for imp in m.imports:
            if imp.kind == EXTERN_FUNC:
                lay.import_slots[func_index] = take(abi.IMPORT_SLOT_SIZE)
                func_index += 1
        for f in sorted(escaping):
            lay.funcrefs[f] = take(abi.FUNCREF_SIZE)
        n_imported_globals = sum(1 for imp in m.imports if imp.kind == EXTERN_GLOBAL)
        lay.global_ptrs = [take(abi.PTR_SIZE) for _ in range(n_imported_globals + len(m.globals))]
        n_imported_tables = sum(1 for imp in m.imports if imp.kind == EXTERN_TABLE)
        lay.table_ptrs = [take(abi.PTR_SIZE) for _ in range(n_imported_tables + len(m.tables))]
        lay.data_slots = [take(abi.SEGMENT_SLOT_SIZE) for _ in m.datas]
        lay.elem_slots = [take(abi.SEGMENT_SLOT_SIZE) for _ in m.elems]
        lay.type_ids = [take(8) for _ in m.types]
        lay.tag_ptrs = [take(abi.PTR_SIZE) for _ in m.all_tags()]
        lay.size = (at + 15) // 16 * 16
        return lay

    def symbol_value(self, kind: str, index: int) -> int:
        """The vmctx offset that reference `(kind, index)` of `refs.py` stands for."""
        if kind == refs.IMPORT:
            return self.import_slots[index]
        if kind == refs.FUNCREF:
            return self.funcrefs[index]
        if kind == refs.GLOBAL:
            return self.global_ptrs[index]
        if kind == refs.TABLE:
            return self.table_ptrs[index]
        if kind == refs.DATA:
            return self.data_slots[index]
        if kind == refs.ELEM:
            return self.elem_slots[index]
        if kind == refs.TYPE:
            return self.type_ids[index]
        if kind == refs.TAG:
            return self.tag_ptrs[index]
        raise KeyError(kind)

    def to_json(self) -> dict:
        d = asdict(self)
        # JSON object keys must be strings; store the int-keyed maps as sorted pairs.
        for key in ("import_slots", "funcrefs"):
            d[key] = sorted(d[key].items())
        return d

    @classmethod
    def from_json(cls, d: dict) -> "VMLayout":
        d = dict(d)
        d.setdefault("tag_ptrs", [])
        for key in ("import_slots", "funcrefs"):
            d[key] = {int(k): v for k, v in d[key]}
        return cls(**d)
