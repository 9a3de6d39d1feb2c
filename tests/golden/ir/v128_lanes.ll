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
  %".24" = getelementptr i8, ptr %"memdef", i64 8
  %".25" = load i64, ptr %".24", !tbaa !2
  %".26" = add i64 %".23", 1
  %".27" = icmp ugt i64 %".26", %".25"
  br i1 %".27", label %"trap2", label %".28", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.28:
  %".32" = getelementptr i8, ptr %"membase", i64 %".23"
  %".33" = load i8, ptr %".32", align 1, !tbaa !5
  %".34" = insertelement <16 x i8> %".22", i8 %".33", i32 5
  %".35" = bitcast <16 x i8> %".34" to <2 x i64>
  %".36" = load i32, i32* %".5"
  %".37" = zext i32 %".36" to i64
  %".38" = add i64 %".37", 4
  %".39" = getelementptr i8, ptr %"memdef", i64 8
  %".40" = load i64, ptr %".39", !tbaa !2
  %".41" = add i64 %".38", 4
  %".42" = icmp ugt i64 %".41", %".40"
  br i1 %".42", label %"trap2", label %".43", !prof !3
trap2:
  call void @"wb_rt_trap"(ptr %".1", i32 2)
  unreachable
.43:
  %".45" = getelementptr i8, ptr %"membase", i64 %".38"
  %".46" = load i32, ptr %".45", align 1, !tbaa !5
  %".47" = insertelement <4 x i32> <i32 0, i32 0, i32 0, i32 0>, i32 %".46", i32 0
  %".48" = bitcast <4 x i32> %".47" to <2 x i64>
  %".49" = load i32, i32* %".5"
  %".50" = load <2 x i64>, <2 x i64>* %".7"
  %".51" = bitcast <2 x i64> %".50" to <8 x i16>
  %".52" = zext i32 %".49" to i64
  %".53" = add i64 %".52", 2
  %".54" = getelementptr i8, ptr %"memdef", i64 8
  %".55" = load i64, ptr %".54", !tbaa !2
  %".56" = add i64 %".53", 2
  %".57" = icmp ugt i64 %".56", %".55"
  br i1 %".57", label %"trap2", label %".58", !prof !3
.58:
  %".60" = getelementptr i8, ptr %"membase", i64 %".53"
  %".61" = extractelement <8 x i16> %".51", i32 3
  store i16 %".61", ptr %".60", align 1, !tbaa !5
  %".63" = load i32, i32* %".5"
  %".64" = load <2 x i64>, <2 x i64>* %".7"
  %".65" = zext i32 %".63" to i64
  %".66" = add i64 %".65", 8
  %".67" = getelementptr i8, ptr %"memdef", i64 8
  %".68" = load i64, ptr %".67", !tbaa !2
  %".69" = add i64 %".66", 8
  %".70" = icmp ugt i64 %".69", %".68"
  br i1 %".70", label %"trap2", label %".71", !prof !3
.71:
  %".73" = getelementptr i8, ptr %"membase", i64 %".66"
  %".74" = load i64, ptr %".73", align 1, !tbaa !5
  %".75" = insertelement <2 x i64> %".64", i64 %".74", i32 1
  %".76" = add <2 x i64> %".35", %".75"
  ret <2 x i64> %".76"
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
