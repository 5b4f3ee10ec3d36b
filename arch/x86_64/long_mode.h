// Long-mode entry per the Linux x86 64-bit boot protocol: identity-mapped
// page tables, a flat GDT, paging and long mode on, RSI = &boot_params.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/base/result.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::arch::x86_64 {

// Writes the boot GDT, an empty IDT and page tables identity-mapping the
// first 4 GiB with 2 MiB pages (layout.h has the addresses).
Result<void> WriteBootTables(const GuestMemory& mem);

// Pure: the registers for entering `entry` in 64-bit mode.
kvm_regs LongModeRegs(uint64_t entry, uint64_t boot_params);
// Pure: updates segment, control and descriptor-table registers in `sregs`
// (as read from the vCPU, so KVM-owned fields such as the APIC base stay).
void SetLongModeSregs(kvm_sregs& sregs);
kvm_fpu BootFpu();

// Puts the boot vCPU at `entry` in long mode.
Result<void> EnterLongMode(kvm::Vcpu& vcpu, uint64_t entry, uint64_t boot_params);

}  // namespace mini_vmm::arch::x86_64
