// DeviceTest: a BlockDevice over a temporary disk, activated on a real
// Queue that a VirtQueueDriver feeds, with a recording interrupt and the
// kick eventfd in the test's hands -- everything the transport would
// provide, without KVM.
#pragma once

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "devices/virtio/blk/block_device.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/virtqueue_driver.h"
#include "tests/unit/devices/virtio/blk/blk_test_util.h"

namespace mini_vmm::virtio::blk::testing {

using ::mini_vmm::testing::ChainBuilder;
using ::mini_vmm::testing::VirtQueueDriver;

class RecordingInterrupt final : public VirtioInterrupt {
 public:
  void NotifyQueue(uint16_t queue) noexcept override {
    if (queue == 0) queue_notifications.fetch_add(1);
  }
  void NotifyConfigChange() noexcept override { config_changes.fetch_add(1); }

  std::atomic<int> queue_notifications{0};
  std::atomic<int> config_changes{0};
};

inline constexpr uint64_t kDiskSectors = 128;
inline constexpr uint8_t kDiskFill = 0x11;
inline constexpr uint16_t kDriverQueueSize = 16;
inline constexpr uint64_t kDriverFeatures =
    (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |
    (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
inline constexpr uint64_t kEventIdx = 1ull << VIRTIO_RING_F_EVENT_IDX;

// Polls `done` for up to five seconds.
inline bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class DeviceTest {
 protected:
  DeviceTest() { events_.push_back(std::move(EventFd::Create().value())); }

  // Opens the disk and makes the device, with a real backend or `backend`.
  void MakeDevice(bool read_only = false, BackendKind kind = BackendKind::kUring,
                  std::unique_ptr<DiskBackend> backend = nullptr) {
    auto image = DiskImage::Open(
        {.path = disk_.path(), .read_only = read_only, .serial = "blk-test-serial"});
    REQUIRE(image.ok());
    if (backend) {
      device_ = std::make_shared<BlockDevice>(std::move(image).value(), std::move(backend),
                                              "virtio-blk-test");
      return;
    }
    auto device =
        BlockDevice::Create(std::move(image).value(), {.name = "virtio-blk-test", .backend = kind});
    REQUIRE(device.ok());
    device_ = std::move(device).value();
  }

  // What the transport does at DRIVER_OK.
  void Activate(VirtQueueDriver& driver, uint64_t features = kDriverFeatures) {
    driver.Configure(queue_);
    const bool event_idx = (features & kEventIdx) != 0;
    REQUIRE_FALSE(queue_.Activate(mem_, event_idx, /*indirect_desc=*/true).has_value());
    ActivateContext context{mem_,     std::span<Queue>(&queue_, 1),         events_, interrupt_,
                            features, [this] { needs_reset_.fetch_add(1); }};
    REQUIRE(device_->Activate(context).ok());
  }
  void Activate(uint64_t features = kDriverFeatures) { Activate(driver_, features); }

  // What the transport does at a reset.
  void ResetDevice() {
    device_->Reset();
    queue_.Reset();
    events_[0].Consume();
  }

  void Kick() { events_[0].Signal(); }

  VirtQueueDriver::UsedElement WaitUsed(VirtQueueDriver& driver) {
    std::optional<VirtQueueDriver::UsedElement> used;
    REQUIRE(Eventually([&] { return (used = driver.NextUsed()).has_value(); }));
    return *used;
  }
  VirtQueueDriver::UsedElement WaitUsed() { return WaitUsed(driver_); }

  uint8_t StatusAt(GuestAddress addr) { return driver_.ReadBytes(addr, 1)[0]; }

  TempDisk disk_{kDiskSectors * 512, kDiskFill};
  GuestMemory mem_ = ::mini_vmm::testing::MakeGuestMemory(0, 16 << 20);
  VirtQueueDriver driver_{mem_, GuestAddress(0), kDriverQueueSize};
  Queue queue_{BlockDevice::kQueueSize};
  std::vector<EventFd> events_;
  RecordingInterrupt interrupt_;
  std::atomic<int> needs_reset_{0};
  std::shared_ptr<BlockDevice> device_;  // Last: stopped before the rest goes.
};

}  // namespace mini_vmm::virtio::blk::testing
