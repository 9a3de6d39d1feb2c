"""Decode a component binary (design-mvp/Binary.md) into a syntax tree of dataclasses.

`is_component(data)` tells a component (preamble `00 61 73 6d 0d 00 01 00`) from a core module.
`decode_component(data, name)` reads every section, in order, into a `Component`; it resolves no
index (that is `validate.py`'s work) and checks only what the binary format itself rules out.
Malformed input raises `MalformedError` with the file name and the byte offset, worded as the spec
tests (wasm-tools) word it where they give a wording ("invalid leading byte (0x62) for component
defined type", "unexpected end-of-file", ...).

The tree
--------
`Component(filename, data, start, end, definitions, names, customs)`: `data` is the whole file,
the component's own bytes (preamble included) are `data[start:end]`, and every offset in the tree
is an offset into `data`. `definitions` holds every definition in binary order (a section of N
items gives N definitions), which is the order the index spaces grow in. The kinds of definition:

| definition | binary | index space it adds to |
|---|---|---|
| `CoreModule(offset, start, end, module)` | section 1 | core module; `module` is `binary.decode.decode_module` of `data[start:end]` (its own bytes, so its offsets count from `start`) |
| `CoreInstantiate(offset, module, args)` | section 2, 0x00; `args`: ((name, core instance index), ...) | core instance |
| `CoreInlineExports(offset, exports)` | section 2, 0x01; `exports`: ((name, core sort, index), ...) | core instance |
| `CoreTypeDef(offset, type)` | section 3 (and in type declarators); `type` a `contract.types.FuncType` or a `CoreModuleType` | core type |
| `NestedComponent(offset, component)` | section 4 | component |
| `Instantiate(offset, component, args)` | section 5, 0x00; `args`: ((name, sort, index), ...) | instance |
| `InlineExports(offset, exports, attributes)` | section 5, 0x01; `exports`: ((name, sort, index), ...) | instance |
| `ExportAlias(offset, sort, instance, name)` | section 6, 0x00 | `sort` |
| `CoreExportAlias(offset, sort, instance, name)` | section 6, 0x01 | `sort` (a core sort) |
| `OuterAlias(offset, sort, count, index)` | section 6, 0x02 (and module-type declarators) | `sort` |
| `TypeDef(offset, type)` | section 7 (and declarators); `type` one of the `*Def` nodes below | type |
| `CanonLift(offset, core_func, options, type)` | section 8, 0x00 | func |
| `CanonLower(offset, func, options)` | section 8, 0x01 | core func |
| `CanonResource(offset, op, type)` | section 8, 0x02-0x04; `op` "new", "drop" or "rep" | core func |
| `CanonGated(offset, name, proposal)` | section 8, the async / threading / error-context built-ins | core func |
| `Start(offset, func, args, results)` | section 9 (🪙 value imports/exports: gated) | value |
| `Import(offset, name, attributes, desc)` | section 10 (and import declarators) | by `desc.kind` |
| `Export(offset, name, attributes, sort, index, desc)` | section 11; `desc` the ascribed `ExternDesc` or None | `sort` |
| `ValueDef(offset, type)` | section 12 (🪙: gated) | value |

Sorts are strings: the core sorts `"core func"`, `"core table"`, `"core memory"`, `"core global"`,
`"core tag"`, `"core type"`, `"core module"`, `"core instance"` and the component sorts `"func"`,
`"value"`, `"type"`, `"component"`, `"instance"` (`CORE_SORTS`, `SORTS`).

Type definitions (`TypeDef.type`). A *value type reference* `vt` is a `str`, the name of a
primitive ("u32", "string", ... and "error-context", which is gated), or an `int`, a type index:
`PrimDef(name)`, `RecordDef(fields=((label, vt), ...))`, `VariantDef(cases=((label, vt | None),
...))`, `ListDef(elem)`, `TupleDef(types)`, `FlagsDef(names)`, `EnumDef(names)`, `OptionDef(type)`,
`ResultDef(ok, err)` (each vt or None), `OwnDef(type)`, `BorrowDef(type)` (a type index),
`FuncTypeDef(params=((label, vt), ...), result, is_async)`, `ComponentTypeDef(decls)`,
`InstanceTypeDef(decls)`, `ResourceTypeDef(rep, dtor)` (rep a core value type, dtor a core func
index or None), and `GatedDef(proposal, what)` for `stream`, `future`, `map` and fixed-length lists.
A declarator of a component or instance type is a `CoreTypeDef`, `TypeDef`, `ExportAlias` /
`CoreExportAlias` / `OuterAlias`, `Import` (component types only) or `ExportDecl(offset, name,
attributes, desc)`.

`ExternDesc(kind, index)`: `kind` is "core module", "func", "value", "type", "component" or
"instance"; `index` the type index it names (a core type index for "core module"); for "type" it is
the `(eq i)` bound's index, or None for `(sub resource)`; for "value" (gated) the value type
(as wasm-tools encodes it: no bound tag).

`CoreModuleType(decls)`: each declarator a `CoreTypeDef`, a core `binary.types.Import` (whose
`desc` is a type index into the module type's own core type space for functions and tags), an
`OuterAlias(offset, "core type", count, index)` or a `CoreExportDecl(offset, name, kind, desc)`
(kind a `contract.types.EXTERN_*`). Core function types are `contract.types.FuncType`. A typed
reference to a concrete type, `(ref $t)`, in a component's core types (not in its core modules) is
refused when decoded ("unknown type"): no toolchain emits one, and resolving it would need the
validator's index spaces.

Canon options (`options`): a tuple of `CanonOpt(offset, name, index)`, `name` one of "utf8",
"utf16", "latin1+utf16", "memory", "realloc", "post-return", "async", "callback" (the last two
gated); `index` the core memory or core function index, None for the others.

Names: `name` is the extern name as written (a kebab-case name, an interface name
`wasi:cli/stdout@0.2.12`, `[method]r.m`, ...; the validator checks it), `attributes` the
🏷️/🔗 attributes as ((kind, text), ...) with kind "implements", "versionsuffix" or "external-id"
(gated). `names` holds what a well-formed `component-name` custom section says: {"component":
name, (sort): {index: name}}; a malformed one is ignored, as the format asks. `customs` lists the
other custom sections as (name, start, end) of their payload.

What is decoded but gated (refused by `validate.py`, naming the proposal): everything of the async
ABI (🔀 stream, future, `func async`, the `async` and `callback` options, every task/subtask/
waitable/context/backpressure built-in), threading (🧵 `thread.*`), error-context (📝), maps (🗺️),
fixed-length lists (🔧), values and start functions (🪙), extern-name attributes (🏷️/🔗). `GATED`
names each proposal. GC core types (rec groups, subtypes, structs, arrays) are refused when decoded
(a MalformedError naming gc), as the core decoder refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..binary import decode as core_decode
from ..binary.reader import Reader
from ..binary.types import Module
from ..contract import features as F
from ..contract.types import EXTERN_TAG
from ..errors import MalformedError, WasmbuildError
from .types import PRIM_CODES

MAGIC = b"\0asm"
COMPONENT_VERSION = b"\x0d\x00"
COMPONENT_LAYER = b"\x01\x00"
PREAMBLE = MAGIC + COMPONENT_VERSION + COMPONENT_LAYER
CORE_PREAMBLE = MAGIC + b"\x01\x00\x00\x00"

EOF = "unexpected end-of-file"
# Section ids (Binary.md, "Component Definitions")
(SECTION_CUSTOM, SECTION_CORE_MODULE, SECTION_CORE_INSTANCE, SECTION_CORE_TYPE, SECTION_COMPONENT,
 SECTION_INSTANCE, SECTION_ALIAS, SECTION_TYPE, SECTION_CANON, SECTION_START, SECTION_IMPORT, SECTION_EXPORT,
 SECTION_VALUE) = range(13)
# Deepest nesting of components and component/instance types accepted (recursion guard).
MAX_NESTING = 100

# The proposals this version decodes but does not support, as the validator names them.
GATED = {
    "cm-async": "the component-model async ABI",
    "cm-threading": "the component-model threading proposal",
    "cm-error-context": "the component-model error-context proposal",
    "cm-map": "the component-model map types",
    "cm-fixed-length-lists": "the component-model fixed-length lists",
    "cm-values": "component-model value definitions (value imports, exports and start functions)",
    "cm-implements": "extern-name attributes (implements, versionsuffix, external-id)",
}

CORE_SORTS = {0x00: "core func", 0x01: "core table", 0x02: "core memory", 0x03: "core global",
              0x04: "core tag", 0x10: "core type", 0x11: "core module", 0x12: "core instance"}
SORTS = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}
ERROR_CONTEXT = 0x64  # the error-context primitive (📝)
_VALTYPE_PRIMS = {**PRIM_CODES, ERROR_CONTEXT: "error-context"}

# canonopt opcodes
_OPTIONS = {0x00: "utf8", 0x01: "utf16", 0x02: "latin1+utf16", 0x03: "memory", 0x04: "realloc",
            0x05: "post-return", 0x06: "async", 0x07: "callback"}
# rec, sub final, sub (0x00 0x50 in a component), struct, array: GC core types
_GC_CORE_TYPE_FORMS = frozenset((0x4E, 0x4F, 0x00, 0x5F, 0x5E))
_OPTIONS_WITH_INDEX = frozenset(("memory", "realloc", "post-return", "callback"))


def is_component(data: bytes) -> bool:
    """Whether `data` starts with the component preamble (a core module has version 1, layer 0)."""
    return bytes(data[:8]) == PREAMBLE


# ---------------------------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ExternDesc:
    kind: str  # "core module", "func", "value", "type", "component", "instance"
    index: object  # type index (None for a type's (sub resource) bound)


@dataclass(frozen=True, slots=True)
class CanonOpt:
    offset: int
    name: str
    index: int | None


# --- type definitions (TypeDef.type) ---
@dataclass(frozen=True, slots=True)
class PrimDef:
    name: str


@dataclass(frozen=True, slots=True)
class RecordDef:
    fields: tuple


@dataclass(frozen=True, slots=True)
class VariantDef:
    cases: tuple


@dataclass(frozen=True, slots=True)
class ListDef:
    elem: object


@dataclass(frozen=True, slots=True)
class TupleDef:
    types: tuple


@dataclass(frozen=True, slots=True)
class FlagsDef:
    names: tuple


@dataclass(frozen=True, slots=True)
class EnumDef:
    names: tuple


@dataclass(frozen=True, slots=True)
class OptionDef:
    type: object


@dataclass(frozen=True, slots=True)
class ResultDef:
    ok: object
    err: object


@dataclass(frozen=True, slots=True)
class OwnDef:
    type: int


@dataclass(frozen=True, slots=True)
class BorrowDef:
    type: int


@dataclass(frozen=True, slots=True)
class FuncTypeDef:
    params: tuple
    result: object  # vt or None
    is_async: bool = False


@dataclass(frozen=True, slots=True)
class ComponentTypeDef:
    decls: tuple


@dataclass(frozen=True, slots=True)
class InstanceTypeDef:
    decls: tuple


@dataclass(frozen=True, slots=True)
class ResourceTypeDef:
    rep: int  # core value type
    dtor: int | None  # core func index


@dataclass(frozen=True, slots=True)
class GatedDef:
    proposal: str  # a key of GATED
    what: str


@dataclass(frozen=True, slots=True)
class CoreModuleType:
    decls: tuple


@dataclass(frozen=True, slots=True)
class CoreExportDecl:
    offset: int
    name: str
    kind: int  # contract.types.EXTERN_*
    desc: object  # as binary.types.Import.desc


# --- definitions ---
@dataclass(frozen=True, slots=True)
class CoreModule:
    offset: int
    start: int
    end: int
    module: Module


@dataclass(frozen=True, slots=True)
class CoreInstantiate:
    offset: int
    module: int
    args: tuple  # ((name, core instance index), ...)


@dataclass(frozen=True, slots=True)
class CoreInlineExports:
    offset: int
    exports: tuple  # ((name, core sort, index), ...)


@dataclass(frozen=True, slots=True)
class CoreTypeDef:
    offset: int
    type: object  # contract.types.FuncType | CoreModuleType


@dataclass(frozen=True, slots=True)
class NestedComponent:
    offset: int
    component: "Component"


@dataclass(frozen=True, slots=True)
class Instantiate:
    offset: int
    component: int
    args: tuple  # ((name, sort, index), ...)


@dataclass(frozen=True, slots=True)
class InlineExports:
    offset: int
    exports: tuple  # ((name, sort, index), ...)
    attributes: tuple = ()  # the attributes of each export, in the same order (gated)


@dataclass(frozen=True, slots=True)
class ExportAlias:
    offset: int
    sort: str
    instance: int
    name: str


@dataclass(frozen=True, slots=True)
class CoreExportAlias:
    offset: int
    sort: str
    instance: int
    name: str


@dataclass(frozen=True, slots=True)
class OuterAlias:
    offset: int
    sort: str
    count: int
    index: int


@dataclass(frozen=True, slots=True)
class TypeDef:
    offset: int
    type: object


@dataclass(frozen=True, slots=True)
class CanonLift:
    offset: int
    core_func: int
    options: tuple
    type: int


@dataclass(frozen=True, slots=True)
class CanonLower:
    offset: int
    func: int
    options: tuple


@dataclass(frozen=True, slots=True)
class CanonResource:
    offset: int
    op: str  # "new", "drop", "rep"
    type: int


@dataclass(frozen=True, slots=True)
class CanonGated:
    offset: int
    name: str
    proposal: str


@dataclass(frozen=True, slots=True)
class Start:
    offset: int
    func: int
    args: tuple
    results: int


@dataclass(frozen=True, slots=True)
class Import:
    offset: int
    name: str
    attributes: tuple
    desc: ExternDesc


@dataclass(frozen=True, slots=True)
class ExportDecl:
    offset: int
    name: str
    attributes: tuple
    desc: ExternDesc


@dataclass(frozen=True, slots=True)
class Export:
    offset: int
    name: str
    attributes: tuple
    sort: str
    index: int
    desc: ExternDesc | None


@dataclass(frozen=True, slots=True)
class ValueDef:
    offset: int
    type: object


@dataclass
class Component:
    filename: str | None
    data: bytes
    start: int
    end: int
    definitions: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    customs: list = field(default_factory=list)  # (name, payload start, payload end)

    def of(self, kind: type) -> list:
        """The definitions of one kind, in order (`component.of(Import)`)."""
        return [d for d in self.definitions if type(d) is kind]

    @property
    def bytes(self) -> bytes:
        return self.data[self.start:self.end]


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------

def decode_component(data: bytes, name: str | None = None,
                     features: frozenset[str] | None = None) -> Component:
    """Decode component binary `data` (`name`: the file, for messages); `features` are the core
    proposals its core modules may use (default `contract.features.DEFAULT`). Raises MalformedError."""
    data = bytes(data)
    features = F.DEFAULT if features is None else frozenset(features)
    return _Decoder(data, name, features).component(0, len(data), 0)


class _Decoder:
    def __init__(self, data: bytes, filename: str | None, features: frozenset[str]):
        self.data = data
        self.filename = filename
        self.features = features
        # The core decoder's helpers take a Module for its features and type list.
        self.shim = Module(data=b"", filename=filename, features=features)

    def error(self, reason: str, offset: int) -> MalformedError:
        return MalformedError(reason, file=self.filename, offset=offset)

    def reader(self, start: int, end: int) -> Reader:
        return Reader(self.data, start, end, self.filename, eof_reason=EOF, features=self.features)

    # --- structure ---
    def component(self, start: int, end: int, depth: int) -> Component:
        if depth > MAX_NESTING:
            raise self.error(f"components nested more than {MAX_NESTING} deep", start)
        r = self.reader(start, end)
        self.preamble(r, "component")
        c = Component(self.filename, self.data, start, end)
        defs = c.definitions
        while not r.at_end():
            id_offset = r.pos
            sid = r.byte()
            if sid > SECTION_VALUE:
                raise self.error("malformed section id", id_offset)
            size = r.u32()
            body = r.pos
            if size > end - body:
                raise self.error(EOF, end)
            s = self.reader(body, body + size)
            if sid == SECTION_CUSTOM:
                self.custom(s, c)
            elif sid == SECTION_CORE_MODULE:
                defs.append(self.core_module(s, id_offset))
                s.pos = s.end
            elif sid == SECTION_COMPONENT:
                nested = self.component(body, body + size, depth + 1)
                defs.append(NestedComponent(id_offset, nested))
                s.pos = s.end
            elif sid == SECTION_START:
                defs.append(self.start(s))
            else:  # a vector of definitions
                read = {SECTION_CORE_INSTANCE: self.core_instance, SECTION_CORE_TYPE: self.core_type_def,
                        SECTION_INSTANCE: self.instance, SECTION_ALIAS: self.alias, SECTION_TYPE: self.type_def,
                        SECTION_CANON: self.canon, SECTION_IMPORT: self.import_, SECTION_EXPORT: self.export,
                        SECTION_VALUE: self.value}[sid]
                for _ in range(s.u32()):
                    defs.append(read(s, depth))
            if s.pos != s.end:
                raise self.error("unexpected content in the section (its size is larger than what it "
                                 "holds)", s.pos)
            r.pos = body + size
        return c

    def preamble(self, r: Reader, what: str) -> None:
        """The 8 bytes that start a "component" or a core "module", at `r.pos`."""
        start = r.pos
        head = r.data[start:min(start + 8, r.end)]
        if not MAGIC.startswith(head[:4]):  # (a short prefix of the magic is a truncated file)
            raise self.error("magic header not detected", start)
        if len(head) < 8:
            raise self.error(EOF, r.end)
        version = head[4:8]
        if what == "component" and version == CORE_PREAMBLE[4:]:
            raise self.error("expected a version header for a component", start + 4)
        if what == "module" and version == PREAMBLE[4:]:
            raise self.error("expected a version header for a module", start + 4)
        if version != (PREAMBLE if what == "component" else CORE_PREAMBLE)[4:]:
            raise self.error("unknown binary version", start + 4)
        r.pos = start + 8

    def custom(self, s: Reader, c: Component) -> None:
        name = self.name(s)
        if name == "component-name":
            try:
                c.names = self.name_section(self.reader(s.pos, s.end))
            except MalformedError:
                c.names = {}  # validity of the name section is not required
        else:
            c.customs.append((name, s.pos, s.end))
        s.pos = s.end

    def name_section(self, s: Reader) -> dict:
        names: dict = {}
        while not s.at_end():
            kind = s.byte()
            size = s.u32()
            sub = self.reader(s.pos, s.pos + size)
            if sub.end > s.end:
                raise sub.eof_error()
            if kind == 0:
                names["component"] = self.name(sub)
            elif kind == 1:
                sort = self.sort(sub, "sort")
                names[sort] = {sub.u32(): self.name(sub) for _ in range(sub.u32())}
            s.pos = sub.end
        return names

    def core_module(self, s: Reader, offset: int) -> CoreModule:
        start, end = s.pos, s.end
        self.preamble(self.reader(start, end), "module")
        try:
            module = core_decode.decode_module(self.data[start:end], self.filename, self.features)
        except WasmbuildError as e:
            raise rebased(e, start)
        return CoreModule(offset, start, end, module)

    # --- primitives ---
    def name(self, s: Reader) -> str:
        n = s.u32()
        start = s.pos
        raw = s.bytes(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("malformed UTF-8 encoding", start) from None

    def leading(self, s: Reader, what: str, allowed) -> int:
        pos = s.pos
        b = s.byte()
        if b not in allowed:
            raise self.error(f"invalid leading byte ({b:#x}) for {what}", pos)
        return b

    def core_sort(self, s: Reader, what: str = "core sort") -> str:
        return CORE_SORTS[self.leading(s, what, CORE_SORTS)]

    def sort(self, s: Reader, what: str = "component external kind") -> str:
        pos = s.pos
        b = s.byte()
        if b == 0x00:
            return self.core_sort(s, what)
        if b not in SORTS:
            raise self.error(f"invalid leading byte ({b:#x}) for {what}", pos)
        return SORTS[b]

    def optional(self, s: Reader, what: str) -> bool:
        return self.leading(s, what, (0, 1)) == 1

    def boolean(self, s: Reader) -> bool:
        pos = s.pos
        b = s.byte()
        if b > 1:
            raise self.error("invalid boolean value", pos)
        return b == 1

    # --- instances ---
    def core_instance(self, s: Reader, depth: int):
        offset = s.pos
        b = self.leading(s, "core instance", (0, 1))
        if b == 0:
            module = s.u32()
            args = []
            for _ in range(s.u32()):
                name = self.name(s)
                self.leading(s, "instantiation arg kind", (0x12,))
                args.append((name, s.u32()))
            return CoreInstantiate(offset, module, tuple(args))
        exports = []
        for _ in range(s.u32()):
            name = self.name(s)
            sort = self.core_sort(s)
            exports.append((name, sort, s.u32()))
        return CoreInlineExports(offset, tuple(exports))

    def instance(self, s: Reader, depth: int):
        offset = s.pos
        b = self.leading(s, "instance", (0, 1))
        if b == 0:
            component = s.u32()
            args = []
            for _ in range(s.u32()):
                name = self.name(s)
                sort = self.sort(s)
                args.append((name, sort, s.u32()))
            return Instantiate(offset, component, tuple(args))
        exports = []
        attributes = []
        for _ in range(s.u32()):
            name, attrs = self.extern_name(s)
            sort = self.sort(s)
            exports.append((name, sort, s.u32()))
            attributes.append(attrs)
        return InlineExports(offset, tuple(exports), tuple(attributes) if any(attributes) else ())

    # --- aliases ---
    def alias(self, s: Reader, depth: int = 0):
        offset = s.pos
        # The sort comes first but is checked against what the target allows (wasm-tools reads it
        # as raw bytes, then the target, then interprets the sort).
        sort_pos = s.pos
        b1 = s.byte()
        b2 = s.byte() if b1 == 0 else None
        target = self.leading(s, "alias", (0, 1, 2))
        if target == 2:
            if b1 == 0 and b2 in (0x10, 0x11):
                sort = CORE_SORTS[b2]
            elif b1 in (0x03, 0x04):
                sort = SORTS[b1]
            else:
                bad = b2 if b1 == 0 else b1
                raise self.error(f"invalid leading byte ({bad:#x}) for component outer alias kind",
                                 sort_pos)
            count = s.u32()
            return OuterAlias(offset, sort, count, s.u32())
        if b1 == 0:
            if b2 not in CORE_SORTS:
                raise self.error(f"invalid leading byte ({b2:#x}) for core sort", sort_pos + 1)
            sort = CORE_SORTS[b2]
        elif b1 in SORTS:
            sort = SORTS[b1]
        else:
            raise self.error(f"invalid leading byte ({b1:#x}) for component external kind", sort_pos)
        instance = s.u32()
        name = self.name(s)
        if target == 1:
            if b1 != 0:
                raise self.error(f"invalid leading byte ({b1:#x}) for core sort in a core export alias",
                                 sort_pos)
            return CoreExportAlias(offset, sort, instance, name)
        return ExportAlias(offset, sort, instance, name)

    # --- core types ---
    def core_type_def(self, s: Reader, depth: int = 0) -> CoreTypeDef:
        offset = s.pos
        return CoreTypeDef(offset, self.core_type(s, depth))

    def core_type(self, s: Reader, depth: int):
        pos = s.pos
        b = s.peek()
        if b == core_decode.FUNC_TYPE_FORM:
            return core_decode._functype(s, self.shim)
        if b == 0x50:
            s.byte()
            return self.module_type(s, depth)
        if b in _GC_CORE_TYPE_FORMS:
            raise self.error("core GC types (rec groups, subtypes, structs, arrays) in a component are not "
                             "supported (gc)", pos)
        s.byte()
        raise self.error(f"invalid leading byte ({b:#x}) for core type", pos)

    def module_type(self, s: Reader, depth: int) -> CoreModuleType:
        if depth > MAX_NESTING:
            raise self.error(f"types nested more than {MAX_NESTING} deep", s.pos)
        decls = []
        for _ in range(s.u32()):
            offset = s.pos
            b = self.leading(s, "type definition", (0, 1, 2, 3))
            if b == 0:
                decls.append(core_decode._import(s, self.shim))
            elif b == 1:
                decls.append(CoreTypeDef(offset, self.core_type(s, depth + 1)))
            elif b == 2:
                self.leading(s, "outer alias kind", (0x10,))
                self.leading(s, "outer alias target", (0x01,))
                count = s.u32()
                decls.append(OuterAlias(offset, "core type", count, s.u32()))
            else:
                name = self.name(s)
                kind = s.peek()
                desc = self._core_externtype(s)
                decls.append(CoreExportDecl(offset, name, kind, desc))
        return CoreModuleType(tuple(decls))

    def _core_externtype(self, s: Reader):
        """A core extern type (`core:externtype`) as `binary.types.Import.desc` is."""
        pos = s.pos
        kind = s.byte()
        if kind == 0x00:
            return s.u32()
        if kind == 0x01:
            return core_decode._tabletype(s, self.shim)
        if kind == 0x02:
            return core_decode._memtype(s, self.shim)
        if kind == 0x03:
            return core_decode._globaltype(s, self.shim)
        if kind == EXTERN_TAG:
            return core_decode._tagtype(s)
        raise self.error("malformed import kind", pos)

    # --- types ---
    def type_def(self, s: Reader, depth: int = 0) -> TypeDef:
        offset = s.pos
        return TypeDef(offset, self.deftype(s, depth))

    def deftype(self, s: Reader, depth: int):
        pos = s.pos
        b = s.byte()
        if b in _VALTYPE_PRIMS:
            return PrimDef(_VALTYPE_PRIMS[b])
        if b == 0x72:
            return RecordDef(tuple((self.name(s), self.valtype(s)) for _ in range(s.u32())))
        if b == 0x71:
            cases = []
            for _ in range(s.u32()):
                label = self.name(s)
                vt = self.valtype(s) if self.optional(s, "optional value type") else None
                self.leading(s, "zero byte required", (0,))
                cases.append((label, vt))
            return VariantDef(tuple(cases))
        if b == 0x70:
            return ListDef(self.valtype(s))
        if b == 0x67:
            self.valtype(s)
            s.u32()
            return GatedDef("cm-fixed-length-lists", "a fixed-length list type")
        if b == 0x6F:
            return TupleDef(tuple(self.valtype(s) for _ in range(s.u32())))
        if b == 0x6E:
            return FlagsDef(tuple(self.name(s) for _ in range(s.u32())))
        if b == 0x6D:
            return EnumDef(tuple(self.name(s) for _ in range(s.u32())))
        if b == 0x6B:
            return OptionDef(self.valtype(s))
        if b == 0x6A:
            ok = self.valtype(s) if self.optional(s, "optional value type") else None
            err = self.valtype(s) if self.optional(s, "optional value type") else None
            return ResultDef(ok, err)
        if b == 0x69:
            return OwnDef(s.u32())
        if b == 0x68:
            return BorrowDef(s.u32())
        if b in (0x66, 0x65):
            if self.optional(s, "optional value type"):
                self.valtype(s)
            return GatedDef("cm-async", "a stream type" if b == 0x66 else "a future type")
        if b == 0x63:
            self.valtype(s)
            self.valtype(s)
            return GatedDef("cm-map", "a map type")
        if b in (0x40, 0x43):
            params = tuple((self.name(s), self.valtype(s)) for _ in range(s.u32()))
            rpos = s.pos
            kind = s.byte()
            if kind == 0x00:
                result = self.valtype(s)
            elif kind == 0x01:
                self.leading(s, "number of results", (0,))
                result = None
            else:
                raise self.error(f"invalid leading byte ({kind:#x}) for component function results", rpos)
            return FuncTypeDef(params, result, b == 0x43)
        if b in (0x41, 0x42):
            if depth >= MAX_NESTING:
                raise self.error(f"types nested more than {MAX_NESTING} deep", pos)
            decls = []
            for _ in range(s.u32()):
                decls.append(self.decl(s, depth + 1, component=b == 0x41))
            return ComponentTypeDef(tuple(decls)) if b == 0x41 else InstanceTypeDef(tuple(decls))
        if b == 0x3F:
            rep = s.valtype()
            dtor = s.u32() if self.optional(s, "optional destructor") else None
            return ResourceTypeDef(rep, dtor)
        raise self.error(f"invalid leading byte ({b:#x}) for component defined type", pos)

    def decl(self, s: Reader, depth: int, component: bool):
        offset = s.pos
        b = s.byte()
        if b == 0x03 and component:
            return self.import_(s, depth, offset)
        if b == 0x00:
            return CoreTypeDef(offset, self.core_type(s, depth))
        if b == 0x01:
            return TypeDef(offset, self.deftype(s, depth))
        if b == 0x02:
            return self.alias(s)
        if b == 0x04:
            name, attrs = self.extern_name(s)
            return ExportDecl(offset, name, attrs, self.externtype(s))
        raise self.error(f"invalid leading byte ({b:#x}) for component or instance type declaration", offset)

    def valtype(self, s: Reader):
        pos = s.pos
        b = s.peek()
        if b is not None and b in _VALTYPE_PRIMS:
            s.pos += 1
            return _VALTYPE_PRIMS[b]
        index = s.sleb(33)
        if index < 0:
            raise self.error(f"invalid leading byte ({b:#x}) for component value type", pos)
        return index

    def externtype(self, s: Reader) -> ExternDesc:
        pos = s.pos
        b = s.byte()
        if b == 0x00:
            self.leading(s, "component external kind", (0x11,))
            return ExternDesc("core module", s.u32())
        if b == 0x01:
            return ExternDesc("func", s.u32())
        if b == 0x02:
            # 🪙 (gated): wasm-tools writes the value type alone, without Binary.md's bound tag
            return ExternDesc("value", self.valtype(s))
        if b == 0x03:
            k = self.leading(s, "type bound", (0, 1))
            return ExternDesc("type", s.u32() if k == 0 else None)
        if b == 0x04:
            return ExternDesc("component", s.u32())
        if b == 0x05:
            return ExternDesc("instance", s.u32())
        raise self.error(f"invalid leading byte ({b:#x}) for component external kind", pos)

    # --- names, imports, exports ---
    def extern_name(self, s: Reader) -> tuple[str, tuple]:
        pos = s.pos
        b = s.byte()
        if b in (0x00, 0x01):
            return self.name(s), ()
        if b == 0x02:
            name = self.name(s)
            attrs = []
            for _ in range(s.u32()):
                k = self.leading(s, "name option", (0, 1, 2))
                attrs.append((("implements", "versionsuffix", "external-id")[k], self.name(s)))
            return name, tuple(attrs)
        raise self.error(f"invalid leading byte ({b:#x}) for component name", pos)

    def import_(self, s: Reader, depth: int = 0, offset: int | None = None) -> Import:
        offset = s.pos if offset is None else offset
        name, attrs = self.extern_name(s)
        return Import(offset, name, attrs, self.externtype(s))

    def export(self, s: Reader, depth: int = 0) -> Export:
        offset = s.pos
        name, attrs = self.extern_name(s)
        sort = self.sort(s)
        index = s.u32()
        desc = self.externtype(s) if self.optional(s, "optional component export type") else None
        return Export(offset, name, attrs, sort, index, desc)

    # --- canon ---
    def canon(self, s: Reader, depth: int = 0):
        offset = s.pos
        b = s.byte()
        if b == 0x00:
            self.leading(s, "canonical function lift", (0x00,))
            core_func = s.u32()
            options = self.options(s)
            return CanonLift(offset, core_func, options, s.u32())
        if b == 0x01:
            self.leading(s, "canonical function lower", (0x00,))
            func = s.u32()
            return CanonLower(offset, func, self.options(s))
        if b in (0x02, 0x03, 0x04):
            return CanonResource(offset, ("new", "drop", "rep")[b - 2], s.u32())
        gated = _GATED_CANON.get(b)
        if gated is None:
            raise self.error(f"invalid leading byte ({b:#x}) for canonical function", offset)
        name, proposal, immediates = gated
        for imm in immediates:
            if imm == "u32":
                s.u32()
            elif imm == "bool":
                self.boolean(s)
            elif imm == "opts":
                self.options(s)
            elif imm == "valtype":
                s.valtype()
            elif imm == "results":
                if self.leading(s, "component function results", (0, 1)) == 0:
                    self.valtype(s)
                else:
                    self.leading(s, "number of results", (0,))
        return CanonGated(offset, name, proposal)

    def options(self, s: Reader) -> tuple:
        opts = []
        for _ in range(s.u32()):
            pos = s.pos
            b = self.leading(s, "canonical option", _OPTIONS)
            name = _OPTIONS[b]
            opts.append(CanonOpt(pos, name, s.u32() if name in _OPTIONS_WITH_INDEX else None))
        return tuple(opts)

    # --- start and values (🪙) ---
    def start(self, s: Reader) -> Start:
        offset = s.pos
        func = s.u32()
        args = tuple(s.u32() for _ in range(s.u32()))
        return Start(offset, func, args, s.u32())

    def value(self, s: Reader, depth: int = 0) -> ValueDef:
        offset = s.pos
        vt = self.valtype(s)
        n = s.u32()
        s.bytes(n)
        return ValueDef(offset, vt)


# The gated canon built-ins: opcode -> (name, proposal, immediates to skip).
_GATED_CANON = {
    0x24: ("backpressure.inc", "cm-async", ()),
    0x25: ("backpressure.dec", "cm-async", ()),
    0x09: ("task.return", "cm-async", ("results", "opts")),
    0x05: ("task.cancel", "cm-async", ()),
    0x0A: ("context.get", "cm-async", ("valtype", "u32")),
    0x0B: ("context.set", "cm-async", ("valtype", "u32")),
    0x06: ("subtask.cancel", "cm-async", ("bool",)),
    0x0D: ("subtask.drop", "cm-async", ()),
    0x0E: ("stream.new", "cm-async", ("u32",)),
    0x0F: ("stream.read", "cm-async", ("u32", "opts")),
    0x10: ("stream.write", "cm-async", ("u32", "opts")),
    0x11: ("stream.cancel-read", "cm-async", ("u32", "bool")),
    0x12: ("stream.cancel-write", "cm-async", ("u32", "bool")),
    0x13: ("stream.drop-readable", "cm-async", ("u32",)),
    0x14: ("stream.drop-writable", "cm-async", ("u32",)),
    0x15: ("future.new", "cm-async", ("u32",)),
    0x16: ("future.read", "cm-async", ("u32", "opts")),
    0x17: ("future.write", "cm-async", ("u32", "opts")),
    0x18: ("future.cancel-read", "cm-async", ("u32", "bool")),
    0x19: ("future.cancel-write", "cm-async", ("u32", "bool")),
    0x1A: ("future.drop-readable", "cm-async", ("u32",)),
    0x1B: ("future.drop-writable", "cm-async", ("u32",)),
    0x1C: ("error-context.new", "cm-error-context", ("opts",)),
    0x1D: ("error-context.debug-message", "cm-error-context", ("opts",)),
    0x1E: ("error-context.drop", "cm-error-context", ()),
    0x1F: ("waitable-set.new", "cm-async", ()),
    0x20: ("waitable-set.wait", "cm-async", ("bool", "u32")),
    0x21: ("waitable-set.poll", "cm-async", ("bool", "u32")),
    0x22: ("waitable-set.drop", "cm-async", ()),
    0x23: ("waitable.join", "cm-async", ()),
    0x26: ("thread.index", "cm-threading", ()),
    0x27: ("thread.new-indirect", "cm-threading", ("u32", "u32")),
    0x28: ("thread.resume-later", "cm-threading", ()),
    0x29: ("thread.suspend", "cm-threading", ("bool",)),
    0x0C: ("thread.yield", "cm-async", ("bool",)),
    0x2A: ("thread.suspend-then-resume", "cm-threading", ("bool",)),
    0x2B: ("thread.yield-then-resume", "cm-threading", ("bool",)),
    0x2C: ("thread.suspend-then-promote", "cm-threading", ("bool",)),
    0x2D: ("thread.yield-then-promote", "cm-threading", ("bool",)),
    0x40: ("thread.spawn-ref", "cm-threading", ("bool", "u32")),
    0x41: ("thread.spawn-indirect", "cm-threading", ("bool", "u32", "u32")),
    0x42: ("thread.available-parallelism", "cm-threading", ("bool",)),
}


def rebased(e: WasmbuildError, start: int) -> WasmbuildError:
    """An error of a nested core module (offsets count from its first byte) with file offsets."""
    if e.offset is not None:
        e.offset += start
    return e
