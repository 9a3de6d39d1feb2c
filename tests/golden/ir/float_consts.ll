; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden {float, double, double} @"wb_self"(ptr %".1") nounwind
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
  %".13" = insertvalue {float, double, double} undef, float bitcast (i32 2141192193 to float), 0
  %".14" = insertvalue {float, double, double} %".13", double bitcast (i64 9223372036854775808 to double), 1
  %".15" = insertvalue {float, double, double} %".14", double bitcast (i64 1 to double), 2
  ret {float, double, double} %".15"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc {float, double, double} @"wb_self.tail"(ptr %".1") nounwind
{
entry:
  %".3" = call {float, double, double} @"wb_self"(ptr %".1")
  ret {float, double, double} %".3"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
