;; A bytecode interpreter whose handlers tail-call each other: every instruction is a handler
;; function reached through `return_call_indirect` on a table indexed by the opcode, so running a
;; program of any length uses constant native stack. Two registers, a and b (i64); an instruction
;; is one opcode byte and a 4-byte immediate.
;;   0 HALT      return a (through $finish, a function of another signature)
;;   1 ADD       a += b          2 DEC  b -= 1          3 JNZ imm  if b != 0 jump to imm
;;   4 SET imm   a = imm         5 MUL  a *= b          6 SWAP     a, b = b, a
(module
  (type $handler (func (param $pc i32) (param $a i64) (param $b i64) (result i64)))
  (memory 1)
  (table $ops 7 funcref)
  (elem (table $ops) (i32.const 0) func $halt $add $dec $jnz $set $mul $swap)

  ;; sum: a = b + (b-1) + ... + 1
  (data (i32.const 0) "\04\00\00\00\00" "\01\00\00\00\00" "\02\00\00\00\00" "\03\05\00\00\00" "\00\00\00\00\00")
  ;; factorial: a = b!
  (data (i32.const 32) "\04\01\00\00\00" "\05\00\00\00\00" "\02\00\00\00\00" "\03\25\00\00\00" "\00\00\00\00\00")
  ;; swap test: a = 7, then swap: a = b (the input), b = 7; a += b; halt: n + 7
  (data (i32.const 64) "\04\07\00\00\00" "\06\00\00\00\00" "\01\00\00\00\00" "\00\00\00\00\00")

  (func $dispatch (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64)
    (return_call_indirect $ops (type $handler)
      (local.get $pc) (local.get $a) (local.get $b) (i32.load8_u (local.get $pc))))
  (func $imm (param $pc i32) (result i64) (i64.extend_i32_u (i32.load offset=1 align=1 (local.get $pc))))
  (func $finish (param $a i64) (result i64) (local.get $a))

  (func $halt (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64) (return_call $finish (local.get $a)))
  (func $add (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64)
    (return_call $dispatch (i32.add (local.get $pc) (i32.const 5)) (i64.add (local.get $a) (local.get $b)) (local.get $b)))
  (func $dec (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64)
    (return_call $dispatch (i32.add (local.get $pc) (i32.const 5)) (local.get $a) (i64.sub (local.get $b) (i64.const 1))))
  (func $jnz (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64)
    (return_call $dispatch
      (if (result i32) (i64.eqz (local.get $b))
        (then (i32.add (local.get $pc) (i32.const 5)))
        (else (i32.wrap_i64 (call $imm (local.get $pc)))))
      (local.get $a) (local.get $b)))
  (func $set (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64)
    (return_call $dispatch (i32.add (local.get $pc) (i32.const 5)) (call $imm (local.get $pc)) (local.get $b)))
  (func $mul (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64)
    (return_call $dispatch (i32.add (local.get $pc) (i32.const 5)) (i64.mul (local.get $a) (local.get $b)) (local.get $b)))
  (func $swap (type $handler) (param $pc i32) (param $a i64) (param $b i64) (result i64)
    (return_call $dispatch (i32.add (local.get $pc) (i32.const 5)) (local.get $b) (local.get $a)))

  ;; run the program at `entry` with b = n
  (func (export "run") (param $entry i32) (param $n i64) (result i64)
    (return_call $dispatch (local.get $entry) (i64.const 0) (local.get $n)))

  ;; a loop written as tail recursion with an accumulator of another shape: fib(n) mod 2^64
  (func $fib_step (param $n i64) (param $x i64) (param $y i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (local.get $x))
      (else (return_call $fib_step (i64.sub (local.get $n) (i64.const 1)) (local.get $y)
                                   (i64.add (local.get $x) (local.get $y))))))
  (func (export "fib") (param $n i64) (result i64)
    (return_call $fib_step (local.get $n) (i64.const 0) (i64.const 1))))
