// VfioPciFunction against the fake NVMe: what the guest reads and what its
// writes reach, for every virtualised part of configuration space, the
// BARs and the MSI-X table.
#include "devices/vfio_pci/vfio_pci_function.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "tests/support/fake_vfio.h"
#include "tests/unit/devices/vfio_pci/function_fixture.h"

namespace mini_vmm::vfio_pci {
namespace {

using testing::FakeVectorRoutes;
using testing::FakeVfioDevice;
using testing::Fixture;

TEST_CASE("The guest reads the device's identity") {
  Fixture f;
  CHECK(f.Read(PCI_VENDOR_ID) == 0x00101b36);
  CHECK(f.Read(PCI_CLASS_REVISION) == 0x01080202);
  CHECK(f.Read(PCI_INTERRUPT_PIN, 1) == 1);
}

TEST_CASE("BAR sizing reports the region's size; the host BAR is never written") {
  Fixture f;
  f.Write(PCI_BASE_ADDRESS_0, 0xffffffff);
  f.Write(PCI_BASE_ADDRESS_1, 0xffffffff);
  CHECK(f.Read(PCI_BASE_ADDRESS_0) == (0xffffc000u | PCI_BASE_ADDRESS_MEM_TYPE_64));
  CHECK(f.Read(PCI_BASE_ADDRESS_1) == 0xffffffff);
  CHECK(f.Read(PCI_BASE_ADDRESS_2) == 0);
  CHECK(f.dev.ConfigWritesIn(PCI_BASE_ADDRESS_0, 24) == 0);
  CHECK(f.moves.moves.empty());  // Decoding is off while sizing.
}

TEST_CASE("Reprogramming a BAR with memory decoding on moves it") {
  Fixture f;
  f.fn->AssignBar(0, 0x800000000);
  REQUIRE(f.moves.moves.size() == 1);
  CHECK(f.moves.moves[0].to == 0x800000000);
  f.Write(PCI_BASE_ADDRESS_0, 0xe0000000 | PCI_BASE_ADDRESS_MEM_TYPE_64);
  f.Write(PCI_BASE_ADDRESS_1, 0);
  CHECK(f.moves.moves.back().to == 0xe0000000);
  CHECK(f.Read(PCI_BASE_ADDRESS_0) == (0xe0000000u | PCI_BASE_ADDRESS_MEM_TYPE_64));
  CHECK(f.dev.ConfigWritesIn(PCI_BASE_ADDRESS_0, 24) == 0);
}

TEST_CASE("Command writes reach the device filtered to the forwarded bits") {
  Fixture f;
  f.Write(PCI_COMMAND,
          PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SPECIAL | PCI_COMMAND_INVALIDATE,
          2);
  CHECK(f.dev.Get16(PCI_COMMAND) == (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
  CHECK(f.Read(PCI_COMMAND, 2) == (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
}

TEST_CASE("The expansion ROM BAR is hidden") {
  Fixture f;
  f.dev.Put32(PCI_ROM_ADDRESS, 0xfeb80000);
  f.Write(PCI_ROM_ADDRESS, 0xffffffff);
  CHECK(f.Read(PCI_ROM_ADDRESS) == 0);
  CHECK(f.dev.ConfigWritesIn(PCI_ROM_ADDRESS, 4) == 0);
}

TEST_CASE("The capability walk: MSI-X, MSI, then power management") {
  Fixture f;
  const uint32_t first = f.Read(PCI_CAPABILITY_LIST, 1);
  CHECK(first == FakeVfioDevice::kMsixCap);
  CHECK(f.Read(first, 1) == PCI_CAP_ID_MSIX);
  const uint32_t second = f.Read(first + 1, 1);
  CHECK(second == FakeVfioDevice::kMsiCap);
  CHECK(f.Read(second, 1) == PCI_CAP_ID_MSI);
  const uint32_t third = f.Read(second + 1, 1);
  CHECK(third == FakeVfioDevice::kPmCap);
  CHECK(f.Read(third, 1) == PCI_CAP_ID_PM);
  CHECK(f.Read(third + 1, 1) == 0);
}

TEST_CASE("A device whose VFIO MSI count is 0 keeps MSI hidden") {
  FakeVfioDevice dev;
  dev.irqs_.erase(VFIO_PCI_MSI_IRQ_INDEX);
  FakeVectorRoutes routes;
  auto fn = VfioPciFunction::Create(dev, routes, 0x1000);
  REQUIRE(fn.ok());
  uint8_t next = 0;
  (*fn)->ReadConfig(FakeVfioDevice::kMsixCap + PCI_CAP_LIST_NEXT, std::span(&next, 1));
  CHECK(next == FakeVfioDevice::kPmCap);
  uint8_t control[2] = {1, 0};
  (*fn)->WriteConfig(FakeVfioDevice::kMsiCap + PCI_MSI_FLAGS, control);
  (*fn)->ReadConfig(FakeVfioDevice::kMsiCap + PCI_MSI_FLAGS, control);
  CHECK(control[0] == 0);  // Hidden: reads as zero.
  CHECK(dev.ConfigWritesIn(FakeVfioDevice::kMsiCap, 24) == 0);
  CHECK((*fn)->msi_vectors() == 0);
}

TEST_CASE("Other capability registers are passed through") {
  Fixture f;
  f.Write(FakeVfioDevice::kPmCap + PCI_PM_CTRL, 0x8000, 2);
  CHECK(f.dev.ConfigWritesIn(FakeVfioDevice::kPmCap + PCI_PM_CTRL, 2) == 1);
  CHECK(f.dev.Get16(FakeVfioDevice::kPmCap + PCI_PM_CTRL) == 0x8000);
}

TEST_CASE("A write straddling shadowed and passed-through bytes splits") {
  Fixture f;
  // 0x3c-0x3f: interrupt line and pin (shadowed), min_gnt and max_lat (device).
  f.Write(PCI_INTERRUPT_LINE, 0xaabb0a0b);
  CHECK(f.Read(PCI_INTERRUPT_LINE, 1) == 0x0b);
  CHECK(f.Read(PCI_INTERRUPT_PIN, 1) == 1);
  CHECK(f.dev.ConfigWritesIn(PCI_INTERRUPT_LINE, 2) == 0);
  CHECK(f.dev.ConfigWritesIn(PCI_MIN_GNT, 2) == 1);
}

TEST_CASE("MSI-X control is owned by mini-vmm, not written to the device") {
  Fixture f;
  f.EnableMsix();
  CHECK(f.Read(FakeVfioDevice::kMsixCap + PCI_MSIX_FLAGS, 2) ==
        (PCI_MSIX_FLAGS_ENABLE | (FakeVfioDevice::kVectors - 1)));
  CHECK(f.dev.ConfigWritesIn(FakeVfioDevice::kMsixCap, 12) == 0);
}

TEST_CASE("Enabling MSI-X enables it on the device at once, every vector without a trigger") {
  Fixture f;
  f.EnableMsix();
  const auto& fds = f.dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX);
  REQUIRE(fds.size() == FakeVfioDevice::kVectors);
  CHECK(std::all_of(fds.begin(), fds.end(), [](int fd) { return fd == -1; }));
}

TEST_CASE("Unmasking a vector routes it and hands its eventfd to VFIO") {
  Fixture f;
  f.EnableMsix();
  f.Program(0, 0x4021);
  REQUIRE(f.routes.routes.at(0).has_value());
  CHECK(f.routes.routes.at(0)->data == 0x4021);
  const auto& fds = f.dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX);
  REQUIRE(fds.size() == FakeVfioDevice::kVectors);
  CHECK(fds[0] == f.routes.TriggerFd(0));
  CHECK(fds[1] == -1);
}

TEST_CASE("The MSI-X table is trapped: reads return what the guest programmed") {
  Fixture f;
  f.Program(3, 0x55);
  CHECK(f.BarRead32(FakeVfioDevice::kTableOffset + 3 * 16 + PCI_MSIX_ENTRY_DATA) == 0x55);
  CHECK(f.dev.writes.empty());  // Nothing reached BAR 0 or config space.
}

TEST_CASE("A masked vector's device interrupt is parked and delivered once on unmask") {
  Fixture f;
  f.EnableMsix();
  f.Program(0, 0x4021);
  f.BarWrite32(FakeVfioDevice::kTableOffset + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);  // Mask.
  const int parked = f.dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX)[0];
  CHECK(parked != f.routes.TriggerFd(0));
  CHECK(parked >= 0);
  const uint64_t one = 1;
  REQUIRE(::write(parked, &one, sizeof(one)) == sizeof(one));  // The device interrupts.
  CHECK(f.routes.fired.empty());
  f.BarWrite32(FakeVfioDevice::kTableOffset + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);  // Unmask.
  CHECK(f.dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX)[0] == f.routes.TriggerFd(0));
  CHECK(f.routes.fired == std::vector<uint16_t>{0});
}

TEST_CASE("Unmasking a vector that did not interrupt while masked fires nothing") {
  Fixture f;
  f.EnableMsix();
  f.Program(0, 0x4021);
  f.BarWrite32(FakeVfioDevice::kTableOffset + PCI_MSIX_ENTRY_VECTOR_CTRL, 1);
  f.BarWrite32(FakeVfioDevice::kTableOffset + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
  CHECK(f.routes.fired.empty());
}

TEST_CASE("Reprogramming a vector updates its route without another SET_IRQS") {
  Fixture f;
  f.EnableMsix();
  f.Program(0, 0x4021);
  const int calls = f.dev.set_irqs_calls;
  f.BarWrite32(FakeVfioDevice::kTableOffset + PCI_MSIX_ENTRY_DATA, 0x4022);
  CHECK(f.routes.routes.at(0)->data == 0x4022);
  CHECK(f.dev.set_irqs_calls == calls);
}

TEST_CASE("Disabling MSI-X disables it on the device and gives INTx back") {
  Fixture f;
  REQUIRE(f.fn->interrupts().ConnectIntx(100, 101).ok());
  CHECK(f.dev.triggers.at(VFIO_PCI_INTX_IRQ_INDEX)[0] == 100);
  f.EnableMsix();
  f.Program(0, 0x4021);
  CHECK(f.dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);  // One type at a time.
  f.Write(FakeVfioDevice::kMsixCap + PCI_MSIX_FLAGS, 0, 2);
  CHECK(f.dev.disables.at(VFIO_PCI_MSIX_IRQ_INDEX) == 1);
  CHECK(f.dev.triggers.at(VFIO_PCI_INTX_IRQ_INDEX)[0] == 100);
  CHECK(f.dev.unmask.at(VFIO_PCI_INTX_IRQ_INDEX) == 101);
}

TEST_CASE("The PBA is trapped and read-only") {
  Fixture f;
  f.BarWrite32(FakeVfioDevice::kPbaOffset, 0xffffffff);
  CHECK(f.BarRead32(FakeVfioDevice::kPbaOffset) == 0);
  CHECK(f.dev.writes.empty());
}

TEST_CASE("BAR accesses outside the MSI-X table are forwarded to the device") {
  Fixture f;
  f.BarWrite32(0x1000, 0x12345678);
  REQUIRE(f.dev.writes.size() == 1);
  CHECK(f.dev.writes[0].index == VFIO_PCI_BAR0_REGION_INDEX);
  CHECK(f.dev.writes[0].offset == 0x1000);
  CHECK(f.BarRead32(0x1000) == 0x12345678);
}

TEST_CASE("BarWriteStraddlingTableStart never reaches the device") {
  Fixture f;
  uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  f.fn->WriteBar(0, FakeVfioDevice::kTableOffset - 4, b);
  CHECK(f.dev.writes.empty());
  f.fn->ReadBar(0, FakeVfioDevice::kTableOffset - 4, b);
  CHECK(b[0] == 0xff);
}

TEST_CASE("BarAccessPastRegion reads as all-ones") {
  Fixture f;
  CHECK(f.BarRead32(FakeVfioDevice::kBar0Size) == 0xffffffff);
}

TEST_CASE("Shutdown disables every interrupt on the device") {
  Fixture f;
  f.EnableMsix();
  f.Program(0, 0x4021);
  f.fn->Shutdown();
  CHECK(f.dev.triggers.empty());
  CHECK_FALSE(f.fn->interrupts().msix_enabled());
}

TEST_CASE("A BAR handler outliving its function reads all-ones") {
  Fixture f;
  auto bar = f.fn->BarDevice(0);
  f.fn.reset();
  uint8_t b[4] = {};
  bar->Read(devices::IoAccess{.address = 0, .offset = 0x1000, .vcpu = 0}, b);
  CHECK(b[0] == 0xff);
}

}  // namespace
}  // namespace mini_vmm::vfio_pci
