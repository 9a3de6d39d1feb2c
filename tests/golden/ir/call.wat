;; a call to a defined function and to an imported one
(module
  (import "env" "log" (func $log (param i32)))
  (func $twice (param i32) (result i32)
    local.get 0 local.get 0 i32.add)
  (func (param i32) (result i32)
    local.get 0 call $log
    local.get 0 call $twice))
