#include "devices/bus/bus.h"

#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <string>

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

// The message Insert() refused with; fails the test if it succeeded.
std::string InsertError(Bus& bus, uint64_t base, uint64_t len) {
  auto inserted = bus.Insert(std::make_shared<RecordingDevice>(), base, len);
  REQUIRE_FALSE(inserted.ok());
  CHECK(inserted.error().errno_value() == 0);  // A caller's mistake, not a host error.
  return inserted.error().ToString();
}

TEST_CASE("A range overlapping the start of another is refused") {
  Bus bus("pio");
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x60, 1).ok());

  CHECK(InsertError(bus, 0x5f, 2) == "pio bus: recorder at 0x5f+0x2 overlaps recorder");
}

TEST_CASE("A range overlapping the end of another is refused") {
  Bus bus("pio");
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x60, 4).ok());

  CHECK(InsertError(bus, 0x63, 2) == "pio bus: recorder at 0x63+0x2 overlaps recorder");
}

TEST_CASE("A range equal to another is refused") {
  Bus bus("pio");
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x64, 1).ok());

  CHECK(InsertError(bus, 0x64, 1) == "pio bus: recorder at 0x64+0x1 overlaps recorder");
}

TEST_CASE("A range filling the gap between two others is accepted") {
  Bus bus("pio");
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x60, 1).ok());
  REQUIRE(bus.Insert(std::make_shared<RecordingDevice>(), 0x64, 1).ok());

  CHECK(bus.Insert(std::make_shared<RecordingDevice>(), 0x61, 3).ok());
}

TEST_CASE("An empty range is refused") {
  Bus bus("mmio");

  CHECK(InsertError(bus, 0x1000, 0) == "mmio bus: invalid range 0x1000+0x0 for recorder");
}

TEST_CASE("A range wrapping the address space is refused") {
  Bus bus("mmio");

  CHECK(InsertError(bus, ~uint64_t{0}, 2) ==
        "mmio bus: invalid range 0xffffffffffffffff+0x2 for recorder");
}

}  // namespace
}  // namespace mini_vmm::devices
