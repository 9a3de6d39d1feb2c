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

define hidden {ptr, ptr, i32} @"wb_self"(ptr %".1") nounwind
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
  %".13" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"funcref.0" to i64)
  %".14" = icmp eq ptr null, null
  %".15" = zext i1 %".14" to i32
  %".16" = insertvalue {ptr, ptr, i32} undef, ptr %".13", 0
  %".17" = insertvalue {ptr, ptr, i32} %".16", ptr null, 1
  %".18" = insertvalue {ptr, ptr, i32} %".17", i32 %".15", 2
  ret {ptr, ptr, i32} %".18"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

@"funcref.0" = external hidden global i8, !absolute_symbol !4
define hidden tailcc {ptr, ptr, i32} @"wb_self.tail"(ptr %".1") nounwind
{
entry:
  %".3" = call {ptr, ptr, i32} @"wb_self"(ptr %".1")
  ret {ptr, ptr, i32} %".3"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ i64 0, i64 2147483648 }
