// The fixture of the VfioPciFunction tests: the fake NVMe, fake KVM
// routes, a function over them, and guest-side config, BAR and MSI-X
// accesses of any width.
#pragma once

#include <linux/pci_regs.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "devices/vfio_pci/vfio_pci_function.h"
#include "tests/support/fake_vfio.h"

namespace mini_vmm::vfio_pci::testing {

using mini_vmm::testing::FakeVectorRoutes;
using mini_vmm::testing::FakeVfioDevice;

struct Moves final : pci::BarObserver {
  void BarMoved(int bar, std::optional<uint64_t> old_address,
                std::optional<uint64_t> new_address) noexcept override {
    moves.push_back({bar, old_address, new_address});
  }
  struct Move {
    int bar;
    std::optional<uint64_t> from, to;
  };
  std::vector<Move> moves;
};

struct Fixture {
  FakeVfioDevice dev;
  FakeVectorRoutes routes;
  std::shared_ptr<VfioPciFunction> fn;
  Moves moves;

  Fixture() { Make(); }
  void Make() {
    auto made = VfioPciFunction::Create(dev, routes, 0x1000);
    REQUIRE(made.ok());
    fn = std::move(*made);
    fn->set_bar_observer(&moves);
  }
  uint32_t Read(uint32_t offset, size_t size = 4) {
    uint8_t b[4] = {};
    fn->ReadConfig(offset, std::span(b, size));
    uint32_t v = 0;
    std::memcpy(&v, b, size);
    return v;
  }
  void Write(uint32_t offset, uint32_t value, size_t size = 4) {
    uint8_t b[4] = {};
    std::memcpy(b, &value, size);
    fn->WriteConfig(offset, std::span<const uint8_t>(b, size));
  }
  uint32_t BarRead32(uint64_t offset) {
    uint8_t b[4] = {};
    fn->ReadBar(0, offset, b);
    uint32_t v = 0;
    std::memcpy(&v, b, 4);
    return v;
  }
  void BarWrite32(uint64_t offset, uint32_t value) {
    uint8_t b[4] = {};
    std::memcpy(b, &value, 4);
    fn->WriteBar(0, offset, b);
  }
  // Guest: program vector `v` of the MSI-X table and unmask it.
  void Program(uint16_t v, uint32_t data, bool masked = false) {
    const uint64_t entry = FakeVfioDevice::kTableOffset + v * 16u;
    BarWrite32(entry + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000);
    BarWrite32(entry + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
    BarWrite32(entry + PCI_MSIX_ENTRY_DATA, data);
    BarWrite32(entry + PCI_MSIX_ENTRY_VECTOR_CTRL, masked ? 1 : 0);
  }
  void EnableMsix() { Write(FakeVfioDevice::kMsixCap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2); }
};

}  // namespace mini_vmm::vfio_pci::testing
