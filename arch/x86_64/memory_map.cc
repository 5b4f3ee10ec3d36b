#include "arch/x86_64/memory_map.h"

#include <algorithm>

#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {

std::vector<GuestRegionSpec> RamLayout(uint64_t ram_bytes) {
  const uint64_t low = std::min(ram_bytes, kMmioHoleStart);
  std::vector<GuestRegionSpec> layout{{GuestAddress(0), low}};
  if (ram_bytes > low) layout.push_back({GuestAddress(kMmioHoleEnd), ram_bytes - low});
  return layout;
}

uint64_t LowRamEnd(uint64_t ram_bytes) { return std::min(ram_bytes, kMmioHoleStart); }

std::vector<ReservedRange> ReservedRanges() {
  // 0x9fc00-0x100000: EBDA, VGA window, option ROMs and BIOS area. Our
  // ACPI and MP tables live at its top; none of it is usable RAM.
  // The PCI ECAM window: Linux uses the MCFG's area from its first PCI
  // access only if E820 reserves it (pci_mmcfg_early_init()); otherwise it
  // starts on ports 0xcf8/0xcfc and switches once ACPI shows the PNP0C02.
  return {{kLowRamEnd, kHighMemoryStart - kLowRamEnd}, {kPciEcamBase, kPciEcamSize}};
}

}  // namespace mini_vmm::arch::x86_64
