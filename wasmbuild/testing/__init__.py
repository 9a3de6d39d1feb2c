"""Helpers shared by the test suite and the benchmark scripts (not used by the compiler itself).

`spec_dir()` gives the directory of the WebAssembly spec suite: `$WASMBUILD_SPEC_DIR`, or
`../shared/spec` next to the repository.
"""

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spec_dir() -> str:
    return os.environ.get("WASMBUILD_SPEC_DIR") or os.path.join(REPO_ROOT, "..", "shared", "spec")
