#include "devices/virtio/net/rx.h"

#include <algorithm>
#include <cstring>

#include "devices/virtio/net/frame.h"
#include "devices/virtio/reader_writer.h"
#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {

RxPath::RxPath(std::string_view name, Queue& queue, size_t header_bytes, bool mergeable,
               NetCounters& counters)
    : name_(name),
      queue_(queue),
      header_bytes_(header_bytes),
      mergeable_(mergeable),
      counters_(counters),
      frame_(header_bytes + kRxBufferBytes) {
  held_.reserve(queue.max_size());
}

RxPath::~RxPath() { Abandon(); }

void RxPath::set_frame_length(size_t length) {
  VMM_CHECK(length <= frame_.size());
  frame_length_ = length;
}

void RxPath::Abandon() {
  for (DescriptorChain& chain : held_) chain.Abandon();
  held_.clear();
  held_bytes_ = 0;
  frame_length_ = 0;
}

RxPath::Placement RxPath::Place() {
  VMM_CHECK(has_frame());
  if (frame_length_ < header_bytes_ || frame_length_ == frame_.size()) {
    // Less than a header, or a full buffer (the kernel truncated a frame
    // longer than any the offloads allow): not a frame to deliver.
    counters_.Count(RxFault::kShortFrame);
    frame_length_ = 0;
    return Placement::kDropped;
  }
  if (!Collect(frame_length_)) return Placement::kNeedBuffers;
  if (!mergeable_ && held_bytes_ < frame_length_) {
    // §5.1.6.3.1: without MRG_RXBUF the driver must post buffers big enough
    // for any frame it accepts; this one did not. The chain stays for the
    // next (smaller) frame.
    counters_.Count(RxFault::kFrameTooBig);
    LOG_WARN_RATELIMITED("{}: {}", name_, RxFaultName(RxFault::kFrameTooBig));
    frame_length_ = 0;
    return Placement::kDropped;
  }
  Deliver();
  return Placement::kDelivered;
}

bool RxPath::Collect(uint64_t bytes) {
  while (mergeable_ ? held_bytes_ < bytes : held_.empty()) {
    std::optional<DescriptorChain> chain = queue_.Pop();
    if (!chain) return false;
    // §5.1.6.3.1: every receive buffer must hold at least the header (so
    // num_buffers lands in the first one). A smaller one is handed back
    // empty, before this frame's chains, so it splits nothing.
    if (chain->writable_bytes() < header_bytes_) {
      counters_.Count(RxFault::kBufferTooSmall);
      LOG_WARN_RATELIMITED("{}: {}", name_, RxFaultName(RxFault::kBufferTooSmall));
      ReturnEmpty(std::move(*chain));
      continue;
    }
    held_bytes_ += chain->writable_bytes();
    held_.push_back(std::move(*chain));
  }
  return true;
}

void RxPath::ReturnEmpty(DescriptorChain chain) {
  queue_.AddUsed(std::move(chain), 0);
  ++used_since_notify_;
}

void RxPath::Deliver() {
  // num_buffers (§5.1.6.4): how many used buffers this frame takes. The
  // held chains are at most the queue size (<= 32768), so it fits in 16 bits.
  if (header_bytes_ == kHeaderBytes) {
    const uint16_t num_buffers = static_cast<uint16_t>(held_.size());  // le16; x86 hosts only.
    std::memcpy(frame_.data() + kNumBuffersOffset, &num_buffers, sizeof(num_buffers));
  }
  std::span<const uint8_t> rest(frame_.data(), frame_length_);
  for (DescriptorChain& chain : held_) {
    Writer writer(chain);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(rest.size(), writer.available()));
    writer.Write(rest.first(n));
    rest = rest.subspan(n);
    queue_.AddUsed(std::move(chain), static_cast<uint32_t>(writer.written()));
    ++used_since_notify_;
  }
  held_.clear();
  held_bytes_ = 0;
  frame_length_ = 0;
  counters_.rx_frames.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace mini_vmm::virtio::net
