;; ref.func, ref.null and ref.is_null
(module
  (func $target)
  (elem declare func $target)
  (func (result funcref externref i32)
    ref.func $target
    ref.null extern
    ref.null func ref.is_null))
