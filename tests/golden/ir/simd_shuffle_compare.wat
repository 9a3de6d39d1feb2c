;; SIMD: i8x16.shuffle, a comparison, bitselect and any_true
(module
  (func (param v128 v128) (result v128 i32)
    local.get 0 local.get 1
    i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
    local.get 0 local.get 1 i16x8.lt_s
    local.get 1 v128.bitselect
    local.get 0 v128.any_true))
