;; a counting loop: phis at the loop header, br_if back to it
(module
  (func (param i32) (result i32)
    (local i32)
    (loop $again
      local.get 1 local.get 0 i32.add local.set 1
      local.get 0 i32.const 1 i32.sub local.tee 0
      br_if $again)
    local.get 1))
