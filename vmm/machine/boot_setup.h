// Everything a Linux guest finds in memory before its first instruction:
// kernel, initrd, command line, zero page, boot page tables, ACPI and MP
// tables, the reset vector. Pure writes into guest memory; no KVM.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "firmware/acpi/tables.h"
#include "firmware/linux/kernel_loader.h"
#include "vmm/base/result.h"
#include "vmm/config/config.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {

struct PlatformDescription {
  // The kernel command line as the guest gets it (the user's, plus what the
  // platform adds, e.g. virtio_mmio.device= for acpi=off boots).
  std::string cmdline;
  uint32_t num_cpus = 1;
  uint8_t ioapic_id = 0;
  std::vector<firmware::acpi::VirtioMmioDevice> virtio_mmio;
  // The PCI host bridge, if the machine has one.
  std::optional<firmware::acpi::PciHostBridge> pci;
};

struct BootEntry {
  uint64_t entry;        // 64-bit entry point.
  uint64_t boot_params;  // Zero page address, for RSI.
};

Result<BootEntry> SetUpLinuxBoot(const GuestMemory& mem, const VmConfig& config,
                                 const PlatformDescription& platform);

}  // namespace mini_vmm
