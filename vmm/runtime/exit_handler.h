// The one place a vCPU exit is dispatched: port I/O and MMIO go to their
// bus, everything else becomes a decision for the vCPU loop. Pure apart
// from the buses and one read of guest memory (the BIOS reset flag at a
// triple fault), so it is unit-tested with fabricated exits.
#pragma once

#include <string>

#include "devices/bus/bus.h"
#include "vmm/kvm/vcpu_exit.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {

enum class ExitAction {
  kContinue,
  kPowerOff,
  kReset,
  kCrash,  // `reason` says why; the caller dumps the vCPU state.
  kDebug,  // A breakpoint, single step or watchpoint: for the debugger.
};

struct ExitOutcome {
  ExitAction action = ExitAction::kContinue;
  // kCrash: what went wrong. kPowerOff, kReset: what asked for it (logged
  // at info level). Empty for kContinue.
  std::string reason;
};

struct ExitContext {
  const devices::Bus& pio;
  const devices::Bus& mmio;
  const GuestMemory& memory;
  uint32_t vcpu;
};

ExitOutcome HandleExit(const kvm::VcpuExit& exit, const ExitContext& context) noexcept;

}  // namespace mini_vmm
