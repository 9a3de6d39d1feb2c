;; f64 nearest (ties to even), ceil, floor, trunc, sqrt
(module
  (func (param f64) (result f64)
    local.get 0 f64.nearest
    f64.ceil f64.floor f64.trunc f64.sqrt))
