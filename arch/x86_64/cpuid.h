// The CPUID each vCPU sees: what KVM supports, plus the topology and the
// paravirtual signature Linux needs.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <vector>

namespace mini_vmm::arch::x86_64 {

struct CpuidOptions {
  uint32_t cpu_index = 0;     // Also the vCPU's APIC ID.
  uint32_t num_cpus = 1;      // One package of num_cpus cores, one thread each.
  bool tsc_deadline = false;  // KVM_CAP_TSC_DEADLINE_TIMER: the LAPIC emulates it.
};

// Pure: builds the table for one vCPU from KVM_GET_SUPPORTED_CPUID.
std::vector<kvm_cpuid_entry2> BuildCpuid(std::span<const kvm_cpuid_entry2> supported,
                                         const CpuidOptions& options);

}  // namespace mini_vmm::arch::x86_64
