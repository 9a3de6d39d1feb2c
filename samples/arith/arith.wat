;; A small numeric library: factorial, Fibonacci, greatest common divisor and a checksum loop
;; over linear memory. Exercises locals, loops, blocks, branches, calls and memory access.
(module
  (memory (export "memory") 1)

  (func $fac (export "fac") (param $n i64) (result i64)
    (if (result i64) (i64.le_u (local.get $n) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get $n) (call $fac (i64.sub (local.get $n) (i64.const 1)))))))

  (func (export "fib") (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $t i32)
    (local.set $b (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i32.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))

  (func (export "gcd") (param $a i32) (param $b i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $b)))
        (local.get $b)
        (local.set $b (i32.rem_u (local.get $a) (local.get $b)))
        (local.set $a)
        (br $next)))
    (local.get $a))

  ;; Fill bytes [0, n) with i*7 mod 256, then return their sum.
  (func (export "checksum") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $fill_done
      (loop $fill
        (br_if $fill_done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 7)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (local.set $i (i32.const 0))
    (block $sum_done
      (loop $add
        (br_if $sum_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $add)))
    (local.get $sum))
)
