// The control virtqueue (virtio 1.2 §5.1.6.5): one request per chain,
//
//   struct { u8 class; u8 command; u8 data[]; }   device-readable
//   u8 ack;                                       device-writable
//
// parsed as byte streams (the header may be split anywhere). Pure: the
// caller applies what a request asks for (a new queue-pair count). Every
// malformed shape gets VIRTIO_NET_ERR and a named fault; a chain with no
// writable byte cannot carry an ack and is returned with nothing written.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "devices/virtio/descriptor_chain.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/net/virtio_net_uapi.h"
#include "devices/virtio/queue.h"

namespace mini_vmm::virtio::net {

struct ControlContext {
  bool mq = false;         // VIRTIO_NET_F_MQ negotiated
  uint16_t max_pairs = 1;  // max_virtqueue_pairs
};

struct ControlOutcome {
  uint32_t written = 0;                 // Bytes written into the chain (the used length).
  uint8_t ack = VIRTIO_NET_ERR;         // What was written, if anything.
  std::optional<uint16_t> queue_pairs;  // VQ_PAIRS_SET accepted: the new count.
  std::optional<ControlFault> fault;
};

ControlOutcome HandleControl(const DescriptorChain& chain, const ControlContext& context);

// Answers every request waiting on the control queue (the loop of queue.h),
// calling `set_pairs` for each accepted VQ_PAIRS_SET. Returns the number of
// chains put on the used ring (the caller decides on the interrupt); a
// queue fault is left for the caller to see in queue.fault(). Bounded: a
// request does no I/O, and the ring holds at most its size in chains at a
// time.
uint32_t ServeControlQueue(Queue& queue, const ControlContext& context, NetCounters& counters,
                           const std::function<void(uint16_t)>& set_pairs, std::string_view name);

}  // namespace mini_vmm::virtio::net
