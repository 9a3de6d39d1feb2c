; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden double @"wb_self"(ptr %".1") nounwind
{
entry:
  %".3" = alloca i8
  %".4" = load ptr, ptr %".1", !tbaa !2
  %".5" = getelementptr i8, ptr %".4", i64 16
  %".6" = load i64, ptr %".5", !tbaa !2
  %".7" = ptrtoint i8* %".3" to i64
  %".8" = icmp ult i64 %".7", %".6"
  br i1 %".8", label %"trap10", label %".9", !prof !3
.9:
  %".13" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"global.0" to i64)
  %".14" = load ptr, ptr %".13", !tbaa !2
  %".15" = load i32, ptr %".14", !tbaa !6
  %".16" = add i32 %".15", 1
  %".17" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"global.0" to i64)
  %".18" = load ptr, ptr %".17", !tbaa !2
  store i32 %".16", ptr %".18", !tbaa !6
  %".20" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"global.1" to i64)
  %".21" = load ptr, ptr %".20", !tbaa !2
  %".22" = load i64, ptr %".21", !tbaa !6
  %".23" = add i64 %".22", 1
  %".24" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"global.1" to i64)
  %".25" = load ptr, ptr %".24", !tbaa !2
  store i64 %".23", ptr %".25", !tbaa !6
  %".27" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"global.2" to i64)
  %".28" = load ptr, ptr %".27", !tbaa !2
  %".29" = load double, ptr %".28", !tbaa !6
  ret double %".29"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

@"global.0" = external hidden global i8, !absolute_symbol !4
@"global.1" = external hidden global i8, !absolute_symbol !4
@"global.2" = external hidden global i8, !absolute_symbol !4
define hidden tailcc double @"wb_self.tail"(ptr %".1") nounwind
{
entry:
  %".3" = call double @"wb_self"(ptr %".1")
  ret double %".3"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ i64 0, i64 2147483648 }
!5 = !{ !"global", !0, i64 0 }
!6 = !{ !5, !5, i64 0 }
