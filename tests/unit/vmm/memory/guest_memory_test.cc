#include "vmm/memory/guest_memory.h"

#include <array>
#include <catch2/catch.hpp>
#include <limits>

#include "tests/support/fake_guest_memory.h"

namespace mini_vmm {
namespace {

using testing::MakeGuestMemory;

constexpr uint64_t kMiB = 1 << 20;

TEST_CASE("GetSlice inside a region returns the requested bytes") {
  GuestMemory mem = MakeGuestMemory(0x1000, 0x4000);
  auto slice = mem.GetSlice(GuestAddress(0x2000), 0x100);
  REQUIRE(slice.has_value());
  CHECK(slice->size() == 0x100);
  CHECK(slice->data() == mem.regions()[0].host_address() + 0x1000);
}

TEST_CASE("GetSlice rejects an address below RAM") {
  GuestMemory mem = MakeGuestMemory(0x1000, 0x4000);
  CHECK_FALSE(mem.GetSlice(GuestAddress(0xfff), 1).has_value());
}

TEST_CASE("GetSlice rejects a slice running past the end of RAM") {
  GuestMemory mem = MakeGuestMemory(0x1000, 0x4000);
  CHECK(mem.GetSlice(GuestAddress(0x4fff), 1).has_value());
  CHECK_FALSE(mem.GetSlice(GuestAddress(0x4fff), 2).has_value());
  CHECK_FALSE(mem.GetSlice(GuestAddress(0x5000), 0).has_value());
}

TEST_CASE("GetSlice rejects a length that overflows the address space") {
  GuestMemory mem = MakeGuestMemory(0x1000, 0x4000);
  CHECK_FALSE(mem.GetSlice(GuestAddress(0x2000), std::numeric_limits<uint64_t>::max()).has_value());
}

TEST_CASE("GetSlice never crosses from one region into the next") {
  GuestMemory mem = MakeGuestMemory({{GuestAddress(0), kMiB}, {GuestAddress(kMiB), kMiB}});
  CHECK(mem.GetSlice(GuestAddress(kMiB - 4), 4).has_value());
  CHECK_FALSE(mem.GetSlice(GuestAddress(kMiB - 4), 8).has_value());
  CHECK(mem.GetSlice(GuestAddress(kMiB), 8).has_value());
}

TEST_CASE("Reads and writes round-trip through objects") {
  GuestMemory mem = MakeGuestMemory({{GuestAddress(0), kMiB}, {GuestAddress(4 * kMiB), kMiB}});
  struct Pair {
    uint32_t a;
    uint64_t b;
  };
  REQUIRE(mem.WriteObj(GuestAddress(4 * kMiB + 8), Pair{1, 2}));
  auto back = mem.ReadObj<Pair>(GuestAddress(4 * kMiB + 8));
  REQUIRE(back.has_value());
  CHECK(back->a == 1);
  CHECK(back->b == 2);
  CHECK_FALSE(mem.ReadObj<Pair>(GuestAddress(2 * kMiB)).has_value());
}

TEST_CASE("FindRegion answers correctly after the cached region misses") {
  GuestMemory mem = MakeGuestMemory({{GuestAddress(0), kMiB}, {GuestAddress(4 * kMiB), kMiB}});
  CHECK(mem.FindRegion(GuestAddress(4 * kMiB)) == &mem.regions()[1]);
  CHECK(mem.FindRegion(GuestAddress(0)) == &mem.regions()[0]);
  CHECK(mem.FindRegion(GuestAddress(2 * kMiB)) == nullptr);
}

TEST_CASE("Regions share one memfd at consecutive offsets") {
  GuestMemory mem = MakeGuestMemory({{GuestAddress(0), kMiB}, {GuestAddress(4 * kMiB), kMiB}});
  CHECK(mem.regions()[0].fd() == mem.memfd());
  CHECK(mem.regions()[1].fd_offset() == kMiB);
  CHECK(mem.total_size() == 2 * kMiB);
}

TEST_CASE("Create rejects overlapping regions") {
  std::array<GuestRegionSpec, 2> layout = {GuestRegionSpec{GuestAddress(0), 2 * kMiB},
                                           GuestRegionSpec{GuestAddress(kMiB), kMiB}};
  auto mem = GuestMemory::Create(layout);
  REQUIRE_FALSE(mem.ok());
  CHECK_THAT(mem.error().ToString(), Catch::Contains("overlap"));
}

TEST_CASE("Create rejects a region that wraps around the address space") {
  std::array<GuestRegionSpec, 1> layout = {
      GuestRegionSpec{GuestAddress(0xffff'ffff'ffff'f000), 0x2000}};
  CHECK_FALSE(GuestMemory::Create(layout).ok());
}

TEST_CASE("Create rejects an unaligned region") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0x100), 0x1000}};
  CHECK_FALSE(GuestMemory::Create(layout).ok());
}

TEST_CASE("Hugepage-aligned regions map at 2 MiB boundaries") {
  std::array<GuestRegionSpec, 2> layout = {GuestRegionSpec{GuestAddress(0), 2 * kMiB},
                                           GuestRegionSpec{GuestAddress(8 * kMiB), 4 * kMiB}};
  auto mem = GuestMemory::Create(layout, GuestMemory::Options{.hugepages = true});
  REQUIRE(mem.ok());
  for (const GuestRegion& r : mem->regions()) {
    CHECK(reinterpret_cast<uintptr_t>(r.host_address()) % (2 * kMiB) == 0);
  }
}

}  // namespace
}  // namespace mini_vmm
