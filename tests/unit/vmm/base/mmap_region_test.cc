#include "vmm/base/mmap_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "vmm/base/unique_fd.h"

namespace mini_vmm {
namespace {

TEST_CASE("MapSharedAligned returns an aligned mapping of the file at the offset") {
  UniqueFd fd(::memfd_create("test", MFD_CLOEXEC));
  REQUIRE(fd.valid());
  REQUIRE(::ftruncate(fd.get(), 8 << 20) == 0);
  {
    auto whole = MmapRegion::MapShared(fd.get(), 8 << 20, 0);
    REQUIRE(whole.ok());
    whole->bytes()[4 << 20] = 0x5a;
  }
  auto region = MmapRegion::MapSharedAligned(fd.get(), 2 << 20, 4 << 20, 2 << 20);
  REQUIRE(region.ok());
  CHECK(reinterpret_cast<uintptr_t>(region->data()) % (2 << 20) == 0);
  CHECK(region->size() == (2u << 20));
  CHECK(region->bytes()[0] == 0x5a);
}

TEST_CASE("A moved-from MmapRegion owns nothing") {
  auto region = MmapRegion::MapAnonymous(4096);
  REQUIRE(region.ok());
  MmapRegion moved = std::move(region).value();
  CHECK(moved.size() == 4096);
  MmapRegion empty;
  CHECK(empty.bytes().empty());
}

}  // namespace
}  // namespace mini_vmm
