;; callbacks: a second module of the cpp-exceptions graph, not C++: it owns the function table the
;; C++ module imports (env.__indirect_function_table) and calls C++ callbacks through it. A C++
;; exception thrown by a callback unwinds through `call_each` (another instance) to the C++ caller;
;; `call_each` does not know the C++ tag, so it catches everything with catch_all_ref, counts the
;; cleanup and rethrows the same exception with throw_ref (a `finally`).
(module
  (table (export "__indirect_function_table") 64 funcref)
  (global $cleanups (mut i32) (i32.const 0))
  (type $callback (func (param i32)))
  ;; call_each(n, f): f(0), f(1), ..., f(n-1); gives how many calls returned normally
  (func (export "call_each") (param $n i32) (param $f i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (block $unwinding (result exnref)
          (try_table (catch_all_ref $unwinding)
            (call_indirect (type $callback) (local.get $i) (local.get $f)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next))
        ;; an exception left the callback: count it and let it go on
        (global.set $cleanups (i32.add (global.get $cleanups) (i32.const 1)))
        throw_ref))
    (local.get $i))
  (func (export "cleanups") (result i32) (global.get $cleanups)))
