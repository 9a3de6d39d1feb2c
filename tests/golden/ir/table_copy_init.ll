; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden void @"wb_self"(ptr %".1") nounwind
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
  ret void
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc void @"wb_self.tail"(ptr %".1") nounwind
{
entry:
  call void @"wb_self"(ptr %".1")
  ret void
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }

; ModuleID = "wasm0_f1"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden void @"wb_self"(ptr %".1", i32 %".2", i32 %".3", i32 %".4") nounwind
{
entry:
  %".6" = alloca i32
  store i32 %".2", i32* %".6"
  %".8" = alloca i32
  store i32 %".3", i32* %".8"
  %".10" = alloca i32
  store i32 %".4", i32* %".10"
  %".12" = alloca i8
  %".13" = load ptr, ptr %".1", !tbaa !2
  %".14" = getelementptr i8, ptr %".13", i64 16
  %".15" = load i64, ptr %".14", !tbaa !2
  %".16" = ptrtoint i8* %".12" to i64
  %".17" = icmp ult i64 %".16", %".15"
  br i1 %".17", label %"trap10", label %".18", !prof !3
.18:
  %".22" = load i32, i32* %".6"
  %".23" = load i32, i32* %".10"
  %".24" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".25" = load ptr, ptr %".24", !tbaa !2
  call void @"wb_rt_table_fill"(ptr %".1", ptr %".25", i32 %".22", ptr null, i32 %".23")
  %".27" = load i32, i32* %".6"
  %".28" = load i32, i32* %".8"
  %".29" = load i32, i32* %".10"
  %".30" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".31" = load ptr, ptr %".30", !tbaa !2
  %".32" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".33" = load ptr, ptr %".32", !tbaa !2
  call void @"wb_rt_table_copy"(ptr %".1", ptr %".31", ptr %".33", i32 %".27", i32 %".28", i32 %".29")
  %".35" = load i32, i32* %".6"
  %".36" = load i32, i32* %".8"
  %".37" = load i32, i32* %".10"
  %".38" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".39" = load ptr, ptr %".38", !tbaa !2
  %".40" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"elem.0" to i64)
  call void @"wb_rt_table_init"(ptr %".1", ptr %".39", ptr %".40", i32 %".35", i32 %".36", i32 %".37")
  %".42" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"elem.0" to i64)
  %".43" = getelementptr i8, ptr %".42", i64 8
  store i64 0, ptr %".43", !tbaa !2
  ret void
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare hidden void @"wb_rt_table_fill"(ptr %".1", ptr %".2", i32 %".3", ptr %".4", i32 %".5")

@"table.0" = external hidden global i8, !absolute_symbol !4
declare hidden void @"wb_rt_table_copy"(ptr %".1", ptr %".2", ptr %".3", i32 %".4", i32 %".5", i32 %".6")

declare hidden void @"wb_rt_table_init"(ptr %".1", ptr %".2", ptr %".3", i32 %".4", i32 %".5", i32 %".6")

@"elem.0" = external hidden global i8, !absolute_symbol !4
define hidden tailcc void @"wb_self.tail"(ptr %".1", i32 %".2", i32 %".3", i32 %".4") nounwind
{
entry:
  call void @"wb_self"(ptr %".1", i32 %".2", i32 %".3", i32 %".4")
  ret void
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ i64 0, i64 2147483648 }
