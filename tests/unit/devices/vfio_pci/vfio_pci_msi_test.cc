// VfioPciFunction's MSI against the fake NVMe (64-bit, per-vector masking,
// 4 vectors): the emulated capability, what reaches VFIO's MSI index, the
// parked eventfds of masked vectors, and the one-type-at-a-time rule.
#include <linux/vfio.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "tests/unit/devices/vfio_pci/function_fixture.h"

namespace mini_vmm::vfio_pci {
namespace {

using testing::FakeVectorRoutes;
using testing::FakeVfioDevice;
using testing::Fixture;

constexpr uint32_t kCap = FakeVfioDevice::kMsiCap;

struct MsiFixture : Fixture {
  void Program(uint16_t data) {
    Write(kCap + PCI_MSI_ADDRESS_LO, 0xfee00000);
    Write(kCap + PCI_MSI_ADDRESS_HI, 0);
    Write(kCap + PCI_MSI_DATA_64, data, 2);
  }
  void Enable(uint32_t mme_log2) { Write(kCap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (mme_log2 << 4), 2); }
  void Mask(uint32_t bits) { Write(kCap + PCI_MSI_MASK_64, bits); }
  const std::vector<int>& MsiFds() { return dev.triggers.at(VFIO_PCI_MSI_IRQ_INDEX); }
  static void Signal(int fd) {
    const uint64_t one = 1;
    REQUIRE(::write(fd, &one, sizeof(one)) == sizeof(one));
  }
};

TEST_CASE_METHOD(MsiFixture, "The MSI capability is emulated: nothing reaches the device") {
  CHECK(Read(kCap + PCI_MSI_FLAGS, 2) ==
        (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (2 << 1)));
  Program(0x4020);
  Enable(2);
  Mask(1);
  CHECK(dev.ConfigWritesIn(kCap, 24) == 0);
  CHECK(Read(kCap + PCI_MSI_DATA_64, 2) == 0x4020);
  CHECK(fn->msi_vectors() == FakeVfioDevice::kMsiVectors);
}

TEST_CASE_METHOD(MsiFixture, "Enabling MSI gives VFIO one routed eventfd per enabled vector") {
  REQUIRE(fn->interrupts().ConnectIntx(100, 101).ok());
  Program(0x4020);
  Enable(1);
  REQUIRE(MsiFds().size() == 2);
  CHECK(MsiFds()[0] == routes.TriggerFd(0));
  CHECK(MsiFds()[1] == routes.TriggerFd(1));
  CHECK(routes.routes.at(1)->data == 0x4021);
  CHECK(dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);  // One type at a time.
  CHECK(fn->interrupts().msi_enabled());
}

TEST_CASE_METHOD(MsiFixture, "MmeWrittenLargerThanMmc enables the capable count") {
  Program(0x4020);
  Enable(5);
  CHECK(((Read(kCap + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE) >> 4) == 2);
  CHECK(MsiFds().size() == FakeVfioDevice::kMsiVectors);
}

TEST_CASE_METHOD(MsiFixture, "EnableUnprogrammed parks the vector; programming it delivers once") {
  Enable(0);
  REQUIRE(MsiFds().size() == 1);
  const int parked = MsiFds()[0];
  CHECK(parked >= 0);
  CHECK(routes.routes.empty());
  Signal(parked);  // The device interrupts before the guest gave an address.
  CHECK(Read(kCap + PCI_MSI_PENDING_64) == 1);
  Program(0x4020);
  CHECK(MsiFds()[0] == routes.TriggerFd(0));
  CHECK(routes.fired == std::vector<uint16_t>{0});
  CHECK(Read(kCap + PCI_MSI_PENDING_64) == 0);
}

TEST_CASE_METHOD(MsiFixture, "A masked vector is parked, reads pending, and fires once on unmask") {
  Program(0x4020);
  Enable(1);
  Mask(0b10);
  const int parked = MsiFds()[1];
  CHECK(parked != routes.TriggerFd(1));
  CHECK(MsiFds()[0] == routes.TriggerFd(0));
  Signal(parked);
  CHECK(Read(kCap + PCI_MSI_PENDING_64) == 0b10);
  CHECK(routes.fired.empty());
  Mask(0);
  CHECK(MsiFds()[1] == routes.TriggerFd(1));
  CHECK(routes.fired == std::vector<uint16_t>{1});
}

TEST_CASE_METHOD(MsiFixture, "MaskBitAboveEnabledCount changes nothing on the device") {
  Program(0x4020);
  Enable(0);
  const int calls = dev.set_irqs_calls;
  Mask(0b1000);
  CHECK(dev.set_irqs_calls == calls);
  CHECK(Read(kCap + PCI_MSI_MASK_64) == 0b1000);
}

TEST_CASE_METHOD(MsiFixture, "Changing MME while enabled re-enables VFIO's MSI with the new count") {
  Program(0x4020);
  Enable(0);
  Enable(2);
  CHECK(dev.disables.at(VFIO_PCI_MSI_IRQ_INDEX) == 1);
  REQUIRE(MsiFds().size() == 4);
  CHECK(MsiFds()[3] == routes.TriggerFd(3));
}

TEST_CASE_METHOD(MsiFixture, "MsiWhileMsixEnabled: MSI-X wins, the MSI enable bit reads 0") {
  EnableMsix();
  Program(0x4020);
  Enable(0);
  CHECK((Read(kCap + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE) == 0);
  CHECK(dev.triggers.count(VFIO_PCI_MSI_IRQ_INDEX) == 0);
  CHECK(fn->interrupts().msix_enabled());
}

TEST_CASE_METHOD(MsiFixture, "MsixWhileMsiEnabled: MSI wins, the MSI-X enable bit reads 0") {
  Program(0x4020);
  Enable(0);
  EnableMsix();
  CHECK((Read(FakeVfioDevice::kMsixCap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE) == 0);
  CHECK(dev.triggers.count(VFIO_PCI_MSIX_IRQ_INDEX) == 0);
  CHECK(fn->interrupts().msi_enabled());
  CHECK_FALSE(fn->interrupts().msix_enabled());
}

TEST_CASE_METHOD(MsiFixture, "DisableWhilePending drops it; INTx comes back") {
  REQUIRE(fn->interrupts().ConnectIntx(100, 101).ok());
  Program(0x4020);
  Enable(0);
  Mask(1);
  Signal(MsiFds()[0]);
  Write(kCap + PCI_MSI_FLAGS, 0, 2);
  CHECK(dev.disables.at(VFIO_PCI_MSI_IRQ_INDEX) == 1);
  CHECK(dev.triggers.at(VFIO_PCI_INTX_IRQ_INDEX)[0] == 100);
  CHECK(Read(kCap + PCI_MSI_PENDING_64) == 0);
  Enable(0);
  Mask(0);
  CHECK(MsiFds()[0] == routes.TriggerFd(0));
  CHECK(routes.fired.empty());
}

TEST_CASE_METHOD(MsiFixture, "Shutdown disables MSI on the device") {
  Program(0x4020);
  Enable(0);
  fn->Shutdown();
  CHECK(dev.triggers.empty());
  CHECK_FALSE(fn->interrupts().msi_enabled());
}

TEST_CASE_METHOD(MsiFixture, "MmeLowered: a vector no longer enabled loses its parked signal") {
  Program(0x4020);
  Enable(2);
  Mask(0b1000);
  Signal(MsiFds()[3]);
  CHECK(Read(kCap + PCI_MSI_PENDING_64) == 0b1000);
  Enable(1);
  CHECK(Read(kCap + PCI_MSI_PENDING_64) == 0);
  Enable(2);
  CHECK(Read(kCap + PCI_MSI_PENDING_64) == 0);
  Mask(0);
  CHECK(routes.fired.empty());
}

TEST_CASE("HostGrantsOneOfEightMsiVectors: MSI works on vector 0 with INTx disabled") {
  Fixture f;
  f.dev.Put16(kCap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (3 << 1));
  f.dev.irqs_[VFIO_PCI_MSI_IRQ_INDEX].count = 8;
  f.dev.host_vectors[VFIO_PCI_MSI_IRQ_INDEX] = 1;
  f.Make();  // Over the MMC 3 device.
  REQUIRE(f.fn->interrupts().ConnectIntx(100, 101).ok());
  f.Write(PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
  f.Write(kCap + PCI_MSI_ADDRESS_LO, 0xfee00000);
  f.Write(kCap + PCI_MSI_DATA_64, 0x4020, 2);
  f.Write(kCap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (3 << 4), 2);
  CHECK(f.dev.enables.at(VFIO_PCI_MSI_IRQ_INDEX) == std::vector<size_t>{8, 1});
  REQUIRE(f.dev.triggers.at(VFIO_PCI_MSI_IRQ_INDEX).size() == 1);
  CHECK(f.dev.triggers.at(VFIO_PCI_MSI_IRQ_INDEX)[0] == f.routes.TriggerFd(0));
  CHECK(f.dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);
  f.Write(kCap + PCI_MSI_MASK_64, 0b10);  // A later MSI write: no re-enable.
  CHECK(f.dev.enables.at(VFIO_PCI_MSI_IRQ_INDEX).size() == 2);
}

TEST_CASE("VfioOffersFewerMsiVectors: MMC is capped to VFIO's count") {
  FakeVfioDevice dev;
  dev.irqs_[VFIO_PCI_MSI_IRQ_INDEX].count = 3;  // Rounds down to 2.
  FakeVectorRoutes routes;
  auto fn = VfioPciFunction::Create(dev, routes, 0x1000);
  REQUIRE(fn.ok());
  uint8_t control[2] = {};
  (*fn)->ReadConfig(kCap + PCI_MSI_FLAGS, control);
  CHECK(((control[0] & PCI_MSI_FLAGS_QMASK) >> 1) == 1);
  CHECK((*fn)->msi_vectors() == 2);
}

TEST_CASE("ThirtyTwoBitMsi: 10 bytes emulated, the bytes after it reach the device") {
  FakeVfioDevice dev;
  dev.Put16(kCap + PCI_MSI_FLAGS, 0);  // 32-bit, no masking, 1 vector.
  FakeVectorRoutes routes;
  auto made = VfioPciFunction::Create(dev, routes, 0x1000);
  REQUIRE(made.ok());
  VfioPciFunction& fn = **made;
  const auto write = [&fn](uint32_t offset, uint32_t value, size_t size) {
    uint8_t b[4] = {};
    std::memcpy(b, &value, size);
    fn.WriteConfig(offset, std::span<const uint8_t>(b, size));
  };
  write(kCap + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
  write(kCap + PCI_MSI_DATA_32, 0x4025, 2);
  write(kCap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
  CHECK(routes.routes.at(0)->data == 0x4025);
  CHECK(dev.ConfigWritesIn(kCap, 10) == 0);
  write(kCap + 12, 0x1234, 2);  // Past the capability: the device's.
  CHECK(dev.ConfigWritesIn(kCap + 12, 2) == 1);
}

}  // namespace
}  // namespace mini_vmm::vfio_pci
