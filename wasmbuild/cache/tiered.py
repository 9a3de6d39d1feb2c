"""The combination of a local store and a remote tier, as one `ObjectCache`.

`TieredCache(local, remote)` takes two caches (a `LocalStore` and a `RemoteTier`): `get` asks the
local one, then the remote one, and keeps what the remote gave in the local one; `get_many` does
the same for many keys, asking the remote for all the local misses at once (in parallel); `put`
stores locally and uploads. `stats` and `finish()` give the two tiers' statistics as one.
"""

from __future__ import annotations

from .base import CacheStats, ObjectCache


class TieredCache(ObjectCache):
    def __init__(self, local: ObjectCache, remote: ObjectCache):
        self.local = local
        self.remote = remote

    @property
    def stats(self) -> CacheStats:
        return self.local.stats + self.remote.stats

    def get(self, key: str) -> bytes | None:
        payload = self.local.get(key)
        if payload is None:
            payload = self.remote.get(key)
            if payload is not None:
                self.local.put(key, payload)
        return payload

    def get_many(self, keys) -> dict[str, bytes]:
        keys = list(dict.fromkeys(keys))
        found = self.local.get_many(keys)
        fetched = self.remote.get_many([key for key in keys if key not in found])
        for key, payload in fetched.items():
            self.local.put(key, payload)
        found.update(fetched)
        return found

    def put(self, key: str, payload: bytes) -> None:
        self.local.put(key, payload)
        self.remote.put(key, payload)

    def finish(self) -> CacheStats:
        return self.local.finish() + self.remote.finish()
