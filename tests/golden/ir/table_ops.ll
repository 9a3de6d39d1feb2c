; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2", ptr %".3") nounwind
{
entry:
  %".5" = alloca i32
  store i32 %".2", i32* %".5"
  %".7" = alloca ptr
  store ptr %".3", ptr %".7"
  %".9" = alloca i8
  %".10" = load ptr, ptr %".1", !tbaa !2
  %".11" = getelementptr i8, ptr %".10", i64 16
  %".12" = load i64, ptr %".11", !tbaa !2
  %".13" = ptrtoint i8* %".9" to i64
  %".14" = icmp ult i64 %".13", %".12"
  br i1 %".14", label %"trap10", label %".15", !prof !3
.15:
  %".19" = load i32, i32* %".5"
  %".20" = load ptr, ptr %".7"
  %".21" = zext i32 %".19" to i64
  %".22" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".23" = load ptr, ptr %".22", !tbaa !2
  %".24" = getelementptr i8, ptr %".23", i64 8
  %".25" = load i64, ptr %".24", !tbaa !2
  %".26" = icmp uge i64 %".21", %".25"
  br i1 %".26", label %"trap9", label %".27", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.27:
  %".31" = load ptr, ptr %".23", !tbaa !2
  %".32" = getelementptr ptr, ptr %".31", i64 %".21"
  store ptr %".20", ptr %".32", !tbaa !6
  %".34" = load i32, i32* %".5"
  %".35" = zext i32 %".34" to i64
  %".36" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".37" = load ptr, ptr %".36", !tbaa !2
  %".38" = getelementptr i8, ptr %".37", i64 8
  %".39" = load i64, ptr %".38", !tbaa !2
  %".40" = icmp uge i64 %".35", %".39"
  br i1 %".40", label %"trap9", label %".41", !prof !3
trap9:
  call void @"wb_rt_trap"(ptr %".1", i32 9)
  unreachable
.41:
  %".43" = load ptr, ptr %".37", !tbaa !2
  %".44" = getelementptr ptr, ptr %".43", i64 %".35"
  %".45" = load ptr, ptr %".44", !tbaa !6
  %".46" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".47" = load ptr, ptr %".46", !tbaa !2
  %".48" = zext i32 3 to i64
  %".49" = call i64 @"wb_rt_table_grow"(ptr %".1", ptr %".47", i64 %".48", ptr %".45")
  %".50" = trunc i64 %".49" to i32
  %".51" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".52" = load ptr, ptr %".51", !tbaa !2
  %".53" = getelementptr i8, ptr %".52", i64 8
  %".54" = load i64, ptr %".53", !tbaa !2
  %".55" = trunc i64 %".54" to i32
  %".56" = add i32 %".50", %".55"
  ret i32 %".56"
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

@"table.0" = external hidden global i8, !absolute_symbol !4
declare hidden i64 @"wb_rt_table_grow"(ptr %".1", ptr %".2", i64 %".3", ptr %".4")

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2", ptr %".3") nounwind
{
entry:
  %".5" = call i32 @"wb_self"(ptr %".1", i32 %".2", ptr %".3")
  ret i32 %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ i64 0, i64 2147483648 }
!5 = !{ !"table", !0, i64 0 }
!6 = !{ !5, !5, i64 0 }
