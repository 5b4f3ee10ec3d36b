#include "firmware/acpi/sdt.h"

#include <catch2/catch.hpp>

#include "tests/unit/firmware/acpi/acpi_test_util.h"

namespace mini_vmm::firmware::acpi {
namespace {

using testing::ByteSum;
using testing::Le32;
using testing::Text;

TEST_CASE("Checksum is the byte that brings the sum to zero") {
  const std::vector<uint8_t> bytes = {0x01, 0x02, 0x03};
  CHECK(Checksum(bytes) == 0xfa);
  CHECK(Checksum(std::vector<uint8_t>{}) == 0x00);
}

TEST_CASE("MakeSdtHeader carries mini-vmm's OEM and creator identity") {
  std::vector<uint8_t> table;
  AppendObj(table, MakeSdtHeader("TEST", 3));
  CHECK(Text(table, 0, 4) == "TEST");
  CHECK(table[8] == 3);
  CHECK(Text(table, 10, 6) == "MINVMM");
  CHECK(Text(table, 16, 8) == "MINIVMM ");
  CHECK(Le32(table, 24) == kOemRevision);
  CHECK(Text(table, 28, 4) == "MVMM");
  CHECK(Le32(table, 32) == kCreatorRevision);
}

TEST_CASE("FinishSdt sets Length to the table size and makes the bytes sum to zero") {
  std::vector<uint8_t> table;
  AppendObj(table, MakeSdtHeader("TEST", 1));
  table.push_back(0x5a);
  table.push_back(0xc3);
  FinishSdt(table);
  CHECK(Le32(table, 4) == 38);
  CHECK(ByteSum(table) == 0);
}

TEST_CASE("FinishSdt is idempotent") {
  std::vector<uint8_t> table;
  AppendObj(table, MakeSdtHeader("TEST", 1));
  table.push_back(0x77);
  FinishSdt(table);
  const std::vector<uint8_t> once = table;
  FinishSdt(table);
  CHECK(table == once);
}

TEST_CASE("IoPortRegister8 is a byte-wide System I/O generic address") {
  std::vector<uint8_t> gas;
  AppendObj(gas, IoPortRegister8(0x601));
  CHECK(gas == std::vector<uint8_t>{0x01, 8, 0, 1, 0x01, 0x06, 0, 0, 0, 0, 0, 0});
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
