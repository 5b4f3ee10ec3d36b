#include "arch/x86_64/platform_resources.h"

#include <string>

#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {

uint64_t PciMmio64Base(uint64_t ram_bytes) {
  uint64_t end = kMmioHoleEnd;
  for (const GuestRegionSpec& region : RamLayout(ram_bytes)) {
    end = std::max(end, region.start.value() + region.size);
  }
  return (end + kPciMmio64Alignment - 1) / kPciMmio64Alignment * kPciMmio64Alignment;
}

PlatformResources CreatePlatformResources(uint64_t ram_bytes) {
  PlatformResources r{
      AddressAllocator("the platform MMIO device window", kVirtioMmioBase,
                       kMmioDevicesEnd - kVirtioMmioBase),
      AddressAllocator("the IOAPIC's GSIs", 0, kIoapicPins),
      AddressAllocator("the 32-bit PCI window", kPciMmio32Base, kPciMmio32End - kPciMmio32Base),
      AddressAllocator("the 64-bit PCI window", PciMmio64Base(ram_bytes), kPciMmio64Size),
      AddressAllocator("the PCI I/O port window", kPciIoBase, kPciIoEnd - kPciIoBase),
  };
  for (uint32_t gsi : kLegacyGsis) {
    VMM_CHECK(r.gsis.Reserve(gsi, 1, "legacy IRQ " + std::to_string(gsi)).ok());
  }
  for (uint32_t gsi : kPciIntxGsis) {
    VMM_CHECK(r.gsis.Reserve(gsi, 1, "PCI INTx " + std::to_string(gsi)).ok());
  }
  return r;
}

}  // namespace mini_vmm::arch::x86_64
