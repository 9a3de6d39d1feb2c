"""Typed records of everything an image holds, each with its one JSON codec.

The build makes these records, the image file stores them (`ImageHeader` and `ImageMeta` as
canonical JSON: `to_bytes`/`from_bytes`), and the loader, `package` and `inspect` read them back.
Nothing else reads or writes image metadata by string key. The layout of the JSON is documented in
docs/image-format.md; `from_json` checks the types of what it reads, so a damaged (or hand-made)
metadata section is a `ValueError`/`KeyError`/`TypeError` here, which the image reader turns into
one "damaged image" error, never a failure later at load time.

  ImageHeader  target, toolchain versions, settings, format and ABI versions, code layout, checksum
  ImageMeta    canonical function types, modules, initializers, trampolines, code symbols
  ModuleRecord one module: its imports, functions, tables, memories, globals, exports, segments,
               start function and VMContext layout
  Initializer  ImportStep | InstantiateStep | ExportStep: what the loader does, in order
  Trampoline   an entry or host trampoline: its signature, symbol and who needs it
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .abi import BOUNDS_CHECKS
from .features import parse_features
from ..link.layout import VMLayout
from .types import (EXTERN_FUNC, EXTERN_MEMORY, EXTERN_NAMES, EXTERN_TABLE, EXTERN_TAG, I32, I64, FuncType,
                    GlobalType, Limits, MemoryType, TableType, functype_from_json, functype_to_json,
                    parse_sig_key, parse_type, sig_key, type_name)

# A constant expression as the image stores it: ((mnemonic, immediate), ...), immediates as JSON
# values (a reference type by name, v128 bytes as hex).
ConstExprRecord = tuple


def canonical_json(value) -> bytes:
    """The one serialisation of image metadata: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _int(value, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise ValueError(f"expected an integer >= {minimum}, not {value!r}")
    return value


def _opt_int(value) -> int | None:
    return None if value is None else _int(value)


def _str(value) -> str:
    if type(value) is not str:
        raise ValueError(f"expected a string, not {value!r}")
    return value


def _bool(value) -> bool:
    if type(value) is not bool:
        raise ValueError(f"expected true or false, not {value!r}")
    return value


def _list(value) -> list:
    if type(value) is not list:
        raise ValueError(f"expected a list, not {type(value).__name__}")
    return value


def _kind(value) -> int:
    return EXTERN_NAMES.index(_str(value))


def _const_expr(value) -> ConstExprRecord:
    return tuple((_str(op), imm) for op, imm in _list(value))


def _limits_json(limits: Limits) -> dict:
    return {"min": limits.min, "max": limits.max}


def _limits(d: dict) -> Limits:
    return Limits(_int(d["min"]), _opt_int(d["max"]))


def _addr_json(addr: int) -> dict:
    """The address type of a memory or table: nothing for i32 (as before memory64), else "addr"."""
    return {} if addr == I32 else {"addr": type_name(addr)}


def _addr(d: dict) -> int:
    addr = parse_type(_str(d.get("addr", "i32")))
    if addr not in (I32, I64):
        raise ValueError(f"bad address type {d['addr']!r}")
    return addr


def _table_json(t: TableType) -> dict:
    return {"elem": type_name(t.elem), **_limits_json(t.limits), **_addr_json(t.addr)}


def _table(d: dict) -> TableType:
    return TableType(parse_type(d["elem"]), _limits(d), _addr(d))


def _memory_json(mem: MemoryType) -> dict:
    """A memory type: its limits, its address type, and `"shared": true` for a shared memory
    (threads; absent otherwise, so an image without shared memories reads as before)."""
    return {**_limits_json(mem.limits), **_addr_json(mem.addr), **({"shared": True} if mem.shared else {})}


def _memory(d: dict) -> MemoryType:
    return MemoryType(_limits(d), _addr(d), _bool(d.get("shared", False)))


@dataclass(frozen=True)
class ImportRecord:
    """`desc` is the canonical type id (func, tag), a TableType, a MemoryType or a GlobalType."""

    module: str
    name: str
    kind: int  # EXTERN_*
    desc: object

    def to_json(self) -> dict:
        entry = {"module": self.module, "name": self.name, "kind": EXTERN_NAMES[self.kind]}
        if self.kind == EXTERN_FUNC or self.kind == EXTERN_TAG:
            entry["type"] = self.desc
        elif self.kind == EXTERN_TABLE:
            entry.update(_table_json(self.desc))
        elif self.kind == EXTERN_MEMORY:
            entry.update(_memory_json(self.desc))
        else:
            entry.update(type=type_name(self.desc.valtype), mutable=self.desc.mutable)
        return entry

    @classmethod
    def from_json(cls, d: dict) -> "ImportRecord":
        kind = _kind(d["kind"])
        if kind == EXTERN_FUNC or kind == EXTERN_TAG:
            desc = _int(d["type"])
        elif kind == EXTERN_TABLE:
            desc = _table(d)
        elif kind == EXTERN_MEMORY:
            desc = _memory(d)
        else:
            desc = GlobalType(parse_type(d["type"]), _bool(d["mutable"]))
        return cls(_str(d["module"]), _str(d["name"]), kind, desc)


@dataclass(frozen=True)
class ExportRecord:
    name: str
    kind: int  # EXTERN_*
    index: int

    def to_json(self) -> dict:
        return {"name": self.name, "kind": EXTERN_NAMES[self.kind], "index": self.index}

    @classmethod
    def from_json(cls, d: dict) -> "ExportRecord":
        return cls(_str(d["name"]), _kind(d["kind"]), _int(d["index"]))


@dataclass(frozen=True)
class FunctionRecord:
    """A defined function: its code symbol and canonical type id."""

    symbol: str
    type_id: int

    def to_json(self) -> list:
        return [self.symbol, self.type_id]

    @classmethod
    def from_json(cls, value) -> "FunctionRecord":
        symbol, type_id = _list(value)
        return cls(_str(symbol), _int(type_id))


@dataclass(frozen=True)
class GlobalRecord:
    type: GlobalType
    init: ConstExprRecord

    def to_json(self) -> dict:
        return {"type": type_name(self.type.valtype), "mutable": self.type.mutable,
                "init": [list(i) for i in self.init]}

    @classmethod
    def from_json(cls, d: dict) -> "GlobalRecord":
        return cls(GlobalType(parse_type(d["type"]), _bool(d["mutable"])), _const_expr(d["init"]))


@dataclass(frozen=True)
class ElemRecord:
    mode: str  # "active", "passive" or "declarative"
    table: int
    elem_type: int
    offset: ConstExprRecord | None  # active segments only
    items: tuple[ConstExprRecord, ...]

    def to_json(self) -> dict:
        return {"mode": self.mode, "table": self.table, "type": type_name(self.elem_type),
                "offset": None if self.offset is None else [list(i) for i in self.offset],
                "items": [[list(i) for i in item] for item in self.items]}

    @classmethod
    def from_json(cls, d: dict) -> "ElemRecord":
        offset = None if d["offset"] is None else _const_expr(d["offset"])
        return cls(_str(d["mode"]), _int(d["table"]), parse_type(d["type"]), offset,
                   tuple(_const_expr(item) for item in _list(d["items"])))


@dataclass(frozen=True)
class DataRecord:
    """A data segment; its bytes are `length` bytes at `start` of the image's data section."""

    mode: str  # "active" or "passive"
    memory: int
    offset: ConstExprRecord | None
    start: int
    length: int

    def to_json(self) -> dict:
        return {"mode": self.mode, "memory": self.memory,
                "offset": None if self.offset is None else [list(i) for i in self.offset],
                "data": [self.start, self.length]}

    @classmethod
    def from_json(cls, d: dict) -> "DataRecord":
        start, length = _list(d["data"])
        offset = None if d["offset"] is None else _const_expr(d["offset"])
        return cls(_str(d["mode"]), _int(d["memory"]), offset, _int(start), _int(length))


@dataclass(frozen=True)
class ModuleRecord:
    name: str
    type_ids: tuple[int, ...]  # the module's type index -> canonical type id
    imports: tuple[ImportRecord, ...]
    functions: tuple[FunctionRecord, ...]  # defined functions
    tables: tuple[TableType, ...]  # defined tables
    memories: tuple[MemoryType, ...]
    globals: tuple[GlobalRecord, ...]
    exports: tuple[ExportRecord, ...]
    elems: tuple[ElemRecord, ...]
    datas: tuple[DataRecord, ...]
    start: int | None
    layout: VMLayout
    tags: tuple[int, ...] = ()  # defined tags: the canonical type id of each
    # The defined tables' initialiser expressions (None: null), one per table or none at all.
    table_inits: tuple[ConstExprRecord | None, ...] = ()

    def func_type_id(self, index: int) -> int:
        """The canonical type id of function `index` (imports first)."""
        imported = [imp.desc for imp in self.imports if imp.kind == EXTERN_FUNC]
        return imported[index] if index < len(imported) else self.functions[index - len(imported)].type_id

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "types": list(self.type_ids),
            "imports": [imp.to_json() for imp in self.imports],
            "functions": [f.to_json() for f in self.functions],
            "tables": [_table_json(t) for t in self.tables],
            "memories": [_memory_json(mem) for mem in self.memories],
            "globals": [g.to_json() for g in self.globals],
            "exports": [e.to_json() for e in self.exports],
            "elems": [e.to_json() for e in self.elems],
            "datas": [d.to_json() for d in self.datas],
            "start": self.start,
            "layout": self.layout.to_json(),
            "tags": list(self.tags),
            "table_inits": [None if e is None else [list(i) for i in e] for e in self.table_inits],
        }

    @classmethod
    def from_json(cls, d: dict) -> "ModuleRecord":
        return cls(
            name=_str(d["name"]),
            type_ids=tuple(_int(t) for t in _list(d["types"])),
            imports=tuple(ImportRecord.from_json(i) for i in _list(d["imports"])),
            functions=tuple(FunctionRecord.from_json(f) for f in _list(d["functions"])),
            tables=tuple(_table(t) for t in _list(d["tables"])),
            memories=tuple(_memory(m) for m in _list(d["memories"])),
            globals=tuple(GlobalRecord.from_json(g) for g in _list(d["globals"])),
            exports=tuple(ExportRecord.from_json(e) for e in _list(d["exports"])),
            elems=tuple(ElemRecord.from_json(e) for e in _list(d["elems"])),
            datas=tuple(DataRecord.from_json(x) for x in _list(d["datas"])),
            start=_opt_int(d["start"]),
            layout=VMLayout.from_json(d["layout"]),
            tags=tuple(_int(t) for t in _list(d.get("tags", []))),
            table_inits=tuple(None if e is None else _const_expr(e) for e in _list(d.get("table_inits", []))),
        )


# --- initializers: what the loader does, in order (see graph.py) ------------------------------

HOST, INSTANCE = "host", "instance"


@dataclass(frozen=True)
class ImportSource:
    """Where one module import comes from: item `item` of host namespace or earlier instance `owner`."""

    source: str  # HOST or INSTANCE
    owner: str
    item: str

    def to_json(self) -> list:
        return [self.source, self.owner, self.item]

    @classmethod
    def from_json(cls, value) -> "ImportSource":
        source, owner, item = _list(value)
        if source not in (HOST, INSTANCE):
            raise ValueError(f"unknown import source {source!r}")
        return cls(source, _str(owner), _str(item))


@dataclass(frozen=True)
class ImportStep:
    """The graph needs host namespace `name` at load time."""

    name: str
    op = "import"

    def to_json(self) -> dict:
        return {"op": self.op, "name": self.name}


@dataclass(frozen=True)
class InstantiateStep:
    """Instantiate module `module` (an index into `ImageMeta.modules`) as `instance`."""

    instance: str
    module: int
    imports: tuple[ImportSource, ...]  # one per module import, in order
    op = "instantiate"

    def to_json(self) -> dict:
        return {"op": self.op, "instance": self.instance, "module": self.module,
                "imports": [i.to_json() for i in self.imports]}


@dataclass(frozen=True)
class ExportStep:
    """The graph exports item `item` of `instance` as `name` (the whole instance when None)."""

    name: str
    instance: str
    item: str | None
    op = "export"

    def to_json(self) -> dict:
        return {"op": self.op, "name": self.name, "instance": self.instance, "item": self.item}


Initializer = ImportStep | InstantiateStep | ExportStep


def initializer_from_json(d: dict) -> Initializer:
    op = d["op"]
    if op == ImportStep.op:
        return ImportStep(_str(d["name"]))
    if op == InstantiateStep.op:
        return InstantiateStep(_str(d["instance"]), _int(d["module"]),
                               tuple(ImportSource.from_json(i) for i in _list(d["imports"])))
    if op == ExportStep.op:
        return ExportStep(_str(d["name"]), _str(d["instance"]), None if d["item"] is None else _str(d["item"]))
    raise ValueError(f"unknown initializer {op!r}")


# --- trampolines and the whole metadata --------------------------------------------------------

ENTRY, HOST_TRAMPOLINE = "entry", "host"


@dataclass(frozen=True)
class Trampoline:
    signature: FuncType
    symbol: str
    users: tuple[str, ...]  # who needs it, for `inspect` ("instance:import ns.name", "module:func 3")

    def to_json(self) -> dict:
        return {"signature": sig_key(self.signature), "symbol": self.symbol, "users": list(self.users)}

    @classmethod
    def from_json(cls, d: dict) -> "Trampoline":
        return cls(parse_sig_key(_str(d["signature"])), _str(d["symbol"]),
                   tuple(_str(u) for u in _list(d["users"])))


@dataclass(frozen=True)
class ImageMeta:
    types: tuple[FuncType, ...]  # canonical function types of the whole image
    modules: tuple[ModuleRecord, ...]
    initializers: tuple[Initializer, ...]
    entry_trampolines: tuple[Trampoline, ...]
    host_trampolines: tuple[Trampoline, ...]
    symbols: tuple[tuple[str, int], ...]  # (code symbol, offset in the code), sorted
    # A component's record (component/record.py), as JSON; None for a graph of core modules. Read
    # by the component layer of the loader, which checks it.
    component: dict | None = None

    def to_json(self) -> dict:
        d = {
            "types": [functype_to_json(ft) for ft in self.types],
            "modules": [m.to_json() for m in self.modules],
            "initializers": [i.to_json() for i in self.initializers],
            "trampolines": {ENTRY: [t.to_json() for t in self.entry_trampolines],
                            HOST_TRAMPOLINE: [t.to_json() for t in self.host_trampolines]},
            "symbols": [list(s) for s in self.symbols],
        }
        if self.component is not None:
            d["component"] = self.component
        return d

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, d: dict) -> "ImageMeta":
        trampolines = d["trampolines"]
        return cls(
            types=tuple(functype_from_json(t) for t in _list(d["types"])),
            modules=tuple(ModuleRecord.from_json(m) for m in _list(d["modules"])),
            initializers=tuple(initializer_from_json(i) for i in _list(d["initializers"])),
            entry_trampolines=tuple(Trampoline.from_json(t) for t in _list(trampolines[ENTRY])),
            host_trampolines=tuple(Trampoline.from_json(t) for t in _list(trampolines[HOST_TRAMPOLINE])),
            symbols=tuple((_str(name), _int(offset)) for name, offset in _list(d["symbols"])),
            component=d.get("component"),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "ImageMeta":
        return cls.from_json(json.loads(data))


# --- the header ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TargetRecord:
    """What the code was made for."""

    triple: str
    cpu: str
    features: str
    machine: str  # wasmbuild's name of the architecture (contract/targets.py)
    byteorder: str  # "<" or ">"
    data_layout: str

    def to_json(self) -> dict:
        return {"triple": self.triple, "cpu": self.cpu, "features": self.features, "machine": self.machine,
                "byteorder": self.byteorder, "data_layout": self.data_layout}

    @classmethod
    def from_json(cls, d: dict) -> "TargetRecord":
        byteorder = _str(d["byteorder"])
        if byteorder not in ("<", ">"):
            raise ValueError(f"bad byte order {byteorder!r}")
        return cls(_str(d["triple"]), _str(d["cpu"]), _str(d["features"]), _str(d["machine"]), byteorder,
                   _str(d["data_layout"]))


@dataclass(frozen=True)
class CodeLayout:
    """Where the linked code's parts lie in the mapping (link/linker.py's layout rules)."""

    page_size: int
    text_size: int
    data_offset: int
    got_offset: int
    got_size: int
    size: int
    code_size: int
    data_size: int

    def to_json(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, d: dict) -> "CodeLayout":
        return cls(**{name: _int(d[name]) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ImageHeader:
    format: int
    abi: int
    target: TargetRecord
    versions: dict  # {"wasmbuild", "llvm", "llvmlite"} -> version string
    opt_level: int
    bounds_checks: str  # abi.BOUNDS_GUARD or abi.BOUNDS_EXPLICIT
    wasm_features: str  # the proposals the modules were accepted with (features.format_features)
    layout: CodeLayout
    checksum: str = ""  # SHA-256 over the header without it and the other sections (image.py)

    @property
    def settings(self) -> dict:
        """The compile settings beyond the target that the image was made with."""
        return {"opt_level": self.opt_level, "bounds_checks": self.bounds_checks,
                "wasm_features": self.wasm_features}

    def to_json(self, with_checksum: bool = True) -> dict:
        d = {"format": self.format, "abi": self.abi, "target": self.target.to_json(),
             "versions": dict(self.versions), "settings": self.settings, "layout": self.layout.to_json()}
        if with_checksum:
            d["checksum"] = self.checksum
        return d

    def to_bytes(self, with_checksum: bool = True) -> bytes:
        return canonical_json(self.to_json(with_checksum))

    @classmethod
    def from_json(cls, d: dict) -> "ImageHeader":
        versions = d["versions"]
        if not isinstance(versions, dict) or not all(type(v) is str for v in versions.values()):
            raise ValueError("bad versions")
        settings = d["settings"]
        bounds = _str(settings["bounds_checks"])
        if bounds not in BOUNDS_CHECKS:
            raise ValueError(f"unknown bounds checks {bounds!r}")
        wasm_features = _str(settings["wasm_features"])
        parse_features(wasm_features)  # FeatureError (a ValueError's kin) for a name it does not know
        return cls(_int(d["format"]), _int(d["abi"]), TargetRecord.from_json(d["target"]), versions,
                   _int(settings["opt_level"]), bounds, wasm_features, CodeLayout.from_json(d["layout"]),
                   _str(d["checksum"]))

    @classmethod
    def from_bytes(cls, data: bytes) -> "ImageHeader":
        return cls.from_json(json.loads(data))
