// Parsers for the capability chains the VFIO kernel interface appends to
// its info structures (linux/vfio.h: struct vfio_info_cap_header). The
// kernel fills a buffer of `argsz` bytes: the fixed info structure, then
// capabilities linked by `next`, an offset from the buffer's start (0 ends
// the chain). The buffer is treated as untrusted input: every offset is
// bounds-checked, a chain must move forward (so it cannot loop), and at
// most kMaxCapabilities are walked.
//
//   std::vector<uint8_t> buf = ...;  // VFIO_DEVICE_GET_REGION_INFO result
//   auto caps = TRY(vfio::WalkCapabilities(buf, info.cap_offset, sizeof(info)));
//   auto sparse = TRY(vfio::ParseSparseMmap(buf, caps));
//
// Pure functions over bytes: unit-tested and fuzzed without a kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vmm/base/result.h"

namespace mini_vmm::vfio {

inline constexpr size_t kMaxCapabilities = 32;
// Bigger info buffers than this are refused (the kernel asks for a few
// hundred bytes; a sparse table of 4096 areas is 64 KiB).
inline constexpr size_t kMaxInfoSize = 64 * 1024;
// Upper bounds on the array lengths inside a capability.
inline constexpr uint32_t kMaxSparseAreas = 4096;
inline constexpr uint32_t kMaxIovaRanges = 4096;

struct Capability {
  uint16_t id = 0;
  uint16_t version = 0;
  uint32_t offset = 0;  // Of its header, from the buffer's start.
  uint32_t size = 0;    // Bytes up to the next capability or the buffer's end.
};

// Walks the chain starting at `first` (0: no capabilities). `fixed_size`
// is the size of the info structure the chain follows; no capability may
// start inside it.
Result<std::vector<Capability>> WalkCapabilities(std::span<const uint8_t> buffer, uint32_t first,
                                                 size_t fixed_size);

// The first capability with `id`, if any.
std::optional<Capability> FindCapability(std::span<const Capability> caps, uint16_t id);

struct SparseArea {
  uint64_t offset = 0;  // From the region's start.
  uint64_t size = 0;
};
// VFIO_REGION_INFO_CAP_SPARSE_MMAP: the areas of a region that may be
// mmapped; each must lie inside `region_size`.
Result<std::vector<SparseArea>> ParseSparseMmap(std::span<const uint8_t> buffer,
                                                const Capability& cap, uint64_t region_size);

struct IovaRange {
  uint64_t start = 0;
  uint64_t end = 0;  // Inclusive, as the kernel reports it.
};
// VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: the IOVA ranges DMA may use,
// ascending and disjoint.
Result<std::vector<IovaRange>> ParseIovaRanges(std::span<const uint8_t> buffer,
                                               const Capability& cap);

}  // namespace mini_vmm::vfio
