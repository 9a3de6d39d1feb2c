; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = alloca i32
  store i32 %".2", i32* %".4"
  %".6" = alloca i8
  %".7" = load ptr, ptr %".1", !tbaa !2
  %".8" = getelementptr i8, ptr %".7", i64 16
  %".9" = load i64, ptr %".8", !tbaa !2
  %".10" = ptrtoint i8* %".6" to i64
  %".11" = icmp ult i64 %".10", %".9"
  br i1 %".11", label %"trap10", label %".12", !prof !3
.12:
  %".16" = load i32, i32* %".4"
  %".17" = call i32 @"llvm.ctlz.i32"(i32 %".16", i1 0)
  %".18" = load i32, i32* %".4"
  %".19" = call i32 @"llvm.cttz.i32"(i32 %".18", i1 0)
  %".20" = add i32 %".17", %".19"
  %".21" = load i32, i32* %".4"
  %".22" = call i32 @"llvm.ctpop.i32"(i32 %".21")
  %".23" = add i32 %".20", %".22"
  %".24" = load i32, i32* %".4"
  %".25" = icmp eq i32 %".24", 0
  %".26" = zext i1 %".25" to i32
  %".27" = add i32 %".23", %".26"
  %".28" = trunc i32 %".27" to i8
  %".29" = sext i8 %".28" to i32
  %".30" = trunc i32 %".29" to i16
  %".31" = sext i16 %".30" to i32
  ret i32 %".31"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare i32 @"llvm.ctlz.i32"(i32 %".1", i1 %".2")

declare i32 @"llvm.cttz.i32"(i32 %".1", i1 %".2")

declare i32 @"llvm.ctpop.i32"(i32 %".1")

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = call i32 @"wb_self"(ptr %".1", i32 %".2")
  ret i32 %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
