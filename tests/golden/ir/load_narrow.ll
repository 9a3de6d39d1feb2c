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
  %".19" = getelementptr i8, ptr %"memdef", i64 8
  %".20" = load i64, ptr %".19", !tbaa !2
  %".21" = add i64 %".18", 1
  %".22" = icmp ugt i64 %".21", %".20"
  br i1 %".22", label %"trap2", label %".23", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.23:
  %".27" = getelementptr i8, ptr %"membase", i64 %".18"
  %".28" = load i8, ptr %".27", align 1, !tbaa !5
  %".29" = sext i8 %".28" to i64
  %".30" = load i32, i32* %".4"
  %".31" = zext i32 %".30" to i64
  %".32" = add i64 %".31", 2
  %".33" = getelementptr i8, ptr %"memdef", i64 8
  %".34" = load i64, ptr %".33", !tbaa !2
  %".35" = add i64 %".32", 2
  %".36" = icmp ugt i64 %".35", %".34"
  br i1 %".36", label %"trap2", label %".37", !prof !3
trap2:
  call void @"wb_rt_trap"(ptr %".1", i32 2)
  unreachable
.37:
  %".39" = getelementptr i8, ptr %"membase", i64 %".32"
  %".40" = load i16, ptr %".39", align 1, !tbaa !5
  %".41" = zext i16 %".40" to i32
  %".42" = load i32, i32* %".4"
  %".43" = load i32, i32* %".4"
  %".44" = zext i32 %".43" to i64
  %".45" = getelementptr i8, ptr %"memdef", i64 8
  %".46" = load i64, ptr %".45", !tbaa !2
  %".47" = add i64 %".44", 4
  %".48" = icmp ugt i64 %".47", %".46"
  br i1 %".48", label %"trap2", label %".49", !prof !3
.49:
  %".51" = getelementptr i8, ptr %"membase", i64 %".44"
  %".52" = load i32, ptr %".51", align 1, !tbaa !5
  %".53" = zext i32 %".52" to i64
  %".54" = zext i32 %".42" to i64
  %".55" = getelementptr i8, ptr %"memdef", i64 8
  %".56" = load i64, ptr %".55", !tbaa !2
  %".57" = add i64 %".54", 4
  %".58" = icmp ugt i64 %".57", %".56"
  br i1 %".58", label %"trap2", label %".59", !prof !3
.59:
  %".61" = getelementptr i8, ptr %"membase", i64 %".54"
  %".62" = trunc i64 %".53" to i32
  store i32 %".62", ptr %".61", align 1, !tbaa !5
  %".64" = load i32, i32* %".4"
  %".65" = load i32, i32* %".4"
  %".66" = zext i32 %".64" to i64
  %".67" = add i64 %".66", 1
  %".68" = getelementptr i8, ptr %"memdef", i64 8
  %".69" = load i64, ptr %".68", !tbaa !2
  %".70" = add i64 %".67", 1
  %".71" = icmp ugt i64 %".70", %".69"
  br i1 %".71", label %"trap2", label %".72", !prof !3
.72:
  %".74" = getelementptr i8, ptr %"membase", i64 %".67"
  %".75" = trunc i32 %".65" to i8
  store i8 %".75", ptr %".74", align 1, !tbaa !5
  %".77" = load i32, i32* %".4"
  %".78" = zext i32 %".77" to i64
  %".79" = add i64 %".78", 16
  %".80" = getelementptr i8, ptr %"memdef", i64 8
  %".81" = load i64, ptr %".80", !tbaa !2
  %".82" = add i64 %".79", 8
  %".83" = icmp ugt i64 %".82", %".81"
  br i1 %".83", label %"trap2", label %".84", !prof !3
.84:
  %".86" = getelementptr i8, ptr %"membase", i64 %".79"
  %".87" = load double, ptr %".86", align 1, !tbaa !5
  %".88" = insertvalue {i64, i32, double} undef, i64 %".29", 0
  %".89" = insertvalue {i64, i32, double} %".88", i32 %".41", 1
  %".90" = insertvalue {i64, i32, double} %".89", double %".87", 2
  ret {i64, i32, double} %".90"
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
