#include "devices/legacy/acpi_pm.h"

#include <catch2/catch.hpp>

#include "arch/x86_64/platform/layout.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::PortDriver;

// What acpi_hw_extended_sleep() writes: SLP_EN (0x20) | SLP_TYP << 2.
constexpr uint8_t kSleepEnable = 0x20;
constexpr uint8_t kS5 = kSleepEnable | (5 << 2);  // 0x34
constexpr uint8_t kS3 = kSleepEnable | (3 << 2);
constexpr uint8_t kWakeStatus = 0x80;

struct AcpiPmTest {
  int power_offs = 0;
  int resets = 0;
  AcpiPm pm{[this] { ++power_offs; }, [this] { ++resets; }};
  PortDriver port{pm, arch::x86_64::kAcpiPmPort};
};

TEST_CASE_METHOD(AcpiPmTest, "Sleep type S5 with SLP_EN powers off") {
  port.Out(AcpiPm::kSleepStatusOffset, kWakeStatus);

  port.Out(AcpiPm::kSleepControlOffset, kS5);

  CHECK(power_offs == 1);
  CHECK(port.In(AcpiPm::kSleepStatusOffset) == 0);
}

TEST_CASE_METHOD(AcpiPmTest, "Other sleep types are ignored and wake the guest at once") {
  port.Out(AcpiPm::kSleepControlOffset, kS3);

  CHECK(power_offs == 0);
  CHECK(port.In(AcpiPm::kSleepStatusOffset) == kWakeStatus);
}

TEST_CASE_METHOD(AcpiPmTest, "Writing WAK_STS clears it") {
  port.Out(AcpiPm::kSleepControlOffset, kS3);

  port.Out(AcpiPm::kSleepStatusOffset, kWakeStatus);

  CHECK(port.In(AcpiPm::kSleepStatusOffset) == 0);
}

TEST_CASE_METHOD(AcpiPmTest, "Sleep type S5 without SLP_EN is ignored") {
  port.Out(AcpiPm::kSleepControlOffset, 5 << 2);

  CHECK(power_offs == 0);
}

TEST_CASE_METHOD(AcpiPmTest, "The reset value on the reset register resets") {
  port.Out(AcpiPm::kResetOffset, 0x01);

  CHECK(resets == 1);
  CHECK(power_offs == 0);
}

TEST_CASE_METHOD(AcpiPmTest, "Other values on the reset register are ignored") {
  port.Out(AcpiPm::kResetOffset, 0x06);

  CHECK(resets == 0);
}

TEST_CASE_METHOD(AcpiPmTest, "Control and reset registers read as 0") {
  CHECK(port.In(AcpiPm::kSleepControlOffset) == 0);
  CHECK(port.In(AcpiPm::kResetOffset) == 0);
}

TEST_CASE("AcpiPm follows a configured S5 type and reset value") {
  int power_offs = 0;
  int resets = 0;
  AcpiPm pm([&] { ++power_offs; }, [&] { ++resets; },
            AcpiPmConfig{.s5_sleep_type = 7, .reset_value = 0x0e});
  PortDriver port(pm, arch::x86_64::kAcpiPmPort);

  port.Out(AcpiPm::kSleepControlOffset, kS5);
  port.Out(AcpiPm::kSleepControlOffset, kSleepEnable | (7 << 2));
  port.Out(AcpiPm::kResetOffset, 0x01);
  port.Out(AcpiPm::kResetOffset, 0x0e);

  CHECK(power_offs == 1);
  CHECK(resets == 1);
}

}  // namespace
}  // namespace mini_vmm::devices
