"""The WebAssembly 2.0 binary format: types, opcodes, and the decoder (`decode_module`)."""

from .decode import FunctionCode, check_bodies, decode_function, decode_instructions, decode_module
from .types import Module

__all__ = ["FunctionCode", "Module", "check_bodies", "decode_function", "decode_instructions",
           "decode_module"]
