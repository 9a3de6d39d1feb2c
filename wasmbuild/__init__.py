"""wasmbuild: an ahead-of-time WebAssembly compiler that lives inside the SCons build system.

`wasmbuild.load` is `wasmbuild.api.load` (it runs a built image from Python), imported on first
use so that `import wasmbuild` stays cheap; so are `wasmbuild.WasmException` (a wasm exception that
reached the host, or one a host function throws), `wasmbuild.Tag`, and the Python values of
component values (`Record`, `Variant`, `Some`, `Ok`, `Err`: docs/components.md).
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "load":
        from .api import load
        return load
    if name in ("WasmException", "Tag"):
        from .loader import runtime
        return getattr(runtime, name)
    if name in ("Record", "Variant", "Some", "Ok", "Err"):
        from .component import values
        return getattr(values, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
