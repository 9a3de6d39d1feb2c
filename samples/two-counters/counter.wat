;; A counter whose step comes from an import; each instance keeps its own count.
(module
  (import "config" "step" (func $step (result i32)))
  (global $count (mut i32) (i32.const 0))
  (func (export "next") (result i32)
    (global.set $count (i32.add (global.get $count) (call $step)))
    (global.get $count))
  (func (export "current") (result i32) (global.get $count))
)
