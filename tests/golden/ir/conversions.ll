; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {float, double, i32, i64, float} @"wb_self"(ptr %".1", i64 %".2", i32 %".3", double %".4") nounwind
{
entry:
  %".6" = alloca i64
  store i64 %".2", i64* %".6"
  %".8" = alloca i32
  store i32 %".3", i32* %".8"
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
  %".22" = load i64, i64* %".6"
  %".23" = uitofp i64 %".22" to float
  %".24" = load i32, i32* %".8"
  %".25" = sitofp i32 %".24" to double
  %".26" = load i64, i64* %".6"
  %".27" = trunc i64 %".26" to i32
  %".28" = load i32, i32* %".8"
  %".29" = zext i32 %".28" to i64
  %".30" = load double, double* %".10"
  %".31" = fptrunc double %".30" to float
  %".32" = fpext float %".31" to double
  %".33" = bitcast double %".32" to i64
  %".34" = bitcast i64 %".33" to double
  %".35" = fptrunc double %".34" to float
  %".36" = bitcast float %".35" to i32
  %".37" = bitcast i32 %".36" to float
  %".38" = insertvalue {float, double, i32, i64, float} undef, float %".23", 0
  %".39" = insertvalue {float, double, i32, i64, float} %".38", double %".25", 1
  %".40" = insertvalue {float, double, i32, i64, float} %".39", i32 %".27", 2
  %".41" = insertvalue {float, double, i32, i64, float} %".40", i64 %".29", 3
  %".42" = insertvalue {float, double, i32, i64, float} %".41", float %".37", 4
  ret {float, double, i32, i64, float} %".42"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc {float, double, i32, i64, float} @"wb_self.tail"(ptr %".1", i64 %".2", i32 %".3", double %".4") nounwind
{
entry:
  %".6" = call {float, double, i32, i64, float} @"wb_self"(ptr %".1", i64 %".2", i32 %".3", double %".4")
  ret {float, double, i32, i64, float} %".6"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
