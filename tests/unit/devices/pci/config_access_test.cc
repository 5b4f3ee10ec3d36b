// PciEcam and PciConfigIo: how guest MMIO and port accesses become
// configuration accesses, and the shapes each refuses.
#include "devices/pci/config_access.h"

#include <linux/pci_regs.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>

#include "devices/pci/host_bridge.h"

namespace mini_vmm::pci {
namespace {

constexpr uint64_t kEcamBase = 0xe000'0000;
constexpr uint32_t kHostBridgeId =
    uint32_t{PciHostBridge::kDeviceId} << 16 | PciHostBridge::kVendorId;
constexpr uint32_t kEnable = 1u << 31;

template <size_t N>
std::array<uint8_t, N> ReadBytes(devices::BusDevice& device, uint64_t offset) {
  std::array<uint8_t, N> bytes{};
  bytes.fill(0xcc);
  device.Read({kEcamBase + offset, offset, 0}, bytes);
  return bytes;
}

uint32_t Read32(devices::BusDevice& device, uint64_t offset) {
  const auto bytes = ReadBytes<4>(device, offset);
  uint32_t value = 0;
  std::memcpy(&value, bytes.data(), 4);
  return value;
}

void Write32(devices::BusDevice& device, uint64_t offset, uint32_t value) {
  std::array<uint8_t, 4> bytes{};
  std::memcpy(bytes.data(), &value, 4);
  device.Write({offset, offset, 0}, bytes);
}

constexpr uint64_t EcamOffset(uint64_t device, uint64_t function, uint64_t reg) {
  return device << 15 | function << 12 | reg;
}

struct AccessTest {
  std::shared_ptr<PciRootBus> root = std::make_shared<PciRootBus>();
  PciEcam ecam{root};
  PciConfigIo io{root};
};

// ---- ECAM. ----

TEST_CASE_METHOD(AccessTest, "ECAM reaches the host bridge at offset 0") {
  CHECK(Read32(ecam, 0) == kHostBridgeId);
}

TEST_CASE_METHOD(AccessTest, "ECAM decodes device and register from the offset") {
  CHECK(Read32(ecam, EcamOffset(0, 0, PCI_CLASS_REVISION)) >> 16 == 0x0600);
  CHECK(Read32(ecam, EcamOffset(3, 0, PCI_VENDOR_ID)) == 0xffffffff);  // Empty slot.
  CHECK(Read32(ecam, EcamOffset(0, 2, PCI_VENDOR_ID)) == 0xffffffff);  // Function 2.
}

TEST_CASE_METHOD(AccessTest, "ECAM byte and unaligned word reads inside one function") {
  CHECK(ReadBytes<1>(ecam, 1)[0] == (PciHostBridge::kVendorId >> 8));
  CHECK(ReadBytes<2>(ecam, 1) ==
        std::array<uint8_t, 2>{PciHostBridge::kVendorId >> 8, PciHostBridge::kDeviceId & 0xff});
}

TEST_CASE_METHOD(AccessTest, "ECAM read crossing into the next function reads all-ones") {
  CHECK(ReadBytes<4>(ecam, 0xffe) == std::array<uint8_t, 4>{0xff, 0xff, 0xff, 0xff});
}

TEST_CASE_METHOD(AccessTest, "ECAM read of width 8 reads all-ones") {
  CHECK(ReadBytes<8>(ecam, 0) ==
        std::array<uint8_t, 8>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
}

TEST_CASE_METHOD(AccessTest, "ECAM read of width 3 reads all-ones") {
  CHECK(ReadBytes<3>(ecam, 0) == std::array<uint8_t, 3>{0xff, 0xff, 0xff});
}

TEST_CASE_METHOD(AccessTest, "ECAM write reaches the function's command register") {
  Write32(ecam, PCI_COMMAND, PCI_COMMAND_MEMORY);

  CHECK((Read32(ecam, PCI_COMMAND) & 0xffff) == PCI_COMMAND_MEMORY);
}

TEST_CASE_METHOD(AccessTest, "ECAM offset past the one-bus window reads all-ones") {
  CHECK(Read32(ecam, PciEcam::kWindowSize) == 0xffffffff);
}

// ---- Configuration mechanism #1. ----

TEST_CASE_METHOD(AccessTest, "CONFIG_ADDRESS reads back, reserved bits dropped") {
  Write32(io, 0, kEnable | 0x7f00'0000 | 0x0012'3457);

  CHECK(Read32(io, 0) == (kEnable | 0x0012'3454));
}

TEST_CASE_METHOD(AccessTest, "CONFIG_DATA reads the addressed dword of 00:00.0") {
  Write32(io, 0, kEnable | PCI_VENDOR_ID);

  CHECK(Read32(io, 4) == kHostBridgeId);
}

TEST_CASE_METHOD(AccessTest, "CONFIG_DATA byte lanes select bytes of the dword") {
  Write32(io, 0, kEnable | PCI_VENDOR_ID);

  CHECK(ReadBytes<1>(io, 6)[0] == (PciHostBridge::kDeviceId & 0xff));
  CHECK(ReadBytes<2>(io, 5) ==
        std::array<uint8_t, 2>{PciHostBridge::kVendorId >> 8, PciHostBridge::kDeviceId & 0xff});
}

TEST_CASE_METHOD(AccessTest, "CONFIG_DATA without the enable bit reads all-ones") {
  Write32(io, 0, PCI_VENDOR_ID);

  CHECK(Read32(io, 4) == 0xffffffff);
}

TEST_CASE_METHOD(AccessTest, "CONFIG_DATA for an empty slot reads all-ones") {
  Write32(io, 0, kEnable | 9u << 11);

  CHECK(Read32(io, 4) == 0xffffffff);
}

TEST_CASE_METHOD(AccessTest, "CONFIG_DATA word access past 0xcff reads all-ones") {
  Write32(io, 0, kEnable | PCI_VENDOR_ID);

  CHECK(ReadBytes<2>(io, 7) == std::array<uint8_t, 2>{0xff, 0xff});
}

TEST_CASE_METHOD(AccessTest, "CONFIG_ADDRESS byte write at 0xcfb leaves the register alone") {
  Write32(io, 0, kEnable | PCI_CLASS_REVISION);

  io.Write({0xcfb, 3, 0}, std::array<uint8_t, 1>{0x01});

  CHECK(Read32(io, 0) == (kEnable | PCI_CLASS_REVISION));
}

TEST_CASE_METHOD(AccessTest, "CONFIG_ADDRESS word read reads all-ones") {
  Write32(io, 0, kEnable);

  CHECK(ReadBytes<2>(io, 0) == std::array<uint8_t, 2>{0xff, 0xff});
}

TEST_CASE_METHOD(AccessTest, "CONFIG_DATA write reaches the register CONFIG_ADDRESS selects") {
  Write32(io, 0, kEnable | PCI_INTERRUPT_LINE);

  io.Write({0xcfc, 4, 0}, std::array<uint8_t, 1>{0x0b});

  CHECK((Read32(ecam, PCI_INTERRUPT_LINE) & 0xff) == 0x0b);
}

}  // namespace
}  // namespace mini_vmm::pci
