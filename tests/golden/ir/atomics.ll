; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i64 @"wb_self"(ptr %".1", i32 %".2") nounwind
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
  %".16" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".16", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  %".17" = load i32, i32* %".4"
  %".18" = and i32 %".17", 7
  %".19" = icmp ne i32 %".18", 0
  br i1 %".19", label %"trap16", label %".20", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.20:
  %".24" = zext i32 %".17" to i64
  %".25" = getelementptr i8, ptr %"membase", i64 %".24"
  %".26" = getelementptr i8, ptr %".25", i64 8
  %".27" = load atomic volatile i64, ptr %".26" seq_cst, align 8, !tbaa !5
  ret i64 %".27"
trap16:
  call void @"wb_rt_trap"(ptr %".1", i32 16)
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
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }

; ModuleID = "wasm0_f1"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden void @"wb_self"(ptr %".1", i32 %".2", i32 %".3") nounwind
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
  %".22" = zext i32 %".20" to i64
  %".23" = getelementptr i8, ptr %"membase", i64 %".22"
  %".24" = trunc i32 %".21" to i8
  store atomic volatile i8 %".24", ptr %".23" seq_cst, align 1, !tbaa !5
  ret void
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc void @"wb_self.tail"(ptr %".1", i32 %".2", i32 %".3") nounwind
{
entry:
  call void @"wb_self"(ptr %".1", i32 %".2", i32 %".3")
  ret void
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }

; ModuleID = "wasm0_f2"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i64 @"wb_self"(ptr %".1", i32 %".2", i64 %".3") nounwind
{
entry:
  %".5" = alloca i32
  store i32 %".2", i32* %".5"
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
  %".19" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".19", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  %".20" = load i32, i32* %".5"
  %".21" = load i64, i64* %".7"
  %".22" = and i32 %".20", 1
  %".23" = icmp ne i32 %".22", 0
  br i1 %".23", label %"trap16", label %".24", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.24:
  %".28" = zext i32 %".20" to i64
  %".29" = getelementptr i8, ptr %"membase", i64 %".28"
  %".30" = getelementptr i8, ptr %".29", i64 2
  %".31" = trunc i64 %".21" to i16
  %".32" = atomicrmw volatile sub ptr %".30", i16 %".31" seq_cst , !tbaa !5
  %".33" = zext i16 %".32" to i64
  ret i64 %".33"
trap16:
  call void @"wb_rt_trap"(ptr %".1", i32 16)
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i64 @"wb_self.tail"(ptr %".1", i32 %".2", i64 %".3") nounwind
{
entry:
  %".5" = call i64 @"wb_self"(ptr %".1", i32 %".2", i64 %".3")
  ret i64 %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }

; ModuleID = "wasm0_f3"
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
  %".22" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".22", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  %".23" = load i32, i32* %".6"
  %".24" = load i32, i32* %".8"
  %".25" = load i32, i32* %".10"
  %".26" = and i32 %".23", 3
  %".27" = icmp ne i32 %".26", 0
  br i1 %".27", label %"trap16", label %".28", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.28:
  %".32" = zext i32 %".23" to i64
  %".33" = getelementptr i8, ptr %"membase", i64 %".32"
  %".34" = cmpxchg volatile ptr %".33", i32 %".24", i32 %".25" seq_cst seq_cst , !tbaa !5
  %".35" = extractvalue {i32, i1} %".34", 0
  ret i32 %".35"
trap16:
  call void @"wb_rt_trap"(ptr %".1", i32 16)
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

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
!4 = !{ !"heap", !0, i64 0 }
!5 = !{ !4, !4, i64 0 }

; ModuleID = "wasm0_f4"
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
  %".13" = getelementptr i8, ptr %".1", i64 8
  %"memdef" = load ptr, ptr %".13", !tbaa !2
  %"membase" = load ptr, ptr %"memdef", !tbaa !2
  fence seq_cst
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

; ModuleID = "wasm0_f5"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i32 %".2", i64 %".3", i64 %".4") nounwind
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
  %".26" = and i32 %".23", 7
  %".27" = icmp ne i32 %".26", 0
  br i1 %".27", label %"trap16", label %".28", !prof !3
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.28:
  %".32" = zext i32 %".23" to i64
  %".33" = load ptr, ptr %".1", !tbaa !2
  %".34" = getelementptr i8, ptr %".33", i64 96
  %".35" = load ptr, ptr %".34", !tbaa !2
  %".36" = call i32 %".35"(ptr %"memdef", i64 %".32", i64 %".24", i64 %".25", i32 8)
  %".37" = icmp slt i32 %".36", 0
  br i1 %".37", label %"trap.hook", label %".38", !prof !3
trap16:
  call void @"wb_rt_trap"(ptr %".1", i32 16)
  unreachable
.38:
  ret i32 %".36"
trap.hook:
  %".40" = sub i32 0, %".36"
  call void @"wb_rt_trap"(ptr %".1", i32 %".40")
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i32 %".2", i64 %".3", i64 %".4") nounwind
{
entry:
  %".6" = call i32 @"wb_self"(ptr %".1", i32 %".2", i64 %".3", i64 %".4")
  ret i32 %".6"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }

; ModuleID = "wasm0_f6"
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
  %".30" = load ptr, ptr %".1", !tbaa !2
  %".31" = getelementptr i8, ptr %".30", i64 104
  %".32" = load ptr, ptr %".31", !tbaa !2
  %".33" = call i32 %".32"(ptr %"memdef", i64 %".29", i32 %".21")
  %".34" = icmp slt i32 %".33", 0
  br i1 %".34", label %"trap.hook", label %".35", !prof !3
trap16:
  call void @"wb_rt_trap"(ptr %".1", i32 16)
  unreachable
.35:
  ret i32 %".33"
trap.hook:
  %".37" = sub i32 0, %".33"
  call void @"wb_rt_trap"(ptr %".1", i32 %".37")
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
