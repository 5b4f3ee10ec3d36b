// TransportCore: the part of a virtio transport that is the same on every
// bus (virtio 1.2 §2.1-§2.2, §3.1): device status state machine, feature
// negotiation, queue selection and configuration, activation and reset.
// virtio-mmio and virtio-pci map their registers onto it.
//
// Not thread-safe: the transport serializes calls (one mutex per device).
// The device's own threads never call in; they report DEVICE_NEEDS_RESET
// through an atomic flag, so a vCPU holding the transport lock can wait for
// the device to stop without deadlocking.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "devices/virtio/device.h"
#include "devices/virtio/queue.h"
#include "vmm/base/event_fd.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::virtio {

class TransportCore {
 public:
  // `queue_events` holds one eventfd per device queue (registered with KVM
  // as ioeventfds by the VM builder). `interrupt` must outlive the core.
  TransportCore(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                std::vector<EventFd> queue_events, VirtioInterrupt& interrupt);
  ~TransportCore();
  TransportCore(const TransportCore&) = delete;
  TransportCore& operator=(const TransportCore&) = delete;

  VirtioDevice& device() { return *device_; }
  size_t num_queues() const { return queues_.size(); }
  const std::vector<EventFd>& queue_events() const { return queue_events_; }

  // Feature words (§2.2): `page` 0 is bits 0-31, 1 is bits 32-63.
  uint32_t DeviceFeatures(uint32_t page) const;
  void SetDriverFeatures(uint32_t page, uint32_t value);
  uint64_t driver_features() const { return driver_features_; }

  // Queue selection; the selected queue is nullptr if out of range.
  void SelectQueue(uint32_t index) { queue_sel_ = index; }
  uint32_t selected_queue() const { return queue_sel_; }
  uint16_t SelectedQueueMaxSize() const;
  // What the driver configured for the selected queue (virtio-pci reads
  // them back); 0 if no queue is selected.
  uint16_t SelectedQueueSize() const;
  uint64_t SelectedQueueAddress(int which) const;  // which: as SetQueueAddress
  // Writes to the selected queue's configuration; ignored (and logged,
  // rate-limited) while the queue is ready or the driver is running, since
  // §4.2.3.2 forbids them then.
  void SetQueueSize(uint32_t size);
  void SetQueueAddress(int which, bool high, uint32_t value);  // which: 0 desc, 1 avail, 2 used
  bool SelectedQueueReady() const;
  void SetSelectedQueueReady(bool ready);
  // QueueNotify written to the transport itself (no ioeventfd matched).
  void Notify(uint32_t queue);

  uint8_t status() const;
  void WriteStatus(uint8_t status);

  // Stops the device for good (VM teardown): returns once no device thread
  // touches the queues, guest memory or the interrupt any more, and the
  // device is never activated again, whatever the driver writes.
  void Shutdown();

  void ReadConfig(uint64_t offset, std::span<uint8_t> data);
  void WriteConfig(uint64_t offset, std::span<const uint8_t> data);
  uint32_t config_generation() const { return config_generation_; }

  static constexpr int kDescAddress = 0;
  static constexpr int kAvailAddress = 1;
  static constexpr int kUsedAddress = 2;

 private:
  Queue* SelectedQueue();
  const Queue* SelectedQueue() const;
  bool QueueConfigLocked(const char* what) const;
  bool FeaturesAcceptable() const;
  void Activate();
  void Reset();
  void RequestReset() noexcept;

  std::shared_ptr<VirtioDevice> device_;
  const GuestMemory& memory_;
  std::vector<EventFd> queue_events_;
  VirtioInterrupt& interrupt_;

  std::vector<Queue> queues_;
  std::vector<bool> queue_ready_;
  uint32_t queue_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint8_t status_ = 0;
  bool activated_ = false;
  bool shut_down_ = false;
  uint32_t config_generation_ = 0;
  // Set by the device (any thread) or by a failed activation.
  std::shared_ptr<std::atomic<bool>> needs_reset_;
};

}  // namespace mini_vmm::virtio
