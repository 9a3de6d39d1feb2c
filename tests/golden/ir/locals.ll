; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i64 @"wb_self"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = alloca i32
  store i32 %".2", i32* %".4"
  %".6" = alloca i64
  store i64 0, i64* %".6"
  %".8" = alloca float
  store float              0x0, float* %".8"
  %".10" = alloca <2 x i64>
  store <2 x i64> <i64 0, i64 0>, <2 x i64>* %".10"
  %".12" = alloca i8
  %".13" = load ptr, ptr %".1", !tbaa !2
  %".14" = getelementptr i8, ptr %".13", i64 16
  %".15" = load i64, ptr %".14", !tbaa !2
  %".16" = ptrtoint i8* %".12" to i64
  %".17" = icmp ult i64 %".16", %".15"
  br i1 %".17", label %"trap10", label %".18", !prof !3
.18:
  %".22" = load i32, i32* %".4"
  %".23" = sext i32 %".22" to i64
  store i64 %".23", i64* %".6"
  %".25" = load i64, i64* %".6"
  %".26" = add i64 %".23", %".25"
  store i64 %".26", i64* %".6"
  store float bitcast (i32 1065353216 to float), float* %".8"
  %".29" = load i64, i64* %".6"
  ret i64 %".29"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
