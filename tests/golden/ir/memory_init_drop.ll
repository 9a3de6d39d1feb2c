; ModuleID = "wasm0_f0"
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
  %".22" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".22", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  %".23" = load i32, i32* %".6"
  %".24" = load i32, i32* %".8"
  %".25" = load i32, i32* %".10"
  %".26" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"data.0" to i64)
  call void @"wb_rt_memory_init"(ptr %".1", ptr %".26", i32 %".23", i32 %".24", i32 %".25")
  %".28" = getelementptr i8, ptr %".1", i64 ptrtoint (i8* @"data.0" to i64)
  %".29" = getelementptr i8, ptr %".28", i64 8
  store i64 0, ptr %".29", !tbaa !2
  ret void
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

declare hidden void @"wb_rt_memory_init"(ptr %".1", ptr %".2", i32 %".3", i32 %".4", i32 %".5")

@"data.0" = external hidden global i8, !absolute_symbol !4
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
