// The one place a vCPU exit is dispatched: port I/O and MMIO go to their
// bus, everything else becomes a decision for the vCPU loop. Pure apart
// from the buses, so it is unit-tested with fabricated exits.
#pragma once

#include <string>

#include "devices/bus/bus.h"
#include "vmm/kvm/vcpu_exit.h"

namespace mini_vmm {

enum class ExitAction {
  kContinue,
  kPowerOff,
  kReset,
  kCrash,  // `reason` says why; the caller dumps the vCPU state.
};

struct ExitOutcome {
  ExitAction action = ExitAction::kContinue;
  std::string reason;
};

struct ExitContext {
  const devices::Bus& pio;
  const devices::Bus& mmio;
  uint32_t vcpu;
};

ExitOutcome HandleExit(const kvm::VcpuExit& exit, const ExitContext& context) noexcept;

}  // namespace mini_vmm
