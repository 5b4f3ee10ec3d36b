#include "vmm/vfio/dma_mapper.h"

#include <cerrno>

namespace mini_vmm::vfio {

std::optional<IovaRange> FindReservedOverlap(uint64_t start, uint64_t size,
                                             std::span<const IovaRange> usable) {
  if (size == 0) return std::nullopt;
  const uint64_t last = start + (size - 1);  // Inclusive; the map refuses wrapping regions.
  uint64_t gap_start = 0;                    // Start of the gap before the next range.
  for (const IovaRange& range : usable) {
    if (range.start > gap_start) {
      const IovaRange gap{.start = gap_start, .end = range.start - 1};
      if (start <= gap.end && last >= gap.start) return gap;
    }
    if (range.end == ~uint64_t{0}) return std::nullopt;
    gap_start = range.end + 1;
  }
  const IovaRange tail{.start = gap_start, .end = ~uint64_t{0}};
  if (last >= tail.start) return tail;
  return std::nullopt;
}

Result<void> CheckRamIova(uint64_t start, uint64_t size, std::span<const IovaRange> usable) {
  if (auto gap = FindReservedOverlap(start, size, usable)) {
    return Error::Invalid(
        "guest RAM [{:#x}, {:#x}) overlaps the reserved IOVA range [{:#x}, {:#x}] of the host "
        "IOMMU, so a passed-through device could not reach it",
        start, start + size, gap->start, gap->end);
  }
  return {};
}

Result<void> DmaMapper::RegionAdded(const MappedRegion& region) {
  if (region.kind != MappedRegion::Kind::kRam) return {};
  TRY(CheckRamIova(region.start.value(), region.size, usable_));
  auto mapped = space_.Map(region.start.value(), region.size, region.host);
  if (!mapped.ok()) {
    if (mapped.error().errno_value() == ENOMEM) {
      const uint64_t needed = mapped_bytes_ + region.size;
      return Error::Invalid(
          "pinning guest RAM for device DMA needs {} bytes of locked memory, more than "
          "RLIMIT_MEMLOCK allows ({}); raise it (ulimit -l) to at least {} KiB",
          needed,
          memlock_limit_ ? Format("{} bytes", *memlock_limit_) : std::string("limit unknown"),
          (needed + 1023) / 1024);
    }
    return std::move(mapped).error();
  }
  mappings_.emplace(region.id, std::move(*mapped));
  mapped_bytes_ += region.size;
  return {};
}

void DmaMapper::RegionRemoved(const MappedRegion& region) noexcept {
  auto it = mappings_.find(region.id);
  if (it == mappings_.end()) return;
  mapped_bytes_ -= it->second.size();
  mappings_.erase(it);
}

}  // namespace mini_vmm::vfio
