;; signed division: traps on a zero divisor and on INT_MIN / -1
(module
  (func (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.div_s))
