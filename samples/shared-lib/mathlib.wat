;; A small integer maths library shared by two clients.
(module
  (func (export "square") (param $x i64) (result i64)
    (i64.mul (local.get $x) (local.get $x)))
  (func (export "cube") (param $x i64) (result i64)
    (i64.mul (local.get $x) (i64.mul (local.get $x) (local.get $x))))
  ;; isqrt(n): the largest r with r*r <= n (Newton's method)
  (func (export "isqrt") (param $n i64) (result i64)
    (local $r i64) (local $next i64)
    (if (i64.lt_u (local.get $n) (i64.const 2)) (then (return (local.get $n))))
    (local.set $r (local.get $n))
    (local.set $next (i64.shr_u (i64.add (local.get $r) (i64.const 1)) (i64.const 1)))
    (block $done
      (loop $again
        (br_if $done (i64.ge_u (local.get $next) (local.get $r)))
        (local.set $r (local.get $next))
        (local.set $next (i64.shr_u (i64.add (local.get $r) (i64.div_u (local.get $n) (local.get $r)))
                                    (i64.const 1)))
        (br $again)))
    (local.get $r))
)
