// The GSI routing of a PC with an in-kernel 8259 pair and IOAPIC.
#pragma once

#include <linux/kvm.h>

#include <vector>

namespace mini_vmm::arch::x86_64 {

// GSIs 0-15 to the PICs (except the cascade, 2) and GSIs 1-23 to the
// same IOAPIC pin, except that GSI 0 (the PIT) goes to IOAPIC pin 2: the
// MADT's interrupt source override and the MP table say IRQ0 is on pin 2,
// as on every PC since the IOAPIC; KVM's default routing puts it on pin 0.
std::vector<kvm_irq_routing_entry> LegacyIrqRoutes();

}  // namespace mini_vmm::arch::x86_64
