"""The Python API for running images.

`load(path, imports=None)` loads an image into a fresh `Store` and instantiates its module, giving
the `Instance`: `instance.exports["name"]` (or `instance.name` for functions) are `Function`,
`Memory`, `Table` and `Global` objects; functions are called with Python numbers
(`instance.exports["add"](1, 2)`). `imports` maps module names to `{item name: value}`, where a
value is a Python callable (wrapped as a host function of the import's type), or a `Function`,
`Memory`, `Table` or `Global` from another instance.
"""

from __future__ import annotations

from .errors import WasmbuildError
from .load.instance import Instance, LoadedImage, load_image
from .load.runtime import Function, Store


class _Imports:
    """Resolver over a nested dict, wrapping plain callables as host functions on demand."""

    def __init__(self, store: Store, image: LoadedImage, module_index: int, imports: dict):
        self.imports = imports or {}
        self.store = store
        self.types = {(i["module"], i["name"]): image.types[i["type"]]
                      for i in image.meta["modules"][module_index]["imports"] if i["kind"] == "func"}

    def get(self, key):
        namespace, name = key
        item = self.imports.get(namespace, {}).get(name)
        if item is not None and callable(item) and not isinstance(item, Function) and key in self.types:
            item = self.store.host_function(self.types[key], item)
        return item


def load(path: str, imports: dict | None = None, store: Store | None = None) -> Instance:
    """Load the image at `path` and instantiate its (first) module."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise WasmbuildError(f"cannot read image: {e.strerror}", file=path) from None
    store = store or Store()
    image = load_image(store, data, path)
    return image.instantiate(0, _Imports(store, image, 0, imports or {}))
