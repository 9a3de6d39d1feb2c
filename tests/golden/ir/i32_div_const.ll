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
  %".17" = icmp eq i32 10, 0
  br i1 %".17", label %"trap3", label %".18", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.18:
  %".22" = icmp eq i32 %".16", 2147483648
  %".23" = icmp eq i32 10, 4294967295
  %".24" = and i1 %".22", %".23"
  br i1 %".24", label %"trap4", label %".25", !prof !3
trap3:
  call void @"wb_rt_trap"(ptr %".1", i32 3)
  unreachable
.25:
  %".29" = sdiv i32 %".16", 10
  %".30" = icmp eq i32 3, 0
  br i1 %".30", label %"trap3", label %".31", !prof !3
trap4:
  call void @"wb_rt_trap"(ptr %".1", i32 4)
  unreachable
.31:
  %".33" = urem i32 %".29", 3
  ret i32 %".33"
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

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
