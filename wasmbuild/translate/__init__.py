"""Translation of wasm functions to LLVM IR: the function translator, runtime helpers and
trampolines, and index-free references (the ABI they implement is `contract/abi.py`)."""
