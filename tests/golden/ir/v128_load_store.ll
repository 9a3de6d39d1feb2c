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
  %".20" = getelementptr i8, ptr %"membase", i64 %".19"
  %".21" = getelementptr i8, ptr %".20", i64 16
  %".22" = load volatile <2 x i64>, ptr %".21", align 1, !tbaa !5
  %".23" = zext i32 %".17" to i64
  %".24" = getelementptr i8, ptr %"membase", i64 %".23"
  %".25" = getelementptr i8, ptr %".24", i64 32
  store volatile <2 x i64> %".22", ptr %".25", align 1, !tbaa !5
  %".27" = load i32, i32* %".4"
  %".28" = zext i32 %".27" to i64
  %".29" = getelementptr i8, ptr %"membase", i64 %".28"
  %".30" = load volatile i32, ptr %".29", align 1, !tbaa !5
  %".31" = insertelement <4 x i32> <i32 undef, i32 undef, i32 undef, i32 undef>, i32 %".30", i32 0
  %".32" = shufflevector <4 x i32> %".31", <4 x i32> <i32 undef, i32 undef, i32 undef, i32 undef>, <4 x i32> <i32 0, i32 0, i32 0, i32 0>
  %".33" = bitcast <4 x i32> %".32" to <2 x i64>
  %".34" = load i32, i32* %".4"
  %".35" = zext i32 %".34" to i64
  %".36" = getelementptr i8, ptr %"membase", i64 %".35"
  %".37" = getelementptr i8, ptr %".36", i64 3
  %".38" = load volatile <8 x i8>, ptr %".37", align 1, !tbaa !5
  %".39" = sext <8 x i8> %".38" to <8 x i16>
  %".40" = bitcast <8 x i16> %".39" to <2 x i64>
  %".41" = bitcast <2 x i64> %".40" to <8 x i16>
  %".42" = bitcast <2 x i64> %".33" to <8 x i16>
  %".43" = add <8 x i16> %".42", %".41"
  %".44" = bitcast <8 x i16> %".43" to <2 x i64>
  ret <2 x i64> %".44"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc <2 x i64> @"wb_self.tail"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = call <2 x i64> @"wb_self"(ptr %".1", i32 %".2")
  ret <2 x i64> %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
