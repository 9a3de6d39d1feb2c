"""Linking compiled objects into one position-independent code image.

Takes the per-function ELF relocatable objects that the compiler emits (in layout order) and the
values of the "absolute symbols" (vmctx field offsets, type ids); gives a `LinkedCode`: code bytes
with every link-time relocation applied, a GOT, the symbol offsets and the few relocations that
can only be applied once the load address is known. `elf` reads objects and writes the image file;
`layout` places each item of an instance in its VMContext. Import the submodules themselves.
"""
