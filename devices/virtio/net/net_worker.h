// NetWorker: the I/O thread of one virtio-net queue pair, from Activate()
// to Reset(). Its EventLoop watches
//
//   tx kick (KVM ioeventfd)  → QueuePair::ProcessTx
//   rx kick (KVM ioeventfd)  → resume polling the tap, QueuePair::ProcessRx
//   tap readable             → QueuePair::ProcessRx
//   control kick (pair 0)    → the control queue (control.h)
//   wake                     → rx switched on/off by VQ_PAIRS_SET
//   stop                     → leave the loop
//
// When the driver has posted no rx buffers the tap is taken out of the
// loop (no busy polling on a readable tap nobody can drain) and put back
// when the rx queue is kicked; QueuePair re-checks the ring after asking
// for that kick, so none is lost.
//
// Threading: Start/Stop/destruction on the device's thread (the transport's
// caller); SetRxEnabled from any thread (it is the control queue's thread,
// pair 0's worker, that calls it on every worker); everything else on the
// worker's own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "devices/virtio/device.h"
#include "devices/virtio/net/control.h"
#include "devices/virtio/net/queue_pair.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/event_loop.h"

namespace mini_vmm::virtio::net {

class NetWorker {
 public:
  // The control queue, served by pair 0's worker.
  struct Control {
    Queue& queue;
    const EventFd& kick;
    uint16_t queue_index;
    ControlContext context;
    // Applies an accepted VQ_PAIRS_SET (called on this worker's thread).
    std::function<void(uint16_t pairs)> set_pairs;
  };

  struct Session {
    QueuePair::Config pair;
    const EventFd& rx_kick;
    const EventFd& tx_kick;
    Tap& tap;
    VirtioInterrupt& interrupt;
    std::function<void()> needs_reset;
    bool rx_enabled;                 // Pair 0 always; others once VQ_PAIRS_SET says so.
    std::optional<Control> control;  // Pair 0 only.
  };

  // Builds the worker; its thread runs only after Start().
  static Result<std::unique_ptr<NetWorker>> Create(Session session, NetCounters& counters);
  Result<void> Start();
  // Stops and joins the thread; idempotent. Chains it held are abandoned
  // when the worker is destroyed.
  void Stop() noexcept;
  ~NetWorker();
  NetWorker(const NetWorker&) = delete;
  NetWorker& operator=(const NetWorker&) = delete;

  // Switches rx on this pair on or off (VQ_PAIRS_SET): the tap queue is
  // attached or detached on the worker's thread.
  void SetRxEnabled(bool enabled) noexcept;

 private:
  NetWorker(Session session, NetCounters& counters, EventLoop loop, EventFd stop, EventFd wake);
  Result<void> Watch();
  void Run() noexcept;
  void OnTxKick();
  void OnRxKick();
  void OnWake();
  void OnControlKick();
  void ServeRx();
  void StartPollingTap();
  void StopPollingTap();
  void NeedsReset();

  Session session_;
  NetCounters& counters_;
  EventLoop loop_;
  EventFd stop_;
  EventFd wake_;
  std::atomic<bool> rx_wanted_;  // Written by SetRxEnabled, read on the worker's thread.

  // Worker thread only.
  QueuePair pair_;
  bool rx_attached_;
  bool polling_tap_ = false;
  bool reset_requested_ = false;

  std::thread thread_;  // Last: started once everything above exists.
};

}  // namespace mini_vmm::virtio::net
