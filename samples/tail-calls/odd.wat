;; The other half: is_odd(n) tail-calls is_even(n - 1) through slot 0 of even.wat's table.
(module
  (type $pred (func (param i64) (result i32)))
  (import "even" "parity" (table 2 funcref))
  (elem (i32.const 1) func $is_odd)
  (func $is_odd (export "is_odd") (param $n i64) (result i32)
    (if (result i32) (i64.eqz (local.get $n))
      (then (i32.const 0))
      (else (return_call_indirect (type $pred) (i64.sub (local.get $n) (i64.const 1)) (i32.const 0))))))
