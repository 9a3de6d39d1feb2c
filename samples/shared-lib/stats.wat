;; Client 1: statistics over 1..n built on the library.
(module
  (import "math" "square" (func $square (param i64) (result i64)))
  (import "math" "isqrt" (func $isqrt (param i64) (result i64)))
  ;; sum of k^2 for k = 1..n
  (func $sum_of_squares (export "sum_of_squares") (param $n i64) (result i64)
    (local $k i64) (local $sum i64)
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $k) (local.get $n)))
        (local.set $k (i64.add (local.get $k) (i64.const 1)))
        (local.set $sum (i64.add (local.get $sum) (call $square (local.get $k))))
        (br $next)))
    (local.get $sum))
  ;; integer root-mean-square of 1..n
  (func (export "rms") (param $n i64) (result i64)
    (call $isqrt (i64.div_u (call $sum_of_squares (local.get $n)) (local.get $n))))
)
