; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2", i32 %".3") nounwind
{
entry:
  %".5" = alloca i32
  store i32 %".2", i32* %".5"
  %".7" = alloca i32
  store i32 %".3", i32* %".7"
  %".9" = alloca i8
  %".10" = load ptr, ptr %".1", !tbaa !2
  %".11" = getelementptr i8, ptr %".10", i64 16
  %".12" = load i64, ptr %".11", !tbaa !2
  %".13" = ptrtoint i8* %".9" to i64
  %".14" = icmp ult i64 %".13", %".12"
  br i1 %".14", label %"trap10", label %".15", !prof !3
.15:
  %".19" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".19", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  %".20" = load i32, i32* %".5"
  %".21" = load i32, i32* %".7"
  %".22" = and i32 %".20", 3
  %".23" = icmp ne i32 %".22", 0
  br i1 %".23", label %"trap16", label %".24", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.24:
  %".28" = zext i32 %".20" to i64
  %".29" = add i64 %".28", 4
  %".30" = getelementptr i8, ptr %"memdef", i64 8
  %".31" = load i64, ptr %".30", !tbaa !2
  %".32" = add i64 %".29", 4
  %".33" = icmp ugt i64 %".32", %".31"
  br i1 %".33", label %"trap2", label %".34", !prof !3
trap16:
  call void @"wb_rt_trap"(ptr %".1", i32 16)
  unreachable
.34:
  %".38" = getelementptr i8, ptr %"membase", i64 %".29"
  %".39" = atomicrmw add ptr %".38", i32 %".21" seq_cst , !tbaa !5
  ret i32 %".39"
trap2:
  call void @"wb_rt_trap"(ptr %".1", i32 2)
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2", i32 %".3") nounwind
{
entry:
  %".5" = call i32 @"wb_self"(ptr %".1", i32 %".2", i32 %".3")
  ret i32 %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }

; ModuleID = "wasm0_f1"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i64 @"wb_self"(ptr %".1", i32 %".2", i64 %".3", i64 %".4") nounwind
{
entry:
  %".6" = alloca i32
  store i32 %".2", i32* %".6"
  %".8" = alloca i64
  store i64 %".3", i64* %".8"
  %".10" = alloca i64
  store i64 %".4", i64* %".10"
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
  %".24" = load i64, i64* %".8"
  %".25" = load i64, i64* %".10"
  %".26" = zext i32 %".23" to i64
  %".27" = getelementptr i8, ptr %"memdef", i64 8
  %".28" = load i64, ptr %".27", !tbaa !2
  %".29" = add i64 %".26", 1
  %".30" = icmp ugt i64 %".29", %".28"
  br i1 %".30", label %"trap2", label %".31", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.31:
  %".35" = getelementptr i8, ptr %"membase", i64 %".26"
  %".36" = trunc i64 %".24" to i8
  %".37" = trunc i64 %".25" to i8
  %".38" = cmpxchg ptr %".35", i8 %".36", i8 %".37" seq_cst seq_cst , !tbaa !5
  %".39" = extractvalue {i8, i1} %".38", 0
  %".40" = zext i8 %".39" to i64
  ret i64 %".40"
trap2:
  call void @"wb_rt_trap"(ptr %".1", i32 2)
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i64 @"wb_self.tail"(ptr %".1", i32 %".2", i64 %".3", i64 %".4") nounwind
{
entry:
  %".6" = call i64 @"wb_self"(ptr %".1", i32 %".2", i64 %".3", i64 %".4")
  ret i64 %".6"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }
