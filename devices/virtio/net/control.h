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
#include <optional>

#include "devices/virtio/descriptor_chain.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/net/virtio_net_uapi.h"

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

}  // namespace mini_vmm::virtio::net
