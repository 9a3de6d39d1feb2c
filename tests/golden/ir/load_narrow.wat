;; narrow loads with sign and zero extension, narrow stores, a float load
(module
  (memory 1 2)
  (func (param i32) (result i64 i32 f64)
    local.get 0 i64.load8_s
    local.get 0 i32.load16_u offset=2
    local.get 0 local.get 0 i64.load32_u i64.store32
    local.get 0 local.get 0 i32.store8 offset=1
    local.get 0 f64.load offset=16))
