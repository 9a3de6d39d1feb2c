;; unsigned i64 division and remainder (zero divisors trap)
(module
  (func (param i64 i64) (result i64)
    local.get 0 local.get 1 i64.div_u
    local.get 1 i64.rem_u))
