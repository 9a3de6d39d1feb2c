"""Tests of tables at run time: growing them natively, and the table-size limit.

Takes WebAssembly text (assembled by WABT's wat2wasm through conftest's `wat`, built with test_run's
helpers) and `wasmbuild.loader.runtime.Table` used directly from Python.

Gives pass/fail on:
- `table.grow` and `Table.grow` doing no Python work per element (counted with `sys.settrace`),
  allocating no Python memory for the slots (`tracemalloc`), and committing no resident memory
  when the new elements are null;
- grown tables working everywhere: null and non-null initial values (funcref and externref),
  `call_indirect`, `table.get/set/fill/copy/init` over the grown part, Python's `get_raw`/`set_raw`,
  a table shared with an importing instance; the TableDef's elements pointer never moving;
- the limit (`TABLE_ELEMENTS_LIMIT` elements per table and for all the tables of a store together):
  growing beyond it answers -1 and changes nothing, a table whose minimum exceeds it is refused with
  an error that names it, whether it is declared by a module or made from Python.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tracemalloc

import pytest
from conftest import wat
from test_run import build_file, load_wat

import wasmbuild
from wasmbuild.contract import abi
from wasmbuild.contract.types import EXTERNREF, FUNCREF
from wasmbuild.errors import WasmbuildError
from wasmbuild.loader.runtime import TABLE_ELEMENTS_LIMIT, Store, Table

LIMIT = TABLE_ELEMENTS_LIMIT

TABLES_WAT = r"""
(module
  (type $v (func (result i32)))
  (table $t (export "tab") 0 funcref)
  (table $u 0 funcref)
  (table $e 0 externref)
  (elem $seg func $f $f)
  (func $f (export "f") (type $v) i32.const 42)
  (func (export "grow_null") (param i32) (result i32) ref.null func local.get 0 table.grow $t)
  (func (export "grow_func") (param i32) (result i32) ref.func $f local.get 0 table.grow $t)
  (func (export "grow_u") (param i32) (result i32) ref.null func local.get 0 table.grow $u)
  (func (export "size") (result i32) table.size $t)
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect $t (type $v))
  (func (export "is_null") (param i32) (result i32) local.get 0 table.get $t ref.is_null)
  (func (export "set_f") (param i32) local.get 0 ref.func $f table.set $t)
  (func (export "fill") (param i32 i32) local.get 0 ref.func $f local.get 1 table.fill $t)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.copy $t $t)
  (func (export "init") (param i32) local.get 0 i32.const 0 i32.const 2 table.init $t $seg)
  (func (export "grow_ext") (param externref i32) (result i32) local.get 0 local.get 1 table.grow $e)
  (func (export "get_ext") (param i32) (result externref) local.get 0 table.get $e)
)
"""

IMPORTER_WAT = r"""
(module
  (import "a" "tab" (table 0 funcref))
  (func (export "size") (result i32) table.size 0)
  (func (export "grow") (param i32) (result i32) ref.null func local.get 0 table.grow 0)
  (func (export "is_null") (param i32) (result i32) local.get 0 table.get 0 ref.is_null)
)
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> str:
    """TABLES_WAT built once; each test loads it into a fresh store (a table never shrinks)."""
    return build_file(tmp_path_factory.mktemp("tables"), wat(TABLES_WAT))


def _elements_pointer(table: Table) -> int:
    return ctypes.c_uint64.from_address(table.tabledef + abi.TAB_ELEMS).value


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _python_lines(call) -> int:
    """How many Python lines run during `call()`, in every frame (also in callbacks from native code)."""
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


# --- growing natively -----------------------------------------------------------------------------

def test_grow_runs_no_python_per_element(image):
    e = wasmbuild.load(image).exports
    tab = e["tab"]
    n = 100_000
    assert _python_lines(lambda: e["grow_func"](n)) < 500  # one call of the grow hook, not n
    assert _python_lines(lambda: e["grow_null"](n)) < 500
    f_ref = tab.get_raw(0)
    assert _python_lines(lambda: tab.grow(n, f_ref)) < 500
    assert tab.size == 3 * n
    assert tab.get_raw(n - 1) == f_ref and tab.get_raw(n) == 0 and tab.get_raw(3 * n - 1) == f_ref


def test_grow_allocates_no_python_memory(image):
    e = wasmbuild.load(image).exports
    n = 1 << 22  # twice: 64 MiB of slots
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        assert e["grow_null"](n) == 0 and e["grow_func"](n) == n
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes of Python memory to grow a table by {2 * n} elements"
    assert e["is_null"](n - 1) == 1 and e["call"](n) == 42 and e["call"](2 * n - 1) == 42


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux's /proc/self/statm")
def test_null_growth_commits_no_memory(image):
    e = wasmbuild.load(image).exports
    before = _resident_bytes()
    assert e["grow_null"](LIMIT) == 0  # 80 MB of slots that read as null without being written
    grown = _resident_bytes() - before
    assert grown < 16 << 20, f"{grown} bytes became resident growing a table by {LIMIT} null elements"
    assert e["size"]() == LIMIT and e["is_null"](LIMIT - 1) == 1


def test_grown_table_works_everywhere(image):
    e = wasmbuild.load(image).exports
    tab = e["tab"]
    elements = _elements_pointer(tab)
    assert e["grow_func"](3) == 0 and e["grow_null"](1 << 20) == 3
    n = tab.size
    assert n == e["size"]() == 3 + (1 << 20)
    assert _elements_pointer(tab) == elements  # the slots never move, as linear memory does not
    assert [e["call"](i) for i in range(3)] == [42] * 3 and e["is_null"](3) == 1
    with pytest.raises(wasmbuild.loader.runtime.Trap, match="uninitialized element"):
        e["call"](n - 1)
    e["set_f"](n - 1)
    assert e["call"](n - 1) == 42
    e["fill"](n - 100, 10)
    assert e["call"](n - 91) == 42 and e["is_null"](n - 90) == 1
    e["copy"](1000, n - 100, 10)
    assert e["call"](1009) == 42 and e["is_null"](1010) == 1
    e["init"](n - 2)
    assert e["call"](n - 2) == 42
    tab.set_raw(n - 3, tab.get_raw(0))  # from Python
    assert e["call"](n - 3) == 42
    tab.set_raw(0, 0)
    assert e["is_null"](0) == 1
    with pytest.raises(wasmbuild.loader.runtime.Trap, match="undefined element"):
        e["call"](n)

    marker = object()
    assert e["grow_ext"](marker, 5000) == 0 and e["grow_ext"](None, 1) == 5000
    assert e["get_ext"](0) is marker and e["get_ext"](4999) is marker and e["get_ext"](5000) is None


def test_shared_table_grows_for_both_instances(image, tmp_path):
    a = wasmbuild.load(image)
    tab = a.exports["tab"]
    assert a.exports["grow_func"](10) == 0
    b = load_wat(tmp_path, IMPORTER_WAT, imports={"a": {"tab": tab}}, store=a.image.store).exports
    assert b["size"]() == 10 and b["grow"](1 << 16) == 10
    assert a.exports["size"]() == tab.size == 10 + (1 << 16)
    assert tab.grow(5, tab.get_raw(0)) == 10 + (1 << 16) and b["size"]() == 15 + (1 << 16)
    assert a.exports["call"](tab.size - 1) == 42 and b["is_null"](10) == 1 and b["is_null"](9) == 0


def test_python_tables_grow_with_any_initial_value():
    store = Store()
    tab = Table(store, EXTERNREF, 1000, 3000, init=7)
    assert tab.size == 1000 and tab.get_raw(0) == tab.get_raw(999) == 7
    assert tab.grow(2000, 9) == 1000 and tab.get_raw(1000) == tab.get_raw(2999) == 9 and tab.get_raw(999) == 7
    assert tab.grow(1) == -1 and tab.size == 3000
    assert tab.grow(0) == 3000
    with pytest.raises(ValueError):
        tab.grow(-1)


# --- the limit ------------------------------------------------------------------------------------

def test_growing_beyond_the_limit_answers_minus_one(image):
    e = wasmbuild.load(image).exports
    tab = e["tab"]
    assert e["grow_func"](2) == 0
    for delta in (LIMIT - 1, LIMIT, 0x7FFFFFFF, 0xFFFFFFFF):
        assert e["grow_null"](delta) == -1 and tab.grow(delta) == -1
    assert tab.size == 2 and e["call"](1) == 42  # nothing changed
    assert e["grow_null"](LIMIT - 3) == 2 and e["grow_null"](2) == -1 and e["grow_null"](1) == LIMIT - 1
    assert e["size"]() == LIMIT and e["grow_null"](1) == -1 and tab.grow(1, tab.get_raw(0)) == -1
    e["set_f"](LIMIT - 1)
    assert e["call"](LIMIT - 1) == 42


def test_the_limit_covers_all_tables_of_a_store(image):
    e = wasmbuild.load(image).exports
    assert e["grow_null"](LIMIT - 5) == 0
    assert e["grow_u"](6) == -1 and e["grow_u"](5) == 0 and e["grow_u"](1) == -1
    assert e["grow_ext"]("x", 1) == -1
    # another image in the same store: its table cannot be made
    store = e["tab"].store
    with pytest.raises(WasmbuildError, match=f"other tables hold {LIMIT} elements"):
        Table(store, FUNCREF, 1, None)
    assert Table(store, FUNCREF, 0, None).grow(1) == -1


def test_a_minimum_beyond_the_limit_is_refused(tmp_path):
    with pytest.raises(WasmbuildError, match=f"{LIMIT + 1} elements exceed the limit of {LIMIT} elements per table"):
        load_wat(tmp_path, f"(module (table {LIMIT + 1} funcref))")
    with pytest.raises(WasmbuildError, match=f"exceed the limit of {LIMIT}"):
        Table(Store(), FUNCREF, LIMIT + 1, None)
    store = Store()
    big = Table(store, FUNCREF, LIMIT - 10, None)
    with pytest.raises(WasmbuildError, match=f"other tables hold {LIMIT - 10} elements"):
        load_wat(tmp_path, "(module (table 11 funcref))", store=store)
    assert Table(store, FUNCREF, 10, None).size == 10 and big.grow(1) == -1
    with pytest.raises(WasmbuildError, match="exceed the table's maximum of 5"):
        Table(store, FUNCREF, 6, 5)
