#include "devices/virtio/chain_walker.h"

#include <cstring>
#include <optional>

#include "devices/virtio/virtio_ring.h"

namespace mini_vmm::virtio {
namespace {

constexpr size_t kDescriptorSize = sizeof(vring_desc);
static_assert(kDescriptorSize == 16);

vring_desc ReadDescriptor(std::span<const uint8_t> table, uint32_t index) {
  vring_desc desc;  // A copy: the guest may rewrite the table concurrently.
  std::memcpy(&desc, table.data() + size_t{index} * kDescriptorSize, kDescriptorSize);
  return desc;
}

class Walker {
 public:
  Walker(const GuestMemory& mem, const WalkOptions& options) : mem_(mem), options_(options) {}

  std::variant<DescriptorChain, ChainError> Walk(std::span<const uint8_t> table, uint16_t head) {
    if (head >= options_.queue_size) return ChainError::kHeadOutOfRange;
    std::span<const uint8_t> current = table;
    uint32_t index = head;
    bool in_indirect = false;
    for (;;) {
      if (index >= current.size() / kDescriptorSize) return ChainError::kNextOutOfRange;
      const vring_desc desc = ReadDescriptor(current, index);
      if (desc.flags & VRING_DESC_F_INDIRECT) {
        // The descriptor pointing at a table is not a buffer and does not
        // count against the TTL: Linux fills a table of seg_max + 2 = queue
        // size entries for its largest requests. Nesting is refused, so this
        // happens at most once per chain.
        if (auto error = EnterIndirect(desc, in_indirect, current)) return *error;
        in_indirect = true;
        index = 0;
        continue;
      }
      // TTL: every buffer descriptor counts, so a cycle ends here.
      if (++visited_ > options_.queue_size) return ChainError::kTooLong;
      if (auto error = AddBuffer(desc)) return *error;
      if ((desc.flags & VRING_DESC_F_NEXT) == 0) break;
      index = desc.next;
    }
    // Built in place: a chain is moved as few times as it can be.
    return std::variant<DescriptorChain, ChainError>(std::in_place_type<DescriptorChain>, head,
                                                     std::move(segments_));
  }

 private:
  // §2.7.5.3.1: one level only, INDIRECT excludes NEXT, and the table is a
  // whole number of descriptors. The device ignores WRITE on this
  // descriptor (§2.7.5.3.2).
  std::optional<ChainError> EnterIndirect(const vring_desc& desc, bool in_indirect,
                                          std::span<const uint8_t>& table) {
    if (!options_.indirect_allowed) return ChainError::kIndirectNotNegotiated;
    if (in_indirect) return ChainError::kIndirectNested;
    if (desc.flags & VRING_DESC_F_NEXT) return ChainError::kIndirectWithNext;
    if (desc.len == 0 || desc.len % kDescriptorSize != 0) return ChainError::kIndirectBadSize;
    auto slice = mem_.GetSlice(GuestAddress(desc.addr), desc.len);
    if (!slice) return ChainError::kIndirectOutOfRam;
    table = *slice;
    return std::nullopt;
  }

  std::optional<ChainError> AddBuffer(const vring_desc& desc) {
    auto slice = mem_.GetSlice(GuestAddress(desc.addr), desc.len);
    if (!slice) return ChainError::kBufferOutOfRam;
    const bool writable = (desc.flags & VRING_DESC_F_WRITE) != 0;
    if (!writable && seen_writable_) return ChainError::kReadableAfterWritable;
    seen_writable_ = seen_writable_ || writable;
    segments_.push_back(Segment{*slice, writable});
    return std::nullopt;
  }

  const GuestMemory& mem_;
  const WalkOptions& options_;
  uint32_t visited_ = 0;
  bool seen_writable_ = false;
  Segments segments_;
};

}  // namespace

std::variant<DescriptorChain, ChainError> WalkChain(const GuestMemory& mem,
                                                    std::span<const uint8_t> table, uint16_t head,
                                                    const WalkOptions& options) {
  return Walker(mem, options).Walk(table, head);
}

}  // namespace mini_vmm::virtio
