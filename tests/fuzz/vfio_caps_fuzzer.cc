// vfio_caps_fuzzer: what the kernel returns for VFIO_DEVICE_GET_REGION_INFO
// and VFIO_IOMMU_GET_INFO, as arbitrary bytes: the capability chain walker
// and the sparse-mmap and IOVA-range parsers must refuse or accept without
// reading outside the buffer, and what they accept must be consistent:
// sparse areas inside the region, IOVA ranges ascending and disjoint.
#include <cstdint>
#include <span>

#include "vmm/base/check.h"
#include "vmm/vfio/container.h"
#include "vmm/vfio/device.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm;
  if (size == 0) return 0;
  // First byte: which parser; the rest: the kernel's buffer.
  const std::span<const uint8_t> buffer(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto region = vfio::ParseRegionInfo(buffer);
    if (!region.ok()) return 0;
    for (const vfio::SparseArea& area : region->mmap_areas) {
      VMM_CHECK(area.offset <= region->size && area.size <= region->size - area.offset);
    }
  } else {
    auto info = vfio::ParseIommuInfo(buffer);
    if (!info.ok()) return 0;
    VMM_CHECK(!info->iova_ranges.empty());
    for (size_t i = 0; i < info->iova_ranges.size(); ++i) {
      VMM_CHECK(info->iova_ranges[i].start <= info->iova_ranges[i].end);
      if (i > 0) VMM_CHECK(info->iova_ranges[i].start > info->iova_ranges[i - 1].end);
    }
  }
  return 0;
}
