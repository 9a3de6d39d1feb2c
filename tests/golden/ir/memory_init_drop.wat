;; memory.init from a passive data segment, then data.drop
(module
  (memory 1)
  (data "hello, world")
  (func (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.init 0
    data.drop 0))
