;; multi-value blocks: a block and a loop taking two values and giving two
(module
  (type $pair (func (param i32 i32) (result i32 i32)))
  (func (param i32 i32) (result i32)
    local.get 0 local.get 1
    (block (type $pair) i32.add i32.const 1)
    (loop (type $pair))
    i32.sub))
