#include "firmware/acpi/fadt.h"

#include <catch2/catch.hpp>

#include "tests/unit/firmware/acpi/acpi_test_util.h"

namespace mini_vmm::firmware::acpi {
namespace {

using testing::Byte;
using testing::ByteSum;
using testing::Le16;
using testing::Le32;
using testing::Le64;
using testing::Text;

// FADT field offsets from the ACPI 6.5 FADT format table.
constexpr size_t kDsdt = 40;
constexpr size_t kSciInt = 46;
constexpr size_t kPm1aEvtBlk = 56;
constexpr size_t kPmTmrBlk = 76;
constexpr size_t kIapcBootArch = 109;
constexpr size_t kFlags = 112;
constexpr size_t kResetReg = 116;
constexpr size_t kResetValue = 128;
constexpr size_t kMinorVersion = 131;
constexpr size_t kXDsdt = 140;
constexpr size_t kSleepControlReg = 244;
constexpr size_t kSleepStatusReg = 256;
// Within a Generic Address Structure.
constexpr size_t kGasSpaceId = 0;
constexpr size_t kGasBitWidth = 1;
constexpr size_t kGasBitOffset = 2;
constexpr size_t kGasAccessSize = 3;
constexpr size_t kGasAddress = 4;

constexpr uint8_t kSystemIo = 1;
constexpr uint32_t kHwReducedAcpi = 1u << 20;
constexpr uint32_t kResetRegSup = 1u << 10;
constexpr uint16_t k8042 = 1u << 1;
constexpr uint16_t kVgaNotPresent = 1u << 2;

std::vector<uint8_t> BuildDefaultFadt() {
  AcpiConfig config;
  config.sleep_control_port = 0x610;
  config.sleep_status_port = 0x611;
  config.reset_port = 0x612;
  config.reset_value = 0x0e;
  return BuildFadt(config, GuestAddress(0xe1000));
}

TEST_CASE("FADT is a 276-byte revision 6.5 table with a zero-sum checksum") {
  const std::vector<uint8_t> fadt = BuildDefaultFadt();
  CHECK(Text(fadt, 0, 4) == "FACP");
  CHECK(Le32(fadt, 4) == 276);
  CHECK(fadt.size() == 276);
  CHECK(Byte(fadt, 8) == 6);
  CHECK(Byte(fadt, kMinorVersion) == 5);
  CHECK(ByteSum(fadt) == 0);
}

TEST_CASE("FADT flags declare hardware-reduced ACPI with a reset register") {
  const uint32_t flags = Le32(BuildDefaultFadt(), kFlags);
  CHECK((flags & kHwReducedAcpi) != 0);
  CHECK((flags & kResetRegSup) != 0);
}

TEST_CASE("FADT boot flags leave out the 8042 and say VGA is not present") {
  const uint16_t boot_arch = Le16(BuildDefaultFadt(), kIapcBootArch);
  CHECK((boot_arch & k8042) == 0);
  CHECK((boot_arch & kVgaNotPresent) != 0);
}

TEST_CASE("FADT points at the DSDT through X_DSDT only") {
  const std::vector<uint8_t> fadt = BuildDefaultFadt();
  CHECK(Le64(fadt, kXDsdt) == 0xe1000);
  CHECK(Le32(fadt, kDsdt) == 0);
}

TEST_CASE("FADT has no SCI, PM1 event block or PM timer") {
  const std::vector<uint8_t> fadt = BuildDefaultFadt();
  CHECK(Le16(fadt, kSciInt) == 0);
  CHECK(Le32(fadt, kPm1aEvtBlk) == 0);
  CHECK(Le32(fadt, kPmTmrBlk) == 0);
}

TEST_CASE("FADT sleep control register is a byte at the configured I/O port") {
  const std::vector<uint8_t> fadt = BuildDefaultFadt();
  CHECK(Byte(fadt, kSleepControlReg + kGasSpaceId) == kSystemIo);
  CHECK(Byte(fadt, kSleepControlReg + kGasBitWidth) == 8);
  CHECK(Byte(fadt, kSleepControlReg + kGasBitOffset) == 0);
  CHECK(Byte(fadt, kSleepControlReg + kGasAccessSize) == 1);
  CHECK(Le64(fadt, kSleepControlReg + kGasAddress) == 0x610);
}

TEST_CASE("FADT sleep status register is a byte at the configured I/O port") {
  const std::vector<uint8_t> fadt = BuildDefaultFadt();
  CHECK(Byte(fadt, kSleepStatusReg + kGasSpaceId) == kSystemIo);
  CHECK(Byte(fadt, kSleepStatusReg + kGasBitWidth) == 8);
  CHECK(Le64(fadt, kSleepStatusReg + kGasAddress) == 0x611);
}

TEST_CASE("FADT reset register is a byte at the configured port with the reset value") {
  const std::vector<uint8_t> fadt = BuildDefaultFadt();
  CHECK(Byte(fadt, kResetReg + kGasSpaceId) == kSystemIo);
  CHECK(Byte(fadt, kResetReg + kGasBitWidth) == 8);
  CHECK(Byte(fadt, kResetReg + kGasBitOffset) == 0);
  CHECK(Le64(fadt, kResetReg + kGasAddress) == 0x612);
  CHECK(Byte(fadt, kResetValue) == 0x0e);
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
