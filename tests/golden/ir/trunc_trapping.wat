;; trapping truncations: NaN is an invalid conversion, out of range an overflow
(module
  (func (param f32 f64) (result i32 i64)
    local.get 0 i32.trunc_f32_s
    local.get 1 i64.trunc_f64_u))
