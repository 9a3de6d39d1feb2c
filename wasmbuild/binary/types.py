"""The decoded module, as plain Python data (its types are in `contract.types`).

Value types are the small integers of their binary encoding (`I32 == 0x7F`, ...), which keeps the
decoder and the validator's hot loops free of lookups. A `Module` keeps the original bytes; each
defined function records only where its body lies (`FunctionBody.offset`/`.end`), so later stages can
hash or decode one function without touching the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ..contract.features import DEFAULT as DEFAULT_FEATURES
from ..contract.types import (  # noqa: F401  (the decoded module is made of these)
    EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, EXTERN_TAG, FuncType, GlobalType, MemoryType,
    TableType)


class ConstExpr(NamedTuple):
    """A constant expression (global initialiser, segment offset or element): its instructions as
    `(op, immediate, offset)` tuples, without the final `end`, and the offset where it starts."""

    instrs: tuple[tuple, ...]
    offset: int


class Import(NamedTuple):
    module: str
    name: str
    kind: int  # EXTERN_*
    desc: object  # type index (func, tag), TableType, MemoryType or GlobalType
    offset: int


class Export(NamedTuple):
    name: str
    kind: int
    index: int
    offset: int


class Global(NamedTuple):
    type: GlobalType
    init: ConstExpr


class FunctionBody(NamedTuple):
    """Where a defined function's body (local declarations, code, final `end`) lies in the bytes."""

    offset: int
    end: int


# Segment modes.
ACTIVE, PASSIVE, DECLARATIVE = "active", "passive", "declarative"


class ElemSegment(NamedTuple):
    mode: str
    table: int
    offset_expr: ConstExpr | None  # active segments only
    elem_type: int
    # Either function indices (the compact encodings) or constant expressions, one per element.
    init: tuple
    init_is_exprs: bool
    offset: int


class DataSegment(NamedTuple):
    mode: str
    memory: int
    offset_expr: ConstExpr | None
    data_start: int  # the bytes are module.data[data_start:data_end]
    data_end: int
    offset: int


class CustomSection(NamedTuple):
    name: str
    start: int  # payload (after the name) lies in module.data[start:end]
    end: int


@dataclass
class Module:
    """A decoded (not yet validated) module. Index spaces count imports first, as the spec does."""

    data: bytes
    filename: str | None = None
    features: frozenset[str] = DEFAULT_FEATURES  # the proposals the decoder and validator accept
    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    func_type_indices: list[int] = field(default_factory=list)  # defined functions only
    tables: list[TableType] = field(default_factory=list)  # defined only
    table_inits: list[ConstExpr | None] = field(default_factory=list)  # their initialisers (None: null)
    memories: list[MemoryType] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)  # defined tags: their type indices
    tag_offsets: list[int] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    start_offset: int = 0
    elems: list[ElemSegment] = field(default_factory=list)
    data_count: int | None = None
    code_section: tuple[int, int] | None = None  # where the code section (header included) lies
    # Byte offsets of the entries of the function, table and memory sections (for error messages).
    func_type_offsets: list[int] = field(default_factory=list)
    table_offsets: list[int] = field(default_factory=list)
    memory_offsets: list[int] = field(default_factory=list)
    bodies: list[FunctionBody] = field(default_factory=list)
    datas: list[DataSegment] = field(default_factory=list)
    customs: list[CustomSection] = field(default_factory=list)

    def imported(self, kind: int) -> list[Import]:
        return [imp for imp in self.imports if imp.kind == kind]

    @property
    def num_imported_funcs(self) -> int:
        return sum(1 for imp in self.imports if imp.kind == EXTERN_FUNC)

    # Whole index spaces (imports first). Computed on demand; callers that loop should keep the list.
    def all_func_types(self) -> list[int]:
        return [imp.desc for imp in self.imports if imp.kind == EXTERN_FUNC] + self.func_type_indices

    def all_tables(self) -> list[TableType]:
        return [imp.desc for imp in self.imports if imp.kind == EXTERN_TABLE] + self.tables

    def all_memories(self) -> list[MemoryType]:
        return [imp.desc for imp in self.imports if imp.kind == EXTERN_MEMORY] + self.memories

    def all_tags(self) -> list[int]:
        """The type index of every tag (imports first)."""
        return [imp.desc for imp in self.imports if imp.kind == EXTERN_TAG] + self.tags

    def all_globals(self) -> list[GlobalType]:
        return [imp.desc for imp in self.imports if imp.kind == EXTERN_GLOBAL] + [g.type for g in self.globals]

    def body_bytes(self, defined_index: int) -> bytes:
        body = self.bodies[defined_index]
        return self.data[body.offset:body.end]
