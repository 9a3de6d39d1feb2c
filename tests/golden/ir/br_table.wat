;; br_table carrying a value to three targets
(module
  (func (param i32) (result i32)
    (block $c (result i32)
      (block $b (result i32)
        (block $a (result i32)
          i32.const 100
          local.get 0
          br_table $a $b $c)
        i32.const 1 i32.add)
      i32.const 2 i32.add)))
