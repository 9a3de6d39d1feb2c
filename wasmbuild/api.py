"""The Python API for running images.

`load(path, imports=None)` loads an image into a fresh `Store` and instantiates its graph, giving a
`GraphInstance`: `instance.exports["name"]` (or `instance.name`) are `Function`, `Memory`, `Table`
and `Global` objects, or whole instances the graph exports; functions are called with Python
numbers (`instance.exports["add"](1, 2)`). `imports` maps module names to `{item name: value}`, where a
value is a Python callable (wrapped as a host function of the import's type), or a `Function`,
`Memory`, `Table` or `Global` from another instance.
"""

from __future__ import annotations

from .errors import WasmbuildError
from .loader.instance import GraphInstance, load_image
from .loader.runtime import Store


class _Namespaces:
    """Host imports given as {namespace: {name: value}}."""

    def __init__(self, imports: dict):
        self.imports = imports

    def get(self, key):
        namespace, name = key
        return self.imports.get(namespace, {}).get(name)


def load(path: str, imports: dict | None = None, store: Store | None = None) -> GraphInstance:
    """Load the image at `path` and instantiate its graph."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise WasmbuildError(f"cannot read image: {e.strerror}", file=path) from None
    store = store or Store()
    image = load_image(store, data, path)
    return image.instantiate(_Namespaces(imports or {}))
