;; call_indirect: table bounds, null entry and signature checks
(module
  (type $binop (func (param i32 i32) (result i32)))
  (table 4 funcref)
  (func (param i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 call_indirect (type $binop)))
