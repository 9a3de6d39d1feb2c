; ModuleID = "wasm0_f1"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2") nounwind
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
  %".16" = load i32, i32* %".4"
  %".17" = load i32, i32* %".4"
  %".18" = add i32 %".16", %".17"
  ret i32 %".18"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = call i32 @"wb_self"(ptr %".1", i32 %".2")
  ret i32 %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }

; ModuleID = "wasm0_f2"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2") nounwind
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
  %".16" = load i32, i32* %".4"
  %".17" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"import.0" to i64)
  %".18" = load ptr, ptr %".17", !tbaa !2
  %".19" = getelementptr i8, ptr %".17", i64 8
  %".20" = load ptr, ptr %".19", !tbaa !2
  call void %".18"(ptr %".20", i32 %".16")
  %".22" = load i32, i32* %".4"
  %".23" = call i32 @"call.0"(ptr %".1", i32 %".22")
  ret i32 %".23"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

@"import.0" = external hidden global i8, !absolute_symbol !4
declare hidden i32 @"call.0"(ptr %".1", i32 %".2")

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = call i32 @"wb_self"(ptr %".1", i32 %".2")
  ret i32 %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ i64 0, i64 2147483648 }
