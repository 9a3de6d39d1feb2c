"""Translation of wasm functions to LLVM IR: the function translator, runtime helpers and
trampolines, the native ABI and index-free references."""
