;; SIMD: i32x4.add, f32x4.mul, a lane extract and a splat
(module
  (func (param v128 v128 f32) (result v128 i32)
    local.get 0 local.get 1 i32x4.add
    local.get 2 f32x4.splat f32x4.mul
    local.get 0 i32x4.extract_lane 2))
