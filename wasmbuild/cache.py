"""The content-addressed cache of compiled code (per-function objects, runtime helpers, trampolines).

`Cache(directory)` stores blobs under their key (a hex digest made by `keys.py`). Each entry is one
file `objects/<2 hex>/<key>` holding a magic string, the SHA-256 of the payload and the payload:
  - writes go to a temporary file in the same directory and are `os.replace`d into place, so a
    reader sees a whole entry or none, and two builds sharing the cache at once are safe;
  - reads verify the magic and the hash; a damaged or truncated entry is reported once as a warning,
    removed, and treated as a miss, so it can never make a wrong image;
  - a hit refreshes the entry's modification time (at most once an hour), which is the age the
    least-recently-used pruning goes by.
`default_cache_dir()` is `$WASMBUILD_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmbuild`, else
`~/.cache/wasmbuild`. `stats()`, `clear()` and `prune(max_bytes)` serve `wasmbuild cache ...`;
`enforce_limit()` prunes to the automatic limit (`$WASMBUILD_CACHE_MAX_SIZE`, default 2 GiB) after
a build that added entries. With a `remote` (`remote.RemoteCache`), local misses are looked up
there (`fetch_remote`, verified, then kept locally) and new entries are uploaded (`put`).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
import time

MAGIC = b"WBCACHE1"
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


class Cache:
    def __init__(self, directory: str | None = None, max_bytes: int | None = None, remote=None):
        self.directory = os.path.abspath(directory or default_cache_dir())
        self.remote = remote  # a remote.RemoteCache shared by a team, or None
        self.objects = os.path.join(self.directory, "objects")
        if max_bytes is None:
            env = os.environ.get("WASMBUILD_CACHE_MAX_SIZE")
            max_bytes = parse_size(env) if env else DEFAULT_MAX_BYTES
        self.max_bytes = max_bytes
        self.writable = True
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.damaged = 0

    def _path(self, key: str) -> str:
        return os.path.join(self.objects, key[:2], key)

    def get(self, key: str, remote: bool = False) -> bytes | None:
        """The entry for `key`, or None. With `remote`, a local miss is looked up in the remote
        cache too (bulk lookups should use `fetch_remote`, which asks in parallel)."""
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
                mtime = os.fstat(f.fileno()).st_mtime
        except OSError:
            if remote and self.remote is not None:
                found = self.fetch_remote([key])
                if key in found:
                    self.hits += 1
                    return found[key]
            self.misses += 1
            return None
        payload = data[_HEADER:]
        if data[:len(MAGIC)] != MAGIC or hashlib.sha256(payload).digest() != data[len(MAGIC):_HEADER]:
            self.damaged += 1
            self.misses += 1
            print(f"wasmbuild: warning: damaged cache entry {path} ignored (it will be rebuilt)",
                  file=sys.stderr)
            try:
                os.unlink(path)
            except OSError:
                pass
            return None
        if time.time() - mtime > _TOUCH_AFTER:
            try:
                os.utime(path)
            except OSError:
                pass
        self.hits += 1
        return payload

    def fetch_remote(self, keys: list[str], threads: int = 8) -> dict[str, bytes]:
        """Ask the remote cache for `keys` (local misses), in parallel; what comes back has been
        verified against its digest, and is stored locally too."""
        if self.remote is None or not keys:
            return {}
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wasmbuild-fetch") as pool:
            blobs = dict(zip(keys, pool.map(self.remote.get, keys)))
        found = {k: v for k, v in blobs.items() if v is not None}
        for key, payload in found.items():
            self._write_local(key, payload)
        return found

    def put(self, key: str, payload: bytes) -> None:
        self._write_local(key, payload)
        if self.remote is not None:
            self.remote.put(key, payload)

    def _write_local(self, key: str, payload: bytes) -> None:
        if not self.writable:
            return
        path = self._path(key)
        directory = os.path.dirname(path)
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as e:
            self.writable = False
            print(f"wasmbuild: warning: cannot write to the cache {self.directory} ({e.strerror}); "
                  f"building without caching", file=sys.stderr)
            return
        self.writes += 1

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

    def stats(self) -> dict:
        count = size = 0
        for _path, n, _mtime in self._entries():
            count += 1
            size += n
        return {"directory": self.directory, "entries": count, "bytes": size, "limit": self.max_bytes}

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
        """Delete least recently used entries until the cache holds at most `max_bytes`.
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

    def finish(self) -> None:
        """End of a build: wait for uploads to the remote, keep the local cache within its limit."""
        if self.remote is not None:
            self.remote.flush()
        self.enforce_limit()

    def enforce_limit(self) -> None:
        """After a build that wrote entries: prune to 80% of the limit if it is exceeded."""
        if self.writes and self.writable:
            total = sum(n for _p, n, _m in self._entries())
            if total > self.max_bytes:
                self.prune(int(self.max_bytes * 0.8))
