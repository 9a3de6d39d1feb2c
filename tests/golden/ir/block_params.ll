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
  %".19" = load i32, i32* %".5"
  %".20" = load i32, i32* %".7"
  %".22" = add i32 %".19", %".20"
  br label %".21"
trap10:
  call void @"wb_rt_trap"(ptr %".1", i32 10)
  unreachable
return:
  unreachable
.21:
  %".23" = phi  i32 [%".22", %".15"]
  %".24" = phi  i32 [1, %".15"]
  br label %".27"
.26:
  %".31" = phi  i32 [%".29", %".27"]
  %".32" = phi  i32 [%".30", %".27"]
  %".34" = sub i32 %".31", %".32"
  ret i32 %".34"
.27:
  %".29" = phi  i32 [%".23", %".21"]
  %".30" = phi  i32 [%".24", %".21"]
  br label %".26"
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
