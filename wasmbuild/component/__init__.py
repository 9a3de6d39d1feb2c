"""Components: the component model's binaries read as module-linking graphs.

`types.py` the component-level types (value types, function, instance, component and resource
types); `values.py` the Python values that stand for component values (docs/components.md).
"""
