;; v128 lane loads and stores, and a zero-extending load
(module
  (memory 1)
  (func (param i32 v128) (result v128)
    local.get 0 local.get 1 v128.load8_lane 5
    local.get 0 v128.load32_zero offset=4
    drop
    local.get 0 local.get 1 v128.store16_lane offset=2 3
    local.get 0 local.get 1 v128.load64_lane offset=8 1
    i64x2.add))
