; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden double @"wb_self"(ptr %".1", double %".2") nounwind
{
entry:
  %".4" = alloca double
  store double %".2", double* %".4"
  %".6" = alloca i8
  %".7" = load ptr, ptr %".1", !tbaa !2
  %".8" = getelementptr i8, ptr %".7", i64 16
  %".9" = load i64, ptr %".8", !tbaa !2
  %".10" = ptrtoint i8* %".6" to i64
  %".11" = icmp ult i64 %".10", %".9"
  br i1 %".11", label %"trap10", label %".12", !prof !3
.12:
  %".16" = load double, double* %".4"
  %".17" = call double @"llvm.roundeven.f64"(double %".16")
  %".18" = call double @"llvm.ceil.f64"(double %".17")
  %".19" = call double @"llvm.floor.f64"(double %".18")
  %".20" = call double @"llvm.trunc.f64"(double %".19")
  %".21" = call double @"llvm.sqrt.f64"(double %".20")
  ret double %".21"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare double @"llvm.roundeven.f64"(double %".1")

declare double @"llvm.ceil.f64"(double %".1")

declare double @"llvm.floor.f64"(double %".1")

declare double @"llvm.trunc.f64"(double %".1")

declare double @"llvm.sqrt.f64"(double %".1")

define hidden tailcc double @"wb_self.tail"(ptr %".1", double %".2") nounwind
{
entry:
  %".4" = call double @"wb_self"(ptr %".1", double %".2")
  ret double %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
