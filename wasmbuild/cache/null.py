"""The null cache, for `--no-cache`: it keeps nothing and finds nothing.

`NullCache()` is an `ObjectCache` whose `keyed` is False, so the build need not compute keys for
it; `get` gives None, `put` does nothing, `finish()` gives empty statistics.
"""

from __future__ import annotations

from .base import CacheStats, ObjectCache


class NullCache(ObjectCache):
    keyed = False

    def __init__(self):
        self.stats = CacheStats()

    def get(self, key: str) -> None:
        return None

    def put(self, key: str, payload: bytes) -> None:
        pass

    def finish(self) -> CacheStats:
        return CacheStats()
