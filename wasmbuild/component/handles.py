"""Handle tables and resources of the canonical ABI (design-mvp/CanonicalABI.md, synchronous part).

Takes resource types (`types.ResourceType`) and the Python callables a runtime supplies for their
destructors; gives:

- `HandleTable`: the handles of one component instance. Index 0 is never used; a freed index goes
  on a free list and the most recently freed one is reused first; at most `MAX_TABLE_LENGTH` entries.
- `ResourceHandle`: one table entry: its resource type, its `rep` (the i32 a guest gave
  `resource.new`, or for a resource defined by the host any Python object), whether it owns the
  resource, the `BorrowScope` a borrow handle belongs to and how many calls it is lent to (`lends`).
- `ResourceRegistry`: per store, which instance defines each resource type (None: the host) and
  its destructor (a Python callable taking the rep; the runtime wraps a guest's destructor).
- `InstanceHandles`: the resource state of one component instance: its table, the resource types it
  defines, its `may_leave` flag (cleared while realloc and post-return run), and the three canon
  built-ins `resource_new`, `resource_rep`, `resource_drop`.
- `BorrowScope`: one call across the boundary: for a call into a lifted export (a task) the number of
  borrow handles given to the callee and not yet dropped; for a call out through a lowered import (a
  subtask) the handles lent for its duration, and the host `Resource` views made for them.
- `Resource`: the host's view of a resource: what Python code gets for `own<R>`/`borrow<R>` and
  passes for them. An owned one is dropped by `close()` (which runs the destructor) or moved into a
  component by passing it as `own<R>`; a borrowed one is valid only during the call that lent it.

Misuse by a guest is a `Trap` with the spec tests' wording ("unknown handle index 5", "cannot remove
owned resource while borrowed", ...); misuse by Python code (a dropped resource, the wrong type) is
`canonical.ComponentValueError`. Re-entrance checks (`may_enter`) are the runtime's.
"""

from __future__ import annotations

from typing import Any, Callable

from .types import ResourceType

MAX_TABLE_LENGTH = (1 << 28) - 1


def _trap(message: str) -> Exception:
    from .canonical import trap
    return trap(message)


def _value_error(message: str) -> Exception:
    from .canonical import ComponentValueError
    return ComponentValueError(message)


class ResourceHandle:
    """One entry of a handle table (see the module docstring)."""

    __slots__ = ("rt", "rep", "own", "scope", "lends")

    def __init__(self, rt: ResourceType, rep: Any, own: bool, scope: BorrowScope | None = None):
        self.rt = rt
        self.rep = rep
        self.own = own
        self.scope = scope  # borrow handles: the call whose end they must not outlive
        self.lends = 0  # calls this handle is lent to right now (its rep passed as a borrow)

    def __repr__(self) -> str:
        return f"ResourceHandle({self.rt}, rep={self.rep!r}, {'own' if self.own else 'borrow'}, lends={self.lends})"


class HandleTable:
    """The handles of one component instance: index -> `ResourceHandle` (index 0 is never valid)."""

    def __init__(self):
        self.entries: list[ResourceHandle | None] = [None]
        self.free: list[int] = []

    def __len__(self) -> int:
        """How many handles are live."""
        return len(self.entries) - 1 - len(self.free)

    def add(self, handle: ResourceHandle) -> int:
        if self.free:
            index = self.free.pop()
            self.entries[index] = handle
            return index
        index = len(self.entries)
        if index > MAX_TABLE_LENGTH:
            raise _trap(f"handle table full ({MAX_TABLE_LENGTH} handles)")
        self.entries.append(handle)
        return index

    def get(self, index: int) -> ResourceHandle:
        entries = self.entries
        if not 0 < index < len(entries) or entries[index] is None:
            raise _trap(f"unknown handle index {index}")
        return entries[index]

    def remove(self, index: int) -> ResourceHandle:
        handle = self.get(index)
        self.entries[index] = None
        self.free.append(index)
        return handle



class ResourceRegistry:
    """Per store: for each resource type, the instance that defines it (None for the host) and its
    destructor (a callable taking the rep, or None). A type nobody defined here has neither."""

    def __init__(self):
        self._definer: dict[ResourceType, InstanceHandles | None] = {}
        self._dtors: dict[ResourceType, Callable[[Any], Any] | None] = {}

    def define(self, rt: ResourceType, definer: InstanceHandles | None, dtor: Callable[[Any], Any] | None = None):
        """Record that `definer` (None: the host) defines `rt`, with destructor `dtor`."""
        self._definer[rt] = definer
        self._dtors[rt] = dtor
        if definer is not None:
            definer.defines.add(rt)

    def destructor(self, rt: ResourceType) -> Callable[[Any], Any] | None:
        return self._dtors.get(rt)

    def definer(self, rt: ResourceType) -> InstanceHandles | None:
        return self._definer.get(rt)

    def new(self, rt: ResourceType, rep: Any) -> Resource:
        """An owned host resource of a type the host defines, `rep` being any Python object."""
        return Resource(rt, rep, own=True, registry=self)

    def drop_rep(self, rt: ResourceType, rep: Any) -> None:
        """Run `rt`'s destructor (if it has one) on `rep`: an owned resource ends."""
        dtor = self._dtors.get(rt)
        if dtor is not None:
            dtor(rep)


class BorrowScope:
    """One call across the component boundary (see the module docstring)."""

    __slots__ = ("borrows", "lenders", "views")

    def __init__(self):
        self.borrows = 0  # task: borrow handles in the callee's table, not yet dropped
        self.lenders: list[ResourceHandle] | None = None  # subtask: handles lent for the call
        self.views: list[Resource] | None = None  # subtask: host views of the lent handles
        # (the lists are made when first needed: most calls move no handles)

    def lend(self, handle: ResourceHandle) -> None:
        handle.lends += 1
        if self.lenders is None:
            self.lenders = []
        self.lenders.append(handle)

    def add_view(self, view: Resource) -> None:
        if self.views is None:
            self.views = []
        self.views.append(view)

    def check_borrows_dropped(self) -> None:
        """At the end of a call into a component: every borrow it was given must have been dropped."""
        if self.borrows:
            raise _trap(f"borrow handles still remain at the end of the call ({self.borrows} not dropped)")

    def release(self) -> None:
        """At the end of a call out of a component: the lent handles are free again, and the host's
        views of them are no longer valid."""
        if self.lenders:
            for handle in self.lenders:
                handle.lends -= 1
            self.lenders = None
        if self.views:
            for view in self.views:
                view._state = _EXPIRED
            self.views = None


class _Flag:
    """A flag held in Python, read and set as its `value`, as the ctypes word of a core global
    (the loader's `Global.word`) is."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 1


class InstanceHandles:
    """The resource state of one component instance (see the module docstring)."""

    def __init__(self, registry: ResourceRegistry, name: str = "component instance"):
        self.registry = registry
        self.name = name
        self.table = HandleTable()
        self.defines: set[ResourceType] = set()
        # The component layer gives the `word` of a core global (the fused adapters' flag).
        self.leave_flag = _Flag()

    @property
    def may_leave(self) -> bool:
        return self.leave_flag.value != 0

    @may_leave.setter
    def may_leave(self, value: bool) -> None:
        self.leave_flag.value = 1 if value else 0

    def __repr__(self) -> str:
        return f"InstanceHandles({self.name}, {len(self.table)} handles)"

    def get_typed(self, index: int, rt: ResourceType) -> ResourceHandle:
        """The handle at `index`, which must be of resource type `rt`."""
        handle = self.table.get(index)
        if handle.rt is not rt:
            expected, found = self._kind(rt), self._kind(handle.rt)
            raise _trap(f"handle index {index} used with the wrong type, expected {expected} but found "
                        f"{'a different ' if found == expected else ''}{found} (`{rt}`, `{handle.rt}`)")
        return handle

    def _kind(self, rt: ResourceType) -> str:
        return "host-defined resource" if self.registry.definer(rt) is None else "guest-defined resource"

    def _check_may_leave(self) -> None:
        if not self.may_leave:
            raise _trap("cannot leave component instance")

    def resource_new(self, rt: ResourceType, rep: int) -> int:
        """`canon resource.new rt`: a new owning handle of `rep`."""
        self._check_may_leave()
        return self.table.add(ResourceHandle(rt, rep & 0xFFFFFFFF, own=True))

    def resource_rep(self, rt: ResourceType, index: int) -> int:
        """`canon resource.rep rt`: the rep behind handle `index` (own or borrow)."""
        return self.get_typed(index, rt).rep

    def resource_drop(self, rt: ResourceType, index: int) -> None:
        """`canon resource.drop rt`: drop handle `index`; an owning one ends the resource (its
        destructor runs, whoever defines it), a borrowed one ends that borrow."""
        self._check_may_leave()
        handle = self.get_typed(index, rt)
        if handle.lends:
            raise _trap("cannot remove owned resource while borrowed")
        self.table.remove(index)
        if handle.own:
            self.registry.drop_rep(rt, handle.rep)
        else:
            handle.scope.borrows -= 1

    # -- moving handles across the boundary (used by canonical.py) --------------------------------

    def take_own(self, index: int, rt: ResourceType) -> Any:
        """Lift `own<rt>` from handle `index`: the handle leaves the table; its rep."""
        handle = self.get_typed(index, rt)
        if not handle.own:
            raise _trap(f"handle index {index} is a borrow, an own handle was expected")
        if handle.lends:
            raise _trap("cannot remove owned resource while borrowed")
        self.table.remove(index)
        return handle.rep

    def lend(self, index: int, rt: ResourceType, scope: BorrowScope) -> Any:
        """Lift `borrow<rt>` from handle `index` for the call of `scope`: its rep."""
        handle = self.get_typed(index, rt)
        scope.lend(handle)
        return handle.rep

    def give_own(self, rt: ResourceType, rep: Any) -> int:
        """Lower `own<rt>` into this instance: a new owning handle."""
        return self.table.add(ResourceHandle(rt, rep, own=True))

    def give_borrow(self, rt: ResourceType, rep: Any, scope: BorrowScope) -> int:
        """Lower `borrow<rt>` into this instance for the call of `scope`: the rep itself when this
        instance defines `rt`, else a borrow handle that must be dropped before the call returns."""
        if rt in self.defines:
            return rep
        scope.borrows += 1
        return self.table.add(ResourceHandle(rt, rep, own=False, scope=scope))


_LIVE, _DROPPED, _MOVED, _EXPIRED = "live", "dropped", "moved into a component", "expired (its call returned)"


class Resource:
    """The host's view of a resource (see the module docstring). `type` is its `ResourceType`;
    `rep` the representation (raises once the resource is dropped, moved or its borrow ended)."""

    def __init__(self, type: ResourceType, rep: Any, own: bool = True, registry: ResourceRegistry | None = None):
        self.type = type
        self._rep = rep
        self.own = own
        self.registry = registry
        self._state = _LIVE

    @property
    def alive(self) -> bool:
        return self._state is _LIVE

    @property
    def rep(self) -> Any:
        if self._state is not _LIVE:
            raise _value_error(f"resource `{self.type}` is {self._state}")
        return self._rep

    def take(self) -> Any:
        """Move an owned resource out (into a component): its rep; this view is dead afterwards."""
        if not self.own:
            raise _value_error(f"a borrowed resource `{self.type}` cannot be passed as own<{self.type}>")
        rep = self.rep
        self._state = _MOVED
        return rep

    def _give_back(self) -> None:
        """A move into a component that failed part way: the resource is the host's again."""
        if self._state is _MOVED:
            self._state = _LIVE

    def close(self) -> None:
        """Drop an owned resource (its destructor runs); end the view of a borrowed one. Closing a
        resource that is no longer live does nothing."""
        if self._state is not _LIVE:
            return
        self._state = _DROPPED if self.own else _EXPIRED
        if self.own and self.registry is not None:
            self.registry.drop_rep(self.type, self._rep)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        shown = repr(self._rep) if self._state is _LIVE else self._state
        return f"Resource({self.type}, {'own' if self.own else 'borrow'}, {shown})"
