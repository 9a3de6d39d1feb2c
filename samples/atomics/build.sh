#!/bin/sh
# Rebuilds atomics.wasm from atomics.c with zig (python -m ziglang, zig 0.17.1). -matomics makes
# the C11 atomics Wasm atomic instructions (on the program's ordinary, non-shared memory);
# OUT names the output (default atomics.wasm).
set -e
cd "$(dirname "$0")"
python -m ziglang cc --target=wasm32-wasi -matomics -mbulk-memory -O2 -s atomics.c -o "${OUT:-atomics.wasm}"
