; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden void @"wb_self"(ptr %".1", ptr %".2") nounwind
{
entry:
  %".4" = alloca i8
  %".5" = load ptr, ptr %".1", !tbaa !2
  %".6" = getelementptr i8, ptr %".5", i64 16
  %".7" = load i64, ptr %".6", !tbaa !2
  %".8" = ptrtoint i8* %".4" to i64
  %".9" = icmp ult i64 %".8", %".7"
  br i1 %".9", label %"trap10", label %".10", !prof !3
.10:
  store float bitcast (i32 2141192193 to float), ptr %".2"
  %".15" = getelementptr i8, ptr %".2", i64 16
  store double bitcast (i64 9223372036854775808 to double), ptr %".15"
  %".17" = getelementptr i8, ptr %".2", i64 32
  store double bitcast (i64 1 to double), ptr %".17"
  ret void
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc void @"wb_self.tail"(ptr %".1", ptr %".2") nounwind
{
entry:
  call void @"wb_self"(ptr %".1", ptr %".2")
  ret void
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
