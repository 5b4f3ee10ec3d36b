// Whether a vCPU can ever run again on its own.
//
// A vCPU that executed HLT with interrupts disabled (Linux's stop_this_cpu,
// which ends `halt` and `poweroff` when there is no way to power off), or
// one still waiting for the INIT/SIPI that starts an AP, only runs again if
// another CPU wakes it (INIT/SIPI) or an NMI arrives; mini-vmm's platform
// has no NMI source. When every vCPU of a VM is parked the guest has
// stopped for good, but inside KVM's in-kernel LAPIC, where mini-vmm sees
// no exit: the vCPU loop asks KVM once a second (vmm/runtime/vcpu_runner.cc).
//
//   if (TRY(IsVcpuParked(vcpu))) { ... }
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/base/result.h"
#include "vmm/kvm/vcpu.h"

namespace mini_vmm::arch::x86_64 {

// Pure: `mp_state` from KVM_GET_MP_STATE, `rflags` from KVM_GET_REGS.
bool IsParked(uint32_t mp_state, uint64_t rflags);

// Reads the vCPU's state; call from the vCPU's own thread, outside KVM_RUN.
Result<bool> IsVcpuParked(const kvm::Vcpu& vcpu);

}  // namespace mini_vmm::arch::x86_64
