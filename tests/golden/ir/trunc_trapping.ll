; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {i32, i64} @"wb_self"(ptr %".1", float %".2", double %".3") nounwind
{
entry:
  %".5" = alloca float
  store float %".2", float* %".5"
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
  %".19" = load float, float* %".5"
  %".20" = fcmp uno float %".19", %".19"
  br i1 %".20", label %"trap5", label %".21", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.21:
  %".25" = fcmp oge float %".19", 0xc1e0000000000000
  %".26" = fcmp olt float %".19", 0x41e0000000000000
  %".27" = and i1 %".25", %".26"
  %".28" = xor i1 %".27", -1
  br i1 %".28", label %"trap4", label %".29", !prof !3
trap5:
  call void @"wb_rt_trap"(ptr %".1", i32 5)
  unreachable
.29:
  %".33" = fptosi float %".19" to i32
  %".34" = load double, double* %".7"
  %".35" = fcmp uno double %".34", %".34"
  br i1 %".35", label %"trap5", label %".36", !prof !3
trap4:
  call void @"wb_rt_trap"(ptr %".1", i32 4)
  unreachable
.36:
  %".38" = fcmp ogt double %".34", 0xbff0000000000000
  %".39" = fcmp olt double %".34", 0x43f0000000000000
  %".40" = and i1 %".38", %".39"
  %".41" = xor i1 %".40", -1
  br i1 %".41", label %"trap4", label %".42", !prof !3
.42:
  %".44" = fptoui double %".34" to i64
  %".45" = insertvalue {i32, i64} undef, i32 %".33", 0
  %".46" = insertvalue {i32, i64} %".45", i64 %".44", 1
  ret {i32, i64} %".46"
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc {i32, i64} @"wb_self.tail"(ptr %".1", float %".2", double %".3") nounwind
{
entry:
  %".5" = call {i32, i64} @"wb_self"(ptr %".1", float %".2", double %".3")
  ret {i32, i64} %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
