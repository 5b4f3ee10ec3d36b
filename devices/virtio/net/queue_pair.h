// QueuePair: one receive and one transmit queue of a virtio-net device and
// the tap queue behind them (virtio 1.2 §5.1.2: receiveqN is queue 2(N-1),
// transmitqN 2(N-1)+1). The data path, without threads or polling: the
// I/O thread (net_worker.h) decides when to call it; tests and the fuzzer
// call it directly.
//
// Threading: one thread at a time (the pair's I/O thread).
#pragma once

#include <cstdint>
#include <string>

#include "devices/virtio/device.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/net/rx.h"
#include "devices/virtio/net/tap.h"
#include "devices/virtio/queue.h"

namespace mini_vmm::virtio::net {

class QueuePair {
 public:
  struct Config {
    std::string name;  // For logs.
    uint16_t index;    // Pair number: queues 2*index (rx) and 2*index+1 (tx), tap queue index.
    Queue& rx;
    Queue& tx;
    size_t header_bytes;
    bool mergeable;  // VIRTIO_NET_F_MRG_RXBUF negotiated
  };

  // Why ProcessRx returned.
  enum class RxStop {
    kTapEmpty,   // Nothing more to read: wait for the tap.
    kNoBuffers,  // A frame waits for rx buffers; notifications are on: wait for the rx kick.
    kBudget,     // Did its share; more may wait.
    kTapError,   // The tap failed (logged); notifications are on: retry at the next rx kick.
    kFault,      // The rx queue faulted: the device needs a reset.
  };

  QueuePair(Config config, Tap& tap, VirtioInterrupt& interrupt, NetCounters& counters);

  // Sends up to `budget` tx chains; true if more may be waiting (the caller
  // comes back later, so one busy queue cannot starve the others).
  bool ProcessTx(uint32_t budget);
  // Moves up to `budget` frames from the tap to the rx queue.
  RxStop ProcessRx(uint32_t budget);
  // A queue faulted (ring corruption): nothing more is done until reset.
  bool faulted() const { return faulted_; }
  uint16_t index() const { return config_.index; }

 private:
  void SendChain(DescriptorChain chain);
  bool CheckFault(const Queue& queue);
  void Notify(Queue& queue, uint16_t queue_index, uint32_t used);

  Config config_;
  Tap& tap_;
  VirtioInterrupt& interrupt_;
  NetCounters& counters_;
  RxPath rx_path_;
  bool faulted_ = false;
};

}  // namespace mini_vmm::virtio::net
