; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden void @"wb_self"(ptr %".1", ptr %".2", i64 %".3", i32 %".4", double %".5") nounwind
{
entry:
  %".7" = alloca i64
  store i64 %".3", i64* %".7"
  %".9" = alloca i32
  store i32 %".4", i32* %".9"
  %".11" = alloca double
  store double %".5", double* %".11"
  %".13" = alloca i8
  %".14" = load ptr, ptr %".1", !tbaa !2
  %".15" = getelementptr i8, ptr %".14", i64 16
  %".16" = load i64, ptr %".15", !tbaa !2
  %".17" = ptrtoint i8* %".13" to i64
  %".18" = icmp ult i64 %".17", %".16"
  br i1 %".18", label %"trap10", label %".19", !prof !3
.19:
  %".23" = load i64, i64* %".7"
  %".24" = uitofp i64 %".23" to float
  %".25" = load i32, i32* %".9"
  %".26" = sitofp i32 %".25" to double
  %".27" = load i64, i64* %".7"
  %".28" = trunc i64 %".27" to i32
  %".29" = load i32, i32* %".9"
  %".30" = zext i32 %".29" to i64
  %".31" = load double, double* %".11"
  %".32" = fptrunc double %".31" to float
  %".33" = fpext float %".32" to double
  %".34" = bitcast double %".33" to i64
  %".35" = bitcast i64 %".34" to double
  %".36" = fptrunc double %".35" to float
  %".37" = bitcast float %".36" to i32
  %".38" = bitcast i32 %".37" to float
  store float %".24", ptr %".2"
  %".40" = getelementptr i8, ptr %".2", i64 16
  store double %".26", ptr %".40"
  %".42" = getelementptr i8, ptr %".2", i64 32
  store i32 %".28", ptr %".42"
  %".44" = getelementptr i8, ptr %".2", i64 48
  store i64 %".30", ptr %".44"
  %".46" = getelementptr i8, ptr %".2", i64 64
  store float %".38", ptr %".46"
  ret void
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc void @"wb_self.tail"(ptr %".1", ptr %".2", i64 %".3", i32 %".4", double %".5") nounwind
{
entry:
  call void @"wb_self"(ptr %".1", ptr %".2", i64 %".3", i32 %".4", double %".5")
  ret void
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
