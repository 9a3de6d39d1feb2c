; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {i32, i64, double} @"wb_self"(ptr %".1", i64 %".2") nounwind
{
entry:
  %".4" = alloca i64
  store i64 %".2", i64* %".4"
  %".6" = alloca i8
  %".7" = load ptr, ptr %".1", !tbaa !2
  %".8" = getelementptr i8, ptr %".7", i64 16
  %".9" = load i64, ptr %".8", !tbaa !2
  %".10" = ptrtoint i8* %".6" to i64
  %".11" = icmp ult i64 %".10", %".9"
  br i1 %".11", label %"trap10", label %".12", !prof !3
.12:
  %".16" = load i64, i64* %".4"
  %".17" = insertvalue {i32, i64, double} undef, i32 1, 0
  %".18" = insertvalue {i32, i64, double} %".17", i64 %".16", 1
  %".19" = insertvalue {i32, i64, double} %".18", double bitcast (i64 4602678819172646912 to double), 2
  ret {i32, i64, double} %".19"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc {i32, i64, double} @"wb_self.tail"(ptr %".1", i64 %".2") nounwind
{
entry:
  %".4" = call {i32, i64, double} @"wb_self"(ptr %".1", i64 %".2")
  ret {i32, i64, double} %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }

; ModuleID = "wasm0_f1"
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
  %".13" = call {i32, i64, double} @"call.0"(ptr %".1", i64 7)
  %".14" = extractvalue {i32, i64, double} %".13", 0
  %".15" = extractvalue {i32, i64, double} %".13", 1
  %".16" = extractvalue {i32, i64, double} %".13", 2
  ret double bitcast (i64 4607182418800017408 to double)
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare hidden {i32, i64, double} @"call.0"(ptr %".1", i64 %".2")

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
