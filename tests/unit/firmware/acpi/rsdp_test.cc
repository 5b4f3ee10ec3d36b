#include "firmware/acpi/rsdp.h"

#include <catch2/catch.hpp>
#include <span>

#include "tests/unit/firmware/acpi/acpi_test_util.h"

namespace mini_vmm::firmware::acpi {
namespace {

using testing::ByteSum;
using testing::Le32;
using testing::Le64;
using testing::Text;

TEST_CASE("RSDP is a revision 2 structure of 36 bytes pointing at the XSDT") {
  const std::vector<uint8_t> rsdp = BuildRsdp(GuestAddress(0x123456789a));
  REQUIRE(rsdp.size() == 36);
  CHECK(Text(rsdp, 0, 8) == "RSD PTR ");
  CHECK(Text(rsdp, 9, 6) == "MINVMM");
  CHECK(rsdp[15] == 2);
  CHECK(Le32(rsdp, 20) == 36);
  CHECK(Le64(rsdp, 24) == 0x123456789a);
}

TEST_CASE("RSDP has no RSDT") { CHECK(Le32(BuildRsdp(GuestAddress(0x1000)), 16) == 0); }

TEST_CASE("RSDP checksum covers the first 20 bytes") {
  const std::vector<uint8_t> rsdp = BuildRsdp(GuestAddress(0xe0040));
  CHECK(ByteSum(std::span<const uint8_t>(rsdp).first(20)) == 0);
}

TEST_CASE("RSDP extended checksum covers all 36 bytes") {
  const std::vector<uint8_t> rsdp = BuildRsdp(GuestAddress(0xe0040));
  CHECK(ByteSum(rsdp) == 0);
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
