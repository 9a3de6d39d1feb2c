;; float constants: a NaN with a payload, -0, the smallest subnormal
(module
  (func (result f32 f64 f64)
    f32.const nan:0x200001
    f64.const -0x0p+0
    f64.const 0x0.0000000000001p-1022))
