// The region-info and IOMMU-info parsers: the fixed structure plus its
// capability chain, as VFIO_DEVICE_GET_REGION_INFO and VFIO_IOMMU_GET_INFO
// return them.
#include <linux/vfio.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "vmm/vfio/container.h"
#include "vmm/vfio/device.h"

namespace mini_vmm::vfio {
namespace {

template <typename T>
void Put(std::vector<uint8_t>& b, size_t at, const T& v) {
  if (b.size() < at + sizeof(T)) b.resize(at + sizeof(T));
  std::memcpy(b.data() + at, &v, sizeof(T));
}

std::vector<uint8_t> Region(uint32_t flags, uint64_t size, uint32_t cap_offset = 0) {
  std::vector<uint8_t> b;
  vfio_region_info info{};
  info.argsz = sizeof(info);
  info.flags = flags;
  info.index = VFIO_PCI_BAR0_REGION_INDEX;
  info.cap_offset = cap_offset;
  info.size = size;
  info.offset = 0x10000000000;
  Put(b, 0, info);
  return b;
}

TEST_CASE("An mmappable BAR with MSIX_MAPPABLE (the nested NVMe's BAR 0)") {
  constexpr uint32_t kFlags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                              VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
  auto b = Region(kFlags, 0x4000, sizeof(vfio_region_info));
  Put(b, sizeof(vfio_region_info),
      vfio_info_cap_header{.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, .version = 1, .next = 0});
  auto region = ParseRegionInfo(b);
  REQUIRE(region.ok());
  CHECK(region->msix_mappable);
  REQUIRE(region->mmap_areas.size() == 1);
  CHECK(region->mmap_areas[0].size == 0x4000);
  CHECK(region->offset == 0x10000000000);
}

TEST_CASE("A non-mmappable region has no mmap areas") {
  auto region = ParseRegionInfo(Region(VFIO_REGION_INFO_FLAG_READ, 0x100));
  REQUIRE(region.ok());
  CHECK(region->mmap_areas.empty());
  CHECK_FALSE(region->msix_mappable);
}

TEST_CASE("A sparse-mmap capability replaces the whole-region area") {
  constexpr uint32_t kFlags = VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
  auto b = Region(kFlags, 0x4000, sizeof(vfio_region_info));
  const size_t at = sizeof(vfio_region_info);
  Put(b, at, vfio_info_cap_header{.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1, .next = 0});
  Put(b, at + 8, uint32_t{1});
  Put(b, at + 12, uint32_t{0});
  Put(b, at + 16, vfio_region_sparse_mmap_area{.offset = 0x2000, .size = 0x2000});
  auto region = ParseRegionInfo(b);
  REQUIRE(region.ok());
  REQUIRE(region->mmap_areas.size() == 1);
  CHECK(region->mmap_areas[0].offset == 0x2000);
}

TEST_CASE("RegionInfoTruncated is refused") {
  std::vector<uint8_t> b(8);
  CHECK_FALSE(ParseRegionInfo(b).ok());
}

TEST_CASE("RegionWrappingFileOffset is refused") {
  auto b = Region(VFIO_REGION_INFO_FLAG_READ, 0x1000);
  vfio_region_info info{};
  std::memcpy(&info, b.data(), sizeof(info));
  info.offset = ~uint64_t{0} - 0x10;
  Put(b, 0, info);
  CHECK_FALSE(ParseRegionInfo(b).ok());
}

TEST_CASE("RegionCapabilityChainBroken is refused") {
  auto b = Region(VFIO_REGION_INFO_FLAG_CAPS, 0x1000, 4);
  CHECK_FALSE(ParseRegionInfo(b).ok());
}

TEST_CASE("IOMMU info with page sizes and IOVA ranges") {
  std::vector<uint8_t> b;
  vfio_iommu_type1_info info{};
  info.argsz = 0;
  info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
  info.iova_pgsizes = 0x40201000;
  info.cap_offset = sizeof(info);
  Put(b, 0, info);
  const size_t at = sizeof(info);
  Put(b, at,
      vfio_info_cap_header{.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1, .next = 0});
  Put(b, at + 8, uint32_t{2});
  Put(b, at + 12, uint32_t{0});
  Put(b, at + 16, vfio_iova_range{.start = 0, .end = 0xfedfffff});
  Put(b, at + 32, vfio_iova_range{.start = 0xfef00000, .end = 0x7fffffffff});
  auto parsed = ParseIommuInfo(b);
  REQUIRE(parsed.ok());
  CHECK(parsed->page_sizes == 0x40201000);
  REQUIRE(parsed->iova_ranges.size() == 2);
  CHECK(parsed->iova_ranges[1].end == 0x7fffffffff);
}

TEST_CASE("IOMMU info without capabilities: all of IOVA space") {
  std::vector<uint8_t> b;
  Put(b, 0, vfio_iommu_type1_info{});
  auto parsed = ParseIommuInfo(b);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->iova_ranges.size() == 1);
  CHECK(parsed->iova_ranges[0].end == ~uint64_t{0});
}

TEST_CASE("IommuInfoWithEmptyRangeList is refused") {
  std::vector<uint8_t> b;
  vfio_iommu_type1_info info{};
  info.flags = VFIO_IOMMU_INFO_CAPS;
  info.cap_offset = sizeof(info);
  Put(b, 0, info);
  Put(b, sizeof(info),
      vfio_info_cap_header{.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1, .next = 0});
  Put(b, sizeof(info) + 8, uint64_t{0});
  CHECK_FALSE(ParseIommuInfo(b).ok());
}

}  // namespace
}  // namespace mini_vmm::vfio
