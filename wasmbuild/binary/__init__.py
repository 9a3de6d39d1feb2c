"""The WebAssembly binary format: the decoder (`decode_module`, `decode_function`) and the decoded
module (its types and the opcode table are in `contract`)."""

from .decode import FunctionCode, check_bodies, decode_function, decode_instructions, decode_module
from .types import Module

__all__ = ["FunctionCode", "Module", "check_bodies", "decode_function", "decode_instructions",
           "decode_module"]
