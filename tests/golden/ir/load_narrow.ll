; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {i64, i32, double} @"wb_self"(ptr %".1", i32 %".2") nounwind
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
  %".18" = zext i32 %".17" to i64
  %".19" = getelementptr i8, ptr %"membase", i64 %".18"
  %".20" = load volatile i8, ptr %".19", align 1, !tbaa !5
  %".21" = sext i8 %".20" to i64
  %".22" = load i32, i32* %".4"
  %".23" = zext i32 %".22" to i64
  %".24" = getelementptr i8, ptr %"membase", i64 %".23"
  %".25" = getelementptr i8, ptr %".24", i64 2
  %".26" = load volatile i16, ptr %".25", align 1, !tbaa !5
  %".27" = zext i16 %".26" to i32
  %".28" = load i32, i32* %".4"
  %".29" = load i32, i32* %".4"
  %".30" = zext i32 %".29" to i64
  %".31" = getelementptr i8, ptr %"membase", i64 %".30"
  %".32" = load volatile i32, ptr %".31", align 1, !tbaa !5
  %".33" = zext i32 %".32" to i64
  %".34" = zext i32 %".28" to i64
  %".35" = getelementptr i8, ptr %"membase", i64 %".34"
  %".36" = trunc i64 %".33" to i32
  store volatile i32 %".36", ptr %".35", align 1, !tbaa !5
  %".38" = load i32, i32* %".4"
  %".39" = load i32, i32* %".4"
  %".40" = zext i32 %".38" to i64
  %".41" = getelementptr i8, ptr %"membase", i64 %".40"
  %".42" = getelementptr i8, ptr %".41", i64 1
  %".43" = trunc i32 %".39" to i8
  store volatile i8 %".43", ptr %".42", align 1, !tbaa !5
  %".45" = load i32, i32* %".4"
  %".46" = zext i32 %".45" to i64
  %".47" = getelementptr i8, ptr %"membase", i64 %".46"
  %".48" = getelementptr i8, ptr %".47", i64 16
  %".49" = load volatile double, ptr %".48", align 1, !tbaa !5
  %".50" = insertvalue {i64, i32, double} undef, i64 %".21", 0
  %".51" = insertvalue {i64, i32, double} %".50", i32 %".27", 1
  %".52" = insertvalue {i64, i32, double} %".51", double %".49", 2
  ret {i64, i32, double} %".52"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc {i64, i32, double} @"wb_self.tail"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = call {i64, i32, double} @"wb_self"(ptr %".1", i32 %".2")
  ret {i64, i32, double} %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
