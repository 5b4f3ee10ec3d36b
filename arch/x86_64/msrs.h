// Model-specific registers a vCPU starts with.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <vector>

namespace mini_vmm::arch::x86_64 {

// Architectural reset values for the MSRs Linux expects a loader to have
// set, restricted to those in `supported` (KVM_GET_MSR_INDEX_LIST).
std::vector<kvm_msr_entry> BootMsrs(std::span<const uint32_t> supported);

}  // namespace mini_vmm::arch::x86_64
