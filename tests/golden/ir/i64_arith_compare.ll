; ModuleID = "wasm0_f0"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define hidden i32 @"wb_self"(ptr %".1", i64 %".2", i64 %".3") nounwind
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
  %".21" = mul i64 %".19", %".20"
  %".22" = load i64, i64* %".7"
  %".23" = and i64 %".22", 63
  %".24" = lshr i64 %".21", %".23"
  %".25" = trunc i64 %".24" to i32
  %".26" = sext i32 %".25" to i64
  %".27" = load i64, i64* %".7"
  %".28" = icmp slt i64 %".26", %".27"
  %".29" = zext i1 %".28" to i32
  %".30" = load i64, i64* %".5"
  %".31" = load i64, i64* %".7"
  %".32" = icmp uge i64 %".30", %".31"
  %".33" = zext i1 %".32" to i32
  %".34" = and i32 %".29", %".33"
  %".35" = load i64, i64* %".5"
  %".36" = icmp eq i64 %".35", 0
  %".37" = zext i1 %".36" to i32
  %".38" = or i32 %".34", %".37"
  ret i32 %".38"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
}

declare hidden void @"wb_rt_trap"(ptr %".1", i32 %".2") noreturn nounwind

define hidden tailcc i32 @"wb_self.tail"(ptr %".1", i64 %".2", i64 %".3") nounwind
{
entry:
  %".5" = call i32 @"wb_self"(ptr %".1", i64 %".2", i64 %".3")
  ret i32 %".5"
}

!0 = !{ !"wasmbuild tbaa" }
!1 = !{ !"vm", !0, i64 0 }
!2 = !{ !1, !1, i64 0 }
!3 = !{ !"branch_weights", i32 1, i32 1048576 }
