;; signed remainder: traps on a zero divisor; INT_MIN rem -1 is 0, not a trap
(module
  (func (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.rem_s))
