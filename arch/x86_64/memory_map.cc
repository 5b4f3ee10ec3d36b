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
  return {{kLowRamEnd, kHighMemoryStart - kLowRamEnd}};
}

}  // namespace mini_vmm::arch::x86_64
