#include "firmware/acpi/xsdt.h"

#include <array>
#include <catch2/catch.hpp>

#include "tests/unit/firmware/acpi/acpi_test_util.h"

namespace mini_vmm::firmware::acpi {
namespace {

using testing::ByteSum;
using testing::Le32;
using testing::Le64;
using testing::Text;

TEST_CASE("XSDT lists 64-bit table addresses after its header, in order") {
  const std::array<GuestAddress, 2> entries = {GuestAddress(0xe0070), GuestAddress(0x1'0000'0000)};
  const std::vector<uint8_t> xsdt = BuildXsdt(entries);
  REQUIRE(xsdt.size() == XsdtSize(2));
  CHECK(Text(xsdt, 0, 4) == "XSDT");
  CHECK(xsdt[8] == kXsdtRevision);
  CHECK(Le64(xsdt, 36) == 0xe0070);
  CHECK(Le64(xsdt, 44) == 0x1'0000'0000);
}

TEST_CASE("XSDT length and checksum cover its entries") {
  const std::array<GuestAddress, 1> entries = {GuestAddress(0xe0070)};
  const std::vector<uint8_t> xsdt = BuildXsdt(entries);
  CHECK(Le32(xsdt, 4) == 44);
  CHECK(ByteSum(xsdt) == 0);
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
