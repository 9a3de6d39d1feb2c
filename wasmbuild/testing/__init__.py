"""Helpers shared by the test suite and the benchmark scripts (not used by the compiler itself).

`spec_dir()` gives the directory of the WebAssembly 2.0 spec suite: `$WASMBUILD_SPEC_DIR`, or
`../shared/spec` next to the repository; `spec3_dir()` the new and changed files of the 3.0 suite:
`$WASMBUILD_SPEC3_DIR`, or `spec3` beside the 2.0 suite; `components_dir()` the component-model
test data: `$WASMBUILD_COMPONENTS_DIR`, or `../shared/components`.
"""

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spec_dir() -> str:
    return os.environ.get("WASMBUILD_SPEC_DIR") or os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "spec"))


def spec3_dir() -> str:
    return os.environ.get("WASMBUILD_SPEC3_DIR") or os.path.join(os.path.dirname(os.path.normpath(spec_dir())), "spec3")


def components_dir() -> str:
    """The component-model test data (`spec/`, `programs/`, `design-mvp/`, ...):
    `$WASMBUILD_COMPONENTS_DIR`, or `../shared/components` next to the repository."""
    return os.environ.get("WASMBUILD_COMPONENTS_DIR") or os.path.normpath(
        os.path.join(REPO_ROOT, "..", "shared", "components"))
