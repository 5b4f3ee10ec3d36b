#include "devices/virtio/net/vhost_data_path.h"

#include <linux/virtio_config.h>

#include "devices/virtio/vhost/vhost_kernel.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {

Result<std::unique_ptr<VhostDataPath>> VhostDataPath::Create(
    std::string name, std::vector<std::unique_ptr<vhost::VhostBackend>> backends) {
  VMM_CHECK(!backends.empty());
  std::unique_ptr<VhostDataPath> path(new VhostDataPath(
      name, std::make_unique<vhost::VhostMemoryTable>(vhost::VhostMaxMemRegions())));
  TRY(path->ram_.AddListener(path->table_.get()));
  path->vhost_features_ = ~uint64_t{0};
  for (size_t i = 0; i < backends.size(); ++i) {
    auto pair = TRY(vhost::VhostNetPair::Create(name + "q" + std::to_string(i),
                                                std::move(backends[i]), *path->table_));
    path->vhost_features_ &= pair->vhost_features();
    path->pairs_.push_back(std::move(pair));
  }
  return path;
}

VhostDataPath::~VhostDataPath() {
  Stop();
  pairs_.clear();  // Each detaches from table_.
  ram_.RemoveListener(table_.get());
}

Result<void> VhostDataPath::FillMemory(const GuestMemory& memory) {
  if (ram_filled_) return {};
  for (const GuestRegion& region : memory.regions()) {
    TRY(ram_.Add({.start = region.start(), .size = region.size(), .host = region.host_address()}));
  }
  ram_filled_ = true;
  return {};
}

Result<void> VhostDataPath::Start(const ActivateContext& context, Tap& tap, uint16_t pairs,
                                  std::optional<NetWorker::Control> control,
                                  NetCounters& counters) {
  VMM_CHECK(!running_ && pairs <= pairs_.size());
  TRY(FillMemory(context.memory));
  running_ = true;
  for (uint16_t p = 0; p < pairs; ++p) {
    const size_t rx = 2 * size_t{p};
    // §2.7: the driver may leave a queue unused; a pair is carried only
    // when both of its queues are ready (validated by the transport).
    if (!context.queues[rx].active() || !context.queues[rx + 1].active()) continue;
    const auto rx_index = static_cast<uint16_t>(rx);
    const auto tx_index = static_cast<uint16_t>(rx + 1);
    auto started = pairs_[p]->Start(
        vhost::PairConfig{.memory = context.memory,
                          .rx = {.queue_index = rx_index,
                                 .queue = &context.queues[rx],
                                 .kick_fd = context.queue_events[rx].fd(),
                                 .direct_call_fd = context.interrupt.DirectQueueEventFd(rx_index)},
                          .tx = {.queue_index = tx_index,
                                 .queue = &context.queues[rx + 1],
                                 .kick_fd = context.queue_events[rx + 1].fd(),
                                 .direct_call_fd = context.interrupt.DirectQueueEventFd(tx_index)},
                          .tap_fd = tap.fd(p),
                          .driver_features = context.driver_features,
                          .interrupt = context.interrupt});
    if (!started.ok()) {
      Stop();
      return started;
    }
  }
  interrupt_ = &context.interrupt;
  interrupt_->SetDirectListener(
      [this](uint16_t queue, int fd) { OnDirectQueueEventFd(queue, fd); });
  if (control) {
    auto worker = ControlWorker::Create(name_ + "ctl", std::move(*control), context.interrupt,
                                        context.needs_reset, counters);
    Result<void> started = worker.ok() ? (*worker)->Start() : Result<void>(worker.error());
    if (!started.ok()) {
      Stop();
      return started;
    }
    control_ = std::move(worker).value();
  }
  return {};
}

void VhostDataPath::OnDirectQueueEventFd(uint16_t queue, int fd) noexcept {
  const size_t pair = queue / 2;
  if (!running_ || pair >= pairs_.size() || !pairs_[pair]->running()) return;  // Control queue too.
  const uint32_t ring = queue % 2 == 0 ? vhost::kRxRing : vhost::kTxRing;
  if (auto switched = pairs_[pair]->UseDirectCall(ring, fd); !switched.ok()) {
    // vhost keeps signalling what it had: the relay still delivers (or
    // leaves pending), while a kept irqfd fires even though the vector is
    // masked: spurious, which drivers tolerate, but never lost.
    LOG_WARN_RATELIMITED("{}: queue {}: {}", name_, queue, switched.error().ToString());
  }
}

void VhostDataPath::Stop() noexcept {
  if (!running_) return;
  if (interrupt_ != nullptr) interrupt_->SetDirectListener({});
  interrupt_ = nullptr;
  if (control_) control_->Stop();
  control_.reset();
  for (auto& pair : pairs_) pair->Stop();
  running_ = false;
}

}  // namespace mini_vmm::virtio::net
