; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {<2 x i64>, i32} @"wb_self"(ptr %".1", <2 x i64> %".2", <2 x i64> %".3") nounwind
{
entry:
  %".5" = alloca <2 x i64>
  store <2 x i64> %".2", <2 x i64>* %".5"
  %".7" = alloca <2 x i64>
  store <2 x i64> %".3", <2 x i64>* %".7"
  %".9" = alloca i8
  %".10" = load ptr, ptr %".1", !tbaa !2
  %".11" = getelementptr i8, ptr %".10", i64 16
  %".12" = load i64, ptr %".11", !tbaa !2
  %".13" = ptrtoint i8* %".9" to i64
  %".14" = icmp ult i64 %".13", %".12"
  br i1 %".14", label %"trap10", label %".15", !prof !3
.15:
  %".19" = load <2 x i64>, <2 x i64>* %".5"
  %".20" = load <2 x i64>, <2 x i64>* %".7"
  %".21" = bitcast <2 x i64> %".20" to <16 x i8>
  %".22" = bitcast <2 x i64> %".19" to <16 x i8>
  %".23" = shufflevector <16 x i8> %".22", <16 x i8> %".21", <16 x i32> <i32 0, i32 17, i32 2, i32 19, i32 4, i32 21, i32 6, i32 23, i32 8, i32 25, i32 10, i32 27, i32 12, i32 29, i32 14, i32 31>
  %".24" = bitcast <16 x i8> %".23" to <2 x i64>
  %".25" = load <2 x i64>, <2 x i64>* %".5"
  %".26" = load <2 x i64>, <2 x i64>* %".7"
  %".27" = bitcast <2 x i64> %".26" to <8 x i16>
  %".28" = bitcast <2 x i64> %".25" to <8 x i16>
  %".29" = icmp slt <8 x i16> %".28", %".27"
  %".30" = sext <8 x i1> %".29" to <8 x i16>
  %".31" = bitcast <8 x i16> %".30" to <2 x i64>
  %".32" = load <2 x i64>, <2 x i64>* %".7"
  %".33" = and <2 x i64> %".24", %".32"
  %".34" = xor <2 x i64> %".32", <i64 -1, i64 -1>
  %".35" = and <2 x i64> %".31", %".34"
  %".36" = or <2 x i64> %".33", %".35"
  %".37" = load <2 x i64>, <2 x i64>* %".5"
  %".38" = bitcast <2 x i64> %".37" to i128
  %".39" = icmp ne i128 %".38", 0
  %".40" = zext i1 %".39" to i32
  %".41" = insertvalue {<2 x i64>, i32} undef, <2 x i64> %".36", 0
  %".42" = insertvalue {<2 x i64>, i32} %".41", i32 %".40", 1
  ret {<2 x i64>, i32} %".42"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc {<2 x i64>, i32} @"wb_self.tail"(ptr %".1", <2 x i64> %".2", <2 x i64> %".3") nounwind
{
entry:
  %".5" = call {<2 x i64>, i32} @"wb_self"(ptr %".1", <2 x i64> %".2", <2 x i64> %".3")
  ret {<2 x i64>, i32} %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
