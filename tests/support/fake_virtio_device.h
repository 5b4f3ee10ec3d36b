// Fakes for the virtio device model: a device with fixed features that
// records what the transport does to it, and a VirtioInterrupt that counts.
//
//   auto device = std::make_shared<FakeVirtioDevice>(VIRTIO_ID_BLOCK, kFeatures,
//                                                    std::vector<uint16_t>{256});
//   FakeVirtioInterrupt interrupt;
//   TransportCore core(device, mem, MakeQueueEvents(1), interrupt);
//   ... drive the status machine ...
//   CHECK(device->activate_calls == 1);
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "devices/virtio/device.h"
#include "vmm/base/check.h"
#include "vmm/base/event_fd.h"

namespace mini_vmm::testing {

class FakeVirtioDevice final : public virtio::VirtioDevice {
 public:
  FakeVirtioDevice(uint32_t type, uint64_t features, std::vector<uint16_t> queue_max_sizes)
      : type_(type), features_(features), queue_max_sizes_(std::move(queue_max_sizes)) {}

  std::string_view name() const override { return "fake"; }
  uint32_t device_type() const override { return type_; }
  uint64_t features() const override { return features_; }
  std::span<const uint16_t> queue_max_sizes() const override { return queue_max_sizes_; }

  // Reads `config`; bytes past its end read as zero.
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    last_config_offset = offset;
    for (size_t i = 0; i < data.size(); ++i) {
      const uint64_t at = offset + i;
      data[i] = at < config.size() ? config[static_cast<size_t>(at)] : 0;
    }
  }
  // Writes land in `config` (bytes past its end are dropped).
  void WriteConfig(uint64_t offset, std::span<const uint8_t> data) override {
    last_config_offset = offset;
    for (size_t i = 0; i < data.size(); ++i) {
      const uint64_t at = offset + i;
      if (at < config.size()) config[static_cast<size_t>(at)] = data[i];
    }
  }

  Result<void> Activate(const virtio::ActivateContext& context) override {
    ++activate_calls;
    activated_features = context.driver_features;
    queues = context.queues;
    interrupt = &context.interrupt;
    needs_reset = context.needs_reset;
    if (fail_activation) return Error::Invalid("fake device refuses to start");
    return {};
  }
  void Reset() override {
    ++reset_calls;
    queues = {};
    interrupt = nullptr;
    needs_reset = nullptr;
  }

  // Configuration space contents; tests fill it.
  std::vector<uint8_t> config;
  uint64_t last_config_offset = 0;
  // Make the next Activate() fail like a host error (no thread, ...).
  bool fail_activation = false;

  int activate_calls = 0;
  int reset_calls = 0;
  // What the last Activate() received (cleared by Reset()).
  uint64_t activated_features = 0;
  std::span<virtio::Queue> queues;
  virtio::VirtioInterrupt* interrupt = nullptr;
  std::function<void()> needs_reset;

 private:
  uint32_t type_;
  uint64_t features_;
  std::vector<uint16_t> queue_max_sizes_;
};

// Counts notifications, per queue and for configuration changes.
class FakeVirtioInterrupt final : public virtio::VirtioInterrupt {
 public:
  void NotifyQueue(uint16_t queue) noexcept override {
    ++queue_notifications;
    last_queue = queue;
  }
  void NotifyConfigChange() noexcept override { ++config_notifications; }

  int queue_notifications = 0;
  uint16_t last_queue = 0;
  int config_notifications = 0;
};

// One fresh eventfd per queue.
inline std::vector<EventFd> MakeQueueEvents(size_t count) {
  std::vector<EventFd> events;
  for (size_t i = 0; i < count; ++i) {
    auto fd = EventFd::Create();
    VMM_CHECK(fd.ok());
    events.push_back(std::move(fd).value());
  }
  return events;
}

}  // namespace mini_vmm::testing
