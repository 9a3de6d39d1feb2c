"""The host module `spectest` that the WebAssembly spec scripts import from.

`spectest_exports(store)` gives its items: the `print*` functions (which do nothing but accept their
arguments), the immutable globals `global_i32` = 666, `global_i64` = 666, `global_f32` = 666.6,
`global_f64` = 666.6, a funcref `table` with limits 10..20, the same with 64-bit addresses as `table64`
(memory64), a `memory` with limits 1..2 and a `shared_memory` with limits 1..2 (threads).
"""

from __future__ import annotations

import struct

from .contract.types import F32, F64, FUNCREF, I32, I64, FuncType
from .loader.runtime import Global, Memory, Store, Table

_PRINTS = {
    "print": (), "print_i32": (I32,), "print_i64": (I64,), "print_f32": (F32,), "print_f64": (F64,),
    "print_i32_f32": (I32, F32), "print_f64_f64": (F64, F64),
}


def spectest_exports(store: Store) -> dict:
    exports: dict = {}
    for name, params in _PRINTS.items():
        exports[name] = store.host_function(FuncType(params, ()), lambda *args: None, raw=True)
    exports["global_i32"] = Global(store, I32, False, 666)
    exports["global_i64"] = Global(store, I64, False, 666)
    exports["global_f32"] = Global(store, F32, False, struct.unpack("<I", struct.pack("<f", 666.6))[0])
    exports["global_f64"] = Global(store, F64, False, struct.unpack("<Q", struct.pack("<d", 666.6))[0])
    exports["table"] = Table(store, FUNCREF, 10, 20)
    exports["table64"] = Table(store, FUNCREF, 10, 20, addr=I64)
    exports["memory"] = Memory(store, 1, 2)
    exports["shared_memory"] = Memory(store, 1, 2, shared=True)
    return exports
