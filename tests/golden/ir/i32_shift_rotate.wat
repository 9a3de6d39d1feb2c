;; shift counts are taken modulo 32; rotations
(module
  (func (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.shl
    local.get 1 i32.shr_s
    local.get 1 i32.shr_u
    local.get 1 i32.rotl
    local.get 1 i32.rotr))
