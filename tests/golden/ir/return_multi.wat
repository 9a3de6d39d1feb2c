;; several results of mixed types, and a call that receives them
(module
  (func $three (param i64) (result i32 i64 f64)
    i32.const 1 local.get 0 f64.const 0.5)
  (func (result f64)
    i64.const 7 call $three
    drop drop drop
    f64.const 1))
