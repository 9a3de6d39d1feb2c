"""The `wasi:filesystem/types.error-code` case of a host error: takes an OSError, gives the WIT
enum case name ("no-entry", "not-directory", ...; "io" for an errno WIT has no name for). Used by
the filesystem methods and by the stream errors that carry a file's code."""

from __future__ import annotations

import errno

_ERROR_CODES = {
    "EACCES": "access", "EAGAIN": "would-block", "EALREADY": "already", "EBADF": "bad-descriptor",
    "EBUSY": "busy", "EDEADLK": "deadlock", "EDQUOT": "quota", "EEXIST": "exist",
    "EFBIG": "file-too-large", "EILSEQ": "illegal-byte-sequence", "EINPROGRESS": "in-progress",
    "EINTR": "interrupted", "EINVAL": "invalid", "EIO": "io", "EISDIR": "is-directory",
    "ELOOP": "loop", "EMLINK": "too-many-links", "EMSGSIZE": "message-size",
    "ENAMETOOLONG": "name-too-long", "ENODEV": "no-device", "ENOENT": "no-entry",
    "ENOLCK": "no-lock", "ENOMEM": "insufficient-memory", "ENOSPC": "insufficient-space",
    "ENOTDIR": "not-directory", "ENOTEMPTY": "not-empty", "ENOTRECOVERABLE": "not-recoverable",
    "ENOTSUP": "unsupported", "EOPNOTSUPP": "unsupported", "ENOTTY": "no-tty",
    "ENXIO": "no-such-device", "EOVERFLOW": "overflow", "EPERM": "not-permitted", "EPIPE": "pipe",
    "EROFS": "read-only", "ESPIPE": "invalid-seek", "ETXTBSY": "text-file-busy",
    "EXDEV": "cross-device",
}
# host errno number -> error-code name (only the errnos this host has)
ERRNO_CODES = {getattr(errno, name): code for name, code in _ERROR_CODES.items() if hasattr(errno, name)}


def error_code(error: OSError) -> str:
    return ERRNO_CODES.get(error.errno, "io")
