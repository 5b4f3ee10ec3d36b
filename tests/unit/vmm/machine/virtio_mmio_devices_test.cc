// VirtioMmioDevices against the recording fake VM: what each device gets
// (window, GSI, irqfd, one doorbell per queue), how the guest is told, and
// that a failed or dropped device leaves nothing registered.
#include "vmm/machine/virtio_mmio_devices.h"

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "arch/x86_64/irq_routing.h"
#include "arch/x86_64/platform/layout.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/fake_vm.h"

namespace mini_vmm {
namespace {

namespace x86 = arch::x86_64;

std::shared_ptr<testing::FakeVirtioDevice> Device(size_t queues) {
  return std::make_shared<testing::FakeVirtioDevice>(VIRTIO_ID_BLOCK, 1ull << 32,
                                                     std::vector<uint16_t>(queues, 128));
}

struct Wiring {
  testing::FakeVm vm;
  kvm::InterruptRouter irqs{vm, x86::LegacyIrqRoutes(), {.first = 24, .end = 64}};
  devices::Bus mmio{"MMIO"};
  GuestMemory memory = testing::MakeGuestMemory(0, 1 << 20);
  x86::PlatformResources resources = x86::CreatePlatformResources(512ull << 20);
  std::optional<VirtioMmioDevices> devices{std::in_place, vm, irqs, mmio, memory, resources};
};

TEST_CASE_METHOD(Wiring, "Add gives a device a window, an irqfd and one doorbell per queue") {
  REQUIRE(devices->Add(Device(2)).ok());

  uint64_t offset = 0;
  CHECK(mmio.Find(x86::kVirtioMmioBase, 4, &offset) != nullptr);
  const auto irqfds = vm.live_irqfds();
  REQUIRE(irqfds.size() == 1);
  CHECK(irqfds[0].gsi == 5);  // The first pin after the ISA devices'.
  const auto doorbells = vm.live_io_events();
  REQUIRE(doorbells.size() == 2);
  for (uint64_t q = 0; q < 2; ++q) {
    CHECK(doorbells[q].space == kvm::IoEventSpace::kMmio);
    CHECK(doorbells[q].address == x86::kVirtioMmioBase + VIRTIO_MMIO_QUEUE_NOTIFY);
    CHECK(doorbells[q].len == 4);
    CHECK(doorbells[q].datamatch == q);
  }
  CHECK(doorbells[0].fd != doorbells[1].fd);
}

TEST_CASE_METHOD(Wiring, "Each device is described for ACPI and for the kernel command line") {
  REQUIRE(devices->Add(Device(1)).ok());
  REQUIRE(devices->Add(Device(1)).ok());

  const auto acpi = devices->AcpiDescriptions();
  REQUIRE(acpi.size() == 2);
  CHECK(acpi[1].base == x86::kVirtioMmioBase + 0x1000);
  CHECK(acpi[1].gsi == 6);
  CHECK(devices->KernelParameters() ==
        "virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6");
}

TEST_CASE_METHOD(Wiring, "KvmRefusesDoorbell: a failed Add leaves nothing registered or taken") {
  vm.RefuseIoEvent(2);  // The second queue's doorbell.
  auto added = devices->Add(Device(2));
  REQUIRE_FALSE(added.ok());
  CHECK(added.error().ToString() == "fake: ioeventfd refused: Invalid argument");

  CHECK(vm.live_io_events().empty());
  CHECK(vm.live_irqfds().empty());
  uint64_t offset = 0;
  CHECK(mmio.Find(x86::kVirtioMmioBase, 4, &offset) == nullptr);
  // The window and GSI went back: the next device gets the same ones.
  REQUIRE(devices->Add(Device(1)).ok());
  CHECK(devices->AcpiDescriptions().at(0).base == x86::kVirtioMmioBase);
  CHECK(devices->AcpiDescriptions().at(0).gsi == 5);
}

TEST_CASE_METHOD(Wiring, "TooManyDevices: one past the platform's slots is refused") {
  for (size_t i = 0; i < x86::kMaxVirtioMmioDevices; ++i) REQUIRE(devices->Add(Device(1)).ok());
  auto one_more = devices->Add(Device(1));
  REQUIRE_FALSE(one_more.ok());
  CHECK(one_more.error().ToString() ==
        fmt::format("too many virtio devices (at most {})", x86::kMaxVirtioMmioDevices));
}

TEST_CASE_METHOD(Wiring, "Dropping the devices unregisters every range, irqfd and doorbell") {
  REQUIRE(devices->Add(Device(3)).ok());
  REQUIRE(devices->Add(Device(1)).ok());
  devices.reset();

  CHECK(vm.live_io_events().empty());
  CHECK(vm.live_irqfds().empty());
  uint64_t offset = 0;
  CHECK(mmio.Find(x86::kVirtioMmioBase, 4, &offset) == nullptr);
  CHECK(mmio.Find(x86::kVirtioMmioBase + 0x1000, 4, &offset) == nullptr);
}

}  // namespace
}  // namespace mini_vmm
