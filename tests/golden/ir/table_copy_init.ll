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
  %".26" = zext i32 %".22" to i64
  %".27" = zext i32 %".23" to i64
  call void @"wb_rt_table_fill"(ptr %".1", ptr %".25", i64 %".26", ptr null, i64 %".27")
  %".29" = load i32, i32* %".6"
  %".30" = load i32, i32* %".8"
  %".31" = load i32, i32* %".10"
  %".32" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".33" = load ptr, ptr %".32", !tbaa !2
  %".34" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".35" = load ptr, ptr %".34", !tbaa !2
  %".36" = zext i32 %".29" to i64
  %".37" = zext i32 %".30" to i64
  %".38" = zext i32 %".31" to i64
  call void @"wb_rt_table_copy"(ptr %".1", ptr %".33", ptr %".35", i64 %".36", i64 %".37", i64 %".38")
  %".40" = load i32, i32* %".6"
  %".41" = load i32, i32* %".8"
  %".42" = load i32, i32* %".10"
  %".43" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".44" = load ptr, ptr %".43", !tbaa !2
  %".45" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"elem.0" to i64)
  %".46" = zext i32 %".40" to i64
  call void @"wb_rt_table_init"(ptr %".1", ptr %".44", ptr %".45", i64 %".46", i32 %".41", i32 %".42")
  %".48" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"elem.0" to i64)
  %".49" = getelementptr i8, ptr %".48", i64 8
  store i64 0, ptr %".49", !tbaa !2
  ret void
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare hidden void @"wb_rt_table_fill"(ptr %".1", ptr %".2", i64 %".3", ptr %".4", i64 %".5")

@"table.0" = external hidden global i8, !absolute_symbol !4
declare hidden void @"wb_rt_table_copy"(ptr %".1", ptr %".2", ptr %".3", i64 %".4", i64 %".5", i64 %".6")

declare hidden void @"wb_rt_table_init"(ptr %".1", ptr %".2", ptr %".3", i64 %".4", i32 %".5", i32 %".6")

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
