;; i64 arithmetic, a 64-bit shift and comparisons (signed and unsigned) giving i32
(module
  (func (param i64 i64) (result i32)
    local.get 0 local.get 1 i64.mul
    local.get 1 i64.shr_u
    i64.extend32_s
    local.get 1 i64.lt_s
    local.get 0 local.get 1 i64.ge_u
    i32.and
    local.get 0 i64.eqz
    i32.or))
