#include "devices/virtio/net/net_worker.h"

#include <system_error>

#include "vmm/base/io_thread.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {
namespace {

// Chains or frames per wake-up before the loop looks at its other events:
// a queue's worth, so a flood on one side cannot starve the other.
constexpr uint32_t kBudget = 256;

}  // namespace

Result<std::unique_ptr<NetWorker>> NetWorker::Create(Session session, NetCounters& counters) {
  EventLoop loop = TRY(EventLoop::Create());
  EventFd stop = TRY(EventFd::Create());
  EventFd wake = TRY(EventFd::Create());
  std::unique_ptr<NetWorker> worker(new NetWorker(std::move(session), counters, std::move(loop),
                                                  std::move(stop), std::move(wake)));
  TRY(worker->Watch());
  return worker;
}

NetWorker::NetWorker(Session session, NetCounters& counters, EventLoop loop, EventFd stop,
                     EventFd wake)
    : session_(std::move(session)),
      counters_(counters),
      loop_(std::move(loop)),
      stop_(std::move(stop)),
      wake_(std::move(wake)),
      rx_wanted_(session_.rx_enabled),
      pair_(session_.pair, session_.tap, session_.interrupt, counters),
      rx_attached_(session_.rx_enabled) {}

Result<void> NetWorker::Watch() {
  // Edge-triggered kicks (event_loop.h): each handler does all a kick asks
  // for, or signals itself to come back, so no read(2) per doorbell.
  constexpr auto kEdge = EventLoop::Trigger::kEdge;
  TRY(loop_.Add(session_.tx_kick.fd(), kEdge, [this] { OnTxKick(); }));
  TRY(loop_.Add(session_.rx_kick.fd(), kEdge, [this] { OnRxKick(); }));
  TRY(loop_.Add(wake_.fd(), [this] { OnWake(); }));
  TRY(loop_.Add(stop_.fd(), [this] { loop_.Quit(); }));
  if (session_.control) TRY(loop_.Add(session_.control->kick.fd(), [this] { OnControlKick(); }));
  if (rx_attached_) {
    TRY(loop_.Add(session_.tap.fd(pair_.index()), [this] { ServeRx(); }));
    polling_tap_ = true;
  }
  return {};
}

Result<void> NetWorker::Start() {
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    return Error::Errno(e.code().value(), "cannot start the I/O thread of {}", session_.pair.name);
  }
  return {};
}

void NetWorker::Stop() noexcept {
  if (!thread_.joinable()) return;
  stop_.Signal();
  thread_.join();
}

NetWorker::~NetWorker() { Stop(); }

void NetWorker::SetRxEnabled(bool enabled) noexcept {
  rx_wanted_.store(enabled, std::memory_order_release);
  wake_.Signal();
}

void NetWorker::Run() noexcept {
  EnterIoThread(session_.pair.name);  // Named, and SCHED_BATCH (io_thread.h says why).
  // Frames may have queued on the tap before the driver was ready.
  ServeRx();
  if (auto run = loop_.Run(); !run.ok()) {
    // A host failure; the guest would wait forever on a NIC nobody serves.
    LOG_ERROR("{}: I/O thread stopped: {}", session_.pair.name, run.error().ToString());
    NeedsReset();
  }
}

void NetWorker::OnTxKick() {
  // Budget spent: signal ourselves so the loop comes back after the other
  // events had their turn (the kick's notifications stay off meanwhile).
  if (pair_.ProcessTx(kBudget)) session_.tx_kick.Signal();
  if (pair_.faulted()) NeedsReset();
}

void NetWorker::OnRxKick() { ServeRx(); }

void NetWorker::ServeRx() {
  if (!rx_attached_ || pair_.faulted()) return;
  switch (pair_.ProcessRx(kBudget)) {
    case QueuePair::RxStop::kTapEmpty:
    case QueuePair::RxStop::kBudget:
      // The tap is level-triggered: a waiting frame wakes the loop again.
      StartPollingTap();
      break;
    case QueuePair::RxStop::kNoBuffers:
    case QueuePair::RxStop::kTapError:
      // Resumed by the next rx kick.
      StopPollingTap();
      break;
    case QueuePair::RxStop::kFault:
      StopPollingTap();
      NeedsReset();
      break;
  }
}

void NetWorker::StartPollingTap() {
  if (polling_tap_) return;
  if (auto added = loop_.Add(session_.tap.fd(pair_.index()), [this] { ServeRx(); }); !added.ok()) {
    LOG_WARN_RATELIMITED("{}: {}", session_.pair.name, added.error().ToString());
    return;  // Retried at the next rx kick.
  }
  polling_tap_ = true;
}

void NetWorker::StopPollingTap() {
  if (!polling_tap_) return;
  loop_.Remove(session_.tap.fd(pair_.index()));
  polling_tap_ = false;
}

void NetWorker::OnWake() {
  wake_.Consume();
  const bool wanted = rx_wanted_.load(std::memory_order_acquire);
  if (wanted == rx_attached_) return;
  // Detach only once the tap is out of the loop: a detached queue must not
  // be read.
  if (!wanted) StopPollingTap();
  if (auto set = session_.tap.SetQueueEnabled(pair_.index(), wanted); !set.ok()) {
    LOG_WARN_RATELIMITED("{}: {}", session_.pair.name, set.error().ToString());
    if (wanted) return;  // Still detached: do not read it.
  }
  rx_attached_ = wanted;
  if (wanted) ServeRx();
}

void NetWorker::OnControlKick() {
  Control& control = *session_.control;
  control.kick.Consume();
  const uint32_t used = ServeControlQueue(control.queue, control.context, counters_,
                                          control.set_pairs, session_.pair.name);
  if (const auto fault = control.queue.fault()) {
    if (!reset_requested_) {
      counters_.ring_faults.fetch_add(1, std::memory_order_relaxed);
      LOG_WARN_RATELIMITED("{}: control queue: {}; the device needs a reset", session_.pair.name,
                           ChainErrorName(*fault));
    }
    NeedsReset();
    return;
  }
  if (used > 0 && control.queue.ShouldNotifyDriver()) {
    session_.interrupt.NotifyQueue(control.queue_index);
  }
}

void NetWorker::NeedsReset() {
  if (reset_requested_) return;
  reset_requested_ = true;
  session_.needs_reset();
}

}  // namespace mini_vmm::virtio::net
