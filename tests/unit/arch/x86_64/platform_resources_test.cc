#include "arch/x86_64/platform_resources.h"

#include <catch2/catch.hpp>
#include <vector>

#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {
namespace {

TEST_CASE("Device GSIs skip the legacy ISA IRQs, in the documented order") {
  PlatformResources r = CreatePlatformResources();
  std::vector<uint64_t> gsis;
  for (size_t i = 0; i < kMaxVirtioMmioDevices; ++i) gsis.push_back(r.gsis.Allocate(1, 1, "d").value());
  CHECK(gsis == std::vector<uint64_t>{5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                      22, 23});
  CHECK_FALSE(r.gsis.Allocate(1, 1, "one too many").ok());
}

TEST_CASE("Device windows start at the virtio-mmio base, one page each") {
  PlatformResources r = CreatePlatformResources();
  CHECK(r.mmio_devices.Allocate(0x1000, 0x1000, "a").value() == kVirtioMmioBase);
  CHECK(r.mmio_devices.Allocate(0x1000, 0x1000, "b").value() == kVirtioMmioBase + 0x1000);
}

TEST_CASE("The device window stays below the IOAPIC and LAPIC") {
  PlatformResources r = CreatePlatformResources();
  CHECK(r.mmio_devices.end() <= kIoapicAddress);
  CHECK(r.mmio_devices.base() >= kMmioHoleStart);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
