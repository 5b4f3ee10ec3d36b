// x86 guest debugging through KVM: the debug-register encoding (DR7) and
// KVM_SET_GUEST_DEBUG's argument on the way in, KVM_EXIT_DEBUG's DR6 and
// exception number on the way out. Pure; the GDB stub's KVM target calls
// these around kvm::Vcpu::SetGuestDebug and the runner's debug exits.
//
//   GuestDebugRequest request{.breakpoints = slots, .single_step = true};
//   TRY(vcpu.SetGuestDebug(MakeGuestDebug(request)));
//   ... KVM_EXIT_DEBUG:
//   DebugEvent event = DecodeDebugExit(exit.arch);
#pragma once

#include <linux/kvm.h>

#include <array>
#include <cstdint>
#include <optional>

namespace mini_vmm::arch::x86_64 {

// DR7's R/W field (Intel SDM vol. 3, 18.2.4). 0b10 (I/O) is not offered.
enum class DebugAccess : uint8_t { kExecute = 0b00, kWrite = 0b01, kReadWrite = 0b11 };

struct DebugBreakpoint {
  DebugAccess access;
  uint64_t address;  // Linear.
  uint8_t length;    // 1, 2, 4 or 8 (1 for kExecute); `address` aligned to it.
};
using DebugBreakpoints = std::array<std::optional<DebugBreakpoint>, 4>;

// DR7 enabling each present slot (local enable, R/W, LEN), or nullopt if a
// slot's length or alignment cannot be expressed.
std::optional<uint64_t> EncodeDr7(const DebugBreakpoints& breakpoints);

struct GuestDebugRequest {
  DebugBreakpoints breakpoints;
  // Trap int3 (#BP) to userspace instead of delivering it to the guest.
  bool software_breakpoints = true;
  bool single_step = false;
  // Block interrupts during a step (KVM_GUESTDBG_BLOCKIRQ, Linux 5.15+);
  // turned off only to retry on a kernel that refuses the flag.
  bool block_interrupts = true;
  // Deliver #BP to the guest on the next entry (its own int3, which KVM
  // took away from it because software_breakpoints is on).
  bool inject_breakpoint = false;
};

// KVM_SET_GUEST_DEBUG's argument. A single step also blocks interrupts
// (KVM_GUESTDBG_BLOCKIRQ, unless `block_interrupts` is off), so the step
// executes the instruction at RIP and not the first instruction of a
// pending interrupt's handler. VMM_CHECKs that the breakpoints encode (the
// caller validated them).
kvm_guest_debug MakeGuestDebug(const GuestDebugRequest& request);
// Debugging off: the guest owns its debug registers and int3 again.
kvm_guest_debug GuestDebugOff();

struct DebugEvent {
  enum class Kind {
    kSoftwareBreakpoint,  // #BP: `pc` is the int3's address.
    kHardwareBreakpoint,  // #DB with DR6.Bn: `slot` is n.
    kSingleStep,          // #DB with DR6.BS.
    kUnknown,             // Anything else (a #DB with no bit we set).
  };
  Kind kind;
  uint64_t pc;
  uint32_t slot = 0;
};

// Decodes KVM_EXIT_DEBUG. A watchpoint hit by a stepped instruction sets
// both DR6.Bn and DR6.BS: the watchpoint is reported, as it is the news.
DebugEvent DecodeDebugExit(const kvm_debug_exit_arch& exit);

// RFLAGS.RF (Intel SDM vol. 3, 18.3.1.1): set on a vCPU resuming at the
// address of an execute breakpoint, so that breakpoint does not fire again
// on the instruction it already stopped at. The CPU clears it after one
// instruction.
inline constexpr uint64_t kRflagsResume = 1ull << 16;
bool HasExecuteBreakpointAt(const DebugBreakpoints& breakpoints, uint64_t address);

}  // namespace mini_vmm::arch::x86_64
