;; Client 2: solid geometry built on the same library.
(module
  (import "math" "square" (func $square (param i64) (result i64)))
  (import "math" "cube" (func $cube (param i64) (result i64)))
  (import "math" "isqrt" (func $isqrt (param i64) (result i64)))
  (func (export "cube_volume") (param $a i64) (result i64) (call $cube (local.get $a)))
  (func (export "cube_surface") (param $a i64) (result i64)
    (i64.mul (i64.const 6) (call $square (local.get $a))))
  ;; length of the space diagonal of an a*b*c box, rounded down
  (func (export "diagonal") (param $a i64) (param $b i64) (param $c i64) (result i64)
    (call $isqrt (i64.add (call $square (local.get $a))
                          (i64.add (call $square (local.get $b)) (call $square (local.get $c))))))
)
