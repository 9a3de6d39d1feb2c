;; f64 arithmetic and an ordered and an unordered comparison
(module
  (func (param f64 f64) (result i32)
    local.get 0 local.get 1 f64.add
    local.get 1 f64.div
    local.get 0 f64.mul
    local.get 1 f64.sub
    local.get 0 f64.lt
    local.get 0 local.get 1 f64.ne
    i32.add))
