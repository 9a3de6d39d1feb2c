#!/bin/sh
# Rebuilds exceptions.wasm (the C++ module of the graph.toml beside it) from exceptions.cpp with zig
# (python -m ziglang, zig 0.17.1), using the standard Wasm exception encoding (try_table/throw_ref/
# exnref). With LEGACY=1 it uses the legacy encoding (try/catch/delegate/rethrow) instead; OUT names
# the output (default exceptions.wasm).
#
# zig's bundled libc++abi for wasm32-wasi is built without exceptions, so the pieces of the C++
# exception runtime it lacks are compiled here from the LLVM sources zig ships:
#   libcxxabi/src/cxa_exception.cpp   __cxa_allocate_exception, __cxa_throw, __cxa_begin_catch, ...
#   libcxxabi/src/cxa_personality.cpp __gxx_personality_wasm0 (reads the LSDA of a frame)
#   libunwind/src/Unwind-wasm.c       _Unwind_CallPersonality, _Unwind_RaiseException (`throw`)
#   cpp_exception_tag.s               the tag __cpp_exception (param i32: the exception object)
# They are linked before zig's libc++/libc++abi archives, so the no-exceptions stubs there
# (cxa_noexception.cpp) are not pulled in.
set -e
cd "$(dirname "$0")"
ZIG="python -m ziglang"
LIB="$(python -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')/lib"
if [ "${LEGACY:-0}" = 1 ]; then EH=true; else EH=false; fi
OUT="${OUT:-exceptions.wasm}"
FLAGS="--target=wasm32-wasi -O2 -fwasm-exceptions -mexception-handling -mllvm -wasm-use-legacy-eh=$EH"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for src in cxa_exception cxa_personality; do
    $ZIG c++ $FLAGS -D_LIBCXXABI_BUILDING_LIBRARY -D_LIBCPP_BUILDING_LIBRARY -D_LIBCXXABI_HAS_NO_THREADS \
        -I"$LIB/libcxxabi/include" -I"$LIB/libcxxabi/src" -I"$LIB/libcxx/src" \
        -c "$LIB/libcxxabi/src/$src.cpp" -o "$TMP/$src.o"
done
$ZIG cc $FLAGS -D_LIBUNWIND_HIDE_SYMBOLS -I"$LIB/libunwind/include" -Wno-c23-extensions \
    -c "$LIB/libunwind/src/Unwind-wasm.c" -o "$TMP/unwind-wasm.o"
$ZIG cc --target=wasm32-wasi -mexception-handling -c cpp_exception_tag.s -o "$TMP/tag.o"
# The function table is imported (env.__indirect_function_table): callbacks.wat owns it and calls
# C++ functions through it; call_each and cleanups are imported from that module too.
$ZIG c++ $FLAGS -s -Wl,--import-table exceptions.cpp "$TMP/cxa_exception.o" "$TMP/cxa_personality.o" \
    "$TMP/unwind-wasm.o" "$TMP/tag.o" -o "$OUT"
