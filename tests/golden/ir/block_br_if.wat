;; a block with a result, left early by br_if with a value
(module
  (func (param i32) (result i32)
    (block (result i32)
      i32.const 10
      local.get 0
      br_if 0
      drop
      i32.const 20)))
