;; declared locals start at zero; local.set and local.tee
(module
  (func (param i32) (result i64)
    (local i64 f32 v128)
    local.get 0 i64.extend_i32_s local.tee 1
    local.get 1 i64.add local.set 1
    f32.const 1 local.set 2
    local.get 1))
