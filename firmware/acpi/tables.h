// WriteAcpiTables: the ACPI tables of an x86_64 mini-vmm guest, written into
// guest memory at boot. Debian's kernels find SMP (MADT) and virtio-mmio
// devices (DSDT) only through ACPI; see shared/nested-notes.md items 8 and 9.
//
//   AcpiConfig acpi{.num_cpus = 2, .ioapic_id = 2};
//   acpi.virtio_mmio.push_back({.base = 0xd0000000, .size = 0x1000, .gsi = 5});
//   GuestAddress rsdp = TRY(WriteAcpiTables(mem, GuestAddress(0xe0000), 0x10000, acpi));
//   boot_params.acpi_rsdp_addr = rsdp.value();   // or let Linux scan 0xe0000-0xfffff
//
// The platform described is hardware-reduced ACPI (ACPI 6.5 section 4.1), as
// in Firecracker and Cloud Hypervisor: no PM timer, SCI or GPE blocks. Power
// off and reset go through three byte-wide I/O ports that the VMM's power
// management device must emulate:
//   - sleep_control_port: Linux's acpi_hw_extended_sleep() writes
//       ((SLP_TYP << 2) & 0x1c) | 0x20 (SLP_EN), with SLP_TYP the first
//       element of \_S5_; for the default s5_sleep_type 5 that is 0x34.
//       Power off on a write with bit 5 set and bits 4-2 == s5_sleep_type.
//   - sleep_status_port: written 0x80 (WAK_STS, to clear it) just before the
//       control write; afterwards Linux spins reading it until bit 7 is set.
//   - reset_port: written reset_value once (FADT RESET_REG) on reboot.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "arch/x86_64/platform/layout.h"
#include "vmm/base/result.h"
#include "vmm/memory/guest_address.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::firmware::acpi {

// A virtio-mmio transport, described as a "LNRO0005" device whose _CRS gives
// its register window and its edge-triggered, active-high GSI.
struct VirtioMmioDevice {
  uint64_t base = 0;
  uint64_t size = 0;
  uint32_t gsi = 0;
};

// A PCI host bridge on segment 0 (MCFG, and PCI0 in the DSDT): its ECAM
// window, the bus numbers behind it, the memory windows BARs are assigned
// from, and the four GSIs INTA#-INTD# swizzle over by slot.
struct PciHostBridge {
  uint64_t ecam_base = arch::x86_64::kPciEcamBase;
  uint64_t ecam_size = arch::x86_64::kPciEcamSize;
  uint8_t first_bus = 0;
  uint8_t last_bus = 0;
  uint32_t slots = arch::x86_64::kPciDevices;
  uint64_t mmio32_base = arch::x86_64::kPciMmio32Base;
  uint64_t mmio32_size = arch::x86_64::kPciMmio32End - arch::x86_64::kPciMmio32Base;
  uint64_t mmio64_base = 0;
  uint64_t mmio64_size = 0;  // None when zero.
  // The I/O port window, forwarded to the bus; none when io_size is zero.
  uint32_t io_base = arch::x86_64::kPciIoBase;
  uint32_t io_size = arch::x86_64::kPciIoEnd - arch::x86_64::kPciIoBase;
  std::array<uint32_t, 4> intx_gsis = arch::x86_64::kPciIntxGsis;
};

struct AcpiConfig {
  // vCPUs get xAPIC IDs 0..num_cpus-1 (at most 254: 0xff is the broadcast ID).
  uint32_t num_cpus = 1;
  uint64_t lapic_address = arch::x86_64::kLapicAddress;
  // The KVM in-kernel IOAPIC: 24 pins at GSI base 0.
  uint64_t ioapic_address = arch::x86_64::kIoapicAddress;
  uint8_t ioapic_id = 0;
  uint16_t sleep_control_port = arch::x86_64::kAcpiSleepControlPort;
  uint16_t sleep_status_port = arch::x86_64::kAcpiSleepStatusPort;
  uint16_t reset_port = arch::x86_64::kAcpiResetPort;
  uint8_t reset_value = 0x01;
  // SLP_TYP for S5 (soft off), a 3-bit field.
  uint8_t s5_sleep_type = 5;
  std::vector<VirtioMmioDevice> virtio_mmio;
  std::optional<PciHostBridge> pci;
};

// The pins of the KVM in-kernel IOAPIC; GSIs 0..kIoapicPins-1.
using arch::x86_64::kIoapicPins;
inline constexpr uint32_t kMaxCpus = 254;
// The RSDP must sit on a 16-byte boundary (5.2.5.1).
inline constexpr uint64_t kRsdpAlignment = 16;

// Writes the RSDP at `start` followed by the XSDT, FADT, MADT, MCFG (with a
// PCI host bridge) and DSDT, all
// inside [start, start + size), and returns the RSDP's address. Nothing is
// written if the configuration is invalid, `start` is not 16-byte aligned,
// or the tables do not fit in `size` bytes of guest RAM.
Result<GuestAddress> WriteAcpiTables(const GuestMemory& mem, GuestAddress start, uint64_t size,
                                     const AcpiConfig& config);

// The configuration checks WriteAcpiTables starts with, for callers that
// validate a whole VM configuration before creating anything.
Result<void> ValidateAcpiConfig(const AcpiConfig& config);

}  // namespace mini_vmm::firmware::acpi
