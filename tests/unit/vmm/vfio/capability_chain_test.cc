// The capability chain walker and the sparse-mmap and IOVA-range parsers,
// on buffers laid out as the kernel fills them; one negative case per
// malformed shape.
#include "vmm/vfio/capability_chain.h"

#include <linux/vfio.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

namespace mini_vmm::vfio {
namespace {

constexpr size_t kFixed = sizeof(vfio_region_info);

struct Buffer {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kFixed);

  template <typename T>
  void Put(size_t at, const T& value) {
    if (bytes.size() < at + sizeof(T)) bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &value, sizeof(T));
  }
  void Header(size_t at, uint16_t id, uint32_t next) {
    Put(at, vfio_info_cap_header{.id = id, .version = 1, .next = next});
  }
};

// A sparse-mmap capability at `at` with `areas`.
void PutSparse(Buffer& b, size_t at, std::vector<vfio_region_sparse_mmap_area> areas,
               uint32_t next = 0) {
  b.Header(at, VFIO_REGION_INFO_CAP_SPARSE_MMAP, next);
  b.Put(at + 8, static_cast<uint32_t>(areas.size()));
  b.Put(at + 12, uint32_t{0});
  for (size_t i = 0; i < areas.size(); ++i) b.Put(at + 16 + i * 16, areas[i]);
}

TEST_CASE("A chain of two capabilities is walked in order") {
  Buffer b;
  b.Header(kFixed, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, kFixed + 8);
  PutSparse(b, kFixed + 8, {{.offset = 0, .size = 0x1000}});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  REQUIRE(caps->size() == 2);
  CHECK((*caps)[0].id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
  CHECK((*caps)[0].size == 8);
  CHECK((*caps)[1].id == VFIO_REGION_INFO_CAP_SPARSE_MMAP);
  CHECK((*caps)[1].offset == kFixed + 8);
}

TEST_CASE("No capabilities: an empty chain") {
  Buffer b;
  auto caps = WalkCapabilities(b.bytes, 0, kFixed);
  REQUIRE(caps.ok());
  CHECK(caps->empty());
}

TEST_CASE("CapabilityInsideFixedStruct is refused") {
  Buffer b;
  b.Header(kFixed, 1, 0);
  auto caps = WalkCapabilities(b.bytes, 8, kFixed);
  REQUIRE_FALSE(caps.ok());
  CHECK_THAT(caps.error().ToString(), Catch::Contains("overlaps"));
}

TEST_CASE("CapabilityPastBufferEnd is refused") {
  Buffer b;
  auto caps = WalkCapabilities(b.bytes, static_cast<uint32_t>(kFixed + 64), kFixed);
  REQUIRE_FALSE(caps.ok());
  CHECK_THAT(caps.error().ToString(), Catch::Contains("past"));
}

TEST_CASE("CapabilityHeaderTruncated is refused") {
  Buffer b;
  b.bytes.resize(kFixed + 4);
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE_FALSE(caps.ok());
  CHECK_THAT(caps.error().ToString(), Catch::Contains("past"));
}

TEST_CASE("CapabilityLinkingToItself is refused") {
  Buffer b;
  b.Header(kFixed, 1, kFixed);
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE_FALSE(caps.ok());
  CHECK_THAT(caps.error().ToString(), Catch::Contains("backwards"));
}

TEST_CASE("CapabilityLinkingBackwards is refused") {
  Buffer b;
  b.Header(kFixed, 1, kFixed + 8);
  b.Header(kFixed + 8, 2, kFixed);
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE_FALSE(caps.ok());
  CHECK_THAT(caps.error().ToString(), Catch::Contains("backwards"));
}

TEST_CASE("CapabilityOverlappingPreviousHeader is refused") {
  Buffer b;
  b.Header(kFixed, 1, kFixed + 4);
  b.bytes.resize(kFixed + 32);
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE_FALSE(caps.ok());
  CHECK_THAT(caps.error().ToString(), Catch::Contains("overlaps"));
}

TEST_CASE("CapabilityMisaligned is refused") {
  Buffer b;
  b.bytes.resize(kFixed + 32);
  auto caps = WalkCapabilities(b.bytes, kFixed + 2, kFixed);
  REQUIRE_FALSE(caps.ok());
}

TEST_CASE("ChainLongerThanTheBound is refused") {
  Buffer b;
  for (size_t i = 0; i <= kMaxCapabilities; ++i) {
    const size_t at = kFixed + i * 8;
    b.Header(at, 9, static_cast<uint32_t>(at + 8));
  }
  b.Header(kFixed + (kMaxCapabilities + 1) * 8, 9, 0);
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE_FALSE(caps.ok());
  CHECK_THAT(caps.error().ToString(), Catch::Contains("longer"));
}

TEST_CASE("InfoLargerThanTheBound is refused") {
  std::vector<uint8_t> huge(kMaxInfoSize + 1);
  CHECK_FALSE(WalkCapabilities(huge, 0, kFixed).ok());
}

TEST_CASE("Sparse areas are returned; empty ones skipped") {
  Buffer b;
  PutSparse(b, kFixed,
            {{.offset = 0, .size = 0x1000},
             {.offset = 0x2000, .size = 0},
             {.offset = 0x3000, .size = 0x1000}});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  auto areas = ParseSparseMmap(b.bytes, (*caps)[0], 0x4000);
  REQUIRE(areas.ok());
  REQUIRE(areas->size() == 2);
  CHECK((*areas)[1].offset == 0x3000);
}

TEST_CASE("SparseAreaOutsideRegion is refused") {
  Buffer b;
  PutSparse(b, kFixed, {{.offset = 0x3000, .size = 0x2000}});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  auto areas = ParseSparseMmap(b.bytes, (*caps)[0], 0x4000);
  REQUIRE_FALSE(areas.ok());
  CHECK_THAT(areas.error().ToString(), Catch::Contains("outside"));
}

TEST_CASE("SparseAreaOffsetWrapping is refused") {
  Buffer b;
  PutSparse(b, kFixed, {{.offset = ~uint64_t{0} - 0xfff, .size = 0x2000}});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  CHECK_FALSE(ParseSparseMmap(b.bytes, (*caps)[0], 0x4000).ok());
}

TEST_CASE("SparseCountBeyondCapability is refused") {
  Buffer b;
  PutSparse(b, kFixed, {{.offset = 0, .size = 0x1000}});
  b.Put(kFixed + 8, uint32_t{3});  // Claims three areas; holds one.
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  auto areas = ParseSparseMmap(b.bytes, (*caps)[0], 0x4000);
  REQUIRE_FALSE(areas.ok());
  CHECK_THAT(areas.error().ToString(), Catch::Contains("cannot hold"));
}

TEST_CASE("SparseCountHuge is refused") {
  Buffer b;
  PutSparse(b, kFixed, {});
  b.Put(kFixed + 8, uint32_t{0xffffffff});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  CHECK_FALSE(ParseSparseMmap(b.bytes, (*caps)[0], 0x4000).ok());
}

TEST_CASE("SparseCapabilityTruncated is refused") {
  Buffer b;
  b.Header(kFixed, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 0);
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  auto areas = ParseSparseMmap(b.bytes, (*caps)[0], 0x4000);
  REQUIRE_FALSE(areas.ok());
  CHECK_THAT(areas.error().ToString(), Catch::Contains("truncated"));
}

void PutIova(Buffer& b, size_t at, std::vector<vfio_iova_range> ranges) {
  b.Header(at, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 0);
  b.Put(at + 8, static_cast<uint32_t>(ranges.size()));
  b.Put(at + 12, uint32_t{0});
  for (size_t i = 0; i < ranges.size(); ++i) b.Put(at + 16 + i * 16, ranges[i]);
}

TEST_CASE("IOVA ranges as the nested L1 reports them") {
  Buffer b;
  PutIova(b, kFixed, {{.start = 0, .end = 0xfedfffff}, {.start = 0xfef00000, .end = 0x7fffffffff}});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  auto ranges = ParseIovaRanges(b.bytes, (*caps)[0]);
  REQUIRE(ranges.ok());
  REQUIRE(ranges->size() == 2);
  CHECK((*ranges)[1].start == 0xfef00000);
}

TEST_CASE("IovaRangeEndingBeforeStart is refused") {
  Buffer b;
  PutIova(b, kFixed, {{.start = 0x2000, .end = 0x1000}});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  auto ranges = ParseIovaRanges(b.bytes, (*caps)[0]);
  REQUIRE_FALSE(ranges.ok());
  CHECK_THAT(ranges.error().ToString(), Catch::Contains("ends before"));
}

TEST_CASE("IovaRangesOverlapping is refused") {
  Buffer b;
  PutIova(b, kFixed, {{.start = 0, .end = 0x2000}, {.start = 0x1000, .end = 0x3000}});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  auto ranges = ParseIovaRanges(b.bytes, (*caps)[0]);
  REQUIRE_FALSE(ranges.ok());
  CHECK_THAT(ranges.error().ToString(), Catch::Contains("not above"));
}

TEST_CASE("IovaCountBeyondCapability is refused") {
  Buffer b;
  PutIova(b, kFixed, {{.start = 0, .end = 0x2000}});
  b.Put(kFixed + 8, uint32_t{2});
  auto caps = WalkCapabilities(b.bytes, kFixed, kFixed);
  REQUIRE(caps.ok());
  CHECK_FALSE(ParseIovaRanges(b.bytes, (*caps)[0]).ok());
}

}  // namespace
}  // namespace mini_vmm::vfio
