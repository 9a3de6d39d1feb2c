"""wasmbuild: an ahead-of-time WebAssembly compiler that lives inside the SCons build system."""

__version__ = "0.1.0"
