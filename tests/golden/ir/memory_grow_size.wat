;; memory.size and memory.grow (through the runtime)
(module
  (memory 1 10)
  (func (param i32) (result i32)
    local.get 0 memory.grow
    memory.size i32.add))
