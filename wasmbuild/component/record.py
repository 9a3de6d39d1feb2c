"""The component record of an image: what the component layer of the loader needs beyond the core
graph, produced by static instantiation (`component/instantiate.py`) and kept in `ImageMeta.component`.

A component is built as a core graph (its core modules, core instances and the wiring between them)
plus this record:
  resources  one `ResourceRecord` per resource type of the graph: defined by a component instance
             (its destructor a core function), or imported from the host
  instances  the component instances: for each, the index of its parent (-1 for the root); each has
             its own handle table and its own "may enter" / lockdown state
  lifted     one `LiftedRecord` per `canon lift`: the core function, the component function type and
             the canonical options (memory, realloc, post-return, string encoding)
  lowered    one `LoweredRecord` per `canon lower`: the component function it calls (a host import by
             path, or a lifted function of another component instance) and the caller's options; the
             core code imports it as item `lower.N` of the host namespace `NAMESPACE`
  builtins   one `BuiltinRecord` per `canon resource.new / rep / drop`, imported as `builtin.N`
  imports    the root component's imports: name -> extern (func type, instance of externs, resource)
  exports    the root component's exports: name -> extern (lifted function, instance, resource)
  unlinkable why no host can instantiate it (it imports a core module or a component), or None
  hosted     lifted index -> the fused adapter through which the host calls it (component/hosted.py)
Core items the layer uses (lifted functions, memories, realloc, post-return, destructors) are named
`CoreRef(instance, export)`: an export of one core instance of the graph, or, with instance
`NAMESPACE`, an item of the host namespace (a lowered function lifted again).

Types are `component/types.py` records; in JSON a resource type is its index in `resources`
(`type_to_json` / `type_from_json`). `ComponentRecord.from_json` checks every field (a damaged image
is refused by the image reader before it gets here; this keeps a bad record from becoming a crash).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import types as ct
from .canonical import STRING_ENCODINGS

NAMESPACE = "$component"  # the host namespace of lowered functions and resource built-ins
BUILTIN_OPS = ("resource.new", "resource.rep", "resource.drop")
HOST = -1  # owner / parent: the host, or no parent


def lowered_item(index: int) -> str:
    return f"lower.{index}"


def builtin_item(index: int) -> str:
    return f"builtin.{index}"


class RecordError(ValueError):
    """A component record that does not follow the format."""


def _check(cond: bool, what: str):
    if not cond:
        raise RecordError(what)


def _str(value) -> str:
    _check(type(value) is str, f"expected a string, not {value!r}")
    return value


def _int(value, minimum: int = 0) -> int:
    _check(type(value) is int and value >= minimum, f"expected an integer >= {minimum}, not {value!r}")
    return value


def _list(value) -> list:
    _check(type(value) is list, f"expected a list, not {type(value).__name__}")
    return value


def _dict(value) -> dict:
    _check(type(value) is dict, f"expected an object, not {type(value).__name__}")
    return value


def _opt(decode, value):
    return None if value is None else decode(value)


# --- value types ---------------------------------------------------------------------------------

def type_to_json(t: ct.ValType, resources: dict) -> object:
    """`t` as JSON; `resources` maps each `ResourceType` to its index in the record."""
    if isinstance(t, ct.Prim):
        return t.name
    if isinstance(t, ct.Record):
        return {"record": [[n, type_to_json(f, resources)] for n, f in t.fields]}
    if isinstance(t, ct.Variant):
        return {"variant": [[n, None if c is None else type_to_json(c, resources)] for n, c in t.cases]}
    if isinstance(t, ct.List):
        return {"list": type_to_json(t.elem, resources)}
    if isinstance(t, ct.Tuple):
        return {"tuple": [type_to_json(e, resources) for e in t.types]}
    if isinstance(t, ct.Flags):
        return {"flags": list(t.names)}
    if isinstance(t, ct.Enum):
        return {"enum": list(t.names)}
    if isinstance(t, ct.Option):
        return {"option": type_to_json(t.type, resources)}
    if isinstance(t, ct.Result):
        return {"result": [None if t.ok is None else type_to_json(t.ok, resources),
                           None if t.err is None else type_to_json(t.err, resources)]}
    if isinstance(t, ct.Own):
        return {"own": resources[t.resource]}
    if isinstance(t, ct.Borrow):
        return {"borrow": resources[t.resource]}
    raise TypeError(f"not a component value type: {t!r}")


def type_from_json(value, resources: list) -> ct.ValType:
    """The type `value` stands for; `resources` are the record's resource types by index."""
    if type(value) is str:
        _check(value in ct.PRIM_NAMES, f"unknown primitive type {value!r}")
        return ct.prim(value)
    d = _dict(value)
    _check(len(d) == 1, f"a type is one constructor, not {sorted(d)}")
    (kind, body), = d.items()
    sub = lambda v: type_from_json(v, resources)  # noqa: E731
    if kind == "record":
        return ct.Record(tuple((_str(n), sub(f)) for n, f in _list(body)))
    if kind == "variant":
        return ct.Variant(tuple((_str(n), _opt(sub, c)) for n, c in _list(body)))
    if kind == "list":
        return ct.List(sub(body))
    if kind == "tuple":
        return ct.Tuple(tuple(sub(e) for e in _list(body)))
    if kind == "flags":
        return ct.Flags(tuple(_str(n) for n in _list(body)))
    if kind == "enum":
        return ct.Enum(tuple(_str(n) for n in _list(body)))
    if kind == "option":
        return ct.Option(sub(body))
    if kind == "result":
        ok, err = _list(body)
        return ct.Result(_opt(sub, ok), _opt(sub, err))
    if kind in ("own", "borrow"):
        index = _int(body)
        _check(index < len(resources), f"resource {index} out of range")
        return (ct.Own if kind == "own" else ct.Borrow)(resources[index])
    raise RecordError(f"unknown type constructor {kind!r}")


def functype_to_json(ft: ct.FuncType, resources: dict) -> dict:
    return {"params": [[n, type_to_json(t, resources)] for n, t in ft.params],
            "result": None if ft.result is None else type_to_json(ft.result, resources)}


def functype_from_json(value, resources: list) -> ct.FuncType:
    d = _dict(value)
    return ct.FuncType(tuple((_str(n), type_from_json(t, resources)) for n, t in _list(d["params"])),
                       _opt(lambda v: type_from_json(v, resources), d["result"]))


# --- records -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CoreRef:
    instance: str  # a core instance of the graph
    export: str  # one of its exports

    def to_json(self) -> list:
        return [self.instance, self.export]

    @classmethod
    def from_json(cls, value) -> "CoreRef":
        instance, export = _list(value)
        return cls(_str(instance), _str(export))


def _ref(value) -> CoreRef | None:
    return None if value is None else CoreRef.from_json(value)


@dataclass(frozen=True)
class CanonOptions:
    memory: CoreRef | None = None
    realloc: CoreRef | None = None
    post_return: CoreRef | None = None
    encoding: str = "utf8"

    def to_json(self) -> dict:
        return {"memory": self.memory and self.memory.to_json(),
                "realloc": self.realloc and self.realloc.to_json(),
                "post_return": self.post_return and self.post_return.to_json(),
                "encoding": self.encoding}

    @classmethod
    def from_json(cls, value) -> "CanonOptions":
        d = _dict(value)
        encoding = _str(d["encoding"])
        _check(encoding in STRING_ENCODINGS, f"unknown string encoding {encoding!r}")
        return cls(_ref(d["memory"]), _ref(d["realloc"]), _ref(d["post_return"]), encoding)


@dataclass(frozen=True)
class ResourceRecord:
    name: str  # for messages
    owner: int  # the component instance that defined it, or HOST for a host import
    dtor: CoreRef | None = None  # a defined resource's destructor
    import_path: tuple[str, ...] = ()  # a host resource: where the root imports it
    # a host resource: the other root import paths declared equal to it (`(eq ...)`), which the
    # host must give the same resource type for when it gives another component's resource types
    also_at: tuple[tuple[str, ...], ...] = ()

    def to_json(self) -> dict:
        out = {"name": self.name, "owner": self.owner, "dtor": self.dtor and self.dtor.to_json(),
               "import": list(self.import_path)}
        if self.also_at:
            out["also"] = [list(p) for p in self.also_at]
        return out

    @classmethod
    def from_json(cls, value) -> "ResourceRecord":
        d = _dict(value)
        return cls(_str(d["name"]), _int(d["owner"], HOST), _ref(d["dtor"]),
                   tuple(_str(p) for p in _list(d["import"])),
                   tuple(tuple(_str(n) for n in _list(p)) for p in _list(d.get("also", []))))


@dataclass(frozen=True)
class LiftedRecord:
    type: ct.FuncType
    core: CoreRef  # the core function
    instance: int  # the component instance it belongs to
    options: CanonOptions


@dataclass(frozen=True)
class LoweredRecord:
    type: ct.FuncType
    host: tuple[str, ...] | None  # a host import: its path from the root's imports, or
    lifted: int | None  # a lifted function of a component instance
    instance: int  # the calling component instance
    options: CanonOptions


@dataclass(frozen=True)
class BuiltinRecord:
    op: str  # one of BUILTIN_OPS
    resource: int
    instance: int  # the component instance whose handle table it works on


# An extern of the root's imports or exports, as a tagged tuple:
#   ("func", FuncType) / ("instance", {name: extern}) / ("resource", index)     imports
#   ("func", lifted index) / ("instance", {name: extern}) / ("resource", index)  exports
Extern = tuple


@dataclass(frozen=True)
class ComponentRecord:
    resources: tuple[ResourceRecord, ...]
    instances: tuple[int, ...]  # parent of each component instance (HOST for the root)
    lifted: tuple[LiftedRecord, ...]
    lowered: tuple[LoweredRecord, ...]
    builtins: tuple[BuiltinRecord, ...]
    imports: dict  # name -> Extern
    exports: dict  # name -> Extern
    unlinkable: str | None = None  # why no host can instantiate it (it imports a core module, ...)
    hosted: dict = field(default_factory=dict)  # lifted index -> the adapter of the host's calls (hosted.py)

    def to_json(self, resource_types: list[ct.ResourceType]) -> dict:
        """As JSON; `resource_types[i]` is the type `resources[i]` describes (the build's objects)."""
        index = {r: i for i, r in enumerate(resource_types)}

        def extern(e, in_imports: bool):
            kind, body = e
            if kind == "func":
                return {"func": functype_to_json(body, index) if in_imports else body}
            if kind == "instance":
                return {"instance": {n: extern(x, in_imports) for n, x in body.items()}}
            return {"resource": body}

        def lifted(r: LiftedRecord):
            return {"type": functype_to_json(r.type, index), "core": r.core.to_json(),
                    "instance": r.instance, "options": r.options.to_json()}

        def lowered(r: LoweredRecord):
            return {"type": functype_to_json(r.type, index), "host": None if r.host is None else list(r.host),
                    "lifted": r.lifted, "instance": r.instance, "options": r.options.to_json()}

        return {"resources": [r.to_json() for r in self.resources], "instances": list(self.instances),
                "lifted": [lifted(r) for r in self.lifted], "lowered": [lowered(r) for r in self.lowered],
                "builtins": [[b.op, b.resource, b.instance] for b in self.builtins],
                "imports": {n: extern(e, True) for n, e in self.imports.items()},
                "exports": {n: extern(e, False) for n, e in self.exports.items()},
                "unlinkable": self.unlinkable,
                "hosted": [[i, ref.to_json()] for i, ref in sorted(self.hosted.items())]}

    @classmethod
    def from_json(cls, value) -> tuple["ComponentRecord", list[ct.ResourceType]]:
        """The record and one fresh `ResourceType` per resource record (types refer to them)."""
        d = _dict(value)
        resources = tuple(ResourceRecord.from_json(r) for r in _list(d["resources"]))
        types = [ct.ResourceType(r.name) for r in resources]
        instances = tuple(_int(p, HOST) for p in _list(d["instances"]))
        _check(bool(instances) and instances[0] == HOST, "the first component instance is the root")
        n_inst = len(instances)

        def inst(v) -> int:
            i = _int(v)
            _check(i < n_inst, f"component instance {i} out of range")
            return i

        def res(v) -> int:
            i = _int(v)
            _check(i < len(resources), f"resource {i} out of range")
            return i

        lifted = tuple(LiftedRecord(functype_from_json(r["type"], types), CoreRef.from_json(r["core"]),
                                    inst(r["instance"]), CanonOptions.from_json(r["options"]))
                       for r in map(_dict, _list(d["lifted"])))

        def lowered(r) -> LoweredRecord:
            host = None if r["host"] is None else tuple(_str(p) for p in _list(r["host"]))
            target = None if r["lifted"] is None else _int(r["lifted"])
            _check((host is None) != (target is None), "a lowered function calls a host import or a lifted function")
            _check(target is None or target < len(lifted), f"lifted function {target} out of range")
            return LoweredRecord(functype_from_json(r["type"], types), host, target, inst(r["instance"]),
                                 CanonOptions.from_json(r["options"]))

        def builtin(b) -> BuiltinRecord:
            op, resource, instance = _list(b)
            _check(op in BUILTIN_OPS, f"unknown built-in {op!r}")
            return BuiltinRecord(op, res(resource), inst(instance))

        def extern(e, in_imports: bool):
            (kind, body), = _dict(e).items()
            if kind == "func":
                if in_imports:
                    return ("func", functype_from_json(body, types))
                i = _int(body)
                _check(i < len(lifted), f"lifted function {i} out of range")
                return ("func", i)
            if kind == "instance":
                return ("instance", {_str(n): extern(x, in_imports) for n, x in _dict(body).items()})
            _check(kind == "resource", f"unknown extern kind {kind!r}")
            return ("resource", res(body))

        def hosted(entries) -> dict:
            found = {}
            for entry in _list(entries):
                i, ref = _list(entry)
                _check(_int(i) < len(lifted), f"lifted function {i} out of range")
                found[i] = CoreRef.from_json(ref)
            return found

        for r in resources:
            _check(r.owner == HOST or r.owner < n_inst, f"resource owner {r.owner} out of range")
        record = cls(resources, instances, lifted, tuple(lowered(_dict(r)) for r in _list(d["lowered"])),
                     tuple(builtin(b) for b in _list(d["builtins"])),
                     {_str(n): extern(e, True) for n, e in _dict(d["imports"]).items()},
                     {_str(n): extern(e, False) for n, e in _dict(d["exports"]).items()},
                     _opt(_str, d["unlinkable"]), hosted(d.get("hosted", [])))
        return record, types
