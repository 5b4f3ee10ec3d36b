#include "devices/bus/bus.h"

#include <array>
#include <catch2/catch.hpp>
#include <memory>

namespace mini_vmm::devices {
namespace {

class RecordingDevice final : public BusDevice {
 public:
  std::string_view name() const override { return "recorder"; }
  void Read(const IoAccess& access, std::span<uint8_t> data) noexcept override {
    last = access;
    for (auto& b : data) b = 0xab;
  }
  void Write(const IoAccess& access, std::span<const uint8_t> data) noexcept override {
    last = access;
    written = data.size();
  }
  IoAccess last;
  size_t written = 0;
};

TEST_CASE("Accesses reach the device with their offset") {
  Bus bus("pio");
  auto dev = std::make_shared<RecordingDevice>();
  REQUIRE(bus.Insert(dev, 0x3f8, 8).ok());
  std::array<uint8_t, 1> byte{};
  REQUIRE(bus.Read(0x3fd, byte, 1));
  CHECK(byte[0] == 0xab);
  CHECK(dev->last.offset == 5);
  CHECK(dev->last.address == 0x3fd);
  CHECK(dev->last.vcpu == 1);
}

TEST_CASE("An access straddling the end of a device is not dispatched") {
  Bus bus("pio");
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x3f8, 8).ok());
  std::array<uint8_t, 2> word{};
  CHECK_FALSE(bus.Read(0x3ff, word, 0));
  CHECK(bus.Read(0x3fe, word, 0));
}

TEST_CASE("Unclaimed addresses are reported as such") {
  Bus bus("mmio");
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0xd000'0000, 0x1000).ok());
  std::array<uint8_t, 4> data{};
  CHECK_FALSE(bus.Write(0xcfff'fffc, data, 0));
  CHECK_FALSE(bus.Write(0xd000'1000, data, 0));
}

TEST_CASE("Overlapping ranges are refused") {
  Bus bus("pio");
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x60, 1).ok());
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x64, 1).ok());
  CHECK_FALSE(bus.Insert(std::make_shared<RecordingDevice>(), 0x5f, 2).ok());
  CHECK_FALSE(bus.Insert(std::make_shared<RecordingDevice>(), 0x64, 1).ok());
  CHECK(bus.Insert(std::make_shared<RecordingDevice>(), 0x61, 3).ok());
}

TEST_CASE("Empty and wrapping ranges are refused") {
  Bus bus("mmio");
  CHECK_FALSE(bus.Insert(std::make_shared<RecordingDevice>(), 0x1000, 0).ok());
  CHECK_FALSE(bus.Insert(std::make_shared<RecordingDevice>(), ~uint64_t{0}, 2).ok());
}

}  // namespace
}  // namespace mini_vmm::devices
