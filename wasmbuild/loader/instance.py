"""Load images and instantiate their modules.

`load_image(store, data, path)` reads an image (`image.read_image`), checks that it was made for
this machine, maps its code (`CodeMemory`) and registers its trampolines with the store, giving a
`LoadedImage`. `LoadedImage.instantiate(host)` interprets the image's initializers (import,
instantiate, export; see graph.py) and gives a `GraphInstance` whose `exports` are the graph's.
Each `Instance` it makes resolves its module's imports (from earlier instances or the host,
checked against the import's type: "unknown import", "incompatible import type"), fills the
VMContext as laid out by `link/layout.py`, evaluates global initialisers, applies active element
and data segments in order (a segment out of bounds traps, keeping what earlier segments wrote),
and runs the start function.
"""

from __future__ import annotations

import ctypes
import platform

from ..contract import abi
from ..contract.types import functype_from_json, parse_sig_key, parse_type
from ..errors import LinkError, UnlinkableError
from ..image import Image, ImageError, read_image
from ..link.layout import VMLayout
from .codemem import CodeMemory, host_machine
from .runtime import Function, Global, Memory, Store, Table, Trap, _buffer, _peek64, _poke64, entry_function

class LoadedImage:
    def __init__(self, store: Store, image: Image):
        self.store = store
        self.image = image
        self.meta = image.meta
        self.types = [functype_from_json(t) for t in self.meta["types"]]
        try:
            self.code = CodeMemory(image.linked)
        except LinkError as e:
            raise ImageError(f"cannot load the code: {e.reason}", file=image.path) from None
        store.keep_alive.append(self)
        self._data_buf = ctypes.create_string_buffer(image.data, max(len(image.data), 1))
        self.data_base = ctypes.addressof(self._data_buf)
        for entry in self.meta["trampolines"]["entry"]:
            ft = parse_sig_key(entry["signature"])
            if ft not in store.entries:
                store.entries[ft] = entry_function(self.code.address(entry["symbol"]))
        for host in self.meta["trampolines"]["host"]:
            ft = parse_sig_key(host["signature"])
            store.host_trampolines.setdefault(ft, self.code.address(host["symbol"]))

    def instantiate(self, host: dict | None = None) -> "GraphInstance":
        """Run the image's initializers; `host` provides the host imports as
        {namespace: {name: Function | Table | Memory | Global | Python callable}}."""
        return GraphInstance(self, host or {})


def load_image(store: Store, data: bytes, path: str | None = None) -> LoadedImage:
    image = read_image(data, path)
    target = image.header["target"]
    host = host_machine()
    if target["machine"] != host:
        raise ImageError(f"image is for {target['triple']} ({target['machine']}); this machine is "
                         f"{platform.machine()}: it cannot run here (build it again without "
                         f"--target, or run it on a {target['machine']} machine)", file=path)
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
        meta = image.meta["modules"][module_index]
        self.meta = meta
        self.name = name or meta["name"]
        layout = VMLayout.from_json(meta["layout"])
        self._vm_buf, vm = _buffer(layout.size)
        self.vmctx = vm
        store.keep_alive.append(self)
        _poke64(vm + abi.VM_RUNTIME, store.runtime)
        types = [image.types[t] for t in meta["types"]]
        for i, slot in enumerate(layout.type_ids):
            _poke64(vm + slot, store.type_id(types[i]))

        # Index spaces, imports first.
        self.functions: list[Function] = []
        self.tables: list[Table] = []
        self.memories: list[Memory] = []
        self.globals: list[Global] = []
        for imp in meta["imports"]:
            item = self._resolve_import(imp, imports, image)
            kind = imp["kind"]
            if kind == "func":
                self.functions.append(item)
            elif kind == "table":
                self.tables.append(item)
            elif kind == "memory":
                self.memories.append(item)
            else:
                self.globals.append(item)
        code = image.code
        for sym, type_id in meta["functions"]:
            self.functions.append(Function(store, image.types[type_id], code=code.address(sym), vmctx=vm))
        for f, slot in layout.import_slots.items():
            fcode, fvm = self.functions[f].native
            _poke64(vm + slot + abi.IMP_CODE, fcode)
            _poke64(vm + slot + abi.IMP_VMCTX, fvm)
        for f, slot in layout.funcrefs.items():
            func = self.functions[f]
            fcode, fvm = func.native
            rec = vm + slot
            _poke64(rec + abi.FR_CODE, fcode)
            _poke64(rec + abi.FR_TYPE, store.type_id(func.type))
            _poke64(rec + abi.FR_VMCTX, fvm)
            if not func.funcref:
                func.funcref = rec
        self._funcref_slots = layout.funcrefs
        for t in meta["tables"]:
            self.tables.append(Table(store, parse_type(t["elem"]), t["min"], t["max"]))
        for mem in meta["memories"]:
            self.memories.append(Memory(store, mem["min"], mem["max"]))
        for g in meta["globals"]:
            t = parse_type(g["type"])
            self.globals.append(Global(store, t, g["mutable"], self.eval_const(g["init"])))
        for i, slot in enumerate(layout.global_ptrs):
            _poke64(vm + slot, self.globals[i].cell)
        for i, slot in enumerate(layout.table_ptrs):
            _poke64(vm + slot, self.tables[i].tabledef)
        if self.memories:
            _poke64(vm + abi.VM_MEMORY, self.memories[0].memdef)

        self.exports = {}
        for e in meta["exports"]:
            space = {"func": self.functions, "table": self.tables, "memory": self.memories,
                     "global": self.globals}[e["kind"]]
            item = space[e["index"]]
            if e["kind"] == "func" and not item.funcref and e["index"] in self._funcref_slots:
                item.funcref = vm + self._funcref_slots[e["index"]]
            self.exports[e["name"]] = item

        # Segments: element segments, then data segments, in order; then the start function.
        self._segment_arrays = []
        for seg, slot in zip(meta["elems"], layout.elem_slots):
            values = [self.eval_const(item) for item in seg["items"]]
            arr = (ctypes.c_uint64 * max(len(values), 1))(*values)
            self._segment_arrays.append(arr)
            _poke64(vm + slot + abi.SEG_PTR, ctypes.addressof(arr))
            _poke64(vm + slot + abi.SEG_LEN, len(values) if seg["mode"] == "passive" else 0)
        for seg, slot in zip(meta["datas"], layout.data_slots):
            start, length = seg["data"]
            _poke64(vm + slot + abi.SEG_PTR, image.data_base + start)
            _poke64(vm + slot + abi.SEG_LEN, length if seg["mode"] == "passive" else 0)
        for seg in meta["elems"]:
            if seg["mode"] == "active":
                table = self.tables[seg["table"]]
                offset = self.eval_const(seg["offset"])
                values = [self.eval_const(item) for item in seg["items"]]
                if offset + len(values) > table.size:
                    raise Trap("out of bounds table access", abi.TRAP_TABLE_OOB)
                for i, v in enumerate(values):
                    table.set_raw(offset + i, v)
        for seg in meta["datas"]:
            if seg["mode"] == "active":
                memory = self.memories[seg["memory"]]
                offset = self.eval_const(seg["offset"])
                start, length = seg["data"]
                if offset + length > memory.size:
                    raise Trap("out of bounds memory access", abi.TRAP_MEMORY_OOB)
                memory.write(offset, image.image.data[start:start + length])
        if meta["start"] is not None:
            self.functions[meta["start"]].call_bits([])

    def _resolve_import(self, imp: dict, imports, image: LoadedImage):
        key = (imp["module"], imp["name"])
        item = imports.get(key) if hasattr(imports, "get") else None
        where = f"{imp['module']}.{imp['name']}"
        if item is None:
            raise UnlinkableError(f"unknown import {where}")
        kind = imp["kind"]
        if kind == "func":
            if not isinstance(item, Function) or item.type != image.types[imp["type"]]:
                raise UnlinkableError(f"incompatible import type for {where}")
        elif kind == "table":
            if not isinstance(item, Table) or item.elem != parse_type(imp["elem"]) \
                    or not _limits_match(item.size, item.maximum, imp["min"], imp["max"]):
                raise UnlinkableError(f"incompatible import type for {where}")
        elif kind == "memory":
            if not isinstance(item, Memory) \
                    or not _limits_match(item.pages, item.maximum, imp["min"], imp["max"]):
                raise UnlinkableError(f"incompatible import type for {where}")
        else:
            if not isinstance(item, Global) or item.valtype != parse_type(imp["type"]) \
                    or item.mutable != imp["mutable"]:
                raise UnlinkableError(f"incompatible import type for {where}")
        return item

    def eval_const(self, expr: list) -> int:
        """Evaluate a constant expression (as stored in the image) to raw bits."""
        (op, imm), = expr
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


def _limits_match(size: int, maximum: int | None, want_min: int, want_max: int | None) -> bool:
    if size < want_min:
        return False
    if want_max is None:
        return True
    return maximum is not None and maximum <= want_max


del _peek64


class GraphInstance(_Exports):
    """An instantiated image: the instances its initializers made and the graph's exports (items,
    or whole instances)."""

    def __init__(self, image: LoadedImage, host):
        self.image = image
        self.instances: dict[str, Instance] = {}
        self.exports: dict[str, object] = {}
        store = image.store
        for init in image.meta["initializers"]:
            op = init["op"]
            if op == "instantiate":
                module_index = init["module"]
                meta = image.meta["modules"][module_index]
                items = {}
                for imp, (source, owner, name) in zip(meta["imports"], init["imports"]):
                    if source == "instance":
                        item = self.instances[owner].exports.get(name)
                    else:
                        item = host.get(owner, {}).get(name)
                        if imp["kind"] == "func" and callable(item) \
                                and not isinstance(item, (Function, Table, Memory, Global)):
                            item = store.host_function(image.types[imp["type"]], item)
                    items[(imp["module"], imp["name"])] = item
                self.instances[init["instance"]] = Instance(image, module_index, items, init["instance"])
            elif op == "export":
                instance = self.instances[init["instance"]]
                self.exports[init["name"]] = instance if init["item"] is None else instance.exports[init["item"]]
