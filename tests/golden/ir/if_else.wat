;; if/else with a parameter and a result; an if without else
(module
  (func (param i32 i64) (result i64)
    local.get 1
    local.get 0
    (if (param i64) (result i64)
      (then i64.const 1 i64.add)
      (else i64.const 2 i64.mul))
    local.get 0 i32.eqz
    (if (then nop))))
