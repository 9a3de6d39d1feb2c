;; an early return, unreachable (a trap) and code after it
(module
  (func (param i32) (result i32)
    local.get 0
    (if (then i32.const 1 return))
    unreachable
    i32.const 0))
