;; v128.load and v128.store with offsets, a splat load and an extending load
(module
  (memory 1)
  (func (param i32) (result v128)
    local.get 0 local.get 0 v128.load offset=16 v128.store offset=32
    local.get 0 v128.load32_splat
    local.get 0 v128.load8x8_s offset=3
    i16x8.add))
