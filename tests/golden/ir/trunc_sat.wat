;; saturating truncations: NaN gives 0, out of range the nearest bound
(module
  (func (param f64 f32) (result i32 i64)
    local.get 0 i32.trunc_sat_f64_s
    local.get 1 i64.trunc_sat_f32_u))
