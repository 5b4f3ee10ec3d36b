#include "devices/virtio/descriptor_chain.h"

#include <cstdlib>
#include <utility>

#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio {

const char* ChainErrorName(ChainError error) {
  switch (error) {
    case ChainError::kHeadOutOfRange:
      return "head descriptor index out of range";
    case ChainError::kNextOutOfRange:
      return "next descriptor index out of range";
    case ChainError::kTooLong:
      return "chain longer than the queue (a loop?)";
    case ChainError::kIndirectNotNegotiated:
      return "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
    case ChainError::kIndirectNested:
      return "indirect descriptor inside an indirect table";
    case ChainError::kIndirectWithNext:
      return "indirect descriptor with NEXT set";
    case ChainError::kIndirectBadSize:
      return "indirect table length not a non-zero multiple of 16";
    case ChainError::kIndirectOutOfRam:
      return "indirect table outside guest RAM";
    case ChainError::kBufferOutOfRam:
      return "buffer outside guest RAM";
    case ChainError::kReadableAfterWritable:
      return "device-readable descriptor after a device-writable one";
    case ChainError::kAvailIndexJump:
      return "available index ran more than the queue size ahead";
  }
  return "unknown chain error";
}

DescriptorChain::DescriptorChain(uint16_t head, Segments&& segments)
    : head_(head), segments_(std::move(segments)) {}

DescriptorChain::DescriptorChain(uint16_t head, std::span<const Segment> segments)
    : head_(head), segments_(segments) {}

DescriptorChain& DescriptorChain::operator=(DescriptorChain&& other) noexcept {
  if (this != &other) {
    VMM_CHECK(returned_);  // Overwriting a live chain would leak it.
    head_ = other.head_;
    segments_ = std::move(other.segments_);
    returned_ = std::exchange(other.returned_, true);
  }
  return *this;
}

DescriptorChain::~DescriptorChain() {
  if (returned_) return;
  // A device bug, not a guest one: the driver would wait forever for this
  // buffer. Debug builds stop here so tests catch it.
  LOG_WARN_RATELIMITED("virtio: descriptor chain {} dropped without being returned", head_);
#ifndef NDEBUG
  std::abort();
#endif
}

uint64_t DescriptorChain::readable_bytes() const {
  uint64_t n = 0;
  for (const Segment& s : segments_) n += s.writable ? 0 : s.data.size();
  return n;
}

uint64_t DescriptorChain::writable_bytes() const {
  uint64_t n = 0;
  for (const Segment& s : segments_) n += s.writable ? s.data.size() : 0;
  return n;
}

}  // namespace mini_vmm::virtio
