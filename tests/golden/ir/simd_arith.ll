; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {<2 x i64>, i32} @"wb_self"(ptr %".1", <2 x i64> %".2", <2 x i64> %".3", float %".4") nounwind
{
entry:
  %".6" = alloca <2 x i64>
  store <2 x i64> %".2", <2 x i64>* %".6"
  %".8" = alloca <2 x i64>
  store <2 x i64> %".3", <2 x i64>* %".8"
  %".10" = alloca float
  store float %".4", float* %".10"
  %".12" = alloca i8
  %".13" = load ptr, ptr %".1", !tbaa !2
  %".14" = getelementptr i8, ptr %".13", i64 16
  %".15" = load i64, ptr %".14", !tbaa !2
  %".16" = ptrtoint i8* %".12" to i64
  %".17" = icmp ult i64 %".16", %".15"
  br i1 %".17", label %"trap10", label %".18", !prof !3
.18:
  %".22" = load <2 x i64>, <2 x i64>* %".6"
  %".23" = load <2 x i64>, <2 x i64>* %".8"
  %".24" = bitcast <2 x i64> %".23" to <4 x i32>
  %".25" = bitcast <2 x i64> %".22" to <4 x i32>
  %".26" = add <4 x i32> %".25", %".24"
  %".27" = bitcast <4 x i32> %".26" to <2 x i64>
  %".28" = load float, float* %".10"
  %".29" = insertelement <4 x float> <float undef, float undef, float undef, float undef>, float %".28", i32 0
  %".30" = shufflevector <4 x float> %".29", <4 x float> <float undef, float undef, float undef, float undef>, <4 x i32> <i32 0, i32 0, i32 0, i32 0>
  %".31" = bitcast <4 x float> %".30" to <2 x i64>
  %".32" = bitcast <2 x i64> %".27" to <4 x float>
  %".33" = bitcast <2 x i64> %".31" to <4 x float>
  %".34" = fmul <4 x float> %".32", %".33"
  %".35" = bitcast <4 x float> %".34" to <2 x i64>
  %".36" = load <2 x i64>, <2 x i64>* %".6"
  %".37" = bitcast <2 x i64> %".36" to <4 x i32>
  %".38" = extractelement <4 x i32> %".37", i32 2
  %".39" = insertvalue {<2 x i64>, i32} undef, <2 x i64> %".35", 0
  %".40" = insertvalue {<2 x i64>, i32} %".39", i32 %".38", 1
  ret {<2 x i64>, i32} %".40"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc {<2 x i64>, i32} @"wb_self.tail"(ptr %".1", <2 x i64> %".2", <2 x i64> %".3", float %".4") nounwind
{
entry:
  %".6" = call {<2 x i64>, i32} @"wb_self"(ptr %".1", <2 x i64> %".2", <2 x i64> %".3", float %".4")
  ret {<2 x i64>, i32} %".6"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
