// Local APIC wiring at boot: LINT0 as ExtINT (the 8259 PIC's output, for
// virtual-wire mode) and LINT1 as NMI, as a PC BIOS leaves them.
#pragma once

#include <linux/kvm.h>

#include "vmm/base/result.h"
#include "vmm/kvm/vcpu.h"

namespace mini_vmm::arch::x86_64 {

// Pure: sets the LVT LINT0/LINT1 entries in a KVM LAPIC register page.
void SetLocalInterruptPins(kvm_lapic_state& lapic);
uint32_t LapicRegister(const kvm_lapic_state& lapic, size_t offset);

Result<void> ConfigureLapic(kvm::Vcpu& vcpu);

}  // namespace mini_vmm::arch::x86_64
