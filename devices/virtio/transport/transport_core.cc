#include "devices/virtio/transport/transport_core.h"

#include <linux/virtio_config.h>

#include "devices/virtio/virtio_ring.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio {
namespace {

constexpr uint64_t kVersion1 = 1ull << VIRTIO_F_VERSION_1;

bool IsSet(uint8_t status, uint8_t bit) { return (status & bit) != 0; }

}  // namespace

TransportCore::TransportCore(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                             std::vector<EventFd> queue_events, VirtioInterrupt& interrupt)
    : device_(std::move(device)),
      memory_(memory),
      queue_events_(std::move(queue_events)),
      interrupt_(interrupt),
      needs_reset_(std::make_shared<std::atomic<bool>>(false)) {
  for (uint16_t max : device_->queue_max_sizes()) queues_.emplace_back(max);
  queue_ready_.assign(queues_.size(), false);
  VMM_CHECK(queue_events_.size() == queues_.size());
}

TransportCore::~TransportCore() {
  if (activated_) device_->Reset();
}

uint32_t TransportCore::DeviceFeatures(uint32_t page) const {
  if (page > 1) return 0;
  return static_cast<uint32_t>(device_->features() >> (32 * page));
}

void TransportCore::SetDriverFeatures(uint32_t page, uint32_t value) {
  // §2.2.2: features are fixed once FEATURES_OK is set.
  if (page > 1 || IsSet(status_, VIRTIO_CONFIG_S_FEATURES_OK)) return;
  const uint64_t mask = 0xffffffffull << (32 * page);
  driver_features_ = (driver_features_ & ~mask) | (uint64_t{value} << (32 * page));
}

Queue* TransportCore::SelectedQueue() {
  return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}
const Queue* TransportCore::SelectedQueue() const {
  return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

uint16_t TransportCore::SelectedQueueMaxSize() const {
  const Queue* q = SelectedQueue();
  return q ? q->max_size() : 0;  // §4.2.2: 0 means "no such queue".
}

uint16_t TransportCore::SelectedQueueSize() const {
  const Queue* q = SelectedQueue();
  return q ? q->size() : 0;
}

uint64_t TransportCore::SelectedQueueAddress(int which) const {
  const Queue* q = SelectedQueue();
  if (q == nullptr) return 0;
  const GuestAddress address = which == kDescAddress    ? q->desc_table()
                               : which == kAvailAddress ? q->avail_ring()
                                                        : q->used_ring();
  return address.value();
}

bool TransportCore::QueueConfigLocked(const char* what) const {
  if (SelectedQueue() == nullptr) return true;
  if (queue_ready_[queue_sel_] || IsSet(status_, VIRTIO_CONFIG_S_DRIVER_OK)) {
    LOG_WARN_RATELIMITED("virtio {}: driver wrote {} of live queue {}; ignored", device_->name(),
                         what, queue_sel_);
    return true;
  }
  return false;
}

void TransportCore::SetQueueSize(uint32_t size) {
  if (QueueConfigLocked("the size")) return;
  // Out-of-range sizes are kept (truncated to 16 bits only if they fit) and
  // refused at activation, where the driver learns through NEEDS_RESET.
  SelectedQueue()->set_size(size > 0xffff ? 0 : static_cast<uint16_t>(size));
}

void TransportCore::SetQueueAddress(int which, bool high, uint32_t value) {
  if (QueueConfigLocked("an address")) return;
  Queue& q = *SelectedQueue();
  const GuestAddress old = which == kDescAddress    ? q.desc_table()
                           : which == kAvailAddress ? q.avail_ring()
                                                    : q.used_ring();
  const uint64_t shift = high ? 32 : 0;
  const uint64_t mask = 0xffffffffull << shift;
  const GuestAddress updated((old.value() & ~mask) | (uint64_t{value} << shift));
  if (which == kDescAddress) {
    q.set_desc_table(updated);
  } else if (which == kAvailAddress) {
    q.set_avail_ring(updated);
  } else {
    q.set_used_ring(updated);
  }
}

bool TransportCore::SelectedQueueReady() const {
  return SelectedQueue() != nullptr && queue_ready_[queue_sel_];
}

void TransportCore::SetSelectedQueueReady(bool ready) {
  if (SelectedQueue() == nullptr || IsSet(status_, VIRTIO_CONFIG_S_DRIVER_OK)) return;
  queue_ready_[queue_sel_] = ready;
}

void TransportCore::Notify(uint32_t queue) {
  if (queue < queue_events_.size()) queue_events_[queue].Signal();
}

uint8_t TransportCore::status() const {
  return static_cast<uint8_t>(
      status_ | (needs_reset_->load(std::memory_order_acquire) ? VIRTIO_CONFIG_S_NEEDS_RESET : 0));
}

bool TransportCore::FeaturesAcceptable() const {
  // §2.2.1: the driver MUST NOT accept a feature the device did not offer;
  // mini-vmm offers only modern (VERSION_1) devices (§2.2.2 lets the device
  // fail FEATURES_OK for a subset it cannot support).
  return (driver_features_ & ~device_->features()) == 0 && (driver_features_ & kVersion1) != 0;
}

void TransportCore::WriteStatus(uint8_t value) {
  if (value == 0) {
    Reset();
    return;
  }
  // §2.1.1: the driver MUST NOT clear a status bit (only reset can).
  if ((status_ & ~value) != 0) {
    LOG_WARN_RATELIMITED("virtio {}: driver cleared status bits {:#x}; ignored", device_->name(),
                         status_ & ~value);
    return;
  }
  uint8_t next = value & static_cast<uint8_t>(~VIRTIO_CONFIG_S_NEEDS_RESET);
  const uint8_t added = next & static_cast<uint8_t>(~status_);
  if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !FeaturesAcceptable()) {
    // §3.1.1: the driver re-reads the status, sees FEATURES_OK clear, and
    // gives up on the device.
    next &= static_cast<uint8_t>(~VIRTIO_CONFIG_S_FEATURES_OK);
  }
  if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !IsSet(next, VIRTIO_CONFIG_S_FEATURES_OK)) {
    next &= static_cast<uint8_t>(~VIRTIO_CONFIG_S_DRIVER_OK);
  }
  status_ = next;
  if (added & next & VIRTIO_CONFIG_S_DRIVER_OK) Activate();
}

void TransportCore::Activate() {
  if (shut_down_) return;
  const bool event_idx = driver_features_ & (1ull << VIRTIO_RING_F_EVENT_IDX);
  const bool indirect = driver_features_ & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
  for (size_t i = 0; i < queues_.size(); ++i) {
    if (!queue_ready_[i]) {
      // Only ready queues count. A queue the driver never enabled is not
      // validated, so whatever it wrote there (QueueNum = 0xffff, say) is
      // forgotten rather than handed to a device that might size its
      // tables from it.
      queues_[i].Reset();
      continue;
    }
    if (auto error = queues_[i].Activate(memory_, event_idx, indirect)) {
      LOG_WARN_RATELIMITED("virtio {}: queue {} configuration refused: {}", device_->name(), i,
                           QueueConfigErrorName(*error));
      RequestReset();
      return;
    }
  }
  auto flag = needs_reset_;
  VirtioInterrupt* interrupt = &interrupt_;
  ActivateContext context{
      memory_, queues_, queue_events_, interrupt_, driver_features_, [flag, interrupt] {
        if (!flag->exchange(true)) interrupt->NotifyConfigChange();
      }};
  if (auto started = device_->Activate(context); !started.ok()) {
    LOG_ERROR("virtio {}: cannot start the device: {}", device_->name(),
              started.error().ToString());
    RequestReset();
    return;
  }
  activated_ = true;
}

void TransportCore::RequestReset() noexcept {
  // §2.1.2: with DRIVER_OK set, the device MUST send a configuration change
  // notification after setting DEVICE_NEEDS_RESET.
  if (!needs_reset_->exchange(true)) interrupt_.NotifyConfigChange();
}

void TransportCore::Reset() {
  // §2.4: after reset the device is as freshly created.
  if (activated_) device_->Reset();
  activated_ = false;
  for (Queue& q : queues_) q.Reset();
  queue_ready_.assign(queues_.size(), false);
  for (const EventFd& e : queue_events_) e.Consume();
  queue_sel_ = 0;
  driver_features_ = 0;
  status_ = 0;
  needs_reset_->store(false, std::memory_order_release);
}

void TransportCore::Shutdown() {
  if (activated_) device_->Reset();
  activated_ = false;
  shut_down_ = true;
}

void TransportCore::ReadConfig(uint64_t offset, std::span<uint8_t> data) {
  device_->ReadConfig(offset, data);
}

void TransportCore::WriteConfig(uint64_t offset, std::span<const uint8_t> data) {
  device_->WriteConfig(offset, data);
}

}  // namespace mini_vmm::virtio
