"""A shared remote cache on an existing HTTP cache server (the Bazel remote-cache HTTP layout).

`RemoteCache(url)` talks to a server such as bazel-remote, nginx with WebDAV `PUT`, or an
S3-compatible gateway, under `url` (e.g. `http://cache:8080/wasmbuild`):
  - `GET/PUT {url}/cas/<sha256>`: the blob whose SHA-256 is its name (an object file);
  - `GET/PUT {url}/ac/<key>`: the record for a cache key; ours is the text
    `wasmbuild-ac 1 <sha256 of the blob> <size>`.
`get(key)` reads the record, then the blob, and verifies the blob against the digest before giving
it. `put(key, payload)` uploads the blob and then the record from a small pool of background
threads (each keeps one connection open), so a build never waits for the network except at its
end (`flush`, bounded by the timeout).

Faults never fail or corrupt a build: a remote that is down, slow (timeouts are bounded), answers
errors or returns bytes that do not match their digest costs one warning and a local compile; after
a few failures in a row the remote is switched off for the rest of the build. `read_only` (for
developer machines) never uploads. Credentials come only from the environment:
`WASMBUILD_REMOTE_CACHE_TOKEN` (a bearer token) or `WASMBUILD_REMOTE_CACHE_USER` and
`WASMBUILD_REMOTE_CACHE_PASSWORD` (basic auth); they are never printed.

`from_environment()` makes one from `WASMBUILD_REMOTE_CACHE` (the URL),
`WASMBUILD_REMOTE_CACHE_READONLY=1` and `WASMBUILD_REMOTE_CACHE_TIMEOUT` (seconds, default 5).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

AC_FORMAT = b"wasmbuild-ac 1"
_MAX_FAILURES = 3


class RemoteCache:
    def __init__(self, url: str, read_only: bool = False, timeout: float = 5.0, uploads: int = 4):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"remote cache URL must be http(s)://host[:port][/prefix], not {url!r}")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port
        self.prefix = parsed.path.rstrip("/")
        self.display = f"{parsed.scheme}://{parsed.hostname}{':' + str(parsed.port) if parsed.port else ''}{self.prefix}"
        self.read_only = read_only
        self.timeout = timeout
        self.headers = _auth_headers()
        self.hits = self.misses = self.uploads = self.errors = 0
        self._failures = 0
        self._disabled = False
        self._warned = False
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pool = None if read_only else ThreadPoolExecutor(max_workers=uploads,
                                                              thread_name_prefix="wasmbuild-upload")
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
                data = response.read()
                return response.status, data
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _fault(self, what: str, error: Exception | str) -> None:
        with self._lock:
            self.errors += 1
            self._failures += 1
            if not self._warned:
                self._warned = True
                print(f"wasmbuild: warning: remote cache {self.display}: {what} failed ({error}); "
                      f"compiling locally", file=sys.stderr)
            if self._failures >= _MAX_FAILURES and not self._disabled:
                self._disabled = True
                print(f"wasmbuild: warning: remote cache {self.display} switched off for this build "
                      f"after {self._failures} failures", file=sys.stderr)

    def _ok(self) -> None:
        with self._lock:
            self._failures = 0

    # --- cache operations ---
    def _download(self, path: str) -> bytes | None:
        """The body at `path`, or None if the server does not have it (404)."""
        status, body = self._request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise OSError(f"HTTP {status} for {path.split('/')[1]}")
        return body

    def get(self, key: str) -> bytes | None:
        if self._disabled:
            return None
        blob = None
        try:
            record = self._download(f"/ac/{key}")
            if record is not None:
                fields = record.split()
                if len(fields) != 4 or b" ".join(fields[:2]) != AC_FORMAT:
                    raise OSError("malformed action-cache record")
                digest, size = fields[2].decode("ascii"), int(fields[3])
                blob = self._download(f"/cas/{digest}")
                if blob is not None and (len(blob) != size or hashlib.sha256(blob).hexdigest() != digest):
                    raise OSError("a blob did not match its digest (it was not used)")
        except (OSError, http.client.HTTPException, ValueError) as e:
            self._fault("a download", e)
            return None
        self._ok()
        with self._lock:
            if blob is None:
                self.misses += 1
            else:
                self.hits += 1
        return blob

    def put(self, key: str, payload: bytes) -> None:
        if self.read_only or self._disabled or self._pool is None:
            return
        self._pending.append(self._pool.submit(self._upload, key, payload))

    def _upload(self, key: str, payload: bytes) -> None:
        if self._disabled:
            return
        digest = hashlib.sha256(payload).hexdigest()
        try:
            for path, body in ((f"/cas/{digest}", payload),
                               (f"/ac/{key}", AC_FORMAT + f" {digest} {len(payload)}\n".encode())):
                status, _ = self._request("PUT", path, body)
                if status not in (200, 201, 204):
                    raise OSError(f"HTTP {status} for PUT {path.split('/')[1]}")
        except (OSError, http.client.HTTPException) as e:
            self._fault("an upload", e)
            return
        self._ok()
        with self._lock:
            self.uploads += 1

    def flush(self) -> None:
        """Wait for the uploads started so far (each bounded by the timeout)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        self.flush()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _auth_headers() -> dict[str, str]:
    token = os.environ.get("WASMBUILD_REMOTE_CACHE_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("WASMBUILD_REMOTE_CACHE_USER")
    if user:
        secret = f"{user}:{os.environ.get('WASMBUILD_REMOTE_CACHE_PASSWORD', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(secret).decode("ascii")}
    return {}


def from_environment(url: str | None = None, read_only: bool | None = None) -> RemoteCache | None:
    url = url or os.environ.get("WASMBUILD_REMOTE_CACHE")
    if not url:
        return None
    if read_only is None:
        read_only = os.environ.get("WASMBUILD_REMOTE_CACHE_READONLY", "") not in ("", "0", "false", "no")
    timeout = float(os.environ.get("WASMBUILD_REMOTE_CACHE_TIMEOUT", "5"))
    return RemoteCache(url, read_only=read_only, timeout=timeout)
