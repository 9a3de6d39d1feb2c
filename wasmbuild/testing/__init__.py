"""Helpers shared by the test suite and the benchmark scripts (not used by the compiler itself).

`spec_dir()` gives the directory of the WebAssembly 2.0 spec suite: `$WASMBUILD_SPEC_DIR`, or
`../shared/spec` next to the repository; `spec3_dir()` the new and changed files of the 3.0 suite:
`$WASMBUILD_SPEC3_DIR`, or `spec3` beside the 2.0 suite.
"""

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spec_dir() -> str:
    return os.environ.get("WASMBUILD_SPEC_DIR") or os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "spec"))


def spec3_dir() -> str:
    return os.environ.get("WASMBUILD_SPEC3_DIR") or os.path.join(os.path.dirname(os.path.normpath(spec_dir())), "spec3")
