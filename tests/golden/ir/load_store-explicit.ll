; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden void @"wb_self"(ptr %".1", i32 %".2", i32 %".3") nounwind
{
entry:
  %".5" = alloca i32
  store i32 %".2", i32* %".5"
  %".7" = alloca i32
  store i32 %".3", i32* %".7"
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
  %".21" = load i32, i32* %".7"
  %".22" = zext i32 %".21" to i64
  %".23" = add i64 %".22", 8
  %".24" = getelementptr i8, ptr %"memdef", i64 8
  %".25" = load i64, ptr %".24", !tbaa !2
  %".26" = add i64 %".23", 4
  %".27" = icmp ugt i64 %".26", %".25"
  br i1 %".27", label %"trap2", label %".28", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.28:
  %".32" = getelementptr i8, ptr %"membase", i64 %".23"
  %".33" = load i32, ptr %".32", align 1, !tbaa !5
  %".34" = zext i32 %".20" to i64
  %".35" = add i64 %".34", 4
  %".36" = getelementptr i8, ptr %"memdef", i64 8
  %".37" = load i64, ptr %".36", !tbaa !2
  %".38" = add i64 %".35", 4
  %".39" = icmp ugt i64 %".38", %".37"
  br i1 %".39", label %"trap2", label %".40", !prof !3
trap2:
  call void @"wb_rt_trap"(ptr %".1", i32 2)
  unreachable
.40:
  %".42" = getelementptr i8, ptr %"membase", i64 %".35"
  store i32 %".33", ptr %".42", align 1, !tbaa !5
  ret void
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc void @"wb_self.tail"(ptr %".1", i32 %".2", i32 %".3") nounwind
{
entry:
  call void @"wb_self"(ptr %".1", i32 %".2", i32 %".3")
  ret void
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
