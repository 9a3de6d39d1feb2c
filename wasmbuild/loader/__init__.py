"""Loading images: mapping code (codemem), the runtime objects (runtime), instantiation (instance)."""
