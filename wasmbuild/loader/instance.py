"""Load images and instantiate their modules.

`load_image(store, data, path)` reads an image (`image.read_image`), checks that it was made for
this machine, maps its code (`CodeMemory`) and registers its trampolines with the store, giving a
`LoadedImage`. `LoadedImage.instantiate(host)` interprets the image's initializers (the
`contract.records` ImportStep, InstantiateStep and ExportStep; see graph.py) and gives a
`GraphInstance` whose `exports` are the graph's. Each `Instance` it makes resolves its module's
imports (from earlier instances or the host, checked against the import's type by
`contract.matching`: "unknown import", "incompatible import type"), fills the VMContext as laid out
by `link/layout.py`, evaluates global initialisers, applies active element and data segments in
order (a segment out of bounds traps, keeping what earlier segments wrote), and runs the start
function.
"""

from __future__ import annotations

import ctypes
import operator
import platform

from ..contract import abi
from ..contract.matching import import_mismatch
from ..contract.records import INSTANCE, ExportStep, ImportRecord, InstantiateStep, ModuleRecord
from ..contract.types import (EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, EXTERN_TAG, I32, GlobalType, Limits,
                              MemoryType, TableType)
from ..errors import LinkError, UnlinkableError
from ..image import Image, ImageError, read_image
from . import signals
from .codemem import CodeMemory, host_machine
from .runtime import (EXN_COLLECT, Function, Global, Memory, Store, Table, Tag, Trap, _buffer, _poke64,
                      entry_function)


class LoadedImage:
    def __init__(self, store: Store, image: Image):
        self.store = store
        self.image = image
        self.meta = image.meta
        self.types = list(self.meta.types)
        self.guarded = image.header.bounds_checks == abi.BOUNDS_GUARD
        try:
            if self.guarded:
                signals.install(image.fault_object, image.header.target.machine)
            self.code = CodeMemory(image.linked, signals.resolve)
        except LinkError as e:
            raise ImageError(f"cannot load the code: {e.reason}", file=image.path) from None
        if self.guarded:
            token = signals.add_code(self.code.base, self.code.base + image.linked.text_size)
            self.code.on_close.append(lambda: signals.remove_code(token))
        store.keep_alive.append(self)
        self._data_buf = ctypes.create_string_buffer(image.data, max(len(image.data), 1))
        self.data_base = ctypes.addressof(self._data_buf)
        for entry in self.meta.entry_trampolines:
            if entry.signature not in store.entries:
                store.entries[entry.signature] = entry_function(self.code.address(entry.symbol))
        if store.exn_collect is None:
            store.exn_collect = EXN_COLLECT(self.code.address(abi.SYM_EXN_COLLECT))
        for host in self.meta.host_trampolines:
            store.host_trampolines.setdefault(host.signature, self.code.address(host.symbol))
            store.host_tail_trampolines.setdefault(host.signature, self.tail_entry(host.symbol))

    def tail_entry(self, symbol: str) -> int:
        """The address of the tail-call entry of function or host trampoline `symbol`."""
        return self.code.address(abi.tail_symbol(symbol))

    def instantiate(self, host: dict | None = None):
        """Run the image's initializers; `host` provides the host imports as
        {namespace: {name: Function | Table | Memory | Global | Python callable}}. An image of a
        component gives a `component.runtime.ComponentInstance` (its `host` as described there)."""
        if self.meta.component is not None:
            from ..component.runtime import instantiate_component
            return instantiate_component(self, host)
        return GraphInstance(self, host or {})


def load_image(store: Store, data: bytes, path: str | None = None) -> LoadedImage:
    image = read_image(data, path)
    target = image.header.target
    if target.machine != host_machine():
        raise ImageError(f"image is for {target.triple} ({target.machine}); this machine is "
                         f"{platform.machine()}: it cannot run here (build it again without "
                         f"--target, or run it on a {target.machine} machine)", file=path)
    return LoadedImage(store, image)


class _Exports:
    """`instance.name` reaches export `name` (as `instance.exports["name"]` does)."""

    exports: dict

    def __getattr__(self, name: str):
        exports = self.__dict__.get("exports")
        if exports is not None and name in exports:
            return exports[name]
        raise AttributeError(name)


class Instance(_Exports):
    def __init__(self, image: LoadedImage, module_index: int, imports, name: str | None):
        store = image.store
        self.store = store
        self.image = image
        meta: ModuleRecord = image.meta.modules[module_index]
        self.meta = meta
        self.name = name or meta.name
        layout = meta.layout
        self._vm_buf, vm = _buffer(layout.size)
        self.vmctx = vm
        store.keep_alive.append(self)
        _poke64(vm + abi.VM_RUNTIME, store.runtime)
        types = [image.types[t] for t in meta.type_ids]
        for i, slot in enumerate(layout.type_ids):
            _poke64(vm + slot, store.type_id(types[i]))

        # Index spaces, imports first.
        self.functions: list[Function] = []
        self.tables: list[Table] = []
        self.memories: list[Memory] = []
        self.globals: list[Global] = []
        self.tags: list[Tag] = []
        spaces = {EXTERN_FUNC: self.functions, EXTERN_TABLE: self.tables, EXTERN_MEMORY: self.memories,
                  EXTERN_GLOBAL: self.globals, EXTERN_TAG: self.tags}
        for imp in meta.imports:
            spaces[imp.kind].append(self._resolve_import(imp, imports, image))
        code = image.code
        for f in meta.functions:
            self.functions.append(Function(store, image.types[f.type_id], code=code.address(f.symbol), vmctx=vm,
                                           tail_code=image.tail_entry(f.symbol)))
        for f, slot in layout.import_slots.items():
            fcode, fvm, ftail = self.functions[f].native
            _poke64(vm + slot + abi.IMP_CODE, fcode)
            _poke64(vm + slot + abi.IMP_VMCTX, fvm)
            _poke64(vm + slot + abi.IMP_TAIL_CODE, ftail)
        for f, slot in layout.funcrefs.items():
            func = self.functions[f]
            fcode, fvm, ftail = func.native
            rec = vm + slot
            _poke64(rec + abi.FR_CODE, fcode)
            _poke64(rec + abi.FR_TYPE, store.type_id(func.type))
            _poke64(rec + abi.FR_VMCTX, fvm)
            _poke64(rec + abi.FR_TAIL_CODE, ftail)
            if not func.funcref:
                func.funcref = rec
        self._funcref_slots = layout.funcrefs
        for t in meta.tags:  # each instantiation makes its own tags
            self.tags.append(Tag(store, image.types[t]))
        for tag, slot in zip(self.tags, layout.tag_ptrs):
            _poke64(vm + slot, tag.address)
        for mem in meta.memories:
            self.memories.append(Memory(store, mem.limits.min, mem.limits.max, mem.addr, shared=mem.shared))
        if image.guarded:
            # The code of a guard image checks no bounds of 32-bit memories; 64-bit ones it checks.
            for i, memory in enumerate(self.memories):
                if memory.addr == I32 and not memory.guarded:
                    raise UnlinkableError(f"module {self.name}: its memory {i} has no guard region (the "
                                          f"{abi.GUARDED_RESERVATION >> 30} GiB address space reservation failed), "
                                          "which its code needs: build it with --bounds-checks explicit")
        for g in meta.globals:
            self.globals.append(Global(store, g.type.valtype, g.type.mutable, self.eval_const(g.init)))
        # Tables after the globals: an initialiser expression may read them.
        inits = meta.table_inits or (None,) * len(meta.tables)
        for t, init in zip(meta.tables, inits):
            self.tables.append(Table(store, t.elem, t.limits.min, t.limits.max,
                                     0 if init is None else self.eval_const(init), addr=t.addr))
        for i, slot in enumerate(layout.global_ptrs):
            _poke64(vm + slot, self.globals[i].cell)
        for i, slot in enumerate(layout.table_ptrs):
            _poke64(vm + slot, self.tables[i].tabledef)
        for i, memory in enumerate(self.memories):
            _poke64(vm + abi.vm_memory(i), memory.memdef)

        self.exports = {}
        for e in meta.exports:
            item = spaces[e.kind][e.index]
            if e.kind == EXTERN_FUNC and not item.funcref and e.index in self._funcref_slots:
                item.funcref = vm + self._funcref_slots[e.index]
            self.exports[e.name] = item

        # Segments: element segments, then data segments, in order; then the start function.
        self._segment_arrays = []
        for seg, slot in zip(meta.elems, layout.elem_slots):
            values = [self.eval_const(item) for item in seg.items]
            arr = (ctypes.c_uint64 * max(len(values), 1))(*values)
            self._segment_arrays.append(arr)
            _poke64(vm + slot + abi.SEG_PTR, ctypes.addressof(arr))
            _poke64(vm + slot + abi.SEG_LEN, len(values) if seg.mode == "passive" else 0)
        for seg, slot in zip(meta.datas, layout.data_slots):
            _poke64(vm + slot + abi.SEG_PTR, image.data_base + seg.start)
            _poke64(vm + slot + abi.SEG_LEN, seg.length if seg.mode == "passive" else 0)
        for seg in meta.elems:
            if seg.mode == "active":
                table = self.tables[seg.table]
                offset = self.eval_const(seg.offset)
                values = [self.eval_const(item) for item in seg.items]
                if offset + len(values) > table.size:
                    raise Trap("out of bounds table access", abi.TRAP_TABLE_OOB)
                for i, v in enumerate(values):
                    table.set_raw(offset + i, v)
        for seg in meta.datas:
            if seg.mode == "active":
                memory = self.memories[seg.memory]
                offset = self.eval_const(seg.offset)
                if offset + seg.length > memory.size:
                    raise Trap("out of bounds memory access", abi.TRAP_MEMORY_OOB)
                memory.write(offset, image.image.data[seg.start:seg.start + seg.length])
        if meta.start is not None:
            self.functions[meta.start].call_bits([])

    def _resolve_import(self, imp: ImportRecord, imports, image: LoadedImage):
        key = (imp.module, imp.name)
        item = imports.get(key) if hasattr(imports, "get") else None
        where = f"{imp.module}.{imp.name}"
        if item is None:
            raise UnlinkableError(f"unknown import {where}")
        want = image.types[imp.desc] if imp.kind in (EXTERN_FUNC, EXTERN_TAG) else imp.desc
        have_kind, have = _extern_type(item)
        if have_kind is None or import_mismatch(imp.kind, want, have_kind, have) is not None:
            raise UnlinkableError(f"incompatible import type for {where}")
        return item

    def eval_const(self, expr: list) -> int:
        """Evaluate a constant expression (as stored in the image) to raw bits."""
        if len(expr) == 1:
            return self._const_value(*expr[0])
        stack = []  # extended-const: values and i32/i64 add/sub/mul
        for op, imm in expr:
            arithmetic = _CONST_ARITHMETIC.get(op)
            if arithmetic is None:
                stack.append(self._const_value(op, imm))
            else:
                operation, mask = arithmetic
                rhs = stack.pop()
                stack.append(operation(stack.pop(), rhs) & mask)
        (value,) = stack
        return value

    def _const_value(self, op: str, imm) -> int:
        if op in ("i32.const",):
            return imm & 0xFFFFFFFF
        if op == "i64.const":
            return imm & 0xFFFFFFFFFFFFFFFF
        if op in ("f32.const", "f64.const"):
            return imm
        if op == "v128.const":
            return int.from_bytes(bytes.fromhex(imm), "little")
        if op == "ref.null":
            return 0
        if op == "ref.func":
            return self.vmctx + self._funcref_slots[imm]
        if op == "global.get":
            return self.globals[imm].bits
        raise ImageError(f"unsupported constant expression {op}")


_CONST_ARITHMETIC = {f"{t}.{name}": (operation, mask) for t, mask in (("i32", 0xFFFF_FFFF), ("i64", (1 << 64) - 1))
                     for name, operation in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul))}


def _extern_type(item) -> tuple[int | None, object]:
    """The kind and type of a live extern, its current size as the minimum of its limits."""
    if isinstance(item, Function):
        return EXTERN_FUNC, item.type
    if isinstance(item, Table):
        return EXTERN_TABLE, TableType(item.elem, Limits(item.size, item.maximum), item.addr)
    if isinstance(item, Memory):
        return EXTERN_MEMORY, MemoryType(Limits(item.pages, item.maximum), item.addr, item.shared)
    if isinstance(item, Global):
        return EXTERN_GLOBAL, GlobalType(item.valtype, item.mutable)
    if isinstance(item, Tag):
        return EXTERN_TAG, item.type
    return None, None


class GraphInstance(_Exports):
    """An instantiated image: the instances its initializers made and the graph's exports (items,
    or whole instances)."""

    def __init__(self, image: LoadedImage, host, instances: dict | None = None, raw_host: bool = False):
        # `instances`: a dict to fill as instances are made (the component layer reads it while the
        # initializers still run); `raw_host`: host callables take and give raw bits.
        self.image = image
        self.instances: dict[str, Instance] = {} if instances is None else instances
        self.exports: dict[str, object] = {}
        store = image.store
        for init in image.meta.initializers:
            if isinstance(init, InstantiateStep):
                meta = image.meta.modules[init.module]
                items = {}
                for imp, source in zip(meta.imports, init.imports):
                    if source.source == INSTANCE:
                        item = self.instances[source.owner].exports.get(source.item)
                    else:
                        item = host.get(source.owner, {}).get(source.item)
                        if imp.kind == EXTERN_FUNC and callable(item) \
                                and not isinstance(item, (Function, Table, Memory, Global, Tag)):
                            item = store.host_function(image.types[imp.desc], item, raw=raw_host)
                    items[(imp.module, imp.name)] = item
                self.instances[init.instance] = Instance(image, init.module, items, init.instance)
            elif isinstance(init, ExportStep):
                instance = self.instances[init.instance]
                self.exports[init.name] = instance if init.item is None else instance.exports[init.item]
