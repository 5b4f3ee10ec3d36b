// BlockWorker: one activation of a virtio-blk device. It owns the I/O
// thread, which runs an EventLoop over three eventfds:
//
//   queue kick (KVM ioeventfd) → pop, parse, submit      (ProcessQueue)
//   backend completion         → status byte, used ring  (OnCompletions)
//   stop                       → leave the loop
//
// and interrupts the driver at most once per batch, when it asked for it
// (EVENT_IDX / NO_INTERRUPT, via Queue::ShouldNotifyDriver).
//
// Destroying the worker is the device reset: the thread is stopped and
// joined, in-flight I/O is drained (it writes into guest RAM, which the
// driver may reuse as soon as the reset returns), and the chains it held
// are abandoned, since a reset driver expects none of them back (§2.4).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "devices/virtio/blk/disk_backend.h"
#include "devices/virtio/blk/request.h"
#include "devices/virtio/device.h"
#include "devices/virtio/queue.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/event_loop.h"

namespace mini_vmm::virtio::blk {

// Written by the I/O thread, read by anyone (tests, logs).
struct BlockCounters {
  std::atomic<uint64_t> kicks{0};        // Driver notifications handled to the end.
  std::atomic<uint64_t> requests{0};     // Chains taken from the queue.
  std::atomic<uint64_t> io_errors{0};    // Requests the host file failed (IOERR).
  std::atomic<uint64_t> ring_faults{0};  // Queue faults (DEVICE_NEEDS_RESET).
  std::array<std::atomic<uint64_t>, kRequestFaultCount> faults{};  // Malformed requests, by kind.

  uint64_t fault(RequestFault kind) const {
    return faults[static_cast<size_t>(kind)].load(std::memory_order_relaxed);
  }
};

class BlockWorker {
 public:
  // What one activation serves; everything referenced outlives the worker.
  struct Session {
    std::string name;  // For logs and the thread (truncated to 15 bytes).
    Queue& queue;
    const EventFd& kick;
    VirtioInterrupt& interrupt;
    std::function<void()> needs_reset;
    RequestContext request_context;
  };

  static Result<std::unique_ptr<BlockWorker>> Start(Session session, DiskBackend& backend,
                                                    BlockCounters& counters);
  ~BlockWorker();
  BlockWorker(const BlockWorker&) = delete;
  BlockWorker& operator=(const BlockWorker&) = delete;

 private:
  // A request the backend is running, under the tag that indexes it: what
  // completing it needs (see FinishRequest), and no more, since there is one
  // of these per queue entry.
  struct InFlight {
    // A constructor, not an aggregate, so that optional::emplace builds it
    // in place with every compiler (clang 14 lacks C++20's parenthesised
    // aggregate initialisation).
    InFlight(DescriptorChain&& c, uint8_t* s, uint32_t bytes)
        : chain(std::move(c)), status(s), data_bytes(bytes) {}
    DescriptorChain chain;
    uint8_t* status;  // Guest RAM.
    uint32_t data_bytes;
  };

  BlockWorker(Session session, DiskBackend& backend, BlockCounters& counters, EventLoop loop,
              EventFd stop);
  Result<void> Watch();
  void Run() noexcept;
  void OnKick();
  void OnCompletions();
  void ProcessQueue();
  void HandleChain(DescriptorChain&& chain);
  void Complete(const DiskCompletion& completion);
  void AddUsed(DescriptorChain&& chain, uint32_t len);
  bool CheckRingFault();
  void NotifyDriver();
  void CountFault(RequestFault fault);

  Session session_;
  DiskBackend& backend_;
  BlockCounters& counters_;
  EventLoop loop_;
  EventFd stop_;

  // I/O thread only, and the destructor once that thread has joined.
  // At most queue-size requests are in flight: a driver cannot have more
  // buffers outstanding, and a hostile one that republishes heads it has
  // not got back simply waits until tags free up.
  std::vector<std::optional<InFlight>> in_flight_;
  std::vector<uint16_t> free_tags_;
  std::vector<DiskCompletion> completions_;
  bool blocked_ = false;  // Stopped popping for lack of tags.
  bool faulted_ = false;  // The queue faulted; it is not touched again.
  uint32_t used_since_notify_ = 0;

  std::thread thread_;  // Last: started once everything above exists.
};

}  // namespace mini_vmm::virtio::blk
