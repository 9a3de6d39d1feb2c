; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {i32, i64} @"wb_self"(ptr %".1", double %".2", float %".3") nounwind
{
entry:
  %".5" = alloca double
  store double %".2", double* %".5"
  %".7" = alloca float
  store float %".3", float* %".7"
  %".9" = alloca i8
  %".10" = load ptr, ptr %".1", !tbaa !2
  %".11" = getelementptr i8, ptr %".10", i64 16
  %".12" = load i64, ptr %".11", !tbaa !2
  %".13" = ptrtoint i8* %".9" to i64
  %".14" = icmp ult i64 %".13", %".12"
  br i1 %".14", label %"trap10", label %".15", !prof !3
.15:
  %".19" = load double, double* %".5"
  %".20" = call i32 @"llvm.fptosi.sat.i32.f64"(double %".19")
  %".21" = load float, float* %".7"
  %".22" = call i64 @"llvm.fptoui.sat.i64.f32"(float %".21")
  %".23" = insertvalue {i32, i64} undef, i32 %".20", 0
  %".24" = insertvalue {i32, i64} %".23", i64 %".22", 1
  ret {i32, i64} %".24"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare i32 @"llvm.fptosi.sat.i32.f64"(double %".1")

declare i64 @"llvm.fptoui.sat.i64.f32"(float %".1")

define hidden tailcc {i32, i64} @"wb_self.tail"(ptr %".1", double %".2", float %".3") nounwind
{
entry:
  %".5" = call {i32, i64} @"wb_self"(ptr %".1", double %".2", float %".3")
  ret {i32, i64} %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
