// MsiCapability: the register layouts, Multiple Message Enable, per-vector
// masking with pending bits, and the writes a guest must not get through.
#include "devices/pci/msi.h"

#include <linux/pci_regs.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "tests/support/fake_pci.h"

namespace mini_vmm::pci {
namespace {

using mini_vmm::testing::RecordingMsiSink;

constexpr uint32_t kAddress = 0xfee0'0000;
// 64-bit, per-vector masking, 8 vectors capable (MMC = 3).
constexpr uint16_t kWideMasked = PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (3 << 1);

struct MsiTest {
  explicit MsiTest(uint16_t control = kWideMasked) : msi(control, sink) {}

  uint32_t Read(uint32_t offset, size_t size = 4, uint32_t also_pending = 0) {
    std::array<uint8_t, 4> bytes{};
    msi.Read(offset, std::span(bytes.data(), size), also_pending);
    uint32_t value = 0;
    std::memcpy(&value, bytes.data(), size);
    return value;
  }
  void Write(uint32_t offset, uint32_t value, size_t size = 4) {
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &value, size);
    msi.Write(offset, std::span<const uint8_t>(bytes.data(), size));
  }
  // What Linux does for a 64-bit capability: message first, then enable.
  void Program(uint16_t data) {
    Write(PCI_MSI_ADDRESS_LO, kAddress);
    Write(PCI_MSI_ADDRESS_HI, 0);
    Write(PCI_MSI_DATA_64, data, 2);
  }
  void Enable(uint16_t mme_log2) {
    Write(PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (uint32_t{mme_log2} << 4), 2);
  }

  RecordingMsiSink sink;
  MsiCapability msi;
};

TEST_CASE("Sizes follow the 64-bit and masking flags") {
  CHECK(MsiCapability::SizeFor(0) == 10);
  CHECK(MsiCapability::SizeFor(PCI_MSI_FLAGS_64BIT) == 14);
  CHECK(MsiCapability::SizeFor(PCI_MSI_FLAGS_MASKBIT) == 20);
  CHECK(MsiCapability::SizeFor(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT) == 24);
}

TEST_CASE_METHOD(MsiTest, "Message Control shows the device's MMC and flags, disabled") {
  CHECK(Read(PCI_MSI_FLAGS, 2) == kWideMasked);
  CHECK(msi.capable_vectors() == 8);
  CHECK_FALSE(msi.enabled());
  CHECK(Read(0, 2) == 0);  // ID and next pointer are the owner's.
}

TEST_CASE_METHOD(MsiTest, "Enabling routes 2^MME vectors, each with its number in the low data bits") {
  Program(0x4020);
  CHECK(sink.route_updates == 0);  // Not enabled yet.
  Enable(2);
  CHECK(msi.enabled_vectors() == 4);
  REQUIRE(sink.routes.size() == 4);
  CHECK(sink.routes.at(0) == MsiMessage{kAddress, 0x4020});
  CHECK(sink.routes.at(3) == MsiMessage{kAddress, 0x4023});
  CHECK(sink.routes.count(4) == 0);
}

TEST_CASE_METHOD(MsiTest, "MmeLargerThanMmc is clamped to MMC") {
  Program(0x4020);
  Write(PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (5 << 4), 2);
  CHECK(((Read(PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE) >> 4) == 3);
  CHECK(msi.enabled_vectors() == 8);
  CHECK(sink.routes.size() == 8);
}

TEST_CASE_METHOD(MsiTest, "MmeReservedValueIsClamped") {
  Write(PCI_MSI_FLAGS, 7 << 4, 2);
  CHECK(((Read(PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE) >> 4) == 3);
}

TEST_CASE_METHOD(MsiTest, "EnableWithAddressZero routes nothing until the address is programmed") {
  Enable(0);
  CHECK(msi.enabled());
  CHECK(sink.route_updates == 0);
  CHECK_FALSE(msi.Trigger(0));
  CHECK(msi.IsPending(0));
  Program(0x4021);
  CHECK(sink.routes.at(0) == MsiMessage{kAddress, 0x4021});
  CHECK(sink.fired == std::vector<uint16_t>{0});  // The pending one, once.
  CHECK_FALSE(msi.IsPending(0));
}

TEST_CASE_METHOD(MsiTest, "A masked vector's interrupt is pending and fires once on unmask") {
  Program(0x4020);
  Enable(1);
  Write(PCI_MSI_MASK_64, 0b10);
  CHECK_FALSE(sink.routes.at(1).has_value());
  CHECK_FALSE(msi.Trigger(1));
  CHECK(Read(PCI_MSI_PENDING_64) == 0b10);
  CHECK(sink.fired.empty());
  Write(PCI_MSI_MASK_64, 0);
  CHECK(sink.routes.at(1) == MsiMessage{kAddress, 0x4021});
  CHECK(sink.fired == std::vector<uint16_t>{1});
  CHECK(Read(PCI_MSI_PENDING_64) == 0);
}

TEST_CASE_METHOD(MsiTest, "A deliverable vector fires at once") {
  Program(0x4020);
  Enable(0);
  CHECK(msi.Trigger(0));
  CHECK(sink.fired == std::vector<uint16_t>{0});
}

TEST_CASE_METHOD(MsiTest, "MaskBitAboveEnabledCount changes no route") {
  Program(0x4020);
  Enable(1);  // Vectors 0 and 1.
  const int updates = sink.route_updates;
  Write(PCI_MSI_MASK_64, 0b1000);  // Vector 3: capable, not enabled.
  CHECK(sink.route_updates == updates);
  CHECK(Read(PCI_MSI_MASK_64) == 0b1000);
  CHECK_FALSE(msi.Trigger(3));
  CHECK_FALSE(msi.IsPending(3));
}

TEST_CASE_METHOD(MsiTest, "MaskBitAboveCapableCount reads as zero") {
  Write(PCI_MSI_MASK_64, 0xffffffff);
  CHECK(Read(PCI_MSI_MASK_64) == 0xff);
}

TEST_CASE_METHOD(MsiTest, "WriteToPendingBits is ignored") {
  Write(PCI_MSI_PENDING_64, 0xff);
  CHECK(Read(PCI_MSI_PENDING_64) == 0);
}

TEST_CASE_METHOD(MsiTest, "WriteToReadOnlyControlBits is ignored") {
  Write(PCI_MSI_FLAGS, 0xfffe, 2);  // All but enable: MMC, flags, reserved.
  CHECK((Read(PCI_MSI_FLAGS, 2) & ~uint32_t{PCI_MSI_FLAGS_QSIZE}) == kWideMasked);
}

TEST_CASE_METHOD(MsiTest, "Bits pending elsewhere read as pending") {
  Enable(3);
  CHECK(Read(PCI_MSI_PENDING_64, 4, 0b100) == 0b100);
  CHECK(Read(PCI_MSI_PENDING_64, 4, 0xf00) == 0);  // Not capable vectors.
}

TEST_CASE_METHOD(MsiTest, "PendingElsewhereAboveEnabledCount reads as zero") {
  Enable(1);  // 2 of the 8 capable vectors.
  CHECK(Read(PCI_MSI_PENDING_64, 4, 0b1001) == 0b1);
}

TEST_CASE_METHOD(MsiTest, "PendingElsewhereWhileDisabled reads as zero") {
  CHECK(Read(PCI_MSI_PENDING_64, 4, 0b1) == 0);
}

TEST_CASE_METHOD(MsiTest, "DisableWhilePending drops the pending message") {
  Program(0x4020);
  Enable(0);
  Write(PCI_MSI_MASK_64, 1);
  CHECK_FALSE(msi.Trigger(0));
  REQUIRE(msi.IsPending(0));
  Write(PCI_MSI_FLAGS, 0, 2);
  CHECK_FALSE(msi.IsPending(0));
  CHECK_FALSE(sink.routes.at(0).has_value());
  Write(PCI_MSI_MASK_64, 0);
  Enable(0);
  CHECK(sink.routes.at(0).has_value());
  CHECK(sink.fired.empty());
}

TEST_CASE_METHOD(MsiTest, "Trigger while disabled does nothing") {
  CHECK_FALSE(msi.Trigger(0));
  CHECK_FALSE(msi.IsPending(0));
}

TEST_CASE_METHOD(MsiTest, "Lowering MME unroutes the vectors above it") {
  Program(0x4020);
  Enable(2);
  Enable(0);
  CHECK(sink.routes.at(0) == MsiMessage{kAddress, 0x4020});
  CHECK_FALSE(sink.routes.at(1).has_value());
  CHECK_FALSE(sink.routes.at(3).has_value());
}

TEST_CASE_METHOD(MsiTest, "Reprogramming the data updates every enabled vector") {
  Program(0x4020);
  Enable(1);
  Write(PCI_MSI_DATA_64, 0x4030, 2);
  CHECK(sink.routes.at(0) == MsiMessage{kAddress, 0x4030});
  CHECK(sink.routes.at(1) == MsiMessage{kAddress, 0x4031});
}

TEST_CASE("ThirtyTwoBitLayout: data at 8, mask at 12, pending at 16, no upper address") {
  MsiTest t(PCI_MSI_FLAGS_MASKBIT);
  CHECK(t.msi.size() == 20);
  t.Write(PCI_MSI_ADDRESS_LO, kAddress);
  t.Write(PCI_MSI_DATA_32, 0x4025, 2);
  t.Enable(0);
  CHECK(t.sink.routes.at(0) == MsiMessage{kAddress, 0x4025});
  t.Write(PCI_MSI_MASK_32, 1);
  CHECK_FALSE(t.sink.routes.at(0).has_value());
  CHECK_FALSE(t.msi.Trigger(0));
  CHECK(t.Read(PCI_MSI_PENDING_32) == 1);
  CHECK(t.Read(PCI_MSI_PENDING_32 + 4) == 0);  // Past the capability.
}

TEST_CASE("SixtyFourBitWithoutMasking: 14 bytes, nothing writable past the data") {
  MsiTest t(PCI_MSI_FLAGS_64BIT);
  CHECK(t.msi.size() == 14);
  t.Write(PCI_MSI_ADDRESS_LO, kAddress);
  t.Write(PCI_MSI_ADDRESS_HI, 1);
  t.Write(PCI_MSI_DATA_64, 0x4022, 2);
  t.Write(PCI_MSI_MASK_64, 1);  // Past the capability: ignored.
  t.Enable(0);
  CHECK(t.sink.routes.at(0) == MsiMessage{0x1'fee0'0000, 0x4022});
  CHECK(t.Read(PCI_MSI_MASK_64) == 0);
}

TEST_CASE("AddressLowBitsAreIgnored") {
  MsiTest t(0);
  t.Write(PCI_MSI_ADDRESS_LO, kAddress | 3);
  CHECK(t.Read(PCI_MSI_ADDRESS_LO) == kAddress);
}

TEST_CASE("ExtendedMessageDataIsReadOnly") {
  MsiTest t(0);
  t.Write(PCI_MSI_DATA_32, 0xffff'ffff);
  CHECK(t.Read(PCI_MSI_DATA_32) == 0xffff);
}

TEST_CASE_METHOD(MsiTest, "Reset disables and unroutes") {
  Program(0x4020);
  Enable(0);
  msi.Reset();
  CHECK_FALSE(msi.enabled());
  CHECK_FALSE(sink.routes.at(0).has_value());
  CHECK(Read(PCI_MSI_FLAGS, 2) == kWideMasked);
  CHECK(Read(PCI_MSI_ADDRESS_LO) == 0);
}

}  // namespace
}  // namespace mini_vmm::pci
