;; 2-D vector operations built on the core.
(module
  (import "core" "add" (func $add (param i32 i32) (result i32)))
  (import "core" "mul" (func $mul (param i32 i32) (result i32)))
  (func (export "dot2") (param $ax i32) (param $ay i32) (param $bx i32) (param $by i32) (result i32)
    (call $add (call $mul (local.get $ax) (local.get $bx)) (call $mul (local.get $ay) (local.get $by))))
)
