"""Cache keys: a key changes exactly when the machine code of what it names could change.

`function_key(context, defined_index, code, settings)` gives (key, references); it hashes, for one
function:
  - its instructions, with every reference to something outside the function replaced by its
    index-free name from `translate/refs.py` (`call.0`, `global.1`, ...) and block type indices
    replaced by the types themselves; byte offsets are left out;
  - its own type and local declarations;
  - for each referenced item, in first-use order, what its code depends on and what its validity
    depends on: the callee's or `call_indirect`'s function type, the global's type and mutability,
    the table's element type and address type, whether a `ref.func` target is declared, the element
    segment's type, whether a data segment exists; and the address types of the module's memories;
  - the compile settings (optimisation level, target triple, CPU, features) and the compiler
    fingerprint: the versions of wasmbuild, LLVM and llvmlite and a hash of the source of the code
    generator, so any change to the compiler invalidates old entries.
So editing a function changes its key only; inserting or removing an unrelated function, global or
type changes no key; changing a function's type changes its key and its callers'. Because the key
covers every fact validation looks at, a cache hit may skip validation as well as compilation.

`support_key(kind, signature, settings)` names the runtime helpers and trampolines.

`KeyMemo` spares a rebuild the work of decoding unchanged bodies to compute their keys: for one
module *context* (the module's bytes outside the code section, the settings and the compiler
fingerprint) it remembers, in the cache, which key and references each body (by its bytes' hash
and its function's type index) had. Any change to the context starts a new memo, so a remembered
key is always the one `function_key` would compute.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os

from .contract import opcodes as ops
from .binary.decode import FunctionCode
from .compile import CompileSettings, toolchain_versions
from .translate import refs as R
from .translate.refs import instruction_references, scan_references

KEY_FORMAT = 1

_BLOCK_OPS = frozenset((ops.BLOCK, ops.LOOP, ops.IF, ops.TRY))


@functools.lru_cache(maxsize=None)
def compiler_fingerprint() -> str:
    """Versions plus a hash of the sources that decide what machine code is made."""
    h = hashlib.sha256(repr(sorted(toolchain_versions().items())).encode())
    h.update(str(KEY_FORMAT).encode())
    package = os.path.dirname(os.path.abspath(__file__))
    sources = [os.path.join(folder, f) for folder in ("contract", "translate")
               for f in sorted(os.listdir(os.path.join(package, folder))) if f.endswith(".py")]
    sources += ["compile.py", "keys.py", os.path.join("binary", "decode.py"), os.path.join("valid", "validate.py")]
    for rel in sources:
        with open(os.path.join(package, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + f.read())
    return h.hexdigest()


def _settings_repr(settings: CompileSettings) -> bytes:
    return repr(sorted(settings.describe().items())).encode()


def function_key(ctx, defined_index: int, code: FunctionCode, settings: CompileSettings):
    """The key of defined function `defined_index` of the module validated into `ctx`, and the
    function's `References` (which the key is computed from)."""
    n_imp = ctx.num_imported_funcs
    types = ctx.types
    references = scan_references(code.instrs, n_imp)
    name = references.name
    normalised = []
    append = normalised.append
    indexes = ops.INDEXES
    for op, imm, _offset in code.instrs:
        if op == ops.TRY_TABLE:
            bt, clauses = imm
            if type(bt) is tuple:
                bt = types[bt[1]] if bt[1] < len(types) else "missing type"
            imm = (bt, tuple((kind, None if tag is None else name(R.TAG, tag), label)
                             for kind, tag, label in clauses))
        elif op in indexes:
            found = instruction_references(op, imm, n_imp)
            if found[0][0] is None:  # the immediate is the index
                imm = name(found[0][1], imm)
            else:
                named = list(imm)
                for part, kind, index in found:
                    named[part] = name(kind, index)
                imm = tuple(named)
        elif op in _BLOCK_OPS and type(imm) is tuple:
            imm = types[imm[1]] if imm[1] < len(types) else "missing type"
        append((op, imm))
    facts = []
    for kind, index in references.items:
        if kind in (R.CALL, R.IMPORT):
            fact = types[ctx.funcs[index]] if index < len(ctx.funcs) else None
        elif kind == R.GLOBAL:
            fact = ctx.globals[index] if index < len(ctx.globals) else None
        elif kind == R.TABLE:
            fact = (ctx.tables[index].elem, ctx.tables[index].addr) if index < len(ctx.tables) else None
        elif kind == R.TYPE:
            fact = types[index] if index < len(types) else None
        elif kind == R.FUNCREF:
            fact = (index < len(ctx.funcs), index in ctx.refs)
        elif kind == R.ELEM:
            fact = ctx.elem_types[index] if index < len(ctx.elem_types) else None
        elif kind == R.TAG:
            fact = types[ctx.tags[index]] if index < len(ctx.tags) and ctx.tags[index] < len(types) else None
        else:  # data
            fact = index < ctx.num_datas
        facts.append((kind, fact))
    h = hashlib.sha256()
    h.update(compiler_fingerprint().encode())
    h.update(_settings_repr(settings))
    own = types[ctx.funcs[n_imp + defined_index]]
    memories = tuple(mt.addr for mt in ctx.memories)  # how many, and their address types
    h.update(repr((own, code.locals, memories, facts)).encode())
    h.update(repr(normalised).encode())
    return h.hexdigest(), references


def support_key(kind: str, signature: str | None, settings: CompileSettings) -> str:
    h = hashlib.sha256()
    h.update(compiler_fingerprint().encode())
    h.update(_settings_repr(settings))
    h.update(f"support:{kind}:{signature}".encode())
    return h.hexdigest()


class KeyMemo:
    """body hash and type index -> (function key, references) for one module context, kept in
    `cache` (an `ObjectCache`: with a remote tier, the memo is shared like any other entry)."""

    def __init__(self, cache, module, settings: CompileSettings):
        self.cache = cache
        self.module = module
        data = module.data
        h = hashlib.sha256(b"keymemo:" + compiler_fingerprint().encode() + _settings_repr(settings))
        if module.code_section is not None:
            start, end = module.code_section
            h.update(data[:start])
            h.update(data[end:])
        else:
            h.update(data)
        self.key = h.hexdigest()
        raw = cache.get(self.key)
        try:
            self.entries = json.loads(raw) if raw else {}
        except ValueError:
            self.entries = {}
        self.used: dict[str, list] = {}  # the entries of this build's functions: what is saved
        self._last: tuple[int, str] | None = None

    def _id(self, j: int) -> str:
        if self._last is not None and self._last[0] == j:
            return self._last[1]
        body = self.module.bodies[j]
        digest = hashlib.sha256(self.module.data[body.offset:body.end]).hexdigest()
        self._last = (j, f"{digest}:{self.module.func_type_indices[j]}")
        return self._last[1]

    def lookup(self, j: int):
        ident = self._id(j)
        entry = self.entries.get(ident)
        if entry is None:
            return None
        self.used[ident] = entry
        key, items = entry
        return key, [(kind, index) for kind, index in items]

    def remember(self, j: int, key: str, items) -> None:
        self.used[self._id(j)] = [key, [list(item) for item in items]]

    def save(self) -> None:
        """Keep the memo of this build's functions only (so it does not grow with every edit)."""
        if self.used != self.entries:
            self.cache.put(self.key, json.dumps(self.used, sort_keys=True, separators=(",", ":")).encode())
