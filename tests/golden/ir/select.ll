; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden double @"wb_self"(ptr %".1", i32 %".2", double %".3", double %".4") nounwind
{
entry:
  %".6" = alloca i32
  store i32 %".2", i32* %".6"
  %".8" = alloca double
  store double %".3", double* %".8"
  %".10" = alloca double
  store double %".4", double* %".10"
  %".12" = alloca i8
  %".13" = load ptr, ptr %".1", !tbaa !2
  %".14" = getelementptr i8, ptr %".13", i64 16
  %".15" = load i64, ptr %".14", !tbaa !2
  %".16" = ptrtoint i8* %".12" to i64
  %".17" = icmp ult i64 %".16", %".15"
  br i1 %".17", label %"trap10", label %".18", !prof !3
.18:
  %".22" = load i32, i32* %".6"
  %".23" = load i32, i32* %".6"
  %".24" = icmp ne i32 %".23", 0
  %".25" = select  i1 %".24", i32 %".22", i32 5
  %".26" = load double, double* %".8"
  %".27" = load double, double* %".10"
  %".28" = load i32, i32* %".6"
  %".29" = icmp ne i32 %".28", 0
  %".30" = select  i1 %".29", double %".26", double %".27"
  ret double %".30"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc double @"wb_self.tail"(ptr %".1", i32 %".2", double %".3", double %".4") nounwind
{
entry:
  %".6" = call double @"wb_self"(ptr %".1", i32 %".2", double %".3", double %".4")
  ret double %".6"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
