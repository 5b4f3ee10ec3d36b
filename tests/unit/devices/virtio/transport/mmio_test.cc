// MmioTransport: the virtio-mmio version 2 register file (virtio 1.2
// §4.2.2) as a guest driver reaches it, 32 bits at a time.
#include "devices/virtio/transport/mmio.h"

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "devices/virtio/virtio_ring.h"
#include "tests/support/counting_interrupt.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/register_access.h"
#include "tests/support/virtqueue_driver.h"

namespace mini_vmm::virtio {
namespace {

using testing::CountingInterrupt;
using testing::FakeVirtioDevice;
using testing::VirtQueueDriver;

constexpr uint64_t kBase = 0xd000'0000;
constexpr uint64_t kVersion1 = 1ull << VIRTIO_F_VERSION_1;
constexpr uint64_t kOffered = kVersion1 | (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << 5);
constexpr uint16_t kQueueMax = 16;

constexpr uint32_t kAck = VIRTIO_CONFIG_S_ACKNOWLEDGE;
constexpr uint32_t kDriver = VIRTIO_CONFIG_S_DRIVER;
constexpr uint32_t kFeaturesOk = VIRTIO_CONFIG_S_FEATURES_OK;
constexpr uint32_t kDriverOk = VIRTIO_CONFIG_S_DRIVER_OK;
constexpr uint32_t kNeedsReset = VIRTIO_CONFIG_S_NEEDS_RESET;

struct MmioTest {
  GuestMemory mem = testing::MakeGuestMemory(0, 0x10000);
  std::shared_ptr<FakeVirtioDevice> device = std::make_shared<FakeVirtioDevice>(
      VIRTIO_ID_BLOCK, kOffered, std::vector<uint16_t>{kQueueMax});
  CountingInterrupt line;
  MmioTransport mmio{device, mem, testing::MakeQueueEvents(1), line};
  VirtQueueDriver driver{mem, GuestAddress(0x1000), 8};

  static devices::IoAccess At(uint64_t offset) { return {kBase + offset, offset, 0}; }

  uint32_t Read(uint64_t offset) { return testing::ReadRegister32(mmio, At(offset)); }
  void Write(uint64_t offset, uint32_t value) { testing::WriteRegister32(mmio, At(offset), value); }
  void Write64(uint64_t low_offset, GuestAddress addr) {
    Write(low_offset, static_cast<uint32_t>(addr.value()));
    Write(low_offset + 4, static_cast<uint32_t>(addr.value() >> 32));
  }

  // What Linux's virtio_mmio probe and vm_setup_vq do, in order.
  void Negotiate(uint64_t features) {
    Write(VIRTIO_MMIO_STATUS, kAck);
    Write(VIRTIO_MMIO_STATUS, kAck | kDriver);
    Write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    Write(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features >> 32));
    Write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    Write(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features));
    Write(VIRTIO_MMIO_STATUS, kAck | kDriver | kFeaturesOk);
  }
  void SetUpQueue() {
    Write(VIRTIO_MMIO_QUEUE_SEL, 0);
    Write(VIRTIO_MMIO_QUEUE_NUM, driver.size());
    Write64(VIRTIO_MMIO_QUEUE_DESC_LOW, driver.desc_table());
    Write64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, driver.avail_ring());
    Write64(VIRTIO_MMIO_QUEUE_USED_LOW, driver.used_ring());
    Write(VIRTIO_MMIO_QUEUE_READY, 1);
  }
  void Start() {
    Negotiate(kVersion1);
    SetUpQueue();
    Write(VIRTIO_MMIO_STATUS, kAck | kDriver | kFeaturesOk | kDriverOk);
  }
};

// ---- Identification (§4.2.2.1). ----

TEST_CASE_METHOD(MmioTest, "MagicValue reads \"virt\"") {
  CHECK(Read(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976);
}

TEST_CASE_METHOD(MmioTest, "Version reads 2 (no legacy interface)") {
  CHECK(Read(VIRTIO_MMIO_VERSION) == 2);
}

TEST_CASE_METHOD(MmioTest, "DeviceID and VendorID identify the device") {
  CHECK(Read(VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_BLOCK);
  CHECK(Read(VIRTIO_MMIO_VENDOR_ID) == MmioTransport::kVendorId);
}

// ---- Features. ----

TEST_CASE_METHOD(MmioTest, "DeviceFeatures shows the page DeviceFeaturesSel selects") {
  Write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  const uint32_t high = Read(VIRTIO_MMIO_DEVICE_FEATURES);
  Write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  const uint32_t low = Read(VIRTIO_MMIO_DEVICE_FEATURES);
  Write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
  const uint32_t beyond = Read(VIRTIO_MMIO_DEVICE_FEATURES);

  CHECK(high == static_cast<uint32_t>(kOffered >> 32));
  CHECK(low == static_cast<uint32_t>(kOffered));
  CHECK(beyond == 0);
}

TEST_CASE_METHOD(MmioTest,
                 "Features accepted page by page through DriverFeaturesSel reach FEATURES_OK") {
  Negotiate(kOffered);

  CHECK(Read(VIRTIO_MMIO_STATUS) == (kAck | kDriver | kFeaturesOk));
}

TEST_CASE_METHOD(MmioTest, "FEATURES_OK reads back clear when an unoffered feature was accepted") {
  Negotiate(kVersion1 | (1ull << 6));

  CHECK(Read(VIRTIO_MMIO_STATUS) == (kAck | kDriver));
}

// ---- Queues. ----

TEST_CASE_METHOD(MmioTest, "QueueNumMax reads the maximum size of the selected queue") {
  Write(VIRTIO_MMIO_QUEUE_SEL, 0);

  CHECK(Read(VIRTIO_MMIO_QUEUE_NUM_MAX) == kQueueMax);
}

// §4.2.3.2: QueueNumMax 0 means the queue is not available.
TEST_CASE_METHOD(MmioTest, "QueueNumMax reads 0 for a queue that does not exist") {
  Write(VIRTIO_MMIO_QUEUE_SEL, 1);

  CHECK(Read(VIRTIO_MMIO_QUEUE_NUM_MAX) == 0);
}

TEST_CASE_METHOD(MmioTest, "QueueReady reads back what the driver wrote") {
  Negotiate(kVersion1);
  const uint32_t before = Read(VIRTIO_MMIO_QUEUE_READY);

  SetUpQueue();

  CHECK(before == 0);
  CHECK(Read(VIRTIO_MMIO_QUEUE_READY) == 1);
}

TEST_CASE_METHOD(MmioTest, "The driver's init sequence starts the device with a live queue") {
  Start();

  CHECK(Read(VIRTIO_MMIO_STATUS) == (kAck | kDriver | kFeaturesOk | kDriverOk));
  REQUIRE(device->activate_calls == 1);
  REQUIRE(device->queues.size() == 1);
  CHECK(device->queues[0].active());
  CHECK(device->queues[0].used_ring() == driver.used_ring());
}

TEST_CASE_METHOD(MmioTest,
                 "Bad queue config at DRIVER_OK raises NEEDS_RESET and a config interrupt") {
  Negotiate(kVersion1);
  SetUpQueue();
  Write(VIRTIO_MMIO_QUEUE_READY, 0);
  Write(VIRTIO_MMIO_QUEUE_NUM, 3);  // Not a power of two.
  Write(VIRTIO_MMIO_QUEUE_READY, 1);

  Write(VIRTIO_MMIO_STATUS, kAck | kDriver | kFeaturesOk | kDriverOk);

  CHECK((Read(VIRTIO_MMIO_STATUS) & kNeedsReset) != 0);
  CHECK(Read(VIRTIO_MMIO_INTERRUPT_STATUS) == VIRTIO_MMIO_INT_CONFIG);
  CHECK(line.count == 1);
  CHECK(device->activate_calls == 0);
}

TEST_CASE_METHOD(MmioTest, "QueueNotify signals the eventfd of the queue written") {
  Write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);

  CHECK(mmio.queue_events()[0].Consume() == 1);
}

// ---- Interrupts (§4.2.2.1: a bit stays set until the driver ACKs it). ----

TEST_CASE_METHOD(MmioTest, "A used-buffer notification sets the VRING bit and fires one edge") {
  Start();
  REQUIRE(device->interrupt != nullptr);

  device->interrupt->NotifyQueue(0);

  CHECK(Read(VIRTIO_MMIO_INTERRUPT_STATUS) == VIRTIO_MMIO_INT_VRING);
  CHECK(line.count == 1);
}

TEST_CASE_METHOD(MmioTest, "InterruptACK clears only the acknowledged bits") {
  Start();
  REQUIRE(device->interrupt != nullptr);
  device->interrupt->NotifyQueue(0);
  device->interrupt->NotifyConfigChange();

  Write(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);

  CHECK(Read(VIRTIO_MMIO_INTERRUPT_STATUS) == VIRTIO_MMIO_INT_CONFIG);
}

TEST_CASE_METHOD(MmioTest,
                 "needs_reset from the device shows NEEDS_RESET and one config interrupt") {
  Start();
  REQUIRE(device->needs_reset);

  device->needs_reset();
  device->needs_reset();

  CHECK((Read(VIRTIO_MMIO_STATUS) & kNeedsReset) != 0);
  CHECK(Read(VIRTIO_MMIO_INTERRUPT_STATUS) == VIRTIO_MMIO_INT_CONFIG);
  CHECK(line.count == 1);
}

// ---- Reset (§4.2.2.1: upon reset the device MUST clear InterruptStatus
// and every QueueReady). ----

TEST_CASE_METHOD(MmioTest, "Writing 0 to Status resets the device and clears InterruptStatus") {
  Start();
  device->interrupt->NotifyQueue(0);

  Write(VIRTIO_MMIO_STATUS, 0);

  CHECK(Read(VIRTIO_MMIO_STATUS) == 0);
  CHECK(Read(VIRTIO_MMIO_INTERRUPT_STATUS) == 0);
  CHECK(Read(VIRTIO_MMIO_QUEUE_READY) == 0);
  CHECK(device->reset_calls == 1);
}

TEST_CASE_METHOD(MmioTest, "A Status write whose low byte is 0 is a complete reset") {
  Start();
  device->interrupt->NotifyQueue(0);

  Write(VIRTIO_MMIO_STATUS, 0x100);

  CHECK(Read(VIRTIO_MMIO_STATUS) == 0);
  CHECK(Read(VIRTIO_MMIO_INTERRUPT_STATUS) == 0);
  CHECK(device->reset_calls == 1);
}

TEST_CASE_METHOD(MmioTest, "Reset selects feature page 0 again") {
  Write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);

  Write(VIRTIO_MMIO_STATUS, 0);

  CHECK(Read(VIRTIO_MMIO_DEVICE_FEATURES) == static_cast<uint32_t>(kOffered));
}

// ---- Access widths (§4.2.2.2: registers are accessed 32 bits, aligned). ----

TEST_CASE_METHOD(MmioTest, "A 16-bit write to a register is ignored") {
  const std::array<uint8_t, 2> half{kAck, 0};

  mmio.Write(At(VIRTIO_MMIO_STATUS), half);

  CHECK(Read(VIRTIO_MMIO_STATUS) == 0);
}

TEST_CASE_METHOD(MmioTest, "A misaligned 32-bit write to a register is ignored") {
  Write(VIRTIO_MMIO_STATUS + 1, kAck << 8);

  CHECK(Read(VIRTIO_MMIO_STATUS) == 0);
}

TEST_CASE_METHOD(MmioTest, "A byte read of a register reads as zero") {
  std::array<uint8_t, 1> byte{0xff};

  mmio.Read(At(VIRTIO_MMIO_MAGIC_VALUE), byte);

  CHECK(byte[0] == 0);
}

// ---- Configuration space (0x100 on, any width). ----

TEST_CASE_METHOD(MmioTest, "Config space reads are forwarded with their offset and width") {
  device->config = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15};
  std::array<uint8_t, 2> data{};

  mmio.Read(At(VIRTIO_MMIO_CONFIG + 3), data);

  CHECK(device->last_config_offset == 3);
  CHECK(data == std::array<uint8_t, 2>{0x13, 0x14});
}

TEST_CASE_METHOD(MmioTest, "Config space writes are forwarded with their offset") {
  device->config = {0, 0, 0, 0};
  const std::array<uint8_t, 1> byte{0x7f};

  mmio.Write(At(VIRTIO_MMIO_CONFIG + 2), byte);

  CHECK(device->config == std::vector<uint8_t>{0, 0, 0x7f, 0});
}

// ---- Other registers. ----

// §4.2.2: a non-existent shared memory region has length -1 and base ~0.
TEST_CASE_METHOD(MmioTest, "Shared memory registers describe no region") {
  Write(VIRTIO_MMIO_SHM_SEL, 0);

  CHECK(Read(VIRTIO_MMIO_SHM_LEN_LOW) == 0xffffffff);
  CHECK(Read(VIRTIO_MMIO_SHM_LEN_HIGH) == 0xffffffff);
  CHECK(Read(VIRTIO_MMIO_SHM_BASE_LOW) == 0xffffffff);
  CHECK(Read(VIRTIO_MMIO_SHM_BASE_HIGH) == 0xffffffff);
}

TEST_CASE_METHOD(MmioTest, "Write-only registers read as zero") {
  Write(VIRTIO_MMIO_QUEUE_NUM, 8);

  CHECK(Read(VIRTIO_MMIO_QUEUE_NUM) == 0);
}

TEST_CASE_METHOD(MmioTest, "Writes to read-only registers change nothing") {
  Write(VIRTIO_MMIO_MAGIC_VALUE, 0);
  Write(VIRTIO_MMIO_QUEUE_NUM_MAX, 0);

  CHECK(Read(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976);
  CHECK(Read(VIRTIO_MMIO_QUEUE_NUM_MAX) == kQueueMax);
}

}  // namespace
}  // namespace mini_vmm::virtio
