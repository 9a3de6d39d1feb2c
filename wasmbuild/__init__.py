"""wasmbuild: an ahead-of-time WebAssembly compiler that lives inside the SCons build system.

`wasmbuild.load(image_path)` runs a built image from Python (see `wasmbuild.api`).
"""

__version__ = "0.1.0"


def load(path, imports=None, store=None):
    """Load an image and instantiate it; see `wasmbuild.api.load`."""
    from .api import load as _load
    return _load(path, imports, store)
