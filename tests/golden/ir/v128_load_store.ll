; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden <2 x i64> @"wb_self"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = alloca i32
  store i32 %".2", i32* %".4"
  %".6" = alloca i8
  %".7" = load ptr, ptr %".1", !tbaa !2
  %".8" = getelementptr i8, ptr %".7", i64 16
  %".9" = load i64, ptr %".8", !tbaa !2
  %".10" = ptrtoint i8* %".6" to i64
  %".11" = icmp ult i64 %".10", %".9"
  br i1 %".11", label %"trap10", label %".12", !prof !3
.12:
  %".16" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".16", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  %".17" = load i32, i32* %".4"
  %".18" = load i32, i32* %".4"
  %".19" = zext i32 %".18" to i64
  %".20" = add i64 %".19", 16
  %".21" = getelementptr i8, ptr %"memdef", i64 8
  %".22" = load i64, ptr %".21", !tbaa !2
  %".23" = add i64 %".20", 16
  %".24" = icmp ugt i64 %".23", %".22"
  br i1 %".24", label %"trap2", label %".25", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.25:
  %".29" = getelementptr i8, ptr %"membase", i64 %".20"
  %".30" = load <2 x i64>, ptr %".29", align 1, !tbaa !5
  %".31" = zext i32 %".17" to i64
  %".32" = add i64 %".31", 32
  %".33" = getelementptr i8, ptr %"memdef", i64 8
  %".34" = load i64, ptr %".33", !tbaa !2
  %".35" = add i64 %".32", 16
  %".36" = icmp ugt i64 %".35", %".34"
  br i1 %".36", label %"trap2", label %".37", !prof !3
trap2:
  call void @"wb_rt_trap"(ptr %".1", i32 2)
  unreachable
.37:
  %".39" = getelementptr i8, ptr %"membase", i64 %".32"
  store <2 x i64> %".30", ptr %".39", align 1, !tbaa !5
  %".41" = load i32, i32* %".4"
  %".42" = zext i32 %".41" to i64
  %".43" = getelementptr i8, ptr %"memdef", i64 8
  %".44" = load i64, ptr %".43", !tbaa !2
  %".45" = add i64 %".42", 4
  %".46" = icmp ugt i64 %".45", %".44"
  br i1 %".46", label %"trap2", label %".47", !prof !3
.47:
  %".49" = getelementptr i8, ptr %"membase", i64 %".42"
  %".50" = load i32, ptr %".49", align 1, !tbaa !5
  %".51" = insertelement <4 x i32> <i32 undef, i32 undef, i32 undef, i32 undef>, i32 %".50", i32 0
  %".52" = shufflevector <4 x i32> %".51", <4 x i32> <i32 undef, i32 undef, i32 undef, i32 undef>, <4 x i32> <i32 0, i32 0, i32 0, i32 0>
  %".53" = bitcast <4 x i32> %".52" to <2 x i64>
  %".54" = load i32, i32* %".4"
  %".55" = zext i32 %".54" to i64
  %".56" = add i64 %".55", 3
  %".57" = getelementptr i8, ptr %"memdef", i64 8
  %".58" = load i64, ptr %".57", !tbaa !2
  %".59" = add i64 %".56", 8
  %".60" = icmp ugt i64 %".59", %".58"
  br i1 %".60", label %"trap2", label %".61", !prof !3
.61:
  %".63" = getelementptr i8, ptr %"membase", i64 %".56"
  %".64" = load <8 x i8>, ptr %".63", align 1, !tbaa !5
  %".65" = sext <8 x i8> %".64" to <8 x i16>
  %".66" = bitcast <8 x i16> %".65" to <2 x i64>
  %".67" = bitcast <2 x i64> %".66" to <8 x i16>
  %".68" = bitcast <2 x i64> %".53" to <8 x i16>
  %".69" = add <8 x i16> %".68", %".67"
  %".70" = bitcast <8 x i16> %".69" to <2 x i64>
  ret <2 x i64> %".70"
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
