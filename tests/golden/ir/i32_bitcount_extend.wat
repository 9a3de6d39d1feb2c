;; clz, ctz, popcnt, eqz and the sign-extension operators
(module
  (func (param i32) (result i32)
    local.get 0 i32.clz
    local.get 0 i32.ctz i32.add
    local.get 0 i32.popcnt i32.add
    local.get 0 i32.eqz i32.add
    i32.extend8_s i32.extend16_s))
