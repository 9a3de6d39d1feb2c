; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden float @"wb_self"(ptr %".1", float %".2", float %".3") nounwind
{
entry:
  %".5" = alloca float
  store float %".2", float* %".5"
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
  %".19" = load float, float* %".5"
  %".20" = load float, float* %".7"
  %".21" = call float @"llvm.minimum.f32"(float %".19", float %".20")
  %".22" = fcmp uno float %".19", %".20"
  %".23" = fadd float %".19", %".20"
  %".24" = select  i1 %".22", float %".23", float %".21"
  %".25" = load float, float* %".7"
  %".26" = call float @"llvm.maximum.f32"(float %".24", float %".25")
  %".27" = fcmp uno float %".24", %".25"
  %".28" = fadd float %".24", %".25"
  %".29" = select  i1 %".27", float %".28", float %".26"
  %".30" = load float, float* %".5"
  %".31" = call float @"llvm.copysign.f32"(float %".29", float %".30")
  %".32" = call float @"llvm.fabs.f32"(float %".31")
  %".33" = fneg float %".32"
  ret float %".33"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare float @"llvm.minimum.f32"(float %".1", float %".2")

declare float @"llvm.maximum.f32"(float %".1", float %".2")

declare float @"llvm.copysign.f32"(float %".1", float %".2")

declare float @"llvm.fabs.f32"(float %".1")

define hidden tailcc float @"wb_self.tail"(ptr %".1", float %".2", float %".3") nounwind
{
entry:
  %".5" = call float @"wb_self"(ptr %".1", float %".2", float %".3")
  ret float %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
