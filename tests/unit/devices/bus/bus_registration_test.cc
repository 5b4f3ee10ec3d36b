// Ranges that come and go: BusRegistration, Remove, and dispatch while the
// table changes (PCI BARs move while vCPUs run).
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "devices/bus/bus.h"

namespace mini_vmm::devices {
namespace {

// Counts accesses from any thread; reads return `fill`.
class CountingDevice final : public BusDevice {
 public:
  explicit CountingDevice(uint8_t fill = 0x5a) : fill_(fill) {}
  std::string_view name() const override { return "counter"; }
  void Read(const IoAccess&, std::span<uint8_t> data) noexcept override {
    for (auto& b : data) b = fill_;
    reads.fetch_add(1, std::memory_order_relaxed);
  }
  void Write(const IoAccess&, std::span<const uint8_t>) noexcept override {
    writes.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> writes{0};

 private:
  const uint8_t fill_;
};

TEST_CASE("A registration removes its range when it goes") {
  Bus bus("mmio");
  auto dev = std::make_shared<CountingDevice>();
  std::array<uint8_t, 4> word{};
  {
    auto reg = bus.Attach(dev, 0xd000'0000, 0x1000);
    REQUIRE(reg.ok());
    CHECK(reg->base() == 0xd000'0000);
    CHECK(bus.Read(0xd000'0000, word, 0));
  }
  CHECK_FALSE(bus.Read(0xd000'0000, word, 0));
  CHECK(dev.use_count() == 1);  // The bus let go of the device.
}

TEST_CASE("A moved registration removes its range once") {
  Bus bus("mmio");
  std::optional<BusRegistration> outer;
  {
    auto reg = bus.Attach(std::make_shared<CountingDevice>(), 0x1000, 0x100);
    REQUIRE(reg.ok());
    outer.emplace(std::move(reg).value());
  }
  std::array<uint8_t, 1> byte{};
  CHECK(bus.Read(0x1000, byte, 0));
  outer.reset();
  CHECK_FALSE(bus.Read(0x1000, byte, 0));
}

TEST_CASE("RemoveUnknown: removing a base nobody registered is refused") {
  Bus bus("pio");
  REQUIRE(bus.Insert(std::make_shared<CountingDevice>(), 0x3f8, 8).ok());
  CHECK_FALSE(bus.Remove(0x3f9));
  CHECK(bus.Remove(0x3f8));
  CHECK_FALSE(bus.Remove(0x3f8));
}

TEST_CASE("A range freed by Remove can be registered again elsewhere") {
  Bus bus("mmio");
  auto dev = std::make_shared<CountingDevice>();
  REQUIRE(bus.Insert(dev, 0x1000, 0x100).ok());
  REQUIRE(bus.Remove(0x1000));
  REQUIRE(bus.Insert(dev, 0x2000, 0x100).ok());
  std::array<uint8_t, 1> byte{};
  CHECK_FALSE(bus.Read(0x1000, byte, 0));
  CHECK(bus.Read(0x2000, byte, 0));
}

TEST_CASE("Find keeps the device alive after its range is removed") {
  Bus bus("mmio");
  REQUIRE(bus.Insert(std::make_shared<CountingDevice>(0x11), 0x1000, 0x100).ok());
  uint64_t offset = 0;
  std::shared_ptr<BusDevice> found = bus.Find(0x1010, 4, &offset);
  REQUIRE(found != nullptr);
  CHECK(offset == 0x10);
  REQUIRE(bus.Remove(0x1000));
  std::array<uint8_t, 1> byte{};
  found->Read(IoAccess{0x1010, 0x10, 0}, byte);  // Still a live object.
  CHECK(byte[0] == 0x11);
}

// A vCPU-like thread dispatches without pause while another thread moves
// the device between two windows; under ASan/TSan this is the proof that a
// table swap never frees what a dispatch still uses.
TEST_CASE("Dispatch stays safe while ranges move underneath it") {
  Bus bus("mmio");
  auto dev = std::make_shared<CountingDevice>();
  REQUIRE(bus.Insert(dev, 0x1000, 0x100).ok());
  std::atomic<bool> done{false};
  uint64_t hits = 0;
  std::thread vcpu([&] {
    std::array<uint8_t, 4> word{};
    while (!done.load(std::memory_order_acquire)) {
      hits += bus.Read(0x1000, word, 0) ? 1u : 0u;
      hits += bus.Read(0x2000, word, 0) ? 1u : 0u;
    }
  });
  for (int i = 0; i < 2000; ++i) {
    const uint64_t from = i % 2 == 0 ? 0x1000u : 0x2000u;
    REQUIRE(bus.Remove(from));
    REQUIRE(bus.Insert(dev, from ^ 0x3000u, 0x100).ok());
  }
  done.store(true, std::memory_order_release);
  vcpu.join();
  CHECK(dev->reads.load() == hits);  // Every dispatched access reached the device.
}

}  // namespace
}  // namespace mini_vmm::devices
