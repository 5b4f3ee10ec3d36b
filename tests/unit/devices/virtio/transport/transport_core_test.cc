// TransportCore: the bus-independent part of a transport. Device status
// state machine (§2.1), feature negotiation (§2.2, §3.1.1), queue
// configuration, activation, DEVICE_NEEDS_RESET and reset (§2.4). Section
// numbers are virtio 1.2.
#include "devices/virtio/transport/transport_core.h"

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_virtio_device.h"
#include "tests/support/virtqueue_driver.h"

namespace mini_vmm::virtio {
namespace {

using testing::FakeVirtioDevice;
using testing::FakeVirtioInterrupt;
using testing::VirtQueueDriver;

constexpr uint64_t kVersion1 = 1ull << VIRTIO_F_VERSION_1;
constexpr uint64_t kEventIdx = 1ull << VIRTIO_RING_F_EVENT_IDX;
constexpr uint64_t kIndirect = 1ull << VIRTIO_RING_F_INDIRECT_DESC;
constexpr uint64_t kDeviceBit = 1ull << 5;  // Some device-specific feature.
constexpr uint64_t kOffered = kVersion1 | kEventIdx | kIndirect | kDeviceBit;
constexpr uint64_t kNotOffered = 1ull << 6;

constexpr uint8_t kAck = VIRTIO_CONFIG_S_ACKNOWLEDGE;
constexpr uint8_t kDriver = VIRTIO_CONFIG_S_DRIVER;
constexpr uint8_t kFeaturesOk = VIRTIO_CONFIG_S_FEATURES_OK;
constexpr uint8_t kDriverOk = VIRTIO_CONFIG_S_DRIVER_OK;
constexpr uint8_t kNeedsReset = VIRTIO_CONFIG_S_NEEDS_RESET;

constexpr uint16_t kQueue0Max = 16;
constexpr uint16_t kQueue1Max = 8;

struct CoreTest {
  GuestMemory mem = testing::MakeGuestMemory(0, 0x10000);
  std::shared_ptr<FakeVirtioDevice> device = std::make_shared<FakeVirtioDevice>(
      VIRTIO_ID_BLOCK, kOffered, std::vector<uint16_t>{kQueue0Max, kQueue1Max});
  FakeVirtioInterrupt interrupt;
  TransportCore core{device, mem, testing::MakeQueueEvents(2), interrupt};
  VirtQueueDriver driver{mem, GuestAddress(0x1000), 8};

  void AcceptFeatures(uint64_t features) {
    core.SetDriverFeatures(0, static_cast<uint32_t>(features));
    core.SetDriverFeatures(1, static_cast<uint32_t>(features >> 32));
  }

  // ACKNOWLEDGE, DRIVER, features, FEATURES_OK (§3.1.1 steps 1-5).
  void Negotiate(uint64_t features) {
    core.WriteStatus(kAck);
    core.WriteStatus(kAck | kDriver);
    AcceptFeatures(features);
    core.WriteStatus(kAck | kDriver | kFeaturesOk);
  }

  void ConfigureQueue(uint32_t index, const VirtQueueDriver& queue_driver) {
    core.SelectQueue(index);
    core.SetQueueSize(queue_driver.size());
    SetAddress(TransportCore::kDescAddress, queue_driver.desc_table());
    SetAddress(TransportCore::kAvailAddress, queue_driver.avail_ring());
    SetAddress(TransportCore::kUsedAddress, queue_driver.used_ring());
    core.SetSelectedQueueReady(true);
  }

  void SetAddress(int which, GuestAddress addr) {
    core.SetQueueAddress(which, false, static_cast<uint32_t>(addr.value()));
    core.SetQueueAddress(which, true, static_cast<uint32_t>(addr.value() >> 32));
  }

  // The whole §3.1.1 sequence with queue 0 configured.
  void Start(uint64_t features = kOffered) {
    Negotiate(features);
    ConfigureQueue(0, driver);
    core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);
  }
};

// ---- Features (§2.2). ----

TEST_CASE_METHOD(CoreTest, "Device features are offered in two 32-bit pages") {
  CHECK(core.DeviceFeatures(0) == static_cast<uint32_t>(kOffered));
  CHECK(core.DeviceFeatures(1) == static_cast<uint32_t>(kOffered >> 32));
  CHECK(core.DeviceFeatures(2) == 0);
}

TEST_CASE_METHOD(CoreTest, "Driver features are assembled from two 32-bit pages") {
  core.SetDriverFeatures(1, 1);  // VERSION_1
  core.SetDriverFeatures(0, static_cast<uint32_t>(kEventIdx));
  core.SetDriverFeatures(2, 0xffffffff);  // No such page: ignored.

  CHECK(core.driver_features() == (kVersion1 | kEventIdx));
}

// §2.2.1: the driver MUST NOT accept a feature the device did not offer;
// §2.2.2: the device then MUST fail to set FEATURES_OK.
TEST_CASE_METHOD(CoreTest, "FEATURES_OK is refused when the driver accepts an unoffered feature") {
  Negotiate(kVersion1 | kNotOffered);

  CHECK(core.status() == (kAck | kDriver));
}

TEST_CASE_METHOD(CoreTest, "FEATURES_OK is refused when the driver omits VERSION_1") {
  Negotiate(kEventIdx);

  CHECK(core.status() == (kAck | kDriver));
}

TEST_CASE_METHOD(CoreTest, "FEATURES_OK is accepted for a subset of the offered features") {
  Negotiate(kVersion1 | kIndirect);

  CHECK(core.status() == (kAck | kDriver | kFeaturesOk));
}

TEST_CASE_METHOD(CoreTest, "Driver features are frozen once FEATURES_OK is set") {
  Negotiate(kVersion1);

  AcceptFeatures(kOffered);

  CHECK(core.driver_features() == kVersion1);
}

TEST_CASE_METHOD(CoreTest, "After a refused FEATURES_OK the driver may try other features") {
  Negotiate(kVersion1 | kNotOffered);
  AcceptFeatures(kVersion1);

  core.WriteStatus(kAck | kDriver | kFeaturesOk);

  CHECK(core.status() == (kAck | kDriver | kFeaturesOk));
}

// ---- Status state machine (§2.1). ----

TEST_CASE_METHOD(CoreTest, "DRIVER_OK without FEATURES_OK is not set and starts nothing") {
  core.WriteStatus(kAck | kDriver);
  ConfigureQueue(0, driver);

  core.WriteStatus(kAck | kDriver | kDriverOk);

  CHECK(core.status() == (kAck | kDriver));
  CHECK(device->activate_calls == 0);
}

TEST_CASE_METHOD(CoreTest, "DRIVER_OK after FEATURES_OK activates the device once") {
  Start(kVersion1 | kEventIdx);

  CHECK(core.status() == (kAck | kDriver | kFeaturesOk | kDriverOk));
  CHECK(device->activate_calls == 1);
  CHECK(device->activated_features == (kVersion1 | kEventIdx));
}

TEST_CASE_METHOD(CoreTest, "Writing DRIVER_OK again does not activate the device again") {
  Start();

  core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);

  CHECK(device->activate_calls == 1);
}

TEST_CASE_METHOD(CoreTest, "Activation makes ready queues live and leaves the others alone") {
  Start();

  REQUIRE(device->queues.size() == 2);
  CHECK(device->queues[0].active());
  CHECK(device->queues[0].size() == 8);
  CHECK(device->queues[0].desc_table() == driver.desc_table());
  CHECK_FALSE(device->queues[1].active());
}

TEST_CASE_METHOD(CoreTest, "A queue size written to a queue never made ready is forgotten") {
  Negotiate(kOffered);
  ConfigureQueue(0, driver);
  core.SelectQueue(1);
  core.SetQueueSize(0xffff);  // Never validated: the queue is not ready.

  core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);

  REQUIRE(device->queues.size() == 2);
  CHECK_FALSE(device->queues[1].active());
  CHECK(device->queues[1].size() == kQueue1Max);
  CHECK(core.status() == (kAck | kDriver | kFeaturesOk | kDriverOk));
}

// §2.1.1: the driver MUST NOT clear a device status bit.
TEST_CASE_METHOD(CoreTest, "Clearing a status bit is ignored") {
  Negotiate(kVersion1);

  core.WriteStatus(kAck | kFeaturesOk);

  CHECK(core.status() == (kAck | kDriver | kFeaturesOk));
}

TEST_CASE_METHOD(CoreTest, "The driver cannot set DEVICE_NEEDS_RESET itself") {
  core.WriteStatus(kAck | kNeedsReset);

  CHECK(core.status() == kAck);
}

TEST_CASE_METHOD(CoreTest, "FAILED is recorded like any other driver status bit") {
  core.WriteStatus(kAck | VIRTIO_CONFIG_S_FAILED);

  CHECK(core.status() == (kAck | VIRTIO_CONFIG_S_FAILED));
  CHECK(device->activate_calls == 0);
}

// ---- Reset (§2.1.2, §2.4). ----

TEST_CASE_METHOD(CoreTest, "Writing 0 to status resets the device, its queues and features") {
  Start();
  std::span<Queue> queues = device->queues;
  core.SelectQueue(1);

  core.WriteStatus(0);

  CHECK(device->reset_calls == 1);
  CHECK(core.status() == 0);
  CHECK(core.driver_features() == 0);
  CHECK(core.selected_queue() == 0);
  CHECK_FALSE(core.SelectedQueueReady());
  CHECK_FALSE(queues[0].active());
  CHECK(queues[0].size() == kQueue0Max);
  CHECK(queues[0].desc_table() == GuestAddress(0));
}

TEST_CASE_METHOD(CoreTest, "Reset before DRIVER_OK does not reset a device that never started") {
  Negotiate(kVersion1);

  core.WriteStatus(0);

  CHECK(device->reset_calls == 0);
  CHECK(core.status() == 0);
}

TEST_CASE_METHOD(CoreTest, "After a reset the device can be started again") {
  Start();
  core.WriteStatus(0);

  Start();

  CHECK(device->activate_calls == 2);
  REQUIRE(device->queues.size() == 2);
  CHECK(device->queues[0].active());
}

TEST_CASE_METHOD(CoreTest, "Destroying the transport resets a running device") {
  auto owner = std::make_unique<TransportCore>(device, mem, testing::MakeQueueEvents(2), interrupt);
  owner->WriteStatus(kAck | kDriver);
  owner->SetDriverFeatures(1, 1);
  owner->WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);
  REQUIRE(device->activate_calls == 1);

  owner.reset();

  CHECK(device->reset_calls == 1);
}

// ---- Queue configuration. ----

TEST_CASE_METHOD(CoreTest, "Each queue reports its own maximum size") {
  core.SelectQueue(1);

  CHECK(core.SelectedQueueMaxSize() == kQueue1Max);
}

TEST_CASE_METHOD(CoreTest, "A queue that does not exist has maximum size 0") {
  core.SelectQueue(2);

  CHECK(core.SelectedQueueMaxSize() == 0);
}

TEST_CASE_METHOD(CoreTest, "Configuring a queue that does not exist changes nothing") {
  core.SelectQueue(2);

  core.SetQueueSize(8);
  core.SetQueueAddress(TransportCore::kDescAddress, false, 0x1000);
  core.SetSelectedQueueReady(true);

  CHECK_FALSE(core.SelectedQueueReady());
}

// §4.2.2.2: while QueueReady is set the driver MUST NOT write QueueNum or
// the ring addresses.
TEST_CASE_METHOD(CoreTest, "Queue configuration writes are ignored once the queue is ready") {
  Negotiate(kVersion1);
  ConfigureQueue(0, driver);

  core.SetQueueSize(4);
  core.SetQueueAddress(TransportCore::kDescAddress, false, 0x3000);
  core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);

  REQUIRE(device->activate_calls == 1);
  CHECK(device->queues[0].size() == 8);
  CHECK(device->queues[0].desc_table() == driver.desc_table());
}

TEST_CASE_METHOD(CoreTest, "Queue configuration writes are ignored after DRIVER_OK") {
  Start();
  core.SelectQueue(1);

  core.SetQueueSize(4);
  core.SetSelectedQueueReady(true);

  CHECK(device->queues[1].size() == kQueue1Max);
  CHECK_FALSE(core.SelectedQueueReady());
}

TEST_CASE_METHOD(CoreTest, "A queue can be unreadied and reconfigured before DRIVER_OK") {
  Negotiate(kVersion1);
  ConfigureQueue(0, driver);
  core.SetSelectedQueueReady(false);

  core.SetQueueSize(4);
  core.SetSelectedQueueReady(true);
  core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);

  REQUIRE(device->activate_calls == 1);
  CHECK(device->queues[0].size() == 4);
}

// ---- DEVICE_NEEDS_RESET (§2.1.2: after setting it with DRIVER_OK set, the
// device MUST send a configuration change notification). ----

TEST_CASE_METHOD(CoreTest, "A queue size above 16 bits at DRIVER_OK sets NEEDS_RESET") {
  Negotiate(kVersion1);
  ConfigureQueue(0, driver);
  core.SetSelectedQueueReady(false);
  core.SetQueueSize(0x10008);
  core.SetSelectedQueueReady(true);

  core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);

  CHECK((core.status() & kNeedsReset) != 0);
  CHECK(interrupt.config_notifications == 1);
  CHECK(device->activate_calls == 0);
}

TEST_CASE_METHOD(CoreTest, "A misaligned ring at DRIVER_OK sets NEEDS_RESET and notifies once") {
  Negotiate(kVersion1);
  ConfigureQueue(0, driver);
  core.SetSelectedQueueReady(false);
  SetAddress(TransportCore::kUsedAddress, GuestAddress(0x3002));
  core.SetSelectedQueueReady(true);

  core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);

  CHECK(core.status() == (kAck | kDriver | kFeaturesOk | kDriverOk | kNeedsReset));
  CHECK(interrupt.config_notifications == 1);
  CHECK(device->activate_calls == 0);
}

TEST_CASE_METHOD(CoreTest, "A ring outside RAM on a second queue still fails the activation") {
  Negotiate(kVersion1);
  ConfigureQueue(0, driver);
  core.SelectQueue(1);
  core.SetQueueSize(8);
  SetAddress(TransportCore::kDescAddress, GuestAddress(0x10'0000));
  core.SetSelectedQueueReady(true);

  core.WriteStatus(kAck | kDriver | kFeaturesOk | kDriverOk);

  CHECK((core.status() & kNeedsReset) != 0);
  CHECK(device->activate_calls == 0);
}

TEST_CASE_METHOD(CoreTest, "A device that fails to start sets NEEDS_RESET") {
  device->fail_activation = true;

  Start();

  CHECK((core.status() & kNeedsReset) != 0);
  CHECK(interrupt.config_notifications == 1);
}

TEST_CASE_METHOD(CoreTest, "needs_reset from the device sets NEEDS_RESET and notifies once") {
  Start();
  REQUIRE(device->needs_reset);

  device->needs_reset();
  device->needs_reset();

  CHECK(core.status() == (kAck | kDriver | kFeaturesOk | kDriverOk | kNeedsReset));
  CHECK(interrupt.config_notifications == 1);
}

TEST_CASE_METHOD(CoreTest, "Reset clears NEEDS_RESET") {
  Start();
  device->needs_reset();

  core.WriteStatus(0);

  CHECK(core.status() == 0);
}

TEST_CASE_METHOD(CoreTest, "Status writes keep NEEDS_RESET visible until reset") {
  Start();
  device->needs_reset();

  core.WriteStatus(core.status() | VIRTIO_CONFIG_S_FAILED);

  CHECK((core.status() & kNeedsReset) != 0);
  CHECK((core.status() & VIRTIO_CONFIG_S_FAILED) != 0);
}

// ---- Notifications and configuration space. ----

TEST_CASE_METHOD(CoreTest, "Notify signals the eventfd of that queue only") {
  core.Notify(1);

  CHECK(core.queue_events()[1].Consume() == 1);
  CHECK(core.queue_events()[0].Consume() == 0);
}

TEST_CASE_METHOD(CoreTest, "Notify for a queue that does not exist is ignored") {
  core.Notify(7);

  CHECK(core.queue_events()[0].Consume() == 0);
  CHECK(core.queue_events()[1].Consume() == 0);
}

TEST_CASE_METHOD(CoreTest, "Reset drains notifications the device never saw") {
  Start();
  core.Notify(0);

  core.WriteStatus(0);

  CHECK(core.queue_events()[0].Consume() == 0);
}

TEST_CASE_METHOD(CoreTest, "Configuration space accesses reach the device") {
  device->config = {1, 2, 3, 4};
  std::array<uint8_t, 2> read{};
  const std::array<uint8_t, 1> written{9};

  core.ReadConfig(1, read);
  core.WriteConfig(3, written);

  CHECK(read == std::array<uint8_t, 2>{2, 3});
  CHECK(device->config == std::vector<uint8_t>{1, 2, 3, 9});
}

}  // namespace
}  // namespace mini_vmm::virtio
