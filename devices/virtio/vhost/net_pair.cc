#include "devices/virtio/vhost/net_pair.h"

#include "devices/virtio/vhost/features.h"
#include "devices/virtio/vhost/vring.h"
#include "devices/virtio/virtio_ring.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::vhost {
namespace {

constexpr uint32_t kRings[] = {kRxRing, kTxRing};

VringGuestAddresses GuestRing(const Queue& queue) {
  return {.size = queue.size(),
          .desc = queue.desc_table(),
          .avail = queue.avail_ring(),
          .used = queue.used_ring()};
}

// Stop runs on every device reset, which the guest triggers at will: its
// host-side failures are logged at a bounded rate too.
void LogStopFailure(const std::string& name, const Result<void>& result) {
  if (!result.ok()) {
    LOG_WARN_RATELIMITED("{}: stopping vhost-net: {}", name, result.error().ToString());
  }
}

}  // namespace

Result<std::unique_ptr<VhostNetPair>> VhostNetPair::Create(std::string name,
                                                           std::unique_ptr<VhostBackend> backend,
                                                           VhostMemoryTable& table) {
  TRY(backend->SetOwner());
  const uint64_t features = TRY(backend->GetFeatures());
  TRY(table.Attach(backend.get()));
  return std::unique_ptr<VhostNetPair>(
      new VhostNetPair(std::move(name), std::move(backend), table, features));
}

VhostNetPair::~VhostNetPair() {
  Stop();
  table_.Detach(backend_.get());
}

Result<void> VhostNetPair::Start(const PairConfig& config) {
  VMM_CHECK(!running_);
  VMM_CHECK(config.rx.queue != nullptr && config.tx.queue != nullptr);
  // The device offers ring features through OfferableWithVhost, so a
  // driver cannot have acked one vhost lacks; if it did, vhost would read
  // the ring with a layout the driver does not use.
  if (const uint64_t missing = config.driver_features & RingFeatures() & ~vhost_features_;
      missing != 0) {
    return Error::Invalid("{}: the driver negotiated ring features {:#x} that vhost-net lacks",
                          name_, missing);
  }
  const bool event_idx = (config.driver_features & (uint64_t{1} << VIRTIO_RING_F_EVENT_IDX)) != 0;
  // Both rings are checked before the kernel hears of either.
  auto rx = TranslateVring(config.memory, GuestRing(*config.rx.queue), event_idx);
  if (!rx.ok()) return Error::Invalid("{}: receive queue: {}", name_, rx.error().context());
  auto tx = TranslateVring(config.memory, GuestRing(*config.tx.queue), event_idx);
  if (!tx.ok()) return Error::Invalid("{}: transmit queue: {}", name_, tx.error().context());

  running_ = true;
  if (auto started = SetUpAndAttach(config, *rx, *tx); !started.ok()) {
    Stop();
    return started;
  }
  return {};
}

Result<void> VhostNetPair::SetUpAndAttach(const PairConfig& config, const VringHostAddresses& rx,
                                          const VringHostAddresses& tx) {
  TRY(backend_->SetFeatures(VhostFeaturesToSet(config.driver_features, vhost_features_)));
  TRY(SetUpRing(kRxRing, config.rx, rx));
  TRY(SetUpRing(kTxRing, config.tx, tx));

  watcher_ = TRY(VhostWatcher::Create(name_ + "vh", config.interrupt, errors_));
  const VringConfig* rings[] = {&config.rx, &config.tx};
  for (uint32_t ring : kRings) {
    TRY(watcher_->WatchCall(fds_[ring].call->fd(), rings[ring]->queue_index));
    TRY(watcher_->WatchErr(fds_[ring].err->fd(), rings[ring]->queue_index));
  }
  TRY(watcher_->Start());

  // Last: from here on the kernel moves frames.
  for (uint32_t ring : kRings) TRY(backend_->NetSetBackend(ring, config.tap_fd));
  return {};
}

Result<void> VhostNetPair::SetUpRing(uint32_t ring, const VringConfig& config,
                                     const VringHostAddresses& addresses) {
  const Queue& queue = *config.queue;
  TRY(backend_->SetVringNum(ring, queue.size()));
  TRY(backend_->SetVringBase(ring, queue.next_avail()));
  TRY(backend_->SetVringAddr(ring, addresses));
  TRY(backend_->SetVringKick(ring, config.kick_fd));

  RingFds& fds = fds_[ring];
  // The relay eventfd exists (and is watched) even while vhost signals an
  // irqfd directly, so UseDirectCall can switch back to it at any time.
  fds.call.emplace(TRY(EventFd::Create()));
  TRY(backend_->SetVringCall(ring,
                             config.direct_call_fd >= 0 ? config.direct_call_fd : fds.call->fd()));
  direct_call_[ring] = config.direct_call_fd >= 0 ? config.direct_call_fd : -1;
  fds.err.emplace(TRY(EventFd::Create()));
  TRY(backend_->SetVringErr(ring, fds.err->fd()));
  return {};
}

Result<void> VhostNetPair::UseDirectCall(uint32_t ring, int irqfd) {
  VMM_CHECK(running_ && ring < fds_.size());
  // The kernel swaps the eventfd under the ring's lock: a signal before the
  // swap went to the old one. One that reached the relay is delivered by
  // the watcher (through NotifyQueue, which honours the mask); one that
  // reached the irqfd was delivered by KVM.
  const int wanted = irqfd >= 0 ? irqfd : -1;
  if (wanted == direct_call_[ring]) return {};
  TRY(backend_->SetVringCall(ring, wanted >= 0 ? wanted : fds_[ring].call->fd()));
  direct_call_[ring] = wanted;
  return {};
}

void VhostNetPair::Stop() noexcept {
  if (!running_) return;
  // Detaching first: the kernel flushes its worker (no frame half-moved
  // afterwards) and lets the rings be read back and reconfigured.
  for (uint32_t ring : kRings) LogStopFailure(name_, backend_->NetSetBackend(ring, kDetach));
  for (uint32_t ring : kRings) {
    auto base = backend_->GetVringBase(ring);
    stopped_base_[ring] = base.ok() ? std::optional<uint16_t>(*base) : std::nullopt;
    if (!base.ok()) LOG_WARN_RATELIMITED("{}: {}", name_, base.error().ToString());
  }
  TearDownRings();
  running_ = false;
}

void VhostNetPair::TearDownRings() noexcept {
  // The kernel lets go of the eventfds before we stop watching and close
  // them, so no signal goes to a closed (or reused) descriptor number.
  for (uint32_t ring : kRings) {
    LogStopFailure(name_, backend_->SetVringKick(ring, kDetach));
    LogStopFailure(name_, backend_->SetVringCall(ring, kDetach));
    LogStopFailure(name_, backend_->SetVringErr(ring, kDetach));
  }
  if (watcher_) watcher_->Stop();
  watcher_.reset();
  fds_ = {};
}

}  // namespace mini_vmm::virtio::vhost
