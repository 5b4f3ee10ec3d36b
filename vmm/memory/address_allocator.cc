#include "vmm/memory/address_allocator.h"

#include <algorithm>

namespace mini_vmm {

AddressAllocator::AddressAllocator(std::string name, uint64_t base, uint64_t size)
    : name_(std::move(name)), base_(base), end_(base + size) {
  VMM_CHECK(size != 0 && end_ > base_);
}

Result<uint64_t> AddressAllocator::Allocate(uint64_t size, uint64_t alignment,
                                            const std::string& owner) {
  VMM_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0);
  if (size == 0) return Error::Invalid("{}: {} asked for an empty range", name_, owner);
  uint64_t candidate = base_;
  auto next = used_.begin();
  for (;;) {
    // Align up without overflowing.
    if (candidate > UINT64_MAX - (alignment - 1)) break;
    candidate = (candidate + alignment - 1) & ~(alignment - 1);
    // Skip every range that ends at or before the candidate.
    while (next != used_.end() && next->second.end <= candidate) ++next;
    // The free gap the candidate may start in ends at the next used range
    // (which may already cover the candidate) or at the end of the space.
    const uint64_t limit = next == used_.end() ? end_ : std::min(next->first, end_);
    if (candidate < limit && size <= limit - candidate) {
      used_.emplace(candidate, Used{candidate + size, owner});
      return candidate;
    }
    if (next == used_.end()) break;
    candidate = next->second.end;
  }
  return Error::Invalid("{} is full: no {:#x} units aligned to {:#x} left for {}", name_, size,
                        alignment, owner);
}

Result<void> AddressAllocator::Reserve(uint64_t base, uint64_t size, const std::string& owner) {
  if (size == 0 || base < base_ || base > end_ || size > end_ - base) {
    return Error::Invalid("{}: {} at {:#x}+{:#x} is outside {:#x}-{:#x}", name_, owner, base, size,
                          base_, end_);
  }
  auto after = used_.lower_bound(base);
  if (after != used_.end() && after->first < base + size) {
    return Error::Invalid("{}: {} at {:#x}+{:#x} overlaps {}", name_, owner, base, size,
                          after->second.owner);
  }
  if (after != used_.begin()) {
    auto before = std::prev(after);
    if (before->second.end > base) {
      return Error::Invalid("{}: {} at {:#x}+{:#x} overlaps {}", name_, owner, base, size,
                            before->second.owner);
    }
  }
  used_.emplace(base, Used{base + size, owner});
  return {};
}

bool AddressAllocator::Free(uint64_t base) { return used_.erase(base) == 1; }

}  // namespace mini_vmm
