;; untyped select on i32 and typed select on f64
(module
  (func (param i32 f64 f64) (result f64)
    local.get 0 i32.const 5 local.get 0 select
    drop
    local.get 1 local.get 2 local.get 0 select (result f64)))
