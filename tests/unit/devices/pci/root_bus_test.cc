// PciRootBus: the host bridge at 00:00.0, the slot allocator, and master
// aborts (all-ones) for functions that do not exist.
#include "devices/pci/root_bus.h"

#include <linux/pci_regs.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>

#include "devices/pci/config_space.h"
#include "devices/pci/host_bridge.h"

namespace mini_vmm::pci {
namespace {

class TestFunction final : public PciDevice {
 public:
  explicit TestFunction(uint16_t device_id)
      : config_(PciHeader{.vendor_id = 0x1af4, .device_id = device_id}) {}
  std::string_view name() const override { return "test"; }
  void ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept override {
    config_.Read(offset, data);
  }
  void WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept override {
    config_.Write(offset, data);
  }

 private:
  PciConfigSpace config_;
};

uint32_t Read32(PciRootBus& root, PciAddress address, uint32_t offset) {
  std::array<uint8_t, 4> bytes{};
  root.ReadConfig(address, offset, bytes);
  uint32_t value = 0;
  std::memcpy(&value, bytes.data(), 4);
  return value;
}

TEST_CASE("Host bridge answers at 00:00.0 with class 0x0600") {
  PciRootBus root;

  CHECK(Read32(root, {0, 0, 0}, PCI_VENDOR_ID) ==
        (uint32_t{PciHostBridge::kDeviceId} << 16 | PciHostBridge::kVendorId));
  CHECK(Read32(root, {0, 0, 0}, PCI_CLASS_REVISION) >> 16 == 0x0600);
}

TEST_CASE("Devices get the lowest free slots after the host bridge") {
  PciRootBus root;

  auto first = root.Add(std::make_shared<TestFunction>(0x1041));
  auto second = root.Add(std::make_shared<TestFunction>(0x1042));

  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first == 1);
  CHECK(*second == 2);
  CHECK(Read32(root, {0, 2, 0}, PCI_VENDOR_ID) == 0x1042'1af4);
}

TEST_CASE("Adding a device to a full bus fails") {
  PciRootBus root;
  for (int i = 1; i < PciRootBus::kMaxDevices; ++i) {
    REQUIRE(root.Add(std::make_shared<TestFunction>(0x1041)).ok());
  }

  auto extra = root.Add(std::make_shared<TestFunction>(0x1041));

  REQUIRE(!extra.ok());
  CHECK(extra.error().ToString().find("all 32 slots") != std::string::npos);
}

TEST_CASE("Empty slot reads all-ones") {
  PciRootBus root;

  CHECK(Read32(root, {0, 5, 0}, PCI_VENDOR_ID) == 0xffffffff);
}

TEST_CASE("Function other than 0 reads all-ones") {
  PciRootBus root;

  CHECK(Read32(root, {0, 0, 1}, PCI_VENDOR_ID) == 0xffffffff);
}

TEST_CASE("Bus other than 0 reads all-ones") {
  PciRootBus root;

  CHECK(Read32(root, {1, 0, 0}, PCI_VENDOR_ID) == 0xffffffff);
}

TEST_CASE("Write to an empty slot is dropped") {
  PciRootBus root;
  const std::array<uint8_t, 2> command{PCI_COMMAND_MEMORY, 0};

  root.WriteConfig({0, 7, 0}, PCI_COMMAND, command);

  CHECK(Read32(root, {0, 7, 0}, PCI_COMMAND) == 0xffffffff);
}

}  // namespace
}  // namespace mini_vmm::pci
