// vfio_caps_fuzzer: capability chains a VFIO device hands mini-vmm, as
// arbitrary bytes. The first byte picks the parser:
//  0: VFIO_DEVICE_GET_REGION_INFO, 1: VFIO_IOMMU_GET_INFO: the capability
//     chain walker and the sparse-mmap and IOVA-range parsers must refuse or
//     accept without reading outside the buffer, and what they accept must
//     be consistent: sparse areas inside the region, IOVA ranges ascending
//     and disjoint;
//  2: a PCIe extended capability chain (the rest is configuration space
//     from offset 0, up to 4 KiB): the walk ends, every capability lies
//     inside extended space, and the chain the guest sees (the device's
//     bytes with GuestExtendedHeaders applied and hidden capabilities
//     zeroed) ends and shows exactly the visible capabilities, in order.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "devices/vfio_pci/extended_capabilities.h"
#include "vmm/base/check.h"
#include "vmm/vfio/container.h"
#include "vmm/vfio/device.h"

namespace {

void CheckExtendedChain(std::span<const uint8_t> config) {
  using namespace mini_vmm::vfio_pci;
  const ExtendedLayout layout = ParseExtendedCapabilities(config);
  if (layout.end == 0) {
    VMM_CHECK(config.size() < kExtendedStart + 4 && layout.capabilities.empty());
    return;
  }
  VMM_CHECK(layout.end <= kExtendedEnd && layout.end <= config.size());
  std::vector<uint16_t> visible;
  for (const ExtCapabilityLayout& cap : layout.capabilities) {
    VMM_CHECK(cap.offset >= kExtendedStart && cap.offset % 4 == 0 &&
              cap.offset + 4u <= layout.end && cap.end > cap.offset && cap.end <= layout.end);
    if (!cap.hidden) visible.push_back(cap.offset);
  }
  // The guest's view of the bytes.
  std::vector<uint8_t> guest(config.begin(), config.begin() + layout.end);
  for (const ExtCapabilityLayout& cap : layout.capabilities) {
    if (cap.hidden) std::fill(guest.begin() + cap.offset, guest.begin() + cap.end, 0);
  }
  for (const ExtendedHeader& h : GuestExtendedHeaders(layout)) {
    std::memcpy(&guest[h.offset], &h.value, sizeof(h.value));
  }
  size_t seen = 0;
  for (uint32_t at = kExtendedStart, steps = 0; at != 0; ++steps) {
    VMM_CHECK(steps <= visible.size() && at + 4 <= layout.end);
    uint32_t header = 0;
    std::memcpy(&header, &guest[at], sizeof(header));
    const auto id = static_cast<uint16_t>(header & 0xffff);
    if (at == kExtendedStart && (visible.empty() || visible[0] != kExtendedStart)) {
      VMM_CHECK((header & 0xfffff) == 0);  // The placeholder: ID 0, version 0.
    } else {
      VMM_CHECK(!HiddenExtendedCapability(id) && seen < visible.size() && visible[seen] == at);
      ++seen;
    }
    at = (header >> 20) & 0xffc;
  }
  VMM_CHECK(seen == visible.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm;
  if (size == 0) return 0;
  // First byte: which parser; the rest: the kernel's buffer.
  const std::span<const uint8_t> buffer(data + 1, size - 1);
  if (data[0] % 3 == 2) {
    CheckExtendedChain(buffer);
  } else if (data[0] % 3 == 0) {
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
