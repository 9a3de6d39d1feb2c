; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2", i32 %".3", i32 %".4") nounwind
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
  %".23" = load i32, i32* %".8"
  %".24" = load i32, i32* %".10"
  %".25" = zext i32 %".24" to i64
  %".26" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"table.0" to i64)
  %".27" = load ptr, ptr %".26", !tbaa !2
  %".28" = getelementptr i8, ptr %".27", i64 8
  %".29" = load i64, ptr %".28", !tbaa !2
  %".30" = icmp uge i64 %".25", %".29"
  br i1 %".30", label %"trap7", label %".31", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.31:
  %".35" = load ptr, ptr %".27", !tbaa !2
  %".36" = getelementptr ptr, ptr %".35", i64 %".25"
  %".37" = load ptr, ptr %".36", !tbaa !6
  %".38" = icmp eq ptr %".37", null
  br i1 %".38", label %"trap8", label %".39", !prof !3
trap7:
  call void @"wb_rt_trap"(ptr %".1", i32 7)
  unreachable
.39:
  %".43" = getelementptr i8, ptr %".37", i64 8
  %".44" = load i64, ptr %".43", !tbaa !2
  %".45" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"type.0" to i64)
  %".46" = load i64, ptr %".45", !tbaa !2
  %".47" = icmp ne i64 %".44", %".46"
  br i1 %".47", label %"trap6", label %".48", !prof !3
trap8:
  call void @"wb_rt_trap_detail"(ptr %".1", i32 8, i64 %".25")
  unreachable
.48:
  %".52" = load ptr, ptr %".37", !tbaa !2
  %".53" = getelementptr i8, ptr %".37", i64 16
  %".54" = load ptr, ptr %".53", !tbaa !2
  %".55" = call i32 %".52"(ptr %".54", i32 %".22", i32 %".23")
  ret i32 %".55"
trap6:
  call void @"wb_rt_trap"(ptr %".1", i32 6)
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

@"table.0" = external hidden global i8, !absolute_symbol !4
declare hidden void @"wb_rt_trap_detail"(ptr %".1", i32 %".2", i64 %".3") noreturn nounwind

@"type.0" = external hidden global i8, !absolute_symbol !4
define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2", i32 %".3", i32 %".4") nounwind
{
entry:
  %".6" = call i32 @"wb_self"(ptr %".1", i32 %".2", i32 %".3", i32 %".4")
  ret i32 %".6"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ i64 0, i64 2147483648 }
!5 = !{ !"table", !0, i64 0 }
!6 = !{ !5, !5, i64 0 }
