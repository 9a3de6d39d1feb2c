"""The content-addressed cache of compiled code (per-function objects, runtime helpers,
trampolines, key memos), by role:

  base.py    the interface the build talks to (`ObjectCache`) and its statistics (`CacheStats`);
  local.py   the local store: a directory of verified entries, LRU pruning, the size limit;
  remote.py  the remote tier: a shared HTTP server (Bazel layout), verified reads, background uploads;
  tiered.py  the two together: local first, then remote; remote hits kept locally; new entries uploaded;
  null.py    the null cache, for `--no-cache`.

The interface (every cache above has it):

    class ObjectCache:
        keyed: bool                              # False for the null cache: no need to compute keys
        stats: CacheStats                        # this build's statistics so far
        def get(self, key) -> bytes | None       # one lookup (local, then remote for a tiered cache)
        def get_many(self, keys) -> dict[str, bytes]   # bulk lookup, the remote asked in parallel
        def put(self, key, payload) -> None      # store (and upload in the background)
        def finish(self) -> CacheStats           # flush uploads, keep the size limit; this build's
                                                 # statistics (and `stats` starts afresh)

    @dataclass
    class CacheStats:
        hits, misses, writes, damaged            # the local store's
        remote_hits, remote_misses, remote_uploads, remote_errors
        warnings: list[str]                      # one-line messages, each once
        remote: str | None                       # the remote tier's URL (no credentials), or None

A key is a 64-digit lowercase hex digest from `keys.py`; what `get` gives has been verified to be
what was stored under that very key. Faults (damaged entries, an unwritable directory, a server
that is down or serves bad data) are misses or skipped writes, never errors, and are reported
as `warnings`: the library never prints; its caller does (the command line prints each as
`wasmbuild: warning: MESSAGE` on stderr). Bad configuration (a remote URL or a size or timeout
in the environment that cannot be used) is a WasmbuildError from `open_cache`.

`open_cache(directory=None, *, enabled=True, remote_url=None, read_only=None, max_bytes=None)`
gives the cache a build uses: the `NullCache` if not `enabled`; else the `LocalStore` on
`directory` (default `default_cache_dir()`) with the limit `max_bytes` (default
`$WASMBUILD_CACHE_MAX_SIZE`, else 2 GiB), combined with a `RemoteTier` on `remote_url` (default
`$WASMBUILD_REMOTE_CACHE`; none if neither is set) into a `TieredCache`. `read_only` (default
`$WASMBUILD_REMOTE_CACHE_READONLY`) never uploads; `$WASMBUILD_REMOTE_CACHE_TIMEOUT` bounds each
request (seconds, default 5).
"""

from __future__ import annotations

import math
import os

from ..errors import WasmbuildError
from .base import CacheStats, ObjectCache
from .local import LocalStore, default_cache_dir, parse_size
from .null import NullCache
from .tiered import TieredCache

__all__ = ["CacheStats", "ObjectCache", "LocalStore", "NullCache", "TieredCache", "open_cache",
           "default_cache_dir", "parse_size"]


def open_cache(directory: str | None = None, *, enabled: bool = True, remote_url: str | None = None,
               read_only: bool | None = None, max_bytes: int | None = None) -> ObjectCache:
    if not enabled:
        return NullCache()
    local = LocalStore(directory, max_bytes)
    url = remote_url or os.environ.get("WASMBUILD_REMOTE_CACHE")
    if not url:
        return local
    from .remote import RemoteTier  # http.client only for builds that use a remote
    if read_only is None:
        read_only = os.environ.get("WASMBUILD_REMOTE_CACHE_READONLY", "") not in ("", "0", "false", "no")
    text = os.environ.get("WASMBUILD_REMOTE_CACHE_TIMEOUT", "5")
    try:
        timeout = float(text)
    except ValueError:
        timeout = math.nan
    if not (math.isfinite(timeout) and timeout > 0):
        raise WasmbuildError(f"$WASMBUILD_REMOTE_CACHE_TIMEOUT must be a number of seconds, not {text!r}")
    return TieredCache(local, RemoteTier(url, read_only=read_only, timeout=timeout))
