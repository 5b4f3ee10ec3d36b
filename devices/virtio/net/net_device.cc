#include "devices/virtio/net/net_device.h"

#include <linux/if_tun.h>
#include <linux/virtio_config.h>

#include <algorithm>
#include <cstring>

#include "devices/virtio/net/frame.h"
#include "devices/virtio/vhost/features.h"
#include "devices/virtio/virtio_ring.h"
#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {
namespace {

constexpr uint64_t Bit(unsigned feature) { return uint64_t{1} << feature; }

uint64_t Features(uint16_t pairs) {
  uint64_t features =
      Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX) | Bit(VIRTIO_RING_F_INDIRECT_DESC) |
      Bit(VIRTIO_NET_F_MAC) | Bit(VIRTIO_NET_F_STATUS) | Bit(VIRTIO_NET_F_MRG_RXBUF) |
      Bit(VIRTIO_NET_F_CTRL_VQ) |
      // Offloads pass through the tap's vnet header untouched: the host
      // kernel checksums and segments what the guest sends (CSUM, HOST_TSO),
      // and the guest takes what TUNSETOFFLOAD lets the tap hand it
      // (GUEST_CSUM, GUEST_TSO). §5.1.3.1: TSO needs the matching CSUM.
      Bit(VIRTIO_NET_F_CSUM) | Bit(VIRTIO_NET_F_HOST_TSO4) | Bit(VIRTIO_NET_F_HOST_TSO6) |
      Bit(VIRTIO_NET_F_GUEST_CSUM) | Bit(VIRTIO_NET_F_GUEST_TSO4) | Bit(VIRTIO_NET_F_GUEST_TSO6);
  if (pairs > 1) features |= Bit(VIRTIO_NET_F_MQ);
  return features;
}

// What the guest accepts in received frames, as the tap's offload flags.
unsigned TunOffloads(uint64_t driver_features) {
  const auto has = [&](unsigned f) { return (driver_features & Bit(f)) != 0; };
  unsigned offloads = 0;
  if (has(VIRTIO_NET_F_GUEST_CSUM)) {
    offloads |= TUN_F_CSUM;
    // The tap may only hand over segmentation work with partial checksums.
    if (has(VIRTIO_NET_F_GUEST_TSO4)) offloads |= TUN_F_TSO4;
    if (has(VIRTIO_NET_F_GUEST_TSO6)) offloads |= TUN_F_TSO6;
  }
  return offloads;
}

}  // namespace

Result<std::shared_ptr<NetDevice>> NetDevice::Create(std::unique_ptr<Tap> tap,
                                                     NetDeviceOptions options) {
  VMM_CHECK(options.queue_pairs >= 1 && options.queue_pairs <= kMaxQueuePairs);
  VMM_CHECK(tap->queue_count() >= options.queue_pairs);
  // Until the driver asks for more pairs (VQ_PAIRS_SET), the kernel steers
  // every frame to queue 0, the only one served (§5.1.6.5.5).
  for (uint16_t q = 1; q < options.queue_pairs; ++q) TRY(tap->SetQueueEnabled(q, false));
  std::unique_ptr<VhostDataPath> vhost;
  if (!options.vhost.empty()) {
    VMM_CHECK(options.vhost.size() == options.queue_pairs);
    vhost = TRY(VhostDataPath::Create(options.name, std::move(options.vhost)));
  }
  return std::make_shared<NetDevice>(std::move(tap), std::move(options), std::move(vhost));
}

NetDevice::NetDevice(std::unique_ptr<Tap> tap, NetDeviceOptions options,
                     std::unique_ptr<VhostDataPath> vhost)
    : tap_(std::move(tap)),
      name_(std::move(options.name)),
      max_pairs_(options.queue_pairs),
      // With vhost, only the ring features the kernel implements.
      features_(
          vhost ? vhost::OfferableWithVhost(Features(options.queue_pairs), vhost->vhost_features())
                : Features(options.queue_pairs)),
      vhost_(std::move(vhost)) {
  queue_max_sizes_.assign(2 * size_t{max_pairs_}, kQueueSize);
  queue_max_sizes_.push_back(kControlQueueSize);
  std::memcpy(config_.mac, options.mac.data(), sizeof(config_.mac));
  config_.status = VIRTIO_NET_S_LINK_UP;  // The tap's carrier is not watched: always up.
  config_.max_virtqueue_pairs = max_pairs_;
}

NetDevice::~NetDevice() { Reset(); }

void NetDevice::ReadConfig(uint64_t offset, std::span<uint8_t> data) {
  // The fields of offered features (mac, status, max_virtqueue_pairs),
  // zeros for the rest (device.h's contract for reads past the end).
  std::fill(data.begin(), data.end(), 0);
  const size_t size = offsetof(virtio_net_config, mtu);
  if (offset >= size) return;
  const size_t n = std::min<size_t>(data.size(), size - offset);
  std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&config_) + offset, n);
}

void NetDevice::WriteConfig(uint64_t offset, std::span<const uint8_t> data) {
  // §5.1.4: every field is read-only for a VERSION_1 driver (the MAC is
  // changed through VIRTIO_NET_CTRL_MAC_ADDR_SET, not offered).
  LOG_DEBUG_RATELIMITED("{}: driver wrote {} bytes of configuration at {:#x}; ignored", name_,
                        data.size(), offset);
}

Result<void> NetDevice::ConfigureTap(uint64_t driver_features) {
  TRY(tap_->SetVnetHeaderSize(static_cast<int>(HeaderBytes(driver_features))));
  TRY(tap_->SetOffload(TunOffloads(driver_features)));
  // Every tap queue, not just the pairs served now: a previous session may
  // have attached some, and frames steered to an unserved queue would sit
  // there unread.
  for (uint16_t q = 0; q < max_pairs_; ++q) TRY(tap_->SetQueueEnabled(q, q == 0));
  return {};
}

NetWorker::Session NetDevice::MakeSession(const ActivateContext& context, uint16_t pair,
                                          size_t header_bytes, bool mergeable) {
  const size_t rx = 2 * size_t{pair};
  return NetWorker::Session{.pair = QueuePair::Config{.name = name_ + "q" + std::to_string(pair),
                                                      .index = pair,
                                                      .rx = context.queues[rx],
                                                      .tx = context.queues[rx + 1],
                                                      .header_bytes = header_bytes,
                                                      .mergeable = mergeable},
                            .rx_kick = context.queue_events[rx],
                            .tx_kick = context.queue_events[rx + 1],
                            .tap = *tap_,
                            .interrupt = context.interrupt,
                            .needs_reset = context.needs_reset,
                            .rx_enabled = pair == 0,
                            .control = std::nullopt};
}

std::optional<NetWorker::Control> NetDevice::MakeControl(const ActivateContext& context,
                                                         uint16_t pairs) {
  const auto negotiated = [&](unsigned f) { return (context.driver_features & Bit(f)) != 0; };
  const size_t control = 2 * size_t{pairs};
  if (!negotiated(VIRTIO_NET_F_CTRL_VQ) || !context.queues[control].active()) return std::nullopt;
  return NetWorker::Control{.queue = context.queues[control],
                            .kick = context.queue_events[control],
                            .queue_index = static_cast<uint16_t>(control),
                            .context = {.mq = negotiated(VIRTIO_NET_F_MQ), .max_pairs = max_pairs_},
                            .set_pairs = [this](uint16_t n) {
                              if (vhost_) {
                                SetActiveVhostPairs(n);
                              } else {
                                SetActivePairs(n);
                              }
                            }};
}

Result<void> NetDevice::Activate(const ActivateContext& context) {
  VMM_CHECK(workers_.empty());  // The transport resets before activating again.
  VMM_CHECK(!vhost_ || !vhost_->running());
  VMM_CHECK(context.queues.size() == queue_max_sizes_.size() &&
            context.queue_events.size() == queue_max_sizes_.size());
  const auto negotiated = [&](unsigned f) { return (context.driver_features & Bit(f)) != 0; };
  // §5.1.2: without MQ only the first pair exists and the control queue
  // follows it.
  const uint16_t pairs = negotiated(VIRTIO_NET_F_MQ) ? max_pairs_ : 1;
  const size_t header_bytes = HeaderBytes(context.driver_features);
  TRY(ConfigureTap(context.driver_features));
  active_pairs_.store(1, std::memory_order_relaxed);
  if (vhost_) {
    return vhost_->Start(context, *tap_, pairs, MakeControl(context, pairs), counters_);
  }

  std::vector<std::unique_ptr<NetWorker>> workers;
  for (uint16_t pair = 0; pair < pairs; ++pair) {
    NetWorker::Session session =
        MakeSession(context, pair, header_bytes, negotiated(VIRTIO_NET_F_MRG_RXBUF));
    if (pair == 0) {
      if (auto control = MakeControl(context, pairs)) session.control.emplace(std::move(*control));
    }
    workers.push_back(TRY(NetWorker::Create(std::move(session), counters_)));
  }
  // Every worker exists before any thread runs: pair 0's thread may walk
  // workers_ for VQ_PAIRS_SET as soon as it starts.
  workers_ = std::move(workers);
  for (auto& worker : workers_) {
    if (auto started = worker->Start(); !started.ok()) {
      Reset();
      return started;
    }
  }
  return {};
}

// On pair 0's thread. Other workers switch their rx on their own threads.
void NetDevice::SetActivePairs(uint16_t pairs) {
  active_pairs_.store(pairs, std::memory_order_relaxed);
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->SetRxEnabled(i < pairs);
}

void NetDevice::SetActiveVhostPairs(uint16_t pairs) {
  active_pairs_.store(pairs, std::memory_order_relaxed);
  // Frames for a pair the driver does not use would sit unread; vhost keeps
  // its rings either way and simply sees no frames on a detached queue.
  for (uint16_t q = 0; q < max_pairs_; ++q) {
    if (auto set = tap_->SetQueueEnabled(q, q < pairs); !set.ok()) {
      LOG_WARN_RATELIMITED("{}: {}", name_, set.error().ToString());
    }
  }
}

void NetDevice::Reset() {
  if (vhost_) vhost_->Stop();
  // Every thread stops before any worker goes: pair 0's thread may be
  // calling into the others (SetActivePairs).
  for (auto& worker : workers_) worker->Stop();
  workers_.clear();
}

}  // namespace mini_vmm::virtio::net
