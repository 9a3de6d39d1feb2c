"""Validation of decoded modules: `validate_module`, or module-level checks plus per-function ones."""

from .validate import (Context, check_const_expr, check_module_level, segment_refs, validate_function,
                       validate_module)

__all__ = ["Context", "check_const_expr", "check_module_level", "segment_refs", "validate_function",
           "validate_module"]
