; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", double %".2", double %".3") nounwind
{
entry:
  %".5" = alloca double
  store double %".2", double* %".5"
  %".7" = alloca double
  store double %".3", double* %".7"
  %".9" = alloca i8
  %".10" = load ptr, ptr %".1", !tbaa !2
  %".11" = getelementptr i8, ptr %".10", i64 16
  %".12" = load i64, ptr %".11", !tbaa !2
  %".13" = ptrtoint i8* %".9" to i64
  %".14" = icmp ult i64 %".13", %".12"
  br i1 %".14", label %"trap10", label %".15", !prof !3
.15:
  %".19" = load double, double* %".5"
  %".20" = load double, double* %".7"
  %".21" = fadd double %".19", %".20"
  %".22" = load double, double* %".7"
  %".23" = fdiv double %".21", %".22"
  %".24" = load double, double* %".5"
  %".25" = fmul double %".23", %".24"
  %".26" = load double, double* %".7"
  %".27" = fsub double %".25", %".26"
  %".28" = load double, double* %".5"
  %".29" = fcmp olt double %".27", %".28"
  %".30" = zext i1 %".29" to i32
  %".31" = load double, double* %".5"
  %".32" = load double, double* %".7"
  %".33" = fcmp une double %".31", %".32"
  %".34" = zext i1 %".33" to i32
  %".35" = add i32 %".30", %".34"
  ret i32 %".35"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", double %".2", double %".3") nounwind
{
entry:
  %".5" = call i32 @"wb_self"(ptr %".1", double %".2", double %".3")
  ret i32 %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
