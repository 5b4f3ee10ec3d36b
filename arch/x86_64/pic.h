// The two 8259 PICs as PC firmware leaves them for the OS.
//
// KVM creates its in-kernel PICs in their power-on state: vector base 0 and
// every line unmasked. A BIOS reprograms them before loading an OS (vector
// bases 0x08 and 0x70, lines masked), and a kernel that finds an ACPI
// hardware-reduced FADT takes the firmware at its word that there is no PIC
// and never touches it. Booted with `nosmp` or `noapic`, Linux leaves the
// IOAPIC unused and the LAPIC's LINT0 in ExtINT (virtual-wire) mode, so a
// power-on PIC would deliver COM1's IRQ 4 as vector 4 (#OF) and crash it.
//
//   TRY(ConfigurePics(vm));  // After Vm::CreateIrqchip().
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/base/result.h"
#include "vmm/kvm/vm.h"

namespace mini_vmm::arch::x86_64 {

enum class Pic : uint32_t {
  kMaster = KVM_IRQCHIP_PIC_MASTER,
  kSlave = KVM_IRQCHIP_PIC_SLAVE,
};

// The vector bases a PC BIOS programs (ICW2): IRQ 0-7 at 0x08, 8-15 at 0x70.
inline constexpr uint8_t kMasterPicVectorBase = 0x08;
inline constexpr uint8_t kSlavePicVectorBase = 0x70;
// Every line masked (OCW1). SeaBIOS leaves the master's cascade line (IRQ 2)
// open; with every slave line masked that lets nothing through either, and
// a fully masked master is what the hardware-reduced FADT promises.
inline constexpr uint8_t kPicAllMasked = 0xff;

// Pure: `current` (from KVM_GET_IRQCHIP) with the firmware's programming
// applied. KVM-private fields such as the ELCR mask are kept.
kvm_pic_state FirmwarePicState(Pic pic, const kvm_pic_state& current);

// Applies FirmwarePicState() to both in-kernel PICs of `vm`.
Result<void> ConfigurePics(kvm::Vm& vm);

}  // namespace mini_vmm::arch::x86_64
