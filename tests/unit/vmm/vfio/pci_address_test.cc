#include "vmm/vfio/pci_address.h"

#include <catch2/catch.hpp>

namespace mini_vmm::vfio {
namespace {

TEST_CASE("A full address parses and prints as sysfs names it") {
  auto a = ParseHostPciAddress("0000:00:04.0");
  REQUIRE(a.ok());
  CHECK(a->device == 4);
  CHECK(a->ToString() == "0000:00:04.0");
}

TEST_CASE("A short address is in domain 0; upper-case hex is accepted") {
  auto a = ParseHostPciAddress("3A:1F.7");
  REQUIRE(a.ok());
  CHECK(a->bus == 0x3a);
  CHECK(a->device == 0x1f);
  CHECK(a->function == 7);
  CHECK(a->ToString() == "0000:3a:1f.7");
}

TEST_CASE("Malformed addresses are refused with the contract's words") {
  for (const char* text :
       {"", "0000:00:04", "00:04.0.1", "0000:00:20.0", "0000:00:04.8", "00000:00:04.0",
        "0000:000:04.0", "0000:00:4.0", "zz:00.0", "0000:00:04.0,x", ":00:04.0", "0000::04.0"}) {
    INFO(text);
    auto a = ParseHostPciAddress(text);
    REQUIRE_FALSE(a.ok());
    CHECK_THAT(a.error().ToString(), Catch::Contains("is not a PCI address"));
  }
}

}  // namespace
}  // namespace mini_vmm::vfio
