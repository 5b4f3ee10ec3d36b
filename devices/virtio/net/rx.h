// RxPath: puts frames read from the tap into a receive queue's buffers
// (virtio 1.2 §5.1.6.4). Thread-free; one queue pair's I/O thread owns it.
//
//   auto frame = rx.frame_buffer();               // read the tap into it
//   rx.set_frame_length(n);
//   switch (rx.Place()) { kDelivered, kDropped: read the next frame;
//                         kNeedBuffers: wait for the driver's rx kick }
//
// A frame that does not fit yet is kept, with the chains already taken for
// it, until the driver posts more buffers: nothing is lost and nothing is
// given back to the driver half-filled. With MRG_RXBUF a frame spreads over
// as many chains as it needs and num_buffers says how many; without it one
// chain must hold it all, and a frame too big for that chain is dropped
// (the chain is kept for the next one).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "devices/virtio/descriptor_chain.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/queue.h"

namespace mini_vmm::virtio::net {

class RxPath {
 public:
  enum class Placement { kDelivered, kDropped, kNeedBuffers };

  // `name` (for logs) must outlive the RxPath.
  RxPath(std::string_view name, Queue& queue, size_t header_bytes, bool mergeable,
         NetCounters& counters);
  ~RxPath();
  RxPath(const RxPath&) = delete;
  RxPath& operator=(const RxPath&) = delete;

  std::span<uint8_t> frame_buffer() { return frame_; }
  void set_frame_length(size_t length);
  bool has_frame() const { return frame_length_ != 0; }

  // Places the held frame. Chains go to the used ring (not yet announced:
  // see used_since_notify()).
  Placement Place();

  // Used-ring entries added since the last call (the caller decides on the
  // interrupt once per batch).
  uint32_t TakeUsedCount() { return std::exchange(used_since_notify_, 0); }
  // Forgets the held frame and chains: the device is being reset (§2.4).
  void Abandon();

 private:
  // Takes chains until `bytes` of buffer space are held (or one chain if
  // not mergeable); false if the queue ran dry first.
  bool Collect(uint64_t bytes);
  void Deliver();
  void ReturnEmpty(DescriptorChain chain);

  std::string_view name_;
  Queue& queue_;
  const size_t header_bytes_;
  const bool mergeable_;
  NetCounters& counters_;
  std::vector<uint8_t> frame_;
  size_t frame_length_ = 0;
  std::vector<DescriptorChain> held_;  // Popped, not yet used; at most the queue size.
  uint64_t held_bytes_ = 0;
  uint32_t used_since_notify_ = 0;
};

}  // namespace mini_vmm::virtio::net
