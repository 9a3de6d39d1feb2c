;; memory.copy and memory.fill (bounds-checked, then the runtime or an intrinsic)
(module
  (memory 1)
  (func (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.copy
    local.get 1 i32.const 255 local.get 2 memory.fill))
