#include "vmm/cli/memory_option.h"

#include <catch2/catch.hpp>

namespace mini_vmm::cli {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST_CASE("A bare size is private RAM of that size") {
  auto m = ParseMemoryOption("512M");
  REQUIRE(m.ok());
  CHECK(m->bytes == 512 * kMiB);
  CHECK(m->backing == GuestMemory::Backing::kPrivate);
}

TEST_CASE("size= may name the size") {
  auto m = ParseMemoryOption("size=2G");
  REQUIRE(m.ok());
  CHECK(m->bytes == 2048 * kMiB);
}

TEST_CASE("hugetlb=on selects the hugetlbfs backing") {
  auto m = ParseMemoryOption("2G,hugetlb=on");
  REQUIRE(m.ok());
  CHECK(m->backing == GuestMemory::Backing::kHugetlb);
}

TEST_CASE("shared=on selects the memfd backing") {
  auto m = ParseMemoryOption("1G,shared=on");
  REQUIRE(m.ok());
  CHECK(m->backing == GuestMemory::Backing::kShared);
}

TEST_CASE("hugetlb wins over shared: hugetlbfs memory is shareable already") {
  auto m = ParseMemoryOption("1G,shared=on,hugetlb=on");
  REQUIRE(m.ok());
  CHECK(m->backing == GuestMemory::Backing::kHugetlb);
}

TEST_CASE("BadSize: a size that is not one is refused with examples") {
  auto m = ParseMemoryOption("lots,hugetlb=on");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().ToString() == "\"lots\" is not a size (examples: 512M, 2G, 1024)");
}

TEST_CASE("UnknownKey: a key the option does not have is named") {
  auto m = ParseMemoryOption("1G,prealloc=on");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().ToString() == "unknown key \"prealloc\" (known: shared, hugetlb)");
}

TEST_CASE("NotOnOff: hugetlb=maybe is refused") {
  auto m = ParseMemoryOption("1G,hugetlb=maybe");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().ToString() == "hugetlb=maybe is not on or off");
}

TEST_CASE("NoEquals: an item without = shows an example") {
  auto m = ParseMemoryOption("1G,hugetlb");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().ToString() == "\"hugetlb\" is not key=value (example: 2G,hugetlb=on)");
}

TEST_CASE("HugetlbUnaligned: hugetlb=on needs whole 2 MiB pages") {
  auto m = ParseMemoryOption("3M,hugetlb=on");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().ToString() == "hugetlb=on needs a multiple of 2 MiB, not 3072 KiB");
}

}  // namespace
}  // namespace mini_vmm::cli
