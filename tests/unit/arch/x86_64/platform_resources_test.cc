#include "arch/x86_64/platform_resources.h"

#include <catch2/catch.hpp>
#include <vector>

#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint64_t kRam = 512ull << 20;

TEST_CASE("Device GSIs skip the legacy ISA IRQs and the PCI INTx pins, in the documented order") {
  PlatformResources r = CreatePlatformResources(kRam);
  std::vector<uint64_t> gsis;
  for (size_t i = 0; i < kMaxVirtioMmioDevices; ++i)
    gsis.push_back(r.gsis.Allocate(1, 1, "d").value());
  CHECK(gsis == std::vector<uint64_t>{5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
  CHECK_FALSE(r.gsis.Allocate(1, 1, "one too many").ok());
}

TEST_CASE("Device windows start at the virtio-mmio base, one page each") {
  PlatformResources r = CreatePlatformResources(kRam);
  CHECK(r.mmio_devices.Allocate(0x1000, 0x1000, "a").value() == kVirtioMmioBase);
  CHECK(r.mmio_devices.Allocate(0x1000, 0x1000, "b").value() == kVirtioMmioBase + 0x1000);
}

TEST_CASE("The device window stays below the IOAPIC and LAPIC") {
  PlatformResources r = CreatePlatformResources(kRam);
  CHECK(r.mmio_devices.end() <= kIoapicAddress);
  CHECK(r.mmio_devices.base() >= kMmioHoleStart);
}

TEST_CASE("The MMIO hole's windows do not overlap: PCI 32-bit, virtio-mmio, ECAM, IOAPIC") {
  PlatformResources r = CreatePlatformResources(kRam);
  CHECK(r.pci_mmio32.base() == kMmioHoleStart);
  CHECK(r.pci_mmio32.end() <= r.mmio_devices.base());
  CHECK(r.mmio_devices.end() <= kPciEcamBase);
  CHECK(kPciEcamBase + kPciEcamSize <= kIoapicAddress);
}

TEST_CASE("The PCI I/O window is 0xc000-0xffff, above every fixed port of the platform") {
  PlatformResources r = CreatePlatformResources(kRam);
  CHECK(r.pci_io.base() == 0xc000);
  CHECK(r.pci_io.end() == 0x10000);
  for (uint32_t port : {uint32_t{kCom1Port}, uint32_t{kAcpiPmPort}, uint32_t{kResetControlPort},
                        uint32_t{kPciConfigDataPort}, uint32_t{kBootMarkerPort}}) {
    CHECK(port + 8 <= r.pci_io.base());
  }
  CHECK(r.pci_io.Allocate(0x20, 0x20, "BAR 2").value() == 0xc000);
}

TEST_CASE("The 64-bit PCI window starts at 4 GiB for a guest whose RAM ends below it") {
  CHECK(PciMmio64Base(kRam) == 4ull << 30);
  CHECK(CreatePlatformResources(kRam).pci_mmio64.base() == 4ull << 30);
}

TEST_CASE("The 64-bit PCI window starts above RAM that crosses the MMIO hole, 1 GiB aligned") {
  // 4 GiB of RAM: 3 GiB below the hole, 1 GiB from 4 GiB to 5 GiB.
  CHECK(PciMmio64Base(4ull << 30) == 5ull << 30);
  // 3.5 GiB: 512 MiB above 4 GiB, rounded up to the next GiB.
  CHECK(PciMmio64Base(3584ull << 20) == 5ull << 30);
  PlatformResources r = CreatePlatformResources(4ull << 30);
  CHECK(r.pci_mmio64.end() - r.pci_mmio64.base() == kPciMmio64Size);
}

TEST_CASE("The ECAM window is e820-reserved, as Linux wants before it uses the MCFG early") {
  bool reserved = false;
  for (const ReservedRange& r : ReservedRanges()) {
    reserved |= r.address == kPciEcamBase && r.size == kPciEcamSize;
  }
  CHECK(reserved);
}

TEST_CASE("PCI INTx swizzles by slot over the four reserved pins") {
  CHECK(PciIntxGsi(0, 0) == 20);
  CHECK(PciIntxGsi(1, 0) == 21);
  CHECK(PciIntxGsi(1, 3) == 20);
  CHECK(PciIntxGsi(31, 1) == 20);
  PlatformResources r = CreatePlatformResources(kRam);
  for (uint32_t gsi : kPciIntxGsis) CHECK_FALSE(r.gsis.Reserve(gsi, 1, "again").ok());
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
