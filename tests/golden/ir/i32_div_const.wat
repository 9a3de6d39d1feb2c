;; division by a constant that can neither be zero nor -1
(module
  (func (param i32) (result i32)
    local.get 0 i32.const 10 i32.div_s
    i32.const 3 i32.rem_u))
