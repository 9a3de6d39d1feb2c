"""The component layer of the loader: an image built from a component, instantiated and called with
Python values.

`instantiate_component(image, host)` takes a `loader.instance.LoadedImage` whose metadata carries a
component record (component/record.py) and the host's imports, and gives a `ComponentInstance`:
its `exports` are `ComponentFunction`s (called with the Python values of `component/values.py`),
`ExportedInstance`s (`exports` of their own) and `ResourceType`s. It makes the core graph's
instances (the loader's `GraphInstance`) with the host namespace `record.NAMESPACE` served here:
  lower.N    a `canon lower`ed function: lifts the core arguments from the caller's memory, calls
             the host function or the lifted function of another component instance (through
             Python values, for the calls no fused adapter covers), lowers the result back
  builtin.N  `canon resource.new / rep / drop` on the handle table of its component instance
  flag.enter.N, flag.leave.N   the "may enter" / "may leave" flags of component instance N, as
             mutable i32 globals: the fused adapters (component/adapters.py) import them, and this
             layer's own checks read and set them; flag.leave.-1 is the host's (always 1), for the
             adapters of hosted calls (component/hosted.py), the host's calls that need memory
  trap.KIND  raise the trap of a fused adapter (`adapters.TRAPS`)
The canonical ABI itself is `canonical.py` and the handle tables `handles.py`.

The host's imports: `host` maps each import name of the root component to what provides it: a
Python callable for a function; for an instance, a dict of its items (callables, and for a resource
type the Python class whose objects are its resources). An interface name with a version
(`wasi:cli/stdout@0.2.12`) is also found without it (`wasi:cli/stdout`) or under another version of
the same major (0.x: minor) line. Host resources are Python objects: a host function gets the object
for a `borrow<R>` or `own<R>` parameter and returns objects for `own<R>` results; when the guest drops
the last handle of one, its `drop()` method, if it has one, is called (or, when the host gave a
`HostResourceType` for the resource type, its `drop(rep)`).

Rules of the component model kept here: an instance that trapped is locked ("cannot enter component
instance" for every later call, of this component instance tree); an instance is not entered again
while one of its exports runs; realloc and post-return may not call out ("cannot leave component
instance"). Errors in the host's imports (missing, not callable) are `UnlinkableError`s naming the import.
"""

from __future__ import annotations

from ..errors import UnlinkableError
from ..image import ImageError
from ..contract.types import I32
from ..loader.runtime import Global, Trap
from .adapters import enter_flag, leave_flag, trap_functions
from . import types as ct
from .canonical import CanonOptions, ComponentValueError, function_abi
from .handles import InstanceHandles, Resource, ResourceRegistry
from .hosted import STAGING_INSTANCE, STAGING_MEMORY, STAGING_TOP, HostStaging
from .versions import compatible_names, split_version
from .record import HOST, NAMESPACE, ComponentRecord, CoreRef, RecordError, builtin_item, lowered_item

def _lookup(host: dict, name: str):
    """The host's item for import `name`: exactly, else without its version, else under a version
    of the same semver-compatible line (`versions.py`)."""
    if name in host:
        return host[name]
    base, version = split_version(name)
    if version is not None and base in host:
        return host[base]
    found = compatible_names(host, name)
    return host[found[0]] if found else None


def _has_handles(t) -> bool:
    return ct.contains(t, (ct.Own, ct.Borrow))


def _map_handles(value, t, fn):
    """`value` of type `t` with each handle `h` (of type own/borrow) replaced by `fn(h, t)`."""
    from .values import Err, Ok, Record, Some, Variant, field_attr
    if value is None or not _has_handles(t):
        return value
    if isinstance(t, (ct.Own, ct.Borrow)):
        return fn(value, t)
    if isinstance(t, ct.List):
        return [_map_handles(v, t.elem, fn) for v in value]
    if isinstance(t, ct.Tuple):
        return tuple(_map_handles(v, e, fn) for v, e in zip(value, t.types))
    if isinstance(t, ct.Record):
        return Record(**{field_attr(n): _map_handles(getattr(value, field_attr(n)), f, fn) for n, f in t.fields})
    if isinstance(t, ct.Variant):
        payload = dict(t.cases)[value.case]
        return Variant(value.case, _map_handles(value.payload, payload, fn))
    if isinstance(t, ct.Option):
        if isinstance(value, Some):
            return Some(_map_handles(value.value, t.type, fn))
        return _map_handles(value, t.type, fn)
    if isinstance(t, ct.Result):
        if isinstance(value, Ok):
            return Ok(_map_handles(value.value, t.ok, fn))
        if isinstance(value, Err):
            return Err(_map_handles(value.value, t.err, fn))
    return value


def _items(item) -> dict | None:
    """The items of what a host gave for an instance: a dict, or an instance another loaded
    component exports (its `exports`); None for anything else."""
    if isinstance(item, dict):
        return item
    if isinstance(item, ExportedInstance):
        return item.exports
    return None


def _find(host: dict, path: tuple[str, ...]):
    """The host's item at `path` (as `_lookup` finds each step), or None."""
    item = host
    for name in path:
        items = _items(item)
        item = None if items is None else _lookup(items, name)
    return item


def _kind_of(item, wanted: str) -> str:
    """What kind of extern a host item can be: a dict or another component's `ExportedInstance`
    is an instance; a class may stand for a resource type or serve as a function; a
    `HostResourceType` or another component's resource type is a resource type."""
    if _items(item) is not None:
        return "instance"
    if isinstance(item, (HostResourceType, ct.ResourceType)) or (isinstance(item, type) and wanted == "resource"):
        return "resource"
    return "func" if callable(item) else type(item).__name__


def _check_imports(imports: dict, host: dict, path: tuple, file, resources=(), bound=()) -> None:
    """Each of the root's imports has a host item of its kind (the wording of wasmtime's checks);
    an item of another loaded component (an exported instance or function) has a type that is a
    subtype of the import's (`resources`: the record's resource types; `bound`: those the host
    provides, which stand for whatever resource types the other component gives for them)."""
    for name, (kind, body) in imports.items():
        where = "/".join(path + (name,))
        item = _lookup(host, name)
        if item is None and kind == "instance" and _nothing_in(body):
            continue  # an instance with nothing the host must give needs no host item
        if item is None:
            raise UnlinkableError(f"component import {where} was not found (the host provides none)", file=file)
        found = _kind_of(item, kind)
        if found != kind:
            raise UnlinkableError(f"component import {where}: expected {kind} found {found}", file=file)
        if isinstance(item, (ExportedInstance, ComponentFunction)):
            _check_component_item(name, kind, body, item, where, file, resources, bound)
        elif kind == "instance":
            _check_imports(body, _items(item), path + (name,), file, resources, bound)


def _check_component_item(name: str, kind: str, body, item, where: str, file, resources, bound) -> None:
    """Another component's instance or function given for import `name`: the component model's
    subtyping (what instantiating a nested component checks), as a one-import component type."""
    from .validate import ImportMismatch, instantiation_type
    want = ct.ComponentType(((name, _record_extern(kind, body, resources)),), (), tuple(bound))
    try:
        instantiation_type(want, {name: _extern_of(item)})
    except ImportMismatch as e:
        raise UnlinkableError(f"component import {where}: the {type(item).__name__} given does not match: "
                              f"{e.reason}", file=file) from None


def _record_extern(kind: str, body, resources) -> ct.Extern:
    """An import of the record as a `types.Extern`."""
    if kind == "func":
        return ct.Extern("func", body)
    if kind == "resource":
        return ct.Extern("type", resources[body])
    return ct.Extern("instance", ct.InstanceType(tuple((n, _record_extern(k, b, resources))
                                                       for n, (k, b) in body.items())))


def _extern_of(item) -> ct.Extern:
    """What another loaded component gives (function, exported instance, resource type) as a
    `types.Extern`."""
    if isinstance(item, ComponentFunction):
        return ct.Extern("func", item.type)
    if isinstance(item, ExportedInstance):
        return ct.Extern("instance", ct.InstanceType(tuple((n, _extern_of(v)) for n, v in item.exports.items())))
    return ct.Extern("type", item)


def _resource_identity(item):
    """The resource type a host item stands for, when it says: another component's resource type,
    a `HostResourceType` (or the one it is `same_as`); None for a Python class (not compared: such
    resource types are told apart by where they are imported)."""
    if isinstance(item, HostResourceType):
        return item.same_as or item
    return item if isinstance(item, ct.ResourceType) else None


def _check_same_resource(host: dict, given, r, file) -> None:
    """The resource types given at the paths declared equal to the host resource `r`
    (`ResourceRecord.also_at`) are the one given for it (`given`), as far as `_resource_identity`
    tells them; a path given nothing needs nothing."""
    for path in r.also_at:
        other = _find(host, path)
        if other is None:
            continue
        have, want = _resource_identity(other), _resource_identity(given)
        if (have is not None or want is not None) and have is not want:
            raise UnlinkableError(f"component import {'/'.join(path)}: mismatched resource types (it must be "
                                  f"the resource type given for {'/'.join(r.import_path)})", file=file)


def _nothing_in(instance_body: dict) -> bool:
    return all(kind == "instance" and _nothing_in(body) for kind, body in instance_body.values())


class HostResourceType:
    """What a host may give for a resource type it provides when its resources are not objects
    with a `drop()` method: `drop(rep)` is called when the guest drops the last handle of one.
    `same_as`: another `HostResourceType` this one is the same resource type as, under another
    name (for imports declared equal, `(eq ...)`; each keeps its own `drop`)."""

    def __init__(self, name: str, drop=None, same_as: "HostResourceType | None" = None):
        self.name = name
        self.drop = drop or (lambda rep: None)
        self.same_as = None if same_as is None else (same_as.same_as or same_as)


class _InstanceState:
    """Re-entrance of one component instance (its handles are an `InstanceHandles`): "may enter" is
    a core global (`adapters.enter_flag`), which fused adapters read and set too."""

    __slots__ = ("enter_flag", "word")

    def __init__(self, enter_flag: Global):
        self.enter_flag = enter_flag
        self.word = enter_flag.word  # its ctypes word: `value` is the flag


class ComponentFunction:
    """A lifted function of a component instance, called with Python values."""

    def __init__(self, component: "ComponentInstance", index: int, name: str):
        self.component = component
        self.index = index
        self.name = name
        self.type = component.record.lifted[index].type
        self._run, self._call = component.store.run_inside, component._call_lifted
        self._hosted = component.call_hosted if index in component.record.hosted else None

    def __call__(self, *args):
        if self._hosted is not None:
            return self._hosted(self.index, args)
        return self._run(self._call, self.index, args, False)  # as component.call_lifted, a frame less

    def __repr__(self) -> str:
        return f"<component function {self.name}: {self.type}>"


class ExportedInstance:
    """An instance a component exports: `exports` by name (functions, instances, resource types)."""

    def __init__(self, exports: dict):
        self.exports = exports

    def __getitem__(self, name: str):
        return self.exports[name]


class ComponentInstance:
    def __init__(self, image, host: dict | None):
        self.image = image
        self.path = image.image.path
        try:
            self.record, self.resource_types = ComponentRecord.from_json(image.meta.component)
        except (RecordError, KeyError, TypeError, ValueError) as e:
            raise ImageError(f"bad component record: {e}", file=self.path) from None
        host = host or {}
        record = self.record
        if record.unlinkable is not None:
            raise UnlinkableError(record.unlinkable, file=self.path)
        self.registry = ResourceRegistry()
        self.handles = [InstanceHandles(self.registry, f"component instance {i}") for i in range(len(record.instances))]
        # The flags of each component instance are core globals, shared with the fused adapters.
        store = self.store = image.store
        self.states = [_InstanceState(Global(store, I32, True, 1)) for _ in record.instances]
        self._leave_flags = [Global(store, I32, True, 1) for _ in self.handles]
        for handles, flag in zip(self.handles, self._leave_flags):
            handles.leave_flag = flag.word
        self._lifted_states = [self.states[lifted.instance] for lifted in record.lifted]
        self._lifted_calls: dict[int, tuple] = {}  # lifted index -> what `_lifted_call` found
        self._hosted_calls: dict[int, tuple] = {}  # the same for `call_hosted`: `_hosted_call`
        self._options_made: dict[tuple, CanonOptions] = {}  # see _options
        self._staging: HostStaging | None = None  # see _host_staging
        self.locked = False
        _check_imports(record.imports, host, (), self.path, self.resource_types,
                       [rt for rt, r in zip(self.resource_types, record.resources) if r.owner == HOST])
        for rt, r in zip(self.resource_types, record.resources):
            if r.owner == HOST:
                given = _find(host, r.import_path)
                _check_same_resource(host, given, r, self.path)
                if isinstance(given, HostResourceType):
                    drop = given.drop
                elif isinstance(given, ct.ResourceType):
                    drop = _close_foreign  # the rep is the other component's `Resource`
                else:
                    drop = _drop_host_object
                self.registry.define(rt, None, drop)
            else:
                self.registry.define(rt, self.handles[r.owner], None if r.dtor is None else self._destructor(r.dtor))
        self.namespace = namespace = {}
        for i, lowered in enumerate(record.lowered):
            namespace[lowered_item(i)] = self._lowered(i, lowered, host)
        for i, builtin in enumerate(record.builtins):
            namespace[builtin_item(i)] = self._builtin(builtin)
        for i, (state, flag) in enumerate(zip(self.states, self._leave_flags)):
            namespace[enter_flag(i)] = state.enter_flag
            namespace[leave_flag(i)] = flag
        namespace[leave_flag(HOST)] = self._host_leave_flag = Global(store, I32, True, 1)  # the host may always leave
        namespace.update(trap_functions())
        from ..loader.instance import GraphInstance
        self.core_instances: dict = {}
        try:
            self.graph = GraphInstance(image, {NAMESPACE: namespace}, instances=self.core_instances,
                                       raw_host=True)
        except Trap:
            self.locked = True
            raise
        self.exports = self._exports(record.exports, ())

    # --- the core side ---
    def core(self, ref):
        if ref.instance == NAMESPACE:
            return _HostItem(self.namespace[ref.export])
        instance = self.core_instances.get(ref.instance)
        item = None if instance is None else instance.exports.get(ref.export)
        if item is None:
            raise Trap(f"core item {ref.instance}.{ref.export} used before its instance exists")
        return item

    def _options(self, options, instance: int) -> CanonOptions:
        """The `CanonOptions` of canon options record `options` used by component instance
        `instance`: made at their first use (the core items exist by then) and kept."""
        key = (id(options), instance)  # (the record, which holds `options`, lives as long as self)
        made = self._options_made.get(key)
        if made is None:
            made = self._options_made[key] = self._make_options(options, instance)
        return made

    def _make_options(self, options, instance: int) -> CanonOptions:
        memory = None if options.memory is None else self.core(options.memory)
        realloc = post_return = None
        if options.realloc is not None:
            realloc = self.core(options.realloc).bits_caller(first=True)
        if options.post_return is not None:
            call_post_return = self.core(options.post_return).bits_caller()
            post_return = lambda flat: call_post_return(*flat)  # noqa: E731
        return CanonOptions(memory, realloc, options.encoding, post_return, self.handles[instance])

    def _destructor(self, ref):
        def destroy(rep):
            self.core(ref).call_bits([rep])
        return destroy

    # --- calls into a component instance ---
    def call_lifted(self, index: int, args, relay: bool = False):
        # Realloc, the export and post-return run under one claim of the store (each core call
        # then takes call_entry's cheap path); another thread is refused before any flag changes.
        return self.store.run_inside(self._call_lifted, index, args, relay)

    def _call_lifted(self, index: int, args, relay: bool):
        if not relay and index in self.record.hosted:
            return self.call_hosted(index, args)
        return self._call_plain(index, args, relay)

    def _call_plain(self, index: int, args, relay: bool):
        """A call of lifted function `index` through the canonical ABI in Python
        (`FunctionAbi.call`): realloc, the core function and post-return, each a core call."""
        may_enter = self._lifted_states[index].word
        if self.locked or not may_enter.value:
            raise Trap("cannot enter component instance")
        may_enter.value = 0
        try:
            call = self._lifted_calls.get(index) or self._lifted_call(index)
            abi, opts, core_call = call
            return abi.call(opts, args, core_call, relay)
        except Trap:
            self.locked = True
            raise
        finally:
            may_enter.value = 1

    def call_hosted(self, index: int, args):
        """A call from the host of lifted function `index`, which has a hosted adapter
        (`record.hosted`): one core call, whose entry claims the store; the adapter keeps the
        flags itself."""
        if self.locked:
            raise Trap("cannot enter component instance")
        abi, call_bits = self._hosted_calls.get(index) or self._hosted_call(index)
        try:
            return abi.call_hosted(self._staging or self._host_staging(), args, call_bits)
        except Trap:
            self.locked = True
            raise

    def _lifted_call(self, index: int) -> tuple:
        """What every plain call of lifted function `index` uses, found at its first call (the
        core instances exist by then) and kept: its `FunctionAbi`, its `CanonOptions` and the
        `bits_caller` of its core function."""
        lifted = self.record.lifted[index]
        call = (function_abi(lifted.type), self._options(lifted.options, lifted.instance),
                self.core(lifted.core).bits_caller())
        self._lifted_calls[index] = call
        return call

    def _hosted_call(self, index: int) -> tuple:
        """`_lifted_call` for a hosted call: the `FunctionAbi` and the adapter's `bits_caller`."""
        call = (function_abi(self.record.lifted[index].type), self.core(self.record.hosted[index]).bits_caller())
        self._hosted_calls[index] = call
        return call

    def _host_staging(self) -> HostStaging:
        """The host's side of hosted calls, made at the first one (the core instances exist by then)."""
        if self._staging is None:
            top = self.core(CoreRef(STAGING_INSTANCE, STAGING_TOP))
            self._staging = HostStaging(self.core(CoreRef(STAGING_INSTANCE, STAGING_MEMORY)), top.word)
        return self._staging

    # --- calls out of a component instance: the host namespace ---
    def _lowered(self, index: int, lowered, host: dict):
        abi = function_abi(lowered.type)
        handles = self.handles[lowered.instance]
        if lowered.host is not None:
            target = self._host_function(lowered.host, host)
            convert = _has_handles_in(lowered.type)

            def call_host(*flat):
                if not handles.may_leave:
                    raise Trap("cannot leave component instance")
                opts = self._options(lowered.options, lowered.instance)
                args, cx = abi.lift_args(opts, flat)
                if convert:
                    args = [_map_handles(a, t, _to_host_object) for a, (_, t) in zip(args, lowered.type.params)]
                result = target(*args)
                if convert and lowered.type.result is not None:
                    result = _map_handles(result, lowered.type.result, self._from_host_object)
                return abi.lower_results(cx, result, flat)
            return call_host

        callee = self.record.lifted[lowered.lifted].instance

        def call_lifted(*flat):
            if not handles.may_leave:
                raise Trap("cannot leave component instance")
            if callee == lowered.instance:  # a component calling its own export: re-entrance
                raise Trap("cannot enter component instance")
            opts = self._options(lowered.options, lowered.instance)
            args, cx = abi.lift_args(opts, flat, relay=True)
            result = self.call_lifted(lowered.lifted, args, relay=True)
            return abi.lower_results(cx, result, flat)
        return call_lifted

    def _from_host_object(self, value, t):
        # A `Resource` is passed on as it is, except that of another resource type for a resource
        # the host provides: that is another loaded component's (the host gave a resource type of
        # its exports), and it is the representation of the host resource here.
        if isinstance(value, Resource) and (value.type is t.resource or self.registry.definer(t.resource) is not None):
            return value
        if isinstance(t, ct.Own):
            return self.registry.new(t.resource, value)
        return Resource(t.resource, value, own=False, registry=self.registry)

    def _host_function(self, path: tuple[str, ...], host: dict):
        item = host
        for i, name in enumerate(path):
            items = _items(item)
            item = None if items is None else _lookup(items, name)
            if item is None:
                raise UnlinkableError(f"component import {'/'.join(path[:i + 1])} is not provided by the host",
                                      file=self.path)
        if not callable(item) or isinstance(item, HostResourceType):
            raise UnlinkableError(f"component import {'/'.join(path)}: the host gave {type(item).__name__}, "
                                  f"not a function", file=self.path)
        return item

    def _builtin(self, builtin):
        handles = self.handles[builtin.instance]
        rt = self.resource_types[builtin.resource]
        if builtin.op == "resource.new":
            return lambda rep: handles.resource_new(rt, rep)
        if builtin.op == "resource.rep":
            return lambda index: handles.resource_rep(rt, index & 0xFFFFFFFF)

        def drop(index):
            handles.resource_drop(rt, index & 0xFFFFFFFF)
        return drop

    # --- exports ---
    def _exports(self, exports: dict, path: tuple) -> dict:
        out = {}
        for name, (kind, body) in exports.items():
            if kind == "func":
                out[name] = ComponentFunction(self, body, "/".join(path + (name,)))
            elif kind == "instance":
                out[name] = ExportedInstance(self._exports(body, path + (name,)))
            else:
                out[name] = self.resource_types[body]
        return out

    def __getitem__(self, name: str):
        return self.exports[name]


class _HostItem:
    """An item of the host namespace called as a core function is (a lowered function lifted again)."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def call_bits(self, args: list[int]) -> list[int]:
        results = self.fn(*args)
        return [] if results is None else list(results) if isinstance(results, (list, tuple)) else [results]

    def bits_caller(self, first: bool = False):
        """As `loader.runtime.Function.bits_caller`."""
        if first:
            return lambda *args: self.call_bits(args)[0]
        return lambda *args: self.call_bits(args)


def _has_handles_in(ft: ct.FuncType) -> bool:
    return any(_has_handles(t) for _, t in ft.params) or (ft.result is not None and _has_handles(ft.result))


def _to_host_object(value, t):
    """A host function gets the Python object behind a handle (moved out of an own)."""
    if isinstance(value, Resource):
        return value.take() if value.own else value.rep
    return value


def _close_foreign(resource: Resource) -> None:
    """The guest dropped its last handle of another component's resource: drop it there."""
    resource.close()


def _drop_host_object(obj) -> None:
    drop = getattr(obj, "drop", None)
    if callable(drop):
        drop()


def instantiate_component(image, host: dict | None = None) -> ComponentInstance:
    return ComponentInstance(image, host)


__all__ = ["ComponentFunction", "ComponentInstance", "ComponentValueError", "ExportedInstance", "HostResourceType",
           "instantiate_component"]
