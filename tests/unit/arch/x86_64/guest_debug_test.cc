#include "arch/x86_64/guest_debug.h"

#include <catch2/catch.hpp>

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint64_t kReserved = 1 << 10;
constexpr uint64_t kGe = 1 << 9;

kvm_debug_exit_arch Exit(uint32_t exception, uint64_t pc, uint64_t dr6) {
  kvm_debug_exit_arch exit{};
  exit.exception = exception;
  exit.pc = pc;
  exit.dr6 = dr6;
  return exit;
}

GuestDebugRequest Step() {
  GuestDebugRequest request;
  request.single_step = true;
  return request;
}

TEST_CASE("DR7 for no breakpoints has only the reserved bit") { CHECK(EncodeDr7({}) == kReserved); }

TEST_CASE("DR7 for an execute breakpoint in slot 0: L0, R/W 00, LEN 00") {
  DebugBreakpoints bps;
  bps[0] = DebugBreakpoint{DebugAccess::kExecute, 0xffffffff81000000, 1};
  CHECK(EncodeDr7(bps) == (kReserved | 0x1));
}

TEST_CASE("DR7 encodes R/W and LEN per slot, and GE for data breakpoints") {
  DebugBreakpoints bps;
  bps[1] = DebugBreakpoint{DebugAccess::kWrite, 0x1000, 8};      // RW 01, LEN 10
  bps[3] = DebugBreakpoint{DebugAccess::kReadWrite, 0x2004, 4};  // RW 11, LEN 11
  const uint64_t expected = kReserved | kGe | (1 << 2) | (1 << 6) | (0b01ull << 20) |
                            (0b10ull << 22) | (0b11ull << 28) | (0b11ull << 30);
  CHECK(EncodeDr7(bps) == expected);
}

TEST_CASE("DR7 length 2 is LEN 01") {
  DebugBreakpoints bps;
  bps[2] = DebugBreakpoint{DebugAccess::kWrite, 0x1002, 2};
  CHECK((*EncodeDr7(bps) >> 26 & 0b11) == 0b01);
}

TEST_CASE("DR7 refuses length 3, a misaligned address and a long execute breakpoint") {
  DebugBreakpoints bps;
  bps[0] = DebugBreakpoint{DebugAccess::kWrite, 0x1000, 3};
  CHECK_FALSE(EncodeDr7(bps).has_value());
  bps[0] = DebugBreakpoint{DebugAccess::kWrite, 0x1004, 8};
  CHECK_FALSE(EncodeDr7(bps).has_value());
  bps[0] = DebugBreakpoint{DebugAccess::kExecute, 0x1000, 4};
  CHECK_FALSE(EncodeDr7(bps).has_value());
}

TEST_CASE("MakeGuestDebug: software breakpoints only") {
  kvm_guest_debug debug = MakeGuestDebug({});
  CHECK(debug.control == (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP));
}

TEST_CASE("MakeGuestDebug: a step blocks interrupts") {
  kvm_guest_debug debug = MakeGuestDebug(Step());
  CHECK((debug.control & KVM_GUESTDBG_SINGLESTEP) != 0);
  CHECK((debug.control & KVM_GUESTDBG_BLOCKIRQ) != 0);
}

TEST_CASE("MakeGuestDebug: hardware breakpoints fill DR0-3 and DR7") {
  GuestDebugRequest request;
  request.breakpoints[2] = DebugBreakpoint{DebugAccess::kWrite, 0xffffffff82000000, 8};
  kvm_guest_debug debug = MakeGuestDebug(request);
  CHECK((debug.control & KVM_GUESTDBG_USE_HW_BP) != 0);
  CHECK(debug.arch.debugreg[2] == 0xffffffff82000000);
  CHECK(debug.arch.debugreg[7] == *EncodeDr7(request.breakpoints));
}

TEST_CASE("MakeGuestDebug: re-injecting the guest's own int3") {
  GuestDebugRequest request;
  request.inject_breakpoint = true;
  kvm_guest_debug debug = MakeGuestDebug(request);
  CHECK((debug.control & KVM_GUESTDBG_INJECT_BP) != 0);
}

TEST_CASE("GuestDebugOff clears everything") { CHECK(GuestDebugOff().control == 0); }

TEST_CASE("Decode: #BP is a software breakpoint at the int3") {
  DebugEvent event = DecodeDebugExit(Exit(3, 0xffffffff81000000, 0));
  CHECK(event.kind == DebugEvent::Kind::kSoftwareBreakpoint);
  CHECK(event.pc == 0xffffffff81000000);
}

TEST_CASE("Decode: #DB with BS is a single step") {
  DebugEvent event = DecodeDebugExit(Exit(1, 0x10, 0xffff4ff0));
  CHECK(event.kind == DebugEvent::Kind::kSingleStep);
}

TEST_CASE("Decode: #DB with B2 is debug register 2") {
  DebugEvent event = DecodeDebugExit(Exit(1, 0x10, 0xffff0ff4));
  CHECK(event.kind == DebugEvent::Kind::kHardwareBreakpoint);
  CHECK(event.slot == 2);
}

TEST_CASE("Decode: a watchpoint hit during a step is the watchpoint") {
  DebugEvent event = DecodeDebugExit(Exit(1, 0x10, 0xffff4ff2));
  CHECK(event.kind == DebugEvent::Kind::kHardwareBreakpoint);
  CHECK(event.slot == 1);
}

TEST_CASE("Decode: #DB without B0-3 or BS is unknown") {
  CHECK(DecodeDebugExit(Exit(1, 0, 0xffff0ff0)).kind == DebugEvent::Kind::kUnknown);
}

TEST_CASE("Decode: another vector is unknown") {
  CHECK(DecodeDebugExit(Exit(14, 0, 0)).kind == DebugEvent::Kind::kUnknown);
}

TEST_CASE("MakeGuestDebug: a step without interrupt blocking, for old kernels") {
  GuestDebugRequest request = Step();
  request.block_interrupts = false;
  kvm_guest_debug debug = MakeGuestDebug(request);
  CHECK((debug.control & KVM_GUESTDBG_SINGLESTEP) != 0);
  CHECK((debug.control & KVM_GUESTDBG_BLOCKIRQ) == 0);
}

TEST_CASE("HasExecuteBreakpointAt matches execute slots only") {
  DebugBreakpoints bps;
  bps[1] = DebugBreakpoint{DebugAccess::kExecute, 0x1000, 1};
  bps[2] = DebugBreakpoint{DebugAccess::kWrite, 0x2000, 8};
  CHECK(HasExecuteBreakpointAt(bps, 0x1000));
  CHECK_FALSE(HasExecuteBreakpointAt(bps, 0x2000));
  CHECK_FALSE(HasExecuteBreakpointAt(bps, 0x1001));
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
