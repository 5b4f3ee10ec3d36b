#include "vmm/memory/guest_memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "tests/support/fake_guest_memory.h"

namespace mini_vmm {
namespace {

using testing::MakeGuestMemory;

constexpr uint64_t kMiB = 1 << 20;

// The VmFlags line of the mapping that starts at `addr`, from /proc/self/smaps.
std::string VmFlagsOf(const void* addr) {
  char start[32];
  std::snprintf(start, sizeof(start), "%lx-", reinterpret_cast<unsigned long>(addr));
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    if (line.rfind(start, 0) == 0) inside = true;
    if (inside && line.rfind("VmFlags:", 0) == 0) return line + " ";
  }
  return {};
}

// Lowers RLIMIT_FSIZE for one test, as `ulimit -f` does, and restores it.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    rlimit lower = saved_;
    lower.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lower) == 0);
  }
  ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &saved_); }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
};

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

TEST_CASE("Shared regions share one sealed memfd at consecutive offsets") {
  std::array<GuestRegionSpec, 2> layout = {GuestRegionSpec{GuestAddress(0), kMiB},
                                           GuestRegionSpec{GuestAddress(4 * kMiB), kMiB}};
  auto mem = GuestMemory::Create(layout, {.backing = GuestMemory::Backing::kShared});
  REQUIRE(mem.ok());
  REQUIRE(mem->memfd() >= 0);
  CHECK(mem->regions()[0].fd() == mem->memfd());
  CHECK(mem->regions()[1].fd_offset() == kMiB);
  CHECK(mem->total_size() == 2 * kMiB);
  CHECK(::ftruncate(mem->memfd(), 0) != 0);  // F_SEAL_SHRINK
}

TEST_CASE("Private RAM has no fd and is advised for huge pages, never forked") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0), 4 * kMiB}};
  auto mem = GuestMemory::Create(layout);
  REQUIRE(mem.ok());
  CHECK(mem->memfd() == -1);
  CHECK(mem->regions()[0].fd() == -1);
  const std::string flags = VmFlagsOf(mem->regions()[0].host_address());
  CHECK_THAT(flags, Catch::Contains(" hg"));  // MADV_HUGEPAGE
  CHECK_THAT(flags, Catch::Contains(" dc"));  // MADV_DONTFORK
}

TEST_CASE("Without hugepages, private RAM is advised against them") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0), 4 * kMiB}};
  auto mem = GuestMemory::Create(layout, {.hugepages = false});
  REQUIRE(mem.ok());
  CHECK_THAT(VmFlagsOf(mem->regions()[0].host_address()), Catch::Contains(" nh"));
}

TEST_CASE("Private RAM ignores the file-size limit that a memfd hits") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0), 4 * kMiB}};
  FileSizeLimit limit(kMiB);
  CHECK(GuestMemory::Create(layout).ok());
}

TEST_CASE("FileSizeLimit: shared RAM larger than ulimit -f is refused, naming the limit") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0), 4 * kMiB}};
  FileSizeLimit limit(kMiB);
  auto mem = GuestMemory::Create(layout, {.backing = GuestMemory::Backing::kShared});
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.error().ToString() ==
        "shared guest RAM of 4 MiB is a file larger than this process's file-size limit "
        "(ulimit -f 1024 KiB); raise it to at least 4096 KiB or drop shared=on");
}

TEST_CASE("HugetlbUnaligned: hugetlbfs regions must be whole 2 MiB pages") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0), 3 * kMiB}};
  auto mem = GuestMemory::Create(layout, {.backing = GuestMemory::Backing::kHugetlb});
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.error().ToString() ==
        "guest memory region 0x0+0x300000 is empty or not 2048 KiB-aligned");
}

TEST_CASE("Hugetlb RAM is either on 2 MiB pages or refused with the pool to raise") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0), 2 * kMiB}};
  auto mem = GuestMemory::Create(layout, {.backing = GuestMemory::Backing::kHugetlb});
  if (mem.ok()) {
    mem->regions()[0].host_address()[0] = 1;
    auto residency = mem->MeasureResidency();
    REQUIRE(residency.ok());
    CHECK(residency->huge_bytes == 2 * kMiB);
  } else {
    CHECK_THAT(mem.error().ToString(), Catch::Contains("vm.nr_hugepages") ||
                                           Catch::Contains("hugetlbfs pages"));
  }
}

TEST_CASE("MeasureResidency counts the pages the host backed") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0), 4 * kMiB}};
  auto mem = GuestMemory::Create(layout, {.hugepages = false});
  REQUIRE(mem.ok());
  auto before = mem->MeasureResidency();
  REQUIRE(before.ok());
  CHECK(before->resident_bytes == 0);
  for (uint64_t off = 0; off < kMiB; off += 4096) mem->regions()[0].host_address()[off] = 1;
  auto after = mem->MeasureResidency();
  REQUIRE(after.ok());
  CHECK(after->resident_bytes == kMiB);
  CHECK(after->huge_bytes == 0);
}

TEST_CASE("Create rejects overlapping regions") {
  std::array<GuestRegionSpec, 2> layout = {GuestRegionSpec{GuestAddress(0), 2 * kMiB},
                                           GuestRegionSpec{GuestAddress(kMiB), kMiB}};
  auto mem = GuestMemory::Create(layout);
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.error().ToString() == "guest memory regions overlap or are unsorted at 0x100000");
  CHECK(mem.error().errno_value() == 0);
}

TEST_CASE("Create rejects a region that wraps around the address space") {
  std::array<GuestRegionSpec, 1> layout = {
      GuestRegionSpec{GuestAddress(0xffff'ffff'ffff'f000), 0x2000}};
  auto mem = GuestMemory::Create(layout);
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.error().ToString() == "guest memory region at 0xfffffffffffff000 wraps around");
}

TEST_CASE("Create rejects an unaligned region") {
  std::array<GuestRegionSpec, 1> layout = {GuestRegionSpec{GuestAddress(0x100), 0x1000}};
  auto mem = GuestMemory::Create(layout);
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.error().ToString() == "guest memory region 0x100+0x1000 is empty or not 4 KiB-aligned");
}

TEST_CASE("Create rejects an empty layout") {
  auto mem = GuestMemory::Create(std::span<const GuestRegionSpec>());
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.error().ToString() == "guest memory layout has no regions");
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
