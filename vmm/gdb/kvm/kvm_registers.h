// Between KVM's register structures and gdb's register file
// (vmm/gdb/x86_64_registers.h). Pure, so the mapping is unit-tested
// without /dev/kvm; KvmTarget does the ioctls around it.
//
// On the way back (G/P packets), segment selectors are not written: a
// selector alone, without its descriptor, would leave KVM's hidden segment
// state inconsistent. Everything else gdb shows can be written.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/gdb/x86_64_registers.h"

namespace mini_vmm::gdb {

// One vCPU's state as KVM returns it, plus the one MSR gdb shows.
struct KvmRegisterState {
  kvm_regs regs{};
  kvm_sregs sregs{};
  kvm_fpu fpu{};
  uint64_t kernel_gs_base = 0;
};

// IA32_KERNEL_GS_BASE (Intel SDM vol. 4, table 2-2). Not in a uAPI header.
inline constexpr uint32_t kMsrKernelGsBase = 0xc0000102;

RegisterFile ToRegisterFile(const KvmRegisterState& state);
// Updates `state` from `file`, leaving selectors and KVM-only fields as
// they are.
void FromRegisterFile(const RegisterFile& file, KvmRegisterState& state);

}  // namespace mini_vmm::gdb
