; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = alloca i32
  store i32 %".2", i32* %".4"
  %".6" = alloca i32
  store i32 0, i32* %".6"
  %".8" = alloca i8
  %".9" = load ptr, ptr %".1", !tbaa !2
  %".10" = getelementptr i8, ptr %".9", i64 16
  %".11" = load i64, ptr %".10", !tbaa !2
  %".12" = ptrtoint i8* %".8" to i64
  %".13" = icmp ult i64 %".12", %".11"
  br i1 %".13", label %"trap10", label %".14", !prof !3
.14:
  br label %".19"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.18:
  %".34" = load i32, i32* %".6"
  ret i32 %".34"
.19:
  %".21" = load i32, i32* %".6"
  %".22" = load i32, i32* %".4"
  %".23" = add i32 %".21", %".22"
  store i32 %".23", i32* %".6"
  %".25" = load i32, i32* %".4"
  %".26" = sub i32 %".25", 1
  store i32 %".26", i32* %".4"
  %".30" = icmp ne i32 %".26", 0
  br i1 %".30", label %".29", label %".28"
.28:
  br label %".18"
.29:
  br label %".19"
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
