#include "vmm/memory/address_allocator.h"

#include <catch2/catch.hpp>

namespace mini_vmm {
namespace {

TEST_CASE("Allocate hands out the lowest aligned free range") {
  AddressAllocator a("mmio", 0x1000, 0x10000);
  CHECK(a.Allocate(0x100, 0x100, "x").value() == 0x1000);
  CHECK(a.Allocate(0x100, 0x1000, "y").value() == 0x2000);
  CHECK(a.Allocate(0x100, 0x100, "z").value() == 0x1100);  // The gap below y.
}

TEST_CASE("Allocate steps over fixed reservations") {
  AddressAllocator a("mmio", 0, 0x4000);
  REQUIRE(a.Reserve(0, 0x1800, "ioapic").ok());
  CHECK(a.Allocate(0x1000, 0x1000, "bar").value() == 0x2000);
}

TEST_CASE("Freed ranges are reused") {
  AddressAllocator a("gsi", 24, 4);
  const uint64_t first = a.Allocate(1, 1, "a").value();
  REQUIRE(a.Allocate(1, 1, "b").ok());
  CHECK(a.Free(first));
  CHECK(a.Allocate(1, 1, "c").value() == first);
}

TEST_CASE("Exhausted: the space running out names the space and the owner") {
  AddressAllocator a("GSIs", 24, 2);
  REQUIRE(a.Allocate(1, 1, "a").ok());
  REQUIRE(a.Allocate(1, 1, "b").ok());
  auto c = a.Allocate(1, 1, "virtio-net");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().ToString() == "GSIs is full: no 0x1 units aligned to 0x1 left for virtio-net");
}

TEST_CASE("Exhausted: an aligned range that would run past the end is refused") {
  AddressAllocator a("mmio", 0x1000, 0x1800);
  CHECK_FALSE(a.Allocate(0x1000, 0x2000, "bar").ok());  // 0x2000 aligned ends at 0x3000 > 0x2800.
}

TEST_CASE("An allocation at the very top of the address space does not wrap") {
  AddressAllocator a("top", 0xffff'ffff'ffff'0000, 0xffff);
  CHECK(a.Allocate(0x1000, 0x1000, "x").value() == 0xffff'ffff'ffff'0000);
  CHECK_FALSE(a.Allocate(0x1000, 0x1'0000, "y").ok());
}

TEST_CASE("EmptyRange: a zero-sized request is refused") {
  AddressAllocator a("mmio", 0, 0x1000);
  auto r = a.Allocate(0, 1, "dev");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == "mmio: dev asked for an empty range");
}

TEST_CASE("ReserveOverlap: a fixed range over another is refused, naming both") {
  AddressAllocator a("ports", 0, 0x10000);
  REQUIRE(a.Reserve(0x3f8, 8, "COM1").ok());
  auto r = a.Reserve(0x3fc, 8, "other");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == "ports: other at 0x3fc+0x8 overlaps COM1");
  auto below = a.Reserve(0x3f0, 9, "below");
  REQUIRE_FALSE(below.ok());
  CHECK(below.error().ToString() == "ports: below at 0x3f0+0x9 overlaps COM1");
}

TEST_CASE("ReserveOutside: a fixed range outside the space is refused") {
  AddressAllocator a("ports", 0, 0x10000);
  auto r = a.Reserve(0xfff8, 0x10, "late");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == "ports: late at 0xfff8+0x10 is outside 0x0-0x10000");
}

TEST_CASE("FreeUnknown: freeing an address nothing starts at is refused") {
  AddressAllocator a("mmio", 0, 0x1000);
  REQUIRE(a.Allocate(0x100, 0x100, "x").ok());
  CHECK_FALSE(a.Free(0x80));
}

}  // namespace
}  // namespace mini_vmm
