; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i64 @"wb_self"(ptr %".1", i64 %".2", i64 %".3") nounwind
{
entry:
  %".5" = alloca i64
  store i64 %".2", i64* %".5"
  %".7" = alloca i64
  store i64 %".3", i64* %".7"
  %".9" = alloca i8
  %".10" = load ptr, ptr %".1", !tbaa !2
  %".11" = getelementptr i8, ptr %".10", i64 16
  %".12" = load i64, ptr %".11", !tbaa !2
  %".13" = ptrtoint i8* %".9" to i64
  %".14" = icmp ult i64 %".13", %".12"
  br i1 %".14", label %"trap10", label %".15", !prof !3
.15:
  %".19" = load i64, i64* %".5"
  %".20" = load i64, i64* %".7"
  %".21" = icmp eq i64 %".20", 0
  br i1 %".21", label %"trap3", label %".22", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.22:
  %".26" = udiv i64 %".19", %".20"
  %".27" = load i64, i64* %".7"
  %".28" = icmp eq i64 %".27", 0
  br i1 %".28", label %"trap3", label %".29", !prof !3
trap3:
  call void @"wb_rt_trap"(ptr %".1", i32 3)
  unreachable
.29:
  %".31" = urem i64 %".26", %".27"
  ret i64 %".31"
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i64 @"wb_self.tail"(ptr %".1", i64 %".2", i64 %".3") nounwind
{
entry:
  %".5" = call i64 @"wb_self"(ptr %".1", i64 %".2", i64 %".3")
  ret i64 %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
