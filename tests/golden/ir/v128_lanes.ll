; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden <2 x i64> @"wb_self"(ptr %".1", i32 %".2", <2 x i64> %".3") nounwind
{
entry:
  %".5" = alloca i32
  store i32 %".2", i32* %".5"
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
  %".19" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".19", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  %".20" = load i32, i32* %".5"
  %".21" = load <2 x i64>, <2 x i64>* %".7"
  %".22" = bitcast <2 x i64> %".21" to <16 x i8>
  %".23" = zext i32 %".20" to i64
  %".24" = getelementptr i8, ptr %"membase", i64 %".23"
  %".25" = load volatile i8, ptr %".24", align 1, !tbaa !5
  %".26" = insertelement <16 x i8> %".22", i8 %".25", i32 5
  %".27" = bitcast <16 x i8> %".26" to <2 x i64>
  %".28" = load i32, i32* %".5"
  %".29" = zext i32 %".28" to i64
  %".30" = getelementptr i8, ptr %"membase", i64 %".29"
  %".31" = getelementptr i8, ptr %".30", i64 4
  %".32" = load volatile i32, ptr %".31", align 1, !tbaa !5
  %".33" = insertelement <4 x i32> <i32 0, i32 0, i32 0, i32 0>, i32 %".32", i32 0
  %".34" = bitcast <4 x i32> %".33" to <2 x i64>
  %".35" = load i32, i32* %".5"
  %".36" = load <2 x i64>, <2 x i64>* %".7"
  %".37" = bitcast <2 x i64> %".36" to <8 x i16>
  %".38" = zext i32 %".35" to i64
  %".39" = getelementptr i8, ptr %"membase", i64 %".38"
  %".40" = getelementptr i8, ptr %".39", i64 2
  %".41" = extractelement <8 x i16> %".37", i32 3
  store volatile i16 %".41", ptr %".40", align 1, !tbaa !5
  %".43" = load i32, i32* %".5"
  %".44" = load <2 x i64>, <2 x i64>* %".7"
  %".45" = zext i32 %".43" to i64
  %".46" = getelementptr i8, ptr %"membase", i64 %".45"
  %".47" = getelementptr i8, ptr %".46", i64 8
  %".48" = load volatile i64, ptr %".47", align 1, !tbaa !5
  %".49" = insertelement <2 x i64> %".44", i64 %".48", i32 1
  %".50" = add <2 x i64> %".27", %".49"
  ret <2 x i64> %".50"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc <2 x i64> @"wb_self.tail"(ptr %".1", i32 %".2", <2 x i64> %".3") nounwind
{
entry:
  %".5" = call <2 x i64> @"wb_self"(ptr %".1", i32 %".2", <2 x i64> %".3")
  ret <2 x i64> %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
