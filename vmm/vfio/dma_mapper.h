// DmaMapper: keeps the VFIO container's DMA mappings equal to the RAM
// regions of the MemoryMap (a MemoryMapListener, like kvm::MemslotSync and
// vhost's memory table), so a passed-through device can DMA into any guest
// RAM at its guest-physical address (IOVA = GPA). Device regions (BARs) are
// not mapped: no peer-to-peer DMA.
//
//   vfio::DmaMapper dma(container, info.iova_ranges, MemlockLimit());
//   TRY(memory_map.AddListener(&dma));   // maps what is already there
//   ...
//   memory_map.RemoveListener(&dma);     // before the container goes
//
// A region that overlaps a reserved IOVA range (a gap between the ranges
// the IOMMU reports, such as the MSI window at 0xfee00000) is refused, as
// is one the kernel cannot pin (RLIMIT_MEMLOCK); the error says which.
//
// Threading: called by MemoryMap under its lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "vmm/memory/memory_map.h"
#include "vmm/vfio/container.h"

namespace mini_vmm::vfio {

// The reserved IOVA range (a gap between `usable` ranges, or outside them)
// that [start, start + size) overlaps, if any.
std::optional<IovaRange> FindReservedOverlap(uint64_t start, uint64_t size,
                                             std::span<const IovaRange> usable);

// Fails (one sentence naming both ranges) if guest RAM [start, start +
// size) overlaps a reserved IOVA range.
Result<void> CheckRamIova(uint64_t start, uint64_t size, std::span<const IovaRange> usable);

class DmaMapper final : public MemoryMapListener {
 public:
  // `memlock_limit`: RLIMIT_MEMLOCK in bytes (nullopt: unlimited, or the
  // process may lock without limit), only used to word the error.
  DmaMapper(DmaSpace& space, std::vector<IovaRange> usable, std::optional<uint64_t> memlock_limit)
      : space_(space), usable_(std::move(usable)), memlock_limit_(memlock_limit) {}

  Result<void> RegionAdded(const MappedRegion& region) override;
  void RegionRemoved(const MappedRegion& region) noexcept override;

  size_t mappings() const { return mappings_.size(); }
  uint64_t mapped_bytes() const { return mapped_bytes_; }

 private:
  DmaSpace& space_;
  const std::vector<IovaRange> usable_;
  const std::optional<uint64_t> memlock_limit_;
  std::map<uint32_t, DmaMapping> mappings_;  // By MappedRegion::id.
  uint64_t mapped_bytes_ = 0;
};

}  // namespace mini_vmm::vfio
