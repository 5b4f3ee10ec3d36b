// VfioDevices against the recording fake VM and the fake NVMe: the
// function on bus 0 after the virtio-pci ones, its BAR assigned from the
// 64-bit window with the mappable part a memslot that follows the guest's
// moves (the MSI-X pages never), MSI-X vectors as KVM routes whose
// eventfds VFIO signals, INTx as a resampling irqfd on the slot's pin,
// and a teardown that leaves nothing registered and the device reset.
#include "vmm/machine/vfio_devices.h"

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>

#include "arch/x86_64/irq_routing.h"
#include "arch/x86_64/platform/layout.h"
#include "devices/pci/intx.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_vfio.h"
#include "tests/support/fake_vm.h"
#include "vmm/kvm/memslot_sync.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;
using testing::FakeVfioDevice;

class NullReset final : public devices::BusDevice {
 public:
  std::string_view name() const override { return "reset"; }
  void Read(const devices::IoAccess&, std::span<uint8_t> data) noexcept override {
    for (uint8_t& b : data) b = 0;
  }
  void Write(const devices::IoAccess&, std::span<const uint8_t>) noexcept override {}
};

struct Wiring {
  testing::FakeVm vm;
  kvm::InterruptRouter irqs{vm, x86::LegacyIrqRoutes(), {.first = 24, .end = 200}};
  devices::Bus mmio{"MMIO"};
  devices::Bus pio{"port I/O"};
  GuestMemory memory = testing::MakeGuestMemory(0, 1 << 20);
  MemoryMap map;
  kvm::MemslotSync slots{vm};
  x86::PlatformResources resources = x86::CreatePlatformResources(512ull << 20);
  std::optional<PciDevices> pci{std::in_place, vm, irqs, mmio, pio, memory, resources};
  FakeVfioDevice dev;
  std::optional<VfioDevices> vfio;

  Wiring() {
    REQUIRE(map.AddListener(&slots).ok());
    REQUIRE(pci->AttachRootBus(std::make_shared<NullReset>()).ok());
    vfio.emplace(VfioWiring{.pci = *pci,
                            .irqs = irqs,
                            .mmio_bus = mmio,
                            .pio_bus = pio,
                            .memory_map = map,
                            .resources = resources});
  }
  ~Wiring() {
    vfio.reset();
    pci.reset();
  }

  uint64_t Ecam(uint8_t slot, uint32_t reg) const {
    return x86::kPciEcamBase + (uint64_t{slot} << 15) + reg;
  }
  uint32_t Config32(uint8_t slot, uint32_t reg) {
    std::array<uint8_t, 4> data{};
    REQUIRE(mmio.Read(Ecam(slot, reg), data, 0));
    uint32_t v = 0;
    std::memcpy(&v, data.data(), 4);
    return v;
  }
  void SetConfig(uint8_t slot, uint32_t reg, uint32_t value, size_t size = 4) {
    std::array<uint8_t, 4> data{};
    std::memcpy(data.data(), &value, 4);
    REQUIRE(mmio.Write(Ecam(slot, reg), std::span(data.data(), size), 0));
  }
  uint64_t Bar0(uint8_t slot) {
    return (uint64_t{Config32(slot, PCI_BASE_ADDRESS_1)} << 32) |
           (Config32(slot, PCI_BASE_ADDRESS_0) & ~0xfu);
  }
  void Write32(uint64_t address, uint32_t value) {
    std::array<uint8_t, 4> data{};
    std::memcpy(data.data(), &value, 4);
    REQUIRE(mmio.Write(address, data, 0));
  }
};

TEST_CASE("The function lands in slot 1; its non-prefetchable 64-bit BAR below 4 GiB") {
  Wiring w;
  REQUIRE(w.vfio->Add(w.dev).ok());
  CHECK(w.Config32(1, PCI_VENDOR_ID) == 0x00101b36);
  const uint64_t bar = w.Bar0(1);
  CHECK(bar >= w.resources.pci_mmio32.base());
  CHECK(bar + FakeVfioDevice::kBar0Size <= w.resources.pci_mmio32.end());
  CHECK(bar % FakeVfioDevice::kBar0Size == 0);
  CHECK((w.Config32(1, PCI_COMMAND) & PCI_COMMAND_MEMORY) != 0);
}

TEST_CASE("A prefetchable 64-bit BAR goes to the 64-bit window") {
  Wiring w;
  w.dev.Put32(PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
  REQUIRE(w.vfio->Add(w.dev).ok());
  CHECK(w.Bar0(1) >= w.resources.pci_mmio64.base());
}

TEST_CASE("An I/O BAR gets ports from the PCI I/O window; port accesses reach the device") {
  Wiring w;
  auto& bar2 = w.dev.regions_[VFIO_PCI_BAR2_REGION_INDEX];
  bar2 = FakeVfioDevice::Region(VFIO_PCI_BAR2_REGION_INDEX, 0x20, /*mmap=*/false);
  auto& bytes = w.dev.data_[VFIO_PCI_BAR2_REGION_INDEX];
  bytes.assign(0x20, 0);
  bytes[4] = 0x5a;
  w.dev.Put32(PCI_BASE_ADDRESS_2, 0xe000 | PCI_BASE_ADDRESS_SPACE_IO);  // The host's ports.
  REQUIRE(w.vfio->Add(w.dev).ok());
  const uint32_t reg = w.Config32(1, PCI_BASE_ADDRESS_2);
  CHECK((reg & PCI_BASE_ADDRESS_SPACE) == PCI_BASE_ADDRESS_SPACE_IO);
  const uint32_t port = reg & static_cast<uint32_t>(PCI_BASE_ADDRESS_IO_MASK);
  CHECK(port >= w.resources.pci_io.base());
  CHECK(port + 0x20 <= w.resources.pci_io.end());
  CHECK(port % 0x20 == 0);
  CHECK((w.Config32(1, PCI_COMMAND) & PCI_COMMAND_IO) != 0);
  std::array<uint8_t, 1> data{};
  REQUIRE(w.pio.Read(port + 4, data, 0));
  CHECK(data[0] == 0x5a);
  data[0] = 0x33;
  REQUIRE(w.pio.Write(port + 1, data, 0));
  CHECK(bytes[1] == 0x33);
  // Nothing of it reaches the MMIO bus, and no memslot maps it.
  CHECK(w.vm.live_memslots().size() == 1);
}

TEST_CASE("The BAR's mappable part is a memslot at the BAR; the MSI-X pages are not") {
  Wiring w;
  REQUIRE(w.vfio->Add(w.dev).ok());
  const uint64_t bar = w.Bar0(1);
  const auto slots = w.vm.live_memslots();
  REQUIRE(slots.size() == 1);
  CHECK(slots[0].gpa == bar);
  CHECK(slots[0].size == FakeVfioDevice::kTableOffset);
  REQUIRE(w.dev.maps.size() == 1);
  CHECK(w.dev.maps[0].offset == 0);
}

TEST_CASE("The guest moving the BAR moves the memslot and the trapped range") {
  Wiring w;
  REQUIRE(w.vfio->Add(w.dev).ok());
  const uint64_t moved = 0xd0000000;
  w.SetConfig(1, PCI_COMMAND, 0, 2);  // Linux moves BARs with decoding off.
  CHECK(w.vm.live_memslots().empty());
  w.SetConfig(1, PCI_BASE_ADDRESS_0, static_cast<uint32_t>(moved));
  w.SetConfig(1, PCI_BASE_ADDRESS_1, 0);
  w.SetConfig(1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
  const auto slots = w.vm.live_memslots();
  REQUIRE(slots.size() == 1);
  CHECK(slots[0].gpa == moved);
  // The MSI-X table traps at the new address.
  w.Write32(moved + FakeVfioDevice::kTableOffset + PCI_MSIX_ENTRY_DATA, 0x77);
  std::array<uint8_t, 4> data{};
  REQUIRE(w.mmio.Read(moved + FakeVfioDevice::kTableOffset + PCI_MSIX_ENTRY_DATA, data, 0));
  CHECK(data[0] == 0x77);
  CHECK(w.dev.writes.size() == 3);  // Only the three command writes reached the device.
}

TEST_CASE("A guest BAR over guest RAM stays trapped rather than mapped") {
  Wiring w;
  MemoryMap& map = w.map;
  REQUIRE(map.Add({.start = GuestAddress(0xd0000000),
                   .size = 0x10000,
                   .host = w.memory.regions()[0].host_address(),
                   .kind = MappedRegion::Kind::kRam,
                   .read_only = false,
                   .id = 0})
              .ok());
  REQUIRE(w.vfio->Add(w.dev).ok());
  w.SetConfig(1, PCI_BASE_ADDRESS_0, 0xd0000000);
  w.SetConfig(1, PCI_BASE_ADDRESS_1, 0);
  CHECK(w.vm.live_memslots().size() == 1);  // The RAM only.
  w.Write32(0xd0000000 + 0x1000, 0x1234);   // Forwarded to the device.
  CHECK(w.dev.writes.back().index == VFIO_PCI_BAR0_REGION_INDEX);
}

TEST_CASE("An unmasked MSI-X vector is a KVM route whose irqfd eventfd VFIO signals") {
  Wiring w;
  REQUIRE(w.vfio->Add(w.dev).ok());
  const uint64_t table = w.Bar0(1) + FakeVfioDevice::kTableOffset;
  w.SetConfig(1, FakeVfioDevice::kMsixCap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
  w.Write32(table + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000);
  w.Write32(table + PCI_MSIX_ENTRY_DATA, 0x4021);
  w.Write32(table + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
  CHECK(w.irqs.msi_routes() == 1);
  const int fd = w.dev.triggers.at(VFIO_PCI_MSIX_IRQ_INDEX)[0];
  bool wired = false;
  for (const auto& irq : w.vm.live_irqfds()) wired |= irq.fd == fd && irq.gsi >= 24;
  CHECK(wired);
  CHECK(w.dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);
}

TEST_CASE("Enabled MSI vectors are KVM routes whose irqfd eventfds VFIO signals") {
  Wiring w;
  w.dev.irqs_[VFIO_PCI_MSIX_IRQ_INDEX].count = 1;  // Routes sized for MSI's 4, not MSI-X's 1.
  w.dev.Put16(FakeVfioDevice::kMsixCap + PCI_MSIX_FLAGS, 0);
  REQUIRE(w.vfio->Add(w.dev).ok());
  const uint32_t cap = FakeVfioDevice::kMsiCap;
  w.SetConfig(1, cap + PCI_MSI_ADDRESS_LO, 0xfee00000);
  w.SetConfig(1, cap + PCI_MSI_DATA_64, 0x4020, 2);
  w.SetConfig(1, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (2 << 4), 2);
  CHECK(w.irqs.msi_routes() == 4);
  const auto& fds = w.dev.triggers.at(VFIO_PCI_MSI_IRQ_INDEX);
  REQUIRE(fds.size() == 4);
  bool wired = false;
  for (const auto& irq : w.vm.live_irqfds()) wired |= irq.fd == fds[3] && irq.gsi >= 24;
  CHECK(wired);
  CHECK(w.dev.triggers.count(VFIO_PCI_INTX_IRQ_INDEX) == 0);
}

TEST_CASE("Extended configuration space reaches the function through ECAM") {
  Wiring w;
  w.dev.Put32(0x100, PCI_EXT_CAP_ID_ERR | (2u << 16) | (0x148u << 20));
  w.dev.Put32(0x148, PCI_EXT_CAP_ID_SRIOV | (1u << 16));
  REQUIRE(w.vfio->Add(w.dev).ok());
  CHECK(w.Config32(1, 0x100) == (PCI_EXT_CAP_ID_ERR | (2u << 16)));  // SR-IOV unlinked.
  CHECK(w.Config32(1, 0x148) == 0);
}

TEST_CASE("INTx is a resampling irqfd on the slot's swizzled pin, given to VFIO") {
  Wiring w;
  REQUIRE(w.vfio->Add(w.dev).ok());
  const uint32_t gsi = w.pci->intx_pins().gsi(pci::SwizzleIntxPin(1, 1));
  const int trigger = w.dev.triggers.at(VFIO_PCI_INTX_IRQ_INDEX)[0];
  const int unmask = w.dev.unmask.at(VFIO_PCI_INTX_IRQ_INDEX);
  bool wired = false;
  for (const auto& irq : w.vm.live_irqfds()) {
    wired |= irq.fd == trigger && irq.gsi == gsi && irq.resample_fd == unmask;
  }
  CHECK(wired);
}

TEST_CASE("Stopping disables interrupts, unmaps the BAR and resets the device") {
  Wiring w;
  REQUIRE(w.vfio->Add(w.dev).ok());
  REQUIRE_FALSE(w.vm.live_memslots().empty());
  w.vfio->StopAll();
  CHECK(w.vm.live_memslots().empty());
  CHECK(w.dev.triggers.empty());
  CHECK(w.dev.resets == 1);
  w.vfio.reset();
  CHECK(w.vm.live_irqfds().empty());
  CHECK(w.irqs.msi_routes() == 0);
}

TEST_CASE("A device whose BAR cannot be mapped fails the machine with its name") {
  Wiring w;
  w.dev.refuse_map = true;
  auto added = w.vfio->Add(w.dev);
  REQUIRE_FALSE(added.ok());
  CHECK_THAT(added.error().ToString(), Catch::Contains("mmap refused"));
  CHECK(w.vm.live_irqfds().empty());
}

TEST_CASE("A malformed device header fails Add, naming the device") {
  Wiring w;
  w.dev.config()[PCI_CAPABILITY_LIST] = 0x08;
  auto added = w.vfio->Add(w.dev);
  REQUIRE_FALSE(added.ok());
  CHECK_THAT(added.error().ToString(), Catch::StartsWith("0000:00:04.0: capability pointer"));
}

}  // namespace
}  // namespace mini_vmm
