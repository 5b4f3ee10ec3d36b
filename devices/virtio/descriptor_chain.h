// DescriptorChain: one request the driver made available, walked and
// validated in full before any device sees it (virtio 1.2 §2.7.5).
//
// Every descriptor's (addr, len) has been checked against guest RAM and
// turned into a host span; device-readable segments come first, then
// device-writable ones. Devices never index descriptors: they read and write
// through Reader/Writer (reader_writer.h). A chain is move-only and must go
// back to the used ring (Queue::AddUsed); dropping one is a bug, because the
// driver would wait for that buffer forever.
#pragma once

#include <cstdint>
#include <span>
#include <utility>

#include "vmm/base/small_vector.h"

namespace mini_vmm::virtio {

// A descriptor's buffer. `data` views guest RAM: its contents are
// guest-controlled and may change under us (the driver owns the memory).
struct Segment {
  std::span<uint8_t> data;
  bool writable;
};

// A chain's segments. A virtio-blk request is header, data and status, and
// most net buffers are one or two descriptors, so four inline cover the
// common chains without touching the heap; longer ones (a big request
// scattered over many pages) spill to it, never past the queue size, which
// bounds every chain (the walker's TTL).
inline constexpr size_t kInlineSegments = 4;
using Segments = SmallVector<Segment, kInlineSegments>;

// Why a chain could not be walked. Every one of these is a driver bug (or a
// hostile driver): the queue stops and the device asks for a reset
// (DEVICE_NEEDS_RESET, §2.1.2), since nothing the ring says can be trusted.
enum class ChainError {
  kHeadOutOfRange,         // avail ring names a descriptor >= queue size
  kNextOutOfRange,         // a `next` (or indirect index) past its table
  kTooLong,                // more descriptors than the queue size: a loop (§2.7.5.3.1)
  kIndirectNotNegotiated,  // VIRTQ_DESC_F_INDIRECT without VIRTIO_RING_F_INDIRECT_DESC
  kIndirectNested,         // an indirect descriptor inside an indirect table
  kIndirectWithNext,       // INDIRECT and NEXT both set (§2.7.5.3.1 MUST NOT)
  kIndirectBadSize,        // table length 0 or not a multiple of 16
  kIndirectOutOfRam,       // the indirect table is not inside guest RAM
  kBufferOutOfRam,         // a buffer is not inside guest RAM (or wraps)
  kReadableAfterWritable,  // §2.7.4.2: writable descriptors must come last
  kAvailIndexJump,         // avail->idx ran more than queue size ahead
};

const char* ChainErrorName(ChainError error);

class DescriptorChain {
 public:
  DescriptorChain(uint16_t head, Segments&& segments);
  // Copies `segments` (tests build chains from a std::vector).
  DescriptorChain(uint16_t head, std::span<const Segment> segments);
  // Inline: a chain moves several times between Pop and AddUsed.
  DescriptorChain(DescriptorChain&& other) noexcept
      : head_(other.head_),
        segments_(std::move(other.segments_)),
        returned_(std::exchange(other.returned_, true)) {}
  DescriptorChain& operator=(DescriptorChain&& other) noexcept;
  DescriptorChain(const DescriptorChain&) = delete;
  DescriptorChain& operator=(const DescriptorChain&) = delete;
  // Reports a chain that was never returned to the used ring.
  ~DescriptorChain();

  uint16_t head() const { return head_; }
  std::span<const Segment> segments() const { return segments_; }
  uint64_t readable_bytes() const;
  uint64_t writable_bytes() const;

  // Called by Queue::AddUsed once the head is on the used ring.
  void MarkReturned() { returned_ = true; }
  // Forgets a chain that will never reach the used ring because the queue
  // went away under it: the driver reset the device (§2.4: after reset it
  // may reuse every buffer it had made available) or the queue faulted and
  // awaits that reset (DEVICE_NEEDS_RESET, §2.1.2). Only the device's reset
  // path should call this; anywhere else a dropped chain is a bug.
  void Abandon() { returned_ = true; }

 private:
  uint16_t head_;
  Segments segments_;
  bool returned_ = false;
};

}  // namespace mini_vmm::virtio
