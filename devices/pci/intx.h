// INTx: the legacy level-triggered PCI interrupt pins (INTA#-INTD#).
//
// A function drives its pin through an IntxLine: Assert() while it has an
// interrupt condition, Deassert() once the driver acknowledged it (for
// virtio-pci: an ISR read). The machine implements it as a level IOAPIC pin
// (a resampling irqfd: KVM re-raises the line after the guest's EOI while
// the device still asserts it).
#pragma once

#include <cstdint>

#include "vmm/base/check.h"

namespace mini_vmm::pci {

// Threading: called from vCPU threads (ISR reads, command register writes)
// and from device threads (interrupts); implementations are thread-safe.
class IntxLine {
 public:
  virtual ~IntxLine() = default;
  virtual void Assert() noexcept = 0;
  virtual void Deassert() noexcept = 0;
};

// Which of the host bridge's four interrupt lines (0-3: the lines INTA#-
// INTD# of slot 0) a function on root bus `slot` using `pin` (1-4, the
// value of its PCI_INTERRUPT_PIN) drives: the conventional rotation
// (PCI-to-PCI Bridge Architecture 1.2 §9.1), (pin - 1 + slot) mod 4, which
// spreads the INTA# of neighbouring slots over the four lines. The machine
// maps line n to a GSI and describes the same rotation to the guest (the
// ACPI _PRT of the host bridge, or the MP table); both must use this.
constexpr uint8_t SwizzleIntxPin(uint8_t slot, uint8_t pin) {
  VMM_CHECK(pin >= 1 && pin <= 4);
  return static_cast<uint8_t>((pin - 1u + slot) % 4u);
}

}  // namespace mini_vmm::pci
