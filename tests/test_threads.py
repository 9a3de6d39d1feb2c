"""Stores and threads: one thread at a time inside a Store, Stores side by side.

Takes one image (built with WABT's wat2wasm and `build_image`) whose `park` export calls a host
function that blocks until the test lets it go, so a thread can be held inside wasm code of a Store
while another thread acts. Gives tests that
- a second thread calling into a Store that a thread is inside gets `StoreBusyError` (not a wrong trap
  or a crash: the Store's trap landing pad and stack limit belong to the thread inside), through any
  export and any instance of that Store, while the thread inside goes on, calls back into the Store
  from its host function, and returns normally; afterwards the other thread can use the Store;
- threads inside different Stores at the same time each trap and recurse as if alone.
Each waiting step has a timeout, so a broken implementation fails instead of hanging.
"""

from __future__ import annotations

import os
import threading

import pytest
from conftest import wat

import wasmbuild
from wasmbuild.build import ModuleInput, build_image
from wasmbuild.compile import CompileSettings
from wasmbuild.loader.runtime import StoreBusyError, Trap

WAIT = 60  # seconds any step may wait for another thread

PARK_WAT = r"""
(module
  (import "env" "park" (func $park (param i32) (result i32)))
  (func (export "park") (param i32) (result i32) (i32.add (call $park (local.get 0)) (i32.const 1)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "unreachable") (result i32) unreachable)
  (func $recurse (export "recurse") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $recurse (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
)
"""


@pytest.fixture(scope="module")
def park_image(tmp_path_factory):
    image, _report = build_image([ModuleInput("park", wat(PARK_WAT))], CompileSettings())
    path = os.path.join(str(tmp_path_factory.mktemp("threads")), "park.img")
    with open(path, "wb") as f:
        f.write(image)
    return path


class Parking:
    """A host function `park(n)` that says it has been entered, waits to be released, then runs
    `then(n)` (on the parked thread, inside the Store) and returns its result."""

    def __init__(self, then=lambda n: n):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.then = then

    def __call__(self, n):
        self.entered.set()
        if not self.release.wait(WAIT):
            raise TimeoutError("never released")
        return self.then(n)


def _outcome(fn, *args):
    """What calling `fn` gives: its result, or the message of the trap it raised."""
    try:
        return fn(*args)
    except Trap as e:
        return e.message


def _start(target) -> tuple[threading.Thread, list]:
    out: list = []

    def run():
        try:
            out.append(target())
        except BaseException as e:  # noqa: BLE001 - reported by the test
            out.append(e)
    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_a_second_thread_is_refused_while_one_is_inside_a_store(park_image):
    holder = {}
    parking = Parking(then=lambda n: holder["inst"].exports["add"](n, 100))  # calls back in
    inst = holder["inst"] = wasmbuild.load(park_image, {"env": {"park": parking}})
    sibling = wasmbuild.load(park_image, {"env": {"park": Parking()}}, store=inst.image.store)
    thread, out = _start(lambda: inst.exports["park"](5))
    try:
        assert parking.entered.wait(WAIT), "the first thread never got inside"
        for fn, args in ((inst.exports["unreachable"], ()), (inst.exports["recurse"], (10_000_000,)),
                         (inst.exports["add"], (1, 2)), (sibling.exports["add"], (1, 2))):
            with pytest.raises(StoreBusyError) as info:
                fn(*args)
            assert str(info.value).startswith("store: another thread is running wasm code in this store")
            assert "\n" not in str(info.value)
    finally:
        parking.release.set()
        thread.join(WAIT)
    assert out == [106]  # park(5) = add(5, 100) + 1, the nested call made inside the store
    # The store is free again, for this thread, with its own traps and stack limit.
    assert _outcome(inst.exports["unreachable"]) == "unreachable"
    assert _outcome(inst.exports["recurse"], 10_000_000) == "call stack exhausted"
    assert inst.exports["recurse"](1000) == 1000 and sibling.exports["add"](2, 2) == 4


def test_threads_inside_different_stores_at_once_trap_as_if_alone(park_image):
    both_inside = threading.Barrier(2, timeout=WAIT)
    seen = {}

    def then(n):
        both_inside.wait()  # both threads are inside their stores now, and stay there
        e = inst[n].exports
        seen[n] = (_outcome(e["unreachable"]), _outcome(e["recurse"], 10_000_000), e["recurse"](1000))
        both_inside.wait()
        return n
    parkings = [Parking(then), Parking(then)]
    inst = [wasmbuild.load(park_image, {"env": {"park": p}}) for p in parkings]  # a store each
    assert inst[0].image.store is not inst[1].image.store
    for p in parkings:
        p.release.set()
    started = [_start(lambda i=i: inst[i].exports["park"](i)) for i in range(2)]
    for thread, _out in started:
        thread.join(WAIT)
    assert [out for _thread, out in started] == [[1], [2]]
    expected = ("unreachable", "call stack exhausted", 1000)
    assert seen == {0: expected, 1: expected}
