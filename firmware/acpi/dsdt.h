// DSDT (ACPI 6.5 section 5.2.11.1): the AML namespace. Under \_SB_ it holds
// COM1 (PNP0501), the CMOS RTC (PNP0B00) and one LNRO0005 device per
// virtio-mmio transport, and with PCI the host bridge PCI0 and the PNP0C02
// device that reserves its ECAM window (pci_host_bridge.h); at the root,
// \_S5_ so Linux can power off. The i8042 is deliberately absent (see
// fadt.cc).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "firmware/acpi/tables.h"

namespace mini_vmm::firmware::acpi {

// Revision 2 and above make AML integers 64-bit (5.2.11.1).
inline constexpr uint8_t kDsdtRevision = 2;

// The ACPI id Linux's virtio_mmio driver matches (virtio_mmio_acpi_match).
inline constexpr std::string_view kVirtioMmioHid = "LNRO0005";
// Device names are "V" plus three hex digits.
inline constexpr size_t kMaxVirtioMmioDevices = 0x1000;

// The DSDT for a validated `config`.
std::vector<uint8_t> BuildDsdt(const AcpiConfig& config);

}  // namespace mini_vmm::firmware::acpi
