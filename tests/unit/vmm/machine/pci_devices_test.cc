// PciDevices against the recording fake VM: the root bus on ECAM and on
// ports 0xcf8-0xcff (with the reset register at 0xcf9 kept), a function's
// BAR assigned and followed when the guest moves it, a doorbell ioeventfd
// per queue, MSI-X vectors as KVM MSI routes with irqfds, and INTx on the
// shared, swizzled pins.
#include "vmm/machine/pci_devices.h"

#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "arch/x86_64/irq_routing.h"
#include "arch/x86_64/platform/layout.h"
#include "devices/virtio/transport/pci.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/fake_vm.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;
using virtio::VirtioPciTransport;

std::shared_ptr<testing::FakeVirtioDevice> Device(size_t queues) {
  return std::make_shared<testing::FakeVirtioDevice>(VIRTIO_ID_NET, 1ull << 32,
                                                     std::vector<uint16_t>(queues, 128));
}

// Counts the bytes written to it, as the reset control register would.
class ResetRecorder final : public devices::BusDevice {
 public:
  std::string_view name() const override { return "reset"; }
  void Read(const devices::IoAccess&, std::span<uint8_t> data) noexcept override {
    for (uint8_t& b : data) b = 0;
  }
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override {
    offsets.push_back(access.offset);
    values.push_back(data[0]);
  }
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> values;
};

struct Wiring {
  testing::FakeVm vm;
  kvm::InterruptRouter irqs{vm, x86::LegacyIrqRoutes(), {.first = 24, .end = 64}};
  devices::Bus mmio{"MMIO"};
  devices::Bus pio{"port I/O"};
  GuestMemory memory = testing::MakeGuestMemory(0, 1 << 20);
  x86::PlatformResources resources = x86::CreatePlatformResources(512ull << 20);
  std::shared_ptr<ResetRecorder> reset = std::make_shared<ResetRecorder>();
  std::optional<PciDevices> devices{std::in_place, vm, irqs, mmio, pio, memory, resources};

  Wiring() { REQUIRE(devices->AttachRootBus(reset).ok()); }

  // Configuration space of 00:<slot>.0 through ECAM, as the guest reaches it.
  uint32_t Config32(uint8_t slot, uint32_t reg) {
    std::array<uint8_t, 4> data{};
    REQUIRE(mmio.Read(x86::kPciEcamBase + (uint64_t{slot} << 15) + reg, data, 0));
    return uint32_t{data[0]} | uint32_t{data[1]} << 8 | uint32_t{data[2]} << 16 |
           uint32_t{data[3]} << 24;
  }
  void SetConfig32(uint8_t slot, uint32_t reg, uint32_t value) {
    const std::array<uint8_t, 4> data = {
        static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
        static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
    REQUIRE(mmio.Write(x86::kPciEcamBase + (uint64_t{slot} << 15) + reg, data, 0));
  }
  void Bar32(uint64_t address, uint32_t value) {
    const std::array<uint8_t, 4> data = {
        static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
        static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
    REQUIRE(mmio.Write(address, data, 0));
  }
};

TEST_CASE_METHOD(Wiring, "The host bridge answers on ECAM and on ports 0xcf8/0xcfc") {
  CHECK((Config32(0, PCI_CLASS_REVISION) >> 16) == 0x0600);
  const std::array<uint8_t, 4> address = {0x08, 0x00, 0x00, 0x80};  // Enabled, 00:00.0, reg 8.
  REQUIRE(pio.Write(x86::kPciConfigAddressPort, address, 0));
  std::array<uint8_t, 4> data{};
  REQUIRE(pio.Read(x86::kPciConfigDataPort, data, 0));
  CHECK((data[2] | data[3] << 8) == 0x0600);
}

TEST_CASE_METHOD(Wiring, "A byte written to 0xcf9 still reaches the reset control register") {
  const std::array<uint8_t, 1> value = {0x06};
  REQUIRE(pio.Write(x86::kResetControlPort, value, 0));
  CHECK(reset->values == std::vector<uint8_t>{0x06});
  CHECK(reset->offsets == std::vector<uint64_t>{0});
}

TEST_CASE_METHOD(Wiring, "A device is a virtio-pci function with BAR 0 assigned and mapped") {
  REQUIRE(devices->Add(Device(2)).ok());
  CHECK(Config32(1, PCI_VENDOR_ID) == ((0x1040u + VIRTIO_ID_NET) << 16 | 0x1af4));
  const uint64_t bar = Config32(1, PCI_BASE_ADDRESS_0) & ~0xfu;
  CHECK(bar == x86::kPciMmio32Base);
  CHECK(Config32(1, PCI_BASE_ADDRESS_1) == 0);
  CHECK((Config32(1, PCI_COMMAND) & PCI_COMMAND_MEMORY) != 0);
  uint64_t offset = 0;
  CHECK(mmio.Find(bar, VirtioPciTransport::kBarSize, &offset) != nullptr);
}

TEST_CASE_METHOD(Wiring, "Each queue's doorbell is a 2-byte ioeventfd at its own address") {
  REQUIRE(devices->Add(Device(3)).ok());
  const auto doorbells = vm.live_io_events();
  REQUIRE(doorbells.size() == 3);
  for (uint64_t q = 0; q < 3; ++q) {
    CHECK(doorbells[q].space == kvm::IoEventSpace::kMmio);
    CHECK(doorbells[q].address == x86::kPciMmio32Base + VirtioPciTransport::kNotifyOffset + 4 * q);
    CHECK(doorbells[q].len == 2);
    CHECK(doorbells[q].datamatch == q);
  }
}

TEST_CASE_METHOD(Wiring, "A BAR the guest moves takes its range and doorbells along") {
  REQUIRE(devices->Add(Device(1)).ok());
  constexpr uint64_t kNew = 0xc100'0000;
  SetConfig32(1, PCI_COMMAND, 0);  // Linux turns decoding off to move a BAR.
  CHECK(vm.live_io_events().empty());
  SetConfig32(1, PCI_BASE_ADDRESS_0, static_cast<uint32_t>(kNew));
  SetConfig32(1, PCI_COMMAND, PCI_COMMAND_MEMORY);

  uint64_t offset = 0;
  CHECK(mmio.Find(x86::kPciMmio32Base, 4, &offset) == nullptr);
  CHECK(mmio.Find(kNew, 4, &offset) != nullptr);
  const auto doorbells = vm.live_io_events();
  REQUIRE(doorbells.size() == 1);
  CHECK(doorbells[0].address == kNew + VirtioPciTransport::kNotifyOffset);
}

TEST_CASE_METHOD(Wiring, "BarOverAnotherDevice: the move is refused, nothing half-mapped") {
  REQUIRE(devices->Add(Device(1)).ok());
  REQUIRE(devices->Add(Device(1)).ok());
  // Slot 2's BAR onto slot 1's.
  SetConfig32(2, PCI_COMMAND, 0);
  SetConfig32(2, PCI_BASE_ADDRESS_0, static_cast<uint32_t>(x86::kPciMmio32Base));
  SetConfig32(2, PCI_COMMAND, PCI_COMMAND_MEMORY);
  // Slot 1 keeps its range and doorbell; slot 2 has neither.
  const auto doorbells = vm.live_io_events();
  REQUIRE(doorbells.size() == 1);
  CHECK(doorbells[0].address == x86::kPciMmio32Base + VirtioPciTransport::kNotifyOffset);
}

TEST_CASE_METHOD(Wiring, "An MSI-X vector the guest programs becomes an MSI route and irqfd") {
  REQUIRE(devices->Add(Device(1)).ok());
  const uint64_t table = x86::kPciMmio32Base + VirtioPciTransport::kMsixTableOffset;
  Bar32(table + 0, 0xfee0'0000);  // Vector 0: address low, high, data, unmasked.
  Bar32(table + 4, 0);
  Bar32(table + 8, 0x4021);
  Bar32(table + 12, 0);
  // MSI-X enable in the capability's Message Control.
  uint8_t cap = static_cast<uint8_t>(Config32(1, PCI_CAPABILITY_LIST));
  while (cap != 0 && (Config32(1, cap) & 0xff) != PCI_CAP_ID_MSIX) {
    cap = static_cast<uint8_t>(Config32(1, cap) >> 8);
  }
  REQUIRE(cap != 0);
  SetConfig32(1, cap, Config32(1, cap) | uint32_t{PCI_MSIX_FLAGS_ENABLE} << 16);

  const auto tables = vm.routing_tables();
  REQUIRE_FALSE(tables.empty());
  const auto& last = tables.back();
  const auto msi = std::find_if(last.begin(), last.end(), [](const kvm_irq_routing_entry& e) {
    return e.type == KVM_IRQ_ROUTING_MSI;
  });
  REQUIRE(msi != last.end());
  CHECK(msi->u.msi.address_lo == 0xfee0'0000);
  CHECK(msi->u.msi.data == 0x4021);
  const auto irqfds = vm.live_irqfds();
  REQUIRE(irqfds.size() == 1);
  CHECK(irqfds[0].gsi == msi->gsi);
}

TEST_CASE("INTx pins: the level is the OR of the functions sharing it") {
  testing::FakeVm vm;
  kvm::InterruptRouter irqs{vm, x86::LegacyIrqRoutes(), {.first = 24, .end = 64}};
  IntxPins pins(irqs, x86::kPciIntxGsis);
  IntxPin a(pins);
  IntxPin b(pins);
  a.Bind(1);
  b.Bind(1);
  a.Assert();
  b.Assert();
  a.Assert();  // Already asserted: no second vote.
  a.Deassert();
  CHECK(pins.asserting(1) == 1);
  b.Deassert();
  CHECK(pins.asserting(1) == 0);
  // Raised once by the first, lowered once by the last.
  CHECK(vm.irq_lines() == std::vector<std::pair<uint32_t, bool>>{{21, true}, {21, false}});
}

TEST_CASE("INTx: slot s, INTA# lands on the GSI the ACPI _PRT gives for it") {
  for (uint8_t slot = 0; slot < 32; ++slot) {
    CHECK(x86::kPciIntxGsis[pci::SwizzleIntxPin(slot, 1)] == x86::PciIntxGsi(slot, 0));
  }
}

TEST_CASE_METHOD(Wiring, "StopAll then destruction leave nothing registered") {
  REQUIRE(devices->Add(Device(2)).ok());
  devices->StopAll();
  devices.reset();
  CHECK(vm.live_io_events().empty());
  CHECK(vm.live_irqfds().empty());
  uint64_t offset = 0;
  CHECK(mmio.Find(x86::kPciMmio32Base, 4, &offset) == nullptr);
  CHECK(mmio.Find(x86::kPciEcamBase, 4, &offset) == nullptr);
}

TEST_CASE_METHOD(Wiring, "TooManyQueues for virtio-pci is refused with a sentence") {
  auto added = devices->Add(Device(256));
  REQUIRE_FALSE(added.ok());
  CHECK(added.error().ToString() == "fake has 256 queues; virtio-pci takes at most 255");
}

}  // namespace
}  // namespace mini_vmm
