; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i64 @"wb_self"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = alloca i32
  store i32 %".2", i32* %".4"
  %".6" = alloca i64
  store i64 0, i64* %".6"
  %".8" = alloca float
  store float              0x0, float* %".8"
  %".10" = alloca i8
  %".11" = load ptr, ptr %".1", !tbaa !2
  %".12" = getelementptr i8, ptr %".11", i64 16
  %".13" = load i64, ptr %".12", !tbaa !2
  %".14" = ptrtoint i8* %".10" to i64
  %".15" = icmp ult i64 %".14", %".13"
  br i1 %".15", label %"trap10", label %".16", !prof !3
.16:
  %".20" = load i32, i32* %".4"
  %".21" = sext i32 %".20" to i64
  store i64 %".21", i64* %".6"
  %".23" = load i64, i64* %".6"
  %".24" = add i64 %".21", %".23"
  store i64 %".24", i64* %".6"
  store float bitcast (i32 1065353216 to float), float* %".8"
  %".27" = load i64, i64* %".6"
  ret i64 %".27"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i64 @"wb_self.tail"(ptr %".1", i32 %".2") nounwind
{
entry:
  %".4" = call i64 @"wb_self"(ptr %".1", i32 %".2")
  ret i64 %".4"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
