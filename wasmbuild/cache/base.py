"""What every cache gives the build: the `ObjectCache` interface and its `CacheStats`.

`check_key(key)` takes a key and gives nothing, raising ValueError unless it is what `keys.py`
makes (64 lowercase hex digits), so a key can never name a path outside a cache or a URL outside
a server's prefix.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field, fields

_KEY = re.compile(r"[0-9a-f]{64}")


def check_key(key: str) -> None:
    if not (isinstance(key, str) and _KEY.fullmatch(key)):
        raise ValueError(f"not a cache key: {key!r}")


@dataclass
class CacheStats:
    """What a cache did during one build. `hits`, `misses`, `writes` and `damaged` (entries that
    failed verification, counted as misses too) are the local store's; the `remote_*` counts are
    the remote tier's, and `remote` is its URL (without credentials), None without a remote tier.
    `warnings` are one-line messages, each given once, in the order they happened; the library
    never prints them: its caller does (the command line as `wasmbuild: warning: MESSAGE`)."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    damaged: int = 0
    remote_hits: int = 0
    remote_misses: int = 0
    remote_uploads: int = 0
    remote_errors: int = 0
    warnings: list[str] = field(default_factory=list)
    remote: str | None = None

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def __add__(self, other: CacheStats) -> CacheStats:
        """The statistics of two tiers of one cache, as one."""
        total = CacheStats(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                              for f in fields(self) if isinstance(getattr(self, f.name), int)})
        for message in self.warnings + other.warnings:
            total.warn(message)
        total.remote = self.remote or other.remote
        return total


class ObjectCache(abc.ABC):
    """Compiled objects by key. `get` and `get_many` give only entries that were verified to be
    the ones stored under the key asked for; a fault (a damaged entry, an unwritable directory, a
    server that is down) is a miss or a skipped write plus a warning in `stats`, never an error.

    `stats` holds this build's statistics so far; `finish()` ends the build (waits for uploads,
    keeps the size limit), gives its statistics and starts the next build's afresh."""

    keyed: bool = True  # False: the cache keeps nothing, so the build need not compute keys
    stats: CacheStats

    @abc.abstractmethod
    def get(self, key: str) -> bytes | None:
        """The object stored under `key`, or None."""

    def get_many(self, keys) -> dict[str, bytes]:
        """{key: object} for those of `keys` that are stored (a remote tier is asked in parallel)."""
        found = {}
        for key in dict.fromkeys(keys):
            payload = self.get(key)
            if payload is not None:
                found[key] = payload
        return found

    @abc.abstractmethod
    def put(self, key: str, payload: bytes) -> None:
        """Store `payload` under `key` (a remote tier uploads it in the background)."""

    @abc.abstractmethod
    def finish(self) -> CacheStats:
        """End of a build: flush uploads, enforce the size limit; this build's statistics."""
