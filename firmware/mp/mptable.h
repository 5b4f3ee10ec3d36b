// WriteMpTable: the Intel MultiProcessor Specification 1.4 tables, for
// kernels built with CONFIG_X86_MPPARSE and booted with acpi=off (with ACPI
// on, Linux ignores them in favour of the MADT).
//
//   MpTableConfig mp{.num_cpus = 2, .ioapic_id = 2};
//   TRY(WriteMpTable(mem, GuestAddress(0xf0000), 0x10000, mp));
//
// Linux looks for the floating pointer only in the first KiB of RAM, the
// last KiB below 640 KiB, the EBDA and 0xf0000-0xfffff, on 16-byte
// boundaries (default_find_smp_config()); the caller picks such a `start`.
// The configuration table follows the floating pointer directly.
//
// Interrupt routing described: ISA IRQs 0-15 to the same IOAPIC pins except
// IRQ0 (the PIT) to pin 2, the 8259's ExtINT to pin 0, and IRQ2 (the 8259
// cascade) nowhere; ExtINT on LINT0 and NMI on LINT1 of every CPU. The KVM
// routing must match: GSI 0 -> IOAPIC pin 2, as QEMU sets it up, whereas
// KVM's default routing sends GSI 0 to pin 0.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "arch/x86_64/platform/layout.h"
#include "vmm/base/result.h"
#include "vmm/memory/guest_address.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::firmware::mp {

struct MpTableConfig {
  // vCPUs get local APIC IDs 0..num_cpus-1; CPU 0 is the bootstrap processor.
  uint32_t num_cpus = 1;
  uint8_t ioapic_id = 0;
  uint64_t ioapic_address = arch::x86_64::kIoapicAddress;
  uint64_t lapic_address = arch::x86_64::kLapicAddress;
  // GSIs >= 16 used by devices, listed as edge/active-high I/O interrupt
  // entries. Linux allocates IRQs at boot only for IOAPIC pins that have an
  // entry (setup_IO_APIC_irqs()), so a device on an unlisted pin gets none.
  std::vector<uint32_t> extra_edge_gsis;
  // A PCI bus 0 (MP bus ID 0, as Linux matches MP bus IDs to PCI bus
  // numbers; ISA becomes bus 1) whose slots' INTA#-INTD# are level-
  // triggered, active-low on pci_intx_gsis[(slot + pin) % 4]: what Linux
  // uses for PCI interrupts with acpi=off.
  bool pci = false;
  uint32_t pci_slots = arch::x86_64::kPciDevices;
  std::array<uint32_t, 4> pci_intx_gsis = arch::x86_64::kPciIntxGsis;
};

inline constexpr uint32_t kMaxCpus = 254;
using arch::x86_64::kIoapicPins;
using arch::x86_64::kIsaIrqs;
inline constexpr uint64_t kFloatingPointerAlignment = 16;

// Writes the floating pointer at `start` and the configuration table after
// it, inside [start, start + size). Nothing is written on failure.
Result<void> WriteMpTable(const GuestMemory& mem, GuestAddress start, uint64_t size,
                          const MpTableConfig& config);

}  // namespace mini_vmm::firmware::mp
