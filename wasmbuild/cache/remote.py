"""The remote tier: a shared HTTP cache server in the Bazel remote-cache HTTP layout.

`RemoteTier(url, read_only=False, timeout=5.0)` is an `ObjectCache` on a server such as
bazel-remote, nginx with WebDAV `PUT`, or an S3-compatible gateway, under `url` (e.g.
`http://cache:8080/wasmbuild`; a URL that is not http(s)://host[:port][/prefix], or that holds
credentials, is a WasmbuildError):
  - `GET/PUT {url}/cas/<sha256>`: the blob whose SHA-256 is its name (an object file);
  - `GET/PUT {url}/ac/<key>`: the record for a cache key, the text
    `wasmbuild-ac 2 <key> <sha256 of the blob> <size>`.
`get(key)` reads the record, checks that it is the record of `key` (a record copied under another
key is refused), then reads the blob and checks it against the record's digest and size before
giving it; records of the earlier format (`wasmbuild-ac 1`, which did not name their key) are
quiet misses. `get_many(keys)` asks for several keys in parallel. `put(key, payload)` uploads
the blob, then the record, from a few background threads (each keeps its connection open), so a
build waits for the network only in `finish()`, each request bounded by `timeout`.

Faults never fail or corrupt a build: a server that is down, slow, answers errors or serves a
record or blob that does not match is a miss (or a lost upload), counted in `remote_errors`, with
one warning per build; after three failures in a row the tier is switched off for the rest of the
build (a second warning). `read_only` never uploads. Credentials come only from the environment:
`WASMBUILD_REMOTE_CACHE_TOKEN` (a bearer token) or `WASMBUILD_REMOTE_CACHE_USER` and
`WASMBUILD_REMOTE_CACHE_PASSWORD` (basic auth); they are never part of a message.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from ..errors import WasmbuildError
from .base import CacheStats, ObjectCache, check_key

AC_FORMAT = b"wasmbuild-ac 2"
OLD_AC_FORMAT = b"wasmbuild-ac 1"
_RECORD = re.compile(re.escape(AC_FORMAT) + rb" ([0-9a-f]{64}) ([0-9a-f]{64}) ([0-9]{1,12})\s*")
_ERRORS = (OSError, http.client.HTTPException, ValueError)  # what a request can raise
_MAX_FAILURES = 3
_FETCHES = 8  # parallel requests of get_many
_UPLOADS = 4  # background upload threads


class RemoteTier(ObjectCache):
    def __init__(self, url: str, read_only: bool = False, timeout: float = 5.0):
        parsed = urllib.parse.urlsplit(url)
        try:
            port = parsed.port
            valid = parsed.scheme in ("http", "https") and bool(parsed.hostname)
        except ValueError:  # a port that is not a number
            valid = False
        if not valid:
            raise WasmbuildError(f"remote cache URL must be http(s)://host[:port][/prefix], "
                                 f"not {_redacted(parsed)!r}")
        if parsed.username is not None or parsed.password is not None:
            raise WasmbuildError(f"remote cache URL {_redacted(parsed)!r} holds credentials: give them in "
                                 f"$WASMBUILD_REMOTE_CACHE_TOKEN, or $WASMBUILD_REMOTE_CACHE_USER and "
                                 f"$WASMBUILD_REMOTE_CACHE_PASSWORD")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = port
        self.prefix = parsed.path.rstrip("/")
        self.display = f"{parsed.scheme}://{parsed.hostname}{':' + str(port) if port else ''}{self.prefix}"
        self.read_only = read_only
        self.timeout = timeout
        self.headers = _auth_headers()
        self.stats = CacheStats(remote=self.display)
        self._lock = threading.Lock()  # guards stats and the fault counters across threads
        self._failures = 0
        self._disabled = False
        self._warned = False
        self._local = threading.local()
        self._uploads: ThreadPoolExecutor | None = None
        self._pending = []

    # --- HTTP ---
    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = cls(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Length"] = str(len(body))
        for attempt in (0, 1):  # a kept-alive connection the server closed: retry once, fresh
            conn = self._connection()
            try:
                conn.request(method, self.prefix + path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _download(self, path: str) -> bytes | None:
        """The body at `path`, or None if the server does not have it (404)."""
        status, body = self._request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise OSError(f"HTTP {status} for {path.split('/')[1]}")
        return body

    def _fault(self, what: str, error: Exception) -> None:
        with self._lock:
            self.stats.remote_errors += 1
            self._failures += 1
            if not self._warned:
                self._warned = True
                self.stats.warn(f"remote cache {self.display}: {what} failed ({error}); compiling locally")
            if self._failures >= _MAX_FAILURES and not self._disabled:
                self._disabled = True
                self.stats.warn(f"remote cache {self.display} switched off for this build after "
                                f"{self._failures} failures")

    # --- cache operations ---
    def _lookup(self, key: str) -> bytes | None:
        """The verified blob of `key`, or None if the server has none (OSError if it misbehaves)."""
        record = self._download(f"/ac/{key}")
        if record is None or record.startswith(OLD_AC_FORMAT + b" "):
            return None
        match = _RECORD.fullmatch(record)
        if match is None:
            raise OSError("malformed action-cache record")
        if match[1] != key.encode():
            raise OSError("an action-cache record was stored under another key (it was not used)")
        digest, size = match[2].decode(), int(match[3])
        blob = self._download(f"/cas/{digest}")
        if blob is not None and (len(blob) != size or hashlib.sha256(blob).hexdigest() != digest):
            raise OSError("a blob did not match its digest (it was not used)")
        return blob

    def get(self, key: str) -> bytes | None:
        check_key(key)
        if self._disabled:
            return None
        try:
            blob = self._lookup(key)
        except _ERRORS as e:
            self._fault("a download", e)
            return None
        with self._lock:
            self._failures = 0
            if blob is None:
                self.stats.remote_misses += 1
            else:
                self.stats.remote_hits += 1
        return blob

    def get_many(self, keys) -> dict[str, bytes]:
        keys = list(dict.fromkeys(keys))
        if not keys or self._disabled:
            return {}
        with ThreadPoolExecutor(max_workers=_FETCHES, thread_name_prefix="wasmbuild-fetch") as pool:
            blobs = dict(zip(keys, pool.map(self.get, keys)))
        return {key: blob for key, blob in blobs.items() if blob is not None}

    def put(self, key: str, payload: bytes) -> None:
        check_key(key)
        if self.read_only or self._disabled:
            return
        if self._uploads is None:
            self._uploads = ThreadPoolExecutor(max_workers=_UPLOADS, thread_name_prefix="wasmbuild-upload")
        self._pending.append(self._uploads.submit(self._upload, key, payload))

    def _upload(self, key: str, payload: bytes) -> None:
        if self._disabled:
            return
        digest = hashlib.sha256(payload).hexdigest()
        record = AC_FORMAT + f" {key} {digest} {len(payload)}\n".encode()
        try:
            for path, body in ((f"/cas/{digest}", payload), (f"/ac/{key}", record)):
                status, _ = self._request("PUT", path, body)
                if status not in (200, 201, 204):
                    raise OSError(f"HTTP {status} for PUT {path.split('/')[1]}")
        except _ERRORS as e:
            self._fault("an upload", e)
            return
        with self._lock:
            self._failures = 0
            self.stats.remote_uploads += 1

    def finish(self) -> CacheStats:
        """Wait for this build's uploads (each request bounded by the timeout), then start afresh:
        a tier switched off during a build is tried again by the next one."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()
        if self._uploads is not None:
            self._uploads.shutdown()
            self._uploads = None
        with self._lock:
            stats, self.stats = self.stats, CacheStats(remote=self.display)
            self._failures = 0
            self._disabled = False
            self._warned = False
        return stats


def _redacted(parsed: urllib.parse.SplitResult) -> str:
    """The URL without its user information (which may hold a password)."""
    netloc = parsed.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, parsed.query, parsed.fragment))


def _auth_headers() -> dict[str, str]:
    token = _credential("WASMBUILD_REMOTE_CACHE_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = _credential("WASMBUILD_REMOTE_CACHE_USER")
    if user:
        secret = f"{user}:{_credential('WASMBUILD_REMOTE_CACHE_PASSWORD')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(secret).decode("ascii")}
    return {}


def _credential(name: str) -> str:
    """$name, refused (without showing it) if it could not go into an HTTP header."""
    value = os.environ.get(name, "")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise WasmbuildError(f"${name} holds a control character")
    return value
