// Per-vCPU architectural setup shared by the boot CPU and the APs: CPUID,
// MSRs and LAPIC pins. The boot CPU additionally enters long mode
// (long_mode.h); APs wait in KVM for the guest's INIT/SIPI.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>

#include "vmm/base/result.h"
#include "vmm/kvm/vcpu.h"

namespace mini_vmm::arch::x86_64 {

struct VcpuSetup {
  uint32_t index = 0;
  uint32_t num_cpus = 1;
  std::span<const kvm_cpuid_entry2> supported_cpuid;
  std::span<const uint32_t> supported_msrs;
  bool tsc_deadline = false;
};

Result<void> ConfigureVcpu(kvm::Vcpu& vcpu, const VcpuSetup& setup);

}  // namespace mini_vmm::arch::x86_64
