"""The error types wasmbuild raises for bad input, one per phase.

Every error a user can cause derives from `WasmbuildError`; the command line prints its message and
exits 1 instead of showing a traceback. Phases follow the WebAssembly reference interpreter:
decoding raises `MalformedError`, validation `InvalidError`, linking `UnlinkableError`, running `Trap`.
Each carries the bare `reason` (the spec's wording where the spec tests name one) and where it happened.
"""

from __future__ import annotations


class WasmbuildError(Exception):
    """Base class of all errors caused by the user's input rather than by a bug in wasmbuild."""

    phase = "error"

    def __init__(self, reason: str, *, file: str | None = None, offset: int | None = None,
                 func: int | None = None):
        self.reason = reason
        self.file = file
        self.offset = offset
        self.func = func
        super().__init__(reason)

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.func is not None:
            parts.append(f"func {self.func}")
        if self.offset is not None:
            parts.append(f"offset {self.offset:#x}")
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{self.phase}: {self.reason}"
        return f"{where}: {text}" if where else text

    def __reduce__(self):
        # Keep the location fields when an error crosses a process boundary (the compile pool).
        return (self.__class__, (self.reason,), self.__dict__)

    def located(self, *, file: str | None = None, func: int | None = None):
        """Fill in location fields that the raiser did not know; returns self for `raise ... from`."""
        if self.file is None and file is not None:
            self.file = file
        if self.func is None and func is not None:
            self.func = func
        return self


class MalformedError(WasmbuildError):
    """The bytes are not a WebAssembly binary (decoding failed)."""

    phase = "malformed"


class InvalidError(WasmbuildError):
    """The module decodes but breaks a validation rule."""

    phase = "invalid"


class UnlinkableError(WasmbuildError):
    """Imports cannot be satisfied: unknown import or incompatible type."""

    phase = "unlinkable"


class ToolError(WasmbuildError):
    """An external tool (such as WABT's wat2wasm) is missing or rejected its input."""

    phase = "tool"


class LinkError(WasmbuildError):
    """Compiled objects cannot be linked or loaded: a malformed object, a duplicate or unresolvable
    symbol, an unsupported relocation, a value that does not fit its field, a foreign machine."""

    phase = "link"
