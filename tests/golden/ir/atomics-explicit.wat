;; wat2wasm: --enable-threads
;; Atomic accesses with explicit bounds checks: alignment first, then the bounds, then the access
;; (not volatile).
(module
  (memory 1 1 shared)
  (func (export "rmw") (param i32 i32) (result i32) (i32.atomic.rmw.add offset=4 (local.get 0) (local.get 1)))
  (func (export "cmpxchg8") (param i32 i64 i64) (result i64)
    (i64.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
)
