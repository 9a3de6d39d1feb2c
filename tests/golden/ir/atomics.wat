;; wat2wasm: --enable-threads
;; Atomic accesses of a shared memory: seq_cst, volatile with guard pages, an "unaligned atomic"
;; check before each access wider than a byte, a narrow RMW on the narrow type, wait and notify
;; through the Runtime's hooks.
(module
  (memory 1 1 shared)
  (func (export "load") (param i32) (result i64) (i64.atomic.load offset=8 (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.atomic.store8 (local.get 0) (local.get 1)))
  (func (export "rmw16") (param i32 i64) (result i64) (i64.atomic.rmw16.sub_u offset=2 (local.get 0) (local.get 1)))
  (func (export "cmpxchg") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fence") atomic.fence)
  (func (export "wait") (param i32 i64 i64) (result i32) (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32) (memory.atomic.notify offset=4 (local.get 0) (local.get 1)))
)
