#include "arch/x86_64/platform_resources.h"

#include <string>

#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {

PlatformResources CreatePlatformResources() {
  PlatformResources r{
      AddressAllocator("the platform MMIO device window", kVirtioMmioBase,
                       kMmioDevicesEnd - kVirtioMmioBase),
      AddressAllocator("the IOAPIC's GSIs", 0, kIoapicPins),
  };
  for (uint32_t gsi : kLegacyGsis) {
    VMM_CHECK(r.gsis.Reserve(gsi, 1, "legacy IRQ " + std::to_string(gsi)).ok());
  }
  return r;
}

}  // namespace mini_vmm::arch::x86_64
