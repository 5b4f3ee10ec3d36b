// DmaMapper: the container's DMA mappings follow the RAM regions of the
// memory map; reserved IOVA ranges and pinning failures are refused with
// the contract's words.
#include "vmm/vfio/dma_mapper.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <map>
#include <vector>

namespace mini_vmm::vfio {
namespace {

class FakeDmaSpace final : public DmaSpace {
 public:
  Result<DmaMapping> Map(uint64_t iova, uint64_t size, void* host) override {
    if (pinnable_ < size) return Error::Errno(ENOMEM, "fake: cannot pin");
    pinnable_ -= size;
    live_[iova] = {size, host};
    return DmaMapping(iova, size, [this, iova, size] {
      live_.erase(iova);
      pinnable_ += size;
    });
  }
  struct Live {
    uint64_t size;
    void* host;
  };
  std::map<uint64_t, Live> live_;
  uint64_t pinnable_ = ~uint64_t{0};
};

std::vector<uint8_t> g_backing(0x1000);

MappedRegion Ram(uint64_t start, uint64_t size) {
  return {.start = GuestAddress(start),
          .size = size,
          .host = g_backing.data(),
          .kind = MappedRegion::Kind::kRam,
          .read_only = false,
          .id = 0};
}

const std::vector<IovaRange> kNestedRanges = {{.start = 0, .end = 0xfedfffff},
                                              {.start = 0xfef00000, .end = 0x7fffffffff}};

TEST_CASE("Every RAM region is mapped at its guest address and unmapped with it") {
  FakeDmaSpace space;
  MemoryMap map;
  auto low = map.Add(Ram(0, 0xc0000000));
  REQUIRE(low.ok());
  DmaMapper dma(space, kNestedRanges, std::nullopt);
  REQUIRE(map.AddListener(&dma).ok());  // Replays what is there.
  REQUIRE(space.live_.size() == 1);
  CHECK(space.live_.at(0).size == 0xc0000000);

  auto high = map.Add(Ram(0x100000000, 0x40000000));
  REQUIRE(high.ok());
  CHECK(space.live_.size() == 2);
  CHECK(dma.mapped_bytes() == 0x100000000);

  REQUIRE(map.Remove(*high));
  CHECK(space.live_.size() == 1);
  map.RemoveListener(&dma);
}

TEST_CASE("Device regions (BARs) are not mapped for DMA") {
  FakeDmaSpace space;
  MemoryMap map;
  DmaMapper dma(space, kNestedRanges, std::nullopt);
  REQUIRE(map.AddListener(&dma).ok());
  MappedRegion bar = Ram(0xe0000000, 0x1000);
  bar.kind = MappedRegion::Kind::kDevice;
  REQUIRE(map.Add(bar).ok());
  CHECK(space.live_.empty());
  CHECK(dma.mappings() == 0);
  map.RemoveListener(&dma);
}

TEST_CASE("RamOverlappingMsiWindow: refused, naming the reserved range; nothing stays mapped") {
  FakeDmaSpace space;
  MemoryMap map;
  DmaMapper dma(space, kNestedRanges, std::nullopt);
  REQUIRE(map.AddListener(&dma).ok());
  auto added = map.Add(Ram(0xfe000000, 0x2000000));
  REQUIRE_FALSE(added.ok());
  CHECK_THAT(added.error().ToString(),
             Catch::Contains("reserved IOVA range [0xfee00000, 0xfeefffff]"));
  CHECK(space.live_.empty());
  CHECK(map.regions().empty());
  map.RemoveListener(&dma);
}

TEST_CASE("RamAboveIommuAddressWidth: refused as a reserved range") {
  FakeDmaSpace space;
  MemoryMap map;
  DmaMapper dma(space, kNestedRanges, std::nullopt);
  REQUIRE(map.AddListener(&dma).ok());
  auto added = map.Add(Ram(0x7fc0000000, 0x80000000));
  REQUIRE_FALSE(added.ok());
  CHECK_THAT(added.error().ToString(),
             Catch::Contains("reserved IOVA range [0x8000000000, 0xffffffffffffffff]"));
  map.RemoveListener(&dma);
}

TEST_CASE("PinningBeyondMemlock: the error names RLIMIT_MEMLOCK and the bytes needed") {
  FakeDmaSpace space;
  space.pinnable_ = 0x100000;
  MemoryMap map;
  REQUIRE(map.Add(Ram(0, 0x80000)).ok());
  REQUIRE(map.Add(Ram(0x100000, 0x200000)).ok());
  DmaMapper dma(space, kNestedRanges, 0x100000);
  auto listened = map.AddListener(&dma);
  REQUIRE_FALSE(listened.ok());
  CHECK_THAT(listened.error().ToString(), Catch::Contains("RLIMIT_MEMLOCK"));
  CHECK_THAT(listened.error().ToString(), Catch::Contains("needs 2621440 bytes"));
  CHECK_THAT(listened.error().ToString(), Catch::Contains("(1048576 bytes)"));
}

TEST_CASE("FindReservedOverlap finds the gap, the head and the tail") {
  const std::vector<IovaRange> ranges = {{.start = 0x1000, .end = 0x1fff},
                                         {.start = 0x3000, .end = 0x3fff}};
  CHECK_FALSE(FindReservedOverlap(0x1000, 0x1000, ranges).has_value());
  CHECK(FindReservedOverlap(0, 0x1001, ranges)->end == 0xfff);
  CHECK(FindReservedOverlap(0x1800, 0x1000, ranges)->start == 0x2000);
  CHECK(FindReservedOverlap(0x3800, 0x1000, ranges)->start == 0x4000);
  const std::vector<IovaRange> all = {{.start = 0, .end = ~uint64_t{0}}};
  CHECK_FALSE(FindReservedOverlap(0xfffff000, 0x2000, all).has_value());
}

}  // namespace
}  // namespace mini_vmm::vfio
