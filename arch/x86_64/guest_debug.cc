#include "arch/x86_64/guest_debug.h"

#include "vmm/base/check.h"

namespace mini_vmm::arch::x86_64 {
namespace {

// Exception vectors (Intel SDM vol. 3, 6.15).
constexpr uint32_t kDebugVector = 1;       // #DB
constexpr uint32_t kBreakpointVector = 3;  // #BP

// DR7 (Intel SDM vol. 3, 18.2.4): L0-L3 at bits 0, 2, 4, 6; GE (exact data
// breakpoints, recommended) at 9; bit 10 reserved as 1; R/W n at 16 + 4n,
// LEN n at 18 + 4n.
constexpr uint64_t kDr7Ge = 1ull << 9;
constexpr uint64_t kDr7Reserved1 = 1ull << 10;
constexpr unsigned kDr7RwShift = 16;
constexpr unsigned kDr7LenShift = 18;

// DR6 (Intel SDM vol. 3, 18.2.3): B0-B3 at bits 0-3, BS at 14.
constexpr uint64_t kDr6BreakpointMask = 0xf;
constexpr uint64_t kDr6SingleStep = 1ull << 14;

// DR7 LEN encodings: 1 byte 00, 2 bytes 01, 8 bytes 10, 4 bytes 11.
std::optional<uint64_t> LengthBits(uint8_t length) {
  switch (length) {
    case 1:
      return 0b00;
    case 2:
      return 0b01;
    case 4:
      return 0b11;
    case 8:
      return 0b10;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<uint64_t> EncodeDr7(const DebugBreakpoints& breakpoints) {
  uint64_t dr7 = kDr7Reserved1;
  for (unsigned n = 0; n < breakpoints.size(); ++n) {
    if (!breakpoints[n]) continue;
    const DebugBreakpoint& bp = *breakpoints[n];
    std::optional<uint64_t> len = LengthBits(bp.length);
    if (!len || bp.address % bp.length != 0) return std::nullopt;
    if (bp.access == DebugAccess::kExecute && bp.length != 1) return std::nullopt;
    dr7 |= 1ull << (2 * n);
    dr7 |= static_cast<uint64_t>(bp.access) << (kDr7RwShift + 4 * n);
    dr7 |= *len << (kDr7LenShift + 4 * n);
    if (bp.access != DebugAccess::kExecute) dr7 |= kDr7Ge;
  }
  return dr7;
}

kvm_guest_debug MakeGuestDebug(const GuestDebugRequest& request) {
  kvm_guest_debug debug{};
  debug.control = KVM_GUESTDBG_ENABLE;
  if (request.software_breakpoints) debug.control |= KVM_GUESTDBG_USE_SW_BP;
  if (request.single_step) {
    debug.control |= KVM_GUESTDBG_SINGLESTEP;
    if (request.block_interrupts) debug.control |= KVM_GUESTDBG_BLOCKIRQ;
  }
  if (request.inject_breakpoint) debug.control |= KVM_GUESTDBG_INJECT_BP;
  bool any_hardware = false;
  for (unsigned n = 0; n < request.breakpoints.size(); ++n) {
    if (!request.breakpoints[n]) continue;
    any_hardware = true;
    debug.arch.debugreg[n] = request.breakpoints[n]->address;
  }
  if (any_hardware) {
    std::optional<uint64_t> dr7 = EncodeDr7(request.breakpoints);
    VMM_CHECK(dr7.has_value());
    debug.control |= KVM_GUESTDBG_USE_HW_BP;
    debug.arch.debugreg[7] = *dr7;
  }
  return debug;
}

kvm_guest_debug GuestDebugOff() { return kvm_guest_debug{}; }

bool HasExecuteBreakpointAt(const DebugBreakpoints& breakpoints, uint64_t address) {
  for (const std::optional<DebugBreakpoint>& bp : breakpoints) {
    if (bp && bp->access == DebugAccess::kExecute && bp->address == address) return true;
  }
  return false;
}

DebugEvent DecodeDebugExit(const kvm_debug_exit_arch& exit) {
  if (exit.exception == kBreakpointVector) {
    return {DebugEvent::Kind::kSoftwareBreakpoint, exit.pc};
  }
  if (exit.exception == kDebugVector) {
    const uint64_t hits = exit.dr6 & kDr6BreakpointMask;
    if (hits != 0) {
      return {DebugEvent::Kind::kHardwareBreakpoint, exit.pc,
              static_cast<uint32_t>(__builtin_ctzll(hits))};
    }
    if ((exit.dr6 & kDr6SingleStep) != 0) return {DebugEvent::Kind::kSingleStep, exit.pc};
  }
  return {DebugEvent::Kind::kUnknown, exit.pc};
}

}  // namespace mini_vmm::arch::x86_64
