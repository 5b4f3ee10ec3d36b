#include "devices/virtio/net/queue_pair.h"

#include <variant>

#include "devices/virtio/net/tx.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {

QueuePair::QueuePair(Config config, Tap& tap, VirtioInterrupt& interrupt, NetCounters& counters)
    : config_(std::move(config)),
      tap_(tap),
      interrupt_(interrupt),
      counters_(counters),
      rx_path_(config_.name, config_.rx, config_.header_bytes, config_.mergeable, counters) {}

// The loop of queue.h: drain with notifications off, turn them on and look
// once more, so a chain added in between is not missed.
bool QueuePair::ProcessTx(uint32_t budget) {
  if (faulted_ || !config_.tx.active()) return false;
  Queue& tx = config_.tx;
  uint32_t used = 0;
  bool more = false;
  for (;;) {
    tx.DisableNotification();
    while (used < budget) {
      std::optional<DescriptorChain> chain = tx.Pop();
      if (!chain) break;
      SendChain(std::move(*chain));
      ++used;
    }
    if (CheckFault(tx)) return false;
    if (used == budget) {
      more = true;  // Notifications stay off: the caller comes back.
      break;
    }
    if (!tx.EnableNotification()) break;
  }
  Notify(tx, static_cast<uint16_t>(2 * config_.index + 1), used);
  return more;
}

void QueuePair::SendChain(DescriptorChain chain) {
  auto frame = GatherTxFrame(chain, config_.header_bytes);
  if (const TxFault* fault = std::get_if<TxFault>(&frame)) {
    // §5.1.6.2 leaves a bad tx chain's fate to the device: drop it, count
    // it, and give the buffers back so the driver does not stall.
    counters_.Count(*fault);
    LOG_WARN_RATELIMITED("{}: dropped a frame: {}", config_.name, TxFaultName(*fault));
  } else if (auto written =
                 tap_.Write(config_.index, std::span<const iovec>(std::get<IovecList>(frame)));
             !written.ok()) {
    // The tap refuses frames it cannot take (a bad GSO header, the
    // interface down): the host's business, not a reason to stop.
    counters_.tx_errors.fetch_add(1, std::memory_order_relaxed);
    LOG_WARN_RATELIMITED("{}: {}", config_.name, written.error().ToString());
  } else {
    counters_.tx_frames.fetch_add(1, std::memory_order_relaxed);
  }
  // §5.1.6.2.1: tx buffers are device-readable only, so nothing was written.
  config_.tx.AddUsed(std::move(chain), 0);
}

QueuePair::RxStop QueuePair::ProcessRx(uint32_t budget) {
  if (faulted_) return RxStop::kFault;
  Queue& rx = config_.rx;
  RxStop stop = RxStop::kBudget;
  // Kicks are only wanted while we wait for buffers (below).
  rx.DisableNotification();
  for (uint32_t round = 0; round < budget; ++round) {
    if (!rx_path_.has_frame()) {
      auto read = tap_.Read(config_.index, rx_path_.frame_buffer());
      if (!read.ok()) {
        counters_.rx_errors.fetch_add(1, std::memory_order_relaxed);
        LOG_WARN_RATELIMITED("{}: {}", config_.name, read.error().ToString());
        // The caller stops polling a failing tap (it would report ready
        // forever); the driver's next rx buffer is what tries it again, so
        // ask for that kick.
        rx.EnableNotification();
        stop = RxStop::kTapError;
        break;
      }
      if (*read == 0) {
        stop = RxStop::kTapEmpty;
        break;
      }
      rx_path_.set_frame_length(*read);
    }
    if (rx_path_.Place() != RxPath::Placement::kNeedBuffers) continue;
    if (CheckFault(rx)) return RxStop::kFault;
    // Out of buffers: ask for a kick, then look again, since the driver
    // may have added buffers before it saw the request (no lost wakeup).
    if (rx.EnableNotification()) {
      rx.DisableNotification();
      continue;
    }
    counters_.rx_stalls.fetch_add(1, std::memory_order_relaxed);
    stop = RxStop::kNoBuffers;
    break;
  }
  if (CheckFault(rx)) return RxStop::kFault;
  Notify(rx, static_cast<uint16_t>(2 * config_.index), rx_path_.TakeUsedCount());
  return stop;
}

// A queue fault is ring-level corruption: nothing the ring says can be
// trusted any more (§2.1.2: the device sets DEVICE_NEEDS_RESET; the worker
// does that when it sees faulted()).
bool QueuePair::CheckFault(const Queue& queue) {
  const auto fault = queue.fault();
  if (!fault) return false;
  if (!faulted_) {
    faulted_ = true;
    counters_.ring_faults.fetch_add(1, std::memory_order_relaxed);
    LOG_WARN_RATELIMITED("{}: {}; the device needs a reset", config_.name, ChainErrorName(*fault));
  }
  return true;
}

void QueuePair::Notify(Queue& queue, uint16_t queue_index, uint32_t used) {
  if (used == 0 || faulted_) return;
  if (queue.ShouldNotifyDriver()) interrupt_.NotifyQueue(queue_index);
}

}  // namespace mini_vmm::virtio::net
