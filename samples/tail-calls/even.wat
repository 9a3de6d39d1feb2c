;; Half of a mutual recursion between two modules: is_even(n) tail-calls is_odd(n - 1) of the other
;; module through the shared table it exports (slot 0 is is_even, slot 1 is filled by odd.wat).
(module
  (type $pred (func (param i64) (result i32)))
  (table (export "parity") 2 funcref)
  (elem (i32.const 0) func $is_even)
  (func $is_even (export "is_even") (param $n i64) (result i32)
    (if (result i32) (i64.eqz (local.get $n))
      (then (i32.const 1))
      (else (return_call_indirect (type $pred) (i64.sub (local.get $n) (i64.const 1)) (i32.const 1))))))
