;; a mutable global, an immutable one and an imported mutable one
(module
  (import "env" "g" (global $g (mut i64)))
  (global $counter (mut i32) (i32.const 0))
  (global $scale f64 (f64.const 2.5))
  (func (result f64)
    global.get $counter i32.const 1 i32.add global.set $counter
    global.get $g i64.const 1 i64.add global.set $g
    global.get $scale))
