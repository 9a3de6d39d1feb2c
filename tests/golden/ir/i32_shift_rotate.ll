; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2", i32 %".3") nounwind
{
entry:
  %".5" = alloca i32
  store i32 %".2", i32* %".5"
  %".7" = alloca i32
  store i32 %".3", i32* %".7"
  %".9" = alloca i8
  %".10" = load ptr, ptr %".1", !tbaa !2
  %".11" = getelementptr i8, ptr %".10", i64 16
  %".12" = load i64, ptr %".11", !tbaa !2
  %".13" = ptrtoint i8* %".9" to i64
  %".14" = icmp ult i64 %".13", %".12"
  br i1 %".14", label %"trap10", label %".15", !prof !3
.15:
  %".19" = load i32, i32* %".5"
  %".20" = load i32, i32* %".7"
  %".21" = and i32 %".20", 31
  %".22" = shl i32 %".19", %".21"
  %".23" = load i32, i32* %".7"
  %".24" = and i32 %".23", 31
  %".25" = ashr i32 %".22", %".24"
  %".26" = load i32, i32* %".7"
  %".27" = and i32 %".26", 31
  %".28" = lshr i32 %".25", %".27"
  %".29" = load i32, i32* %".7"
  %".30" = call i32 @"llvm.fshl.i32"(i32 %".28", i32 %".28", i32 %".29")
  %".31" = load i32, i32* %".7"
  %".32" = call i32 @"llvm.fshr.i32"(i32 %".30", i32 %".30", i32 %".31")
  ret i32 %".32"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare i32 @"llvm.fshl.i32"(i32 %".1", i32 %".2", i32 %".3")

declare i32 @"llvm.fshr.i32"(i32 %".1", i32 %".2", i32 %".3")

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2", i32 %".3") nounwind
{
entry:
  %".5" = call i32 @"wb_self"(ptr %".1", i32 %".2", i32 %".3")
  ret i32 %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
