;; i32 add, sub, mul, and, or, xor on two parameters and a constant
(module
  (func (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add
    i32.const 7 i32.sub
    local.get 1 i32.mul
    local.get 0 i32.and
    local.get 1 i32.or
    i32.const -1 i32.xor))
