# The exception tag C++ code throws and catches (clang refers to it as __cpp_exception); its one
# parameter is the address of the thrown exception object (wasm32: i32).
	.globl	__cpp_exception
	.tagtype	__cpp_exception i32
__cpp_exception:
