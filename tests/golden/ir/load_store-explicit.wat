;; i32 load and store with static offsets: bounds checks against the memory's size
(module
  (memory 1)
  (func (param i32 i32)
    local.get 0
    local.get 1 i32.load offset=8
    i32.store offset=4 align=2))
