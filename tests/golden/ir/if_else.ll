; ModuleID = "wasm0_f0"
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
  %".19" = load i64, i64* %".7"
  %".20" = load i32, i32* %".5"
  %".24" = icmp ne i32 %".20", 0
  br i1 %".24", label %".22", label %".23"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.21:
  %".27" = phi  i64 [%".26", %".22"], [%".29", %".23"]
  %".31" = load i32, i32* %".5"
  %".32" = icmp eq i32 %".31", 0
  %".33" = zext i1 %".32" to i32
  %".37" = icmp ne i32 %".33", 0
  br i1 %".37", label %".35", label %".36"
.22:
  %".26" = add i64 %".19", 1
  br label %".21"
.23:
  %".29" = mul i64 %".19", 2
  br label %".21"
.34:
  ret i64 %".27"
.35:
  br label %".34"
.36:
  br label %".34"
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
