;; table.fill, table.copy, table.init from a passive element segment, elem.drop
(module
  (table $t 8 funcref)
  (func $f)
  (elem $e func $f $f)
  (func (param i32 i32 i32)
    local.get 0 ref.null func local.get 2 table.fill $t
    local.get 0 local.get 1 local.get 2 table.copy $t $t
    local.get 0 local.get 1 local.get 2 table.init $t $e
    elem.drop $e))
