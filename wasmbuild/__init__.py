"""wasmbuild: an ahead-of-time WebAssembly compiler that lives inside the SCons build system.

`wasmbuild.load` is `wasmbuild.api.load` (it runs a built image from Python), imported on first
use so that `import wasmbuild` stays cheap; so are `wasmbuild.WasmException` (a wasm exception that
reached the host, or one a host function throws) and `wasmbuild.Tag`.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "load":
        from .api import load
        return load
    if name in ("WasmException", "Tag"):
        from .loader import runtime
        return getattr(runtime, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
