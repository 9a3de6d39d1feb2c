;; int/float conversions, promote and demote, wrap and extend, reinterpretations
(module
  (func (param i64 i32 f64) (result f32 f64 i32 i64 f32)
    local.get 0 f32.convert_i64_u
    local.get 1 f64.convert_i32_s
    local.get 0 i32.wrap_i64
    local.get 1 i64.extend_i32_u
    local.get 2 f32.demote_f64
    f64.promote_f32 i64.reinterpret_f64 f64.reinterpret_i64 f32.demote_f64
    i32.reinterpret_f32 f32.reinterpret_i32))
