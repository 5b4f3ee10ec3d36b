#include "vmm/vfio/capability_chain.h"

#include <linux/vfio.h>

#include <cstring>

namespace mini_vmm::vfio {
namespace {

template <typename T>
T Load(std::span<const uint8_t> buffer, size_t offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  T value{};
  VMM_CHECK(offset <= buffer.size() && sizeof(T) <= buffer.size() - offset);
  std::memcpy(&value, buffer.data() + offset, sizeof(T));
  return value;
}

// Checks that an array of `count` elements of `element` bytes, after a
// `header` of fixed size, fits in `cap`.
Result<void> CheckArray(const Capability& cap, size_t header, uint64_t count, size_t element,
                        uint64_t max_count, const char* what) {
  if (count > max_count) {
    return Error::Invalid("VFIO {} capability lists {} entries (at most {})", what, count,
                          max_count);
  }
  if (cap.size < header || count * element > cap.size - header) {
    return Error::Invalid("VFIO {} capability of {} bytes cannot hold {} entries", what, cap.size,
                          count);
  }
  return {};
}

}  // namespace

Result<std::vector<Capability>> WalkCapabilities(std::span<const uint8_t> buffer, uint32_t first,
                                                 size_t fixed_size) {
  std::vector<Capability> caps;
  if (buffer.size() > kMaxInfoSize) {
    return Error::Invalid("VFIO info of {} bytes is larger than {}", buffer.size(), kMaxInfoSize);
  }
  uint64_t at = first;
  uint64_t floor = fixed_size;  // A capability starts at or after this.
  while (at != 0) {
    if (caps.size() == kMaxCapabilities) {
      return Error::Invalid("VFIO capability chain is longer than {}", kMaxCapabilities);
    }
    if (at < floor || at % alignof(uint32_t) != 0) {
      return Error::Invalid("VFIO capability at offset {} overlaps what precedes it", at);
    }
    if (at > buffer.size() || sizeof(vfio_info_cap_header) > buffer.size() - at) {
      return Error::Invalid("VFIO capability at offset {} is past the {}-byte info", at,
                            buffer.size());
    }
    const auto header = Load<vfio_info_cap_header>(buffer, at);
    caps.push_back({.id = header.id,
                    .version = header.version,
                    .offset = static_cast<uint32_t>(at),
                    .size = static_cast<uint32_t>(buffer.size() - at)});
    if (header.next != 0) {
      if (header.next <= at) {
        return Error::Invalid("VFIO capability at offset {} links backwards to {}", at,
                              header.next);
      }
      // The next one bounds this one's size.
      caps.back().size = static_cast<uint32_t>(std::min<uint64_t>(header.next, buffer.size()) - at);
    }
    floor = at + sizeof(vfio_info_cap_header);
    at = header.next;
  }
  return caps;
}

std::optional<Capability> FindCapability(std::span<const Capability> caps, uint16_t id) {
  for (const Capability& cap : caps) {
    if (cap.id == id) return cap;
  }
  return std::nullopt;
}

Result<std::vector<SparseArea>> ParseSparseMmap(std::span<const uint8_t> buffer,
                                                const Capability& cap, uint64_t region_size) {
  constexpr size_t kHeader = sizeof(vfio_region_info_cap_sparse_mmap);
  if (cap.size < kHeader) {
    return Error::Invalid("VFIO sparse-mmap capability of {} bytes is truncated", cap.size);
  }
  const auto sparse = Load<vfio_region_info_cap_sparse_mmap>(buffer, cap.offset);
  TRY(CheckArray(cap, kHeader, sparse.nr_areas, sizeof(vfio_region_sparse_mmap_area),
                 kMaxSparseAreas, "sparse-mmap"));
  std::vector<SparseArea> areas;
  for (uint32_t i = 0; i < sparse.nr_areas; ++i) {
    const auto area = Load<vfio_region_sparse_mmap_area>(
        buffer, cap.offset + kHeader + i * sizeof(vfio_region_sparse_mmap_area));
    if (area.size == 0) continue;
    if (area.offset > region_size || area.size > region_size - area.offset) {
      return Error::Invalid(
          "VFIO sparse-mmap area [{:#x}, +{:#x}) is outside the {:#x}-byte region", area.offset,
          area.size, region_size);
    }
    areas.push_back({.offset = area.offset, .size = area.size});
  }
  return areas;
}

Result<std::vector<IovaRange>> ParseIovaRanges(std::span<const uint8_t> buffer,
                                               const Capability& cap) {
  constexpr size_t kHeader = sizeof(vfio_iommu_type1_info_cap_iova_range);
  if (cap.size < kHeader) {
    return Error::Invalid("VFIO IOVA-range capability of {} bytes is truncated", cap.size);
  }
  const auto info = Load<vfio_iommu_type1_info_cap_iova_range>(buffer, cap.offset);
  TRY(CheckArray(cap, kHeader, info.nr_iovas, sizeof(vfio_iova_range), kMaxIovaRanges,
                 "IOVA-range"));
  std::vector<IovaRange> ranges;
  for (uint32_t i = 0; i < info.nr_iovas; ++i) {
    const auto range =
        Load<vfio_iova_range>(buffer, cap.offset + kHeader + i * sizeof(vfio_iova_range));
    if (range.end < range.start) {
      return Error::Invalid("VFIO IOVA range [{:#x}, {:#x}] ends before it starts", range.start,
                            range.end);
    }
    if (!ranges.empty() && range.start <= ranges.back().end) {
      return Error::Invalid("VFIO IOVA range [{:#x}, {:#x}] is not above the one before it",
                            range.start, range.end);
    }
    ranges.push_back({.start = range.start, .end = range.end});
  }
  return ranges;
}

}  // namespace mini_vmm::vfio
