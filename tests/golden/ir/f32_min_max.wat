;; f32 min and max (NaN-propagating, -0 below +0), copysign, abs, neg
(module
  (func (param f32 f32) (result f32)
    local.get 0 local.get 1 f32.min
    local.get 1 f32.max
    local.get 0 f32.copysign
    f32.abs f32.neg))
