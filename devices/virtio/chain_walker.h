// Walks one descriptor chain from its head through a split-virtqueue
// descriptor table (and at most one level of indirect table), validating
// every rule of virtio 1.2 §2.7.5 on a private copy of each descriptor, so a
// driver rewriting the table while we walk cannot make us act on
// inconsistent data.
#pragma once

#include <cstdint>
#include <span>
#include <variant>

#include "devices/virtio/descriptor_chain.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::virtio {

struct WalkOptions {
  uint16_t queue_size;    // TTL: no chain may hold more descriptors (§2.7.5.3.1).
  bool indirect_allowed;  // VIRTIO_RING_F_INDIRECT_DESC negotiated.
};

// `table` is the queue's descriptor table (queue_size * 16 bytes of guest
// RAM, validated at activation).
std::variant<DescriptorChain, ChainError> WalkChain(const GuestMemory& mem,
                                                    std::span<const uint8_t> table, uint16_t head,
                                                    const WalkOptions& options);

}  // namespace mini_vmm::virtio
