;; table.get, table.set, table.size and table.grow on an externref table
(module
  (table $t 2 10 externref)
  (func (param i32 externref) (result i32)
    local.get 0 local.get 1 table.set $t
    local.get 0 table.get $t
    i32.const 3 table.grow $t
    table.size $t i32.add))
