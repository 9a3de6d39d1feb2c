"""The local store: a directory of verified entries, pruned least recently used first.

`LocalStore(directory=None, max_bytes=None)` is an `ObjectCache` on `directory` (default
`default_cache_dir()`: `$WASMBUILD_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmbuild`, else
`~/.cache/wasmbuild`) with a size limit of `max_bytes` (default `$WASMBUILD_CACHE_MAX_SIZE`, else
2 GiB; a value that is not a size is a WasmbuildError). Each entry is one file
`objects/<2 hex>/<key>` holding the magic `WBCACHE2`, the SHA-256 of the magic, the key and the
payload, then the payload:
  - writes go through `fsutil.atomic_write`, so a reader sees a whole entry or none, and two
    builds sharing the directory at once are safe;
  - reads verify the magic and the digest. Because the digest covers the key, an entry copied or
    renamed under another key fails like a damaged or truncated one: it is a miss and a warning
    (once), and is replaced when the build stores that key again; it can never make a wrong
    image. Entries of the earlier format (`WBCACHE1`, whose digest did not cover the key) are
    quiet misses, replaced the same way;
  - a hit refreshes the entry's modification time (at most once an hour), the age that pruning
    goes by;
  - a directory that cannot be written is a warning (once per build); the build goes on without
    storing anything.
`finish()` prunes to 80% of the limit when a build that stored entries left the store above it.
`usage()`, `clear()` and `prune(max_bytes)` serve `wasmbuild cache stats|clear|prune`;
`parse_size('500M')` reads the sizes they take.
"""

from __future__ import annotations

import hashlib
import os
import re
import time

from ..errors import WasmbuildError
from ..fsutil import atomic_write
from .base import CacheStats, ObjectCache, check_key

MAGIC = b"WBCACHE2"
OLD_MAGIC = b"WBCACHE1"
_HEADER = len(MAGIC) + 32
DEFAULT_MAX_BYTES = 2 << 30
_TOUCH_AFTER = 3600  # seconds


def default_cache_dir() -> str:
    env = os.environ.get("WASMBUILD_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "wasmbuild")


def parse_size(text: str) -> int:
    """'500M', '2G', '1024' -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?\s*", text)
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 500M or 2G)")
    factor = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * factor)


def _digest(key: str, payload: bytes) -> bytes:
    h = hashlib.sha256(MAGIC + key.encode("ascii"))
    h.update(payload)
    return h.digest()


class LocalStore(ObjectCache):
    def __init__(self, directory: str | None = None, max_bytes: int | None = None):
        self.directory = os.path.abspath(directory or default_cache_dir())
        self.objects = os.path.join(self.directory, "objects")
        if max_bytes is None:
            env = os.environ.get("WASMBUILD_CACHE_MAX_SIZE")
            try:
                max_bytes = parse_size(env) if env else DEFAULT_MAX_BYTES
            except ValueError as e:
                raise WasmbuildError(f"$WASMBUILD_CACHE_MAX_SIZE: {e}") from None
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._writable = True

    def _path(self, key: str) -> str:
        check_key(key)
        return os.path.join(self.objects, key[:2], key)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
                mtime = os.fstat(f.fileno()).st_mtime
        except OSError:
            self.stats.misses += 1
            return None
        payload = data[_HEADER:]
        if data[:len(MAGIC)] != MAGIC or _digest(key, payload) != data[len(MAGIC):_HEADER]:
            self.stats.misses += 1
            if data[:len(OLD_MAGIC)] != OLD_MAGIC:
                self.stats.damaged += 1
                self.stats.warn(f"damaged cache entry {path} ignored (it will be rebuilt)")
            return None
        if time.time() - mtime > _TOUCH_AFTER:
            try:
                os.utime(path)
            except OSError:
                pass
        self.stats.hits += 1
        return payload

    def put(self, key: str, payload: bytes) -> None:
        path = self._path(key)
        if not self._writable:
            return
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write(path, MAGIC + _digest(key, payload) + payload)
        except OSError as e:
            self._writable = False
            self.stats.warn(f"cannot write to the cache {self.directory} ({e.strerror or e}); "
                            f"building without caching")
            return
        self.stats.writes += 1

    def finish(self) -> CacheStats:
        stats, self.stats = self.stats, CacheStats()
        if stats.writes and self._writable and self.usage()[1] > self.max_bytes:
            self.prune(int(self.max_bytes * 0.8))
        self._writable = True
        return stats

    # --- maintenance ---
    def _entries(self):
        """(path, size, mtime) of every entry, and of leftover temporary files."""
        if not os.path.isdir(self.objects):
            return
        for sub in os.scandir(self.objects):
            if not sub.is_dir():
                continue
            for e in os.scandir(sub.path):
                try:
                    st = e.stat()
                except OSError:
                    continue
                yield e.path, st.st_size, st.st_mtime

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) in the store."""
        count = size = 0
        for _path, n, _mtime in self._entries():
            count += 1
            size += n
        return count, size

    def clear(self) -> int:
        removed = 0
        for path, _n, _mtime in list(self._entries()):
            try:
                os.unlink(path)
                removed += 1
            except OSError:
                pass
        return removed

    def prune(self, max_bytes: int) -> tuple[int, int]:
        """Delete least recently used entries until the store holds at most `max_bytes`.
        Gives (entries removed, bytes left)."""
        entries = sorted(self._entries(), key=lambda e: e[2])
        total = sum(n for _p, n, _m in entries)
        removed = 0
        for path, n, _mtime in entries:
            if total <= max_bytes:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= n
            removed += 1
        return removed, total
