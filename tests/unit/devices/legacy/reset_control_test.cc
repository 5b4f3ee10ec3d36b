#include "devices/legacy/reset_control.h"

#include <array>
#include <catch2/catch.hpp>

#include "arch/x86_64/platform/layout.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::PortDriver;

constexpr uint16_t kPort = arch::x86_64::kResetControlPort;

struct ResetControlTest {
  int resets = 0;
  ResetControl rcr{[this] { ++resets; }};
  PortDriver port{rcr, kPort};
};

TEST_CASE_METHOD(ResetControlTest, "Linux's reboot=pci warm sequence resets once") {
  // arch/x86/kernel/reboot.c, BOOT_CF9_FORCE with REBOOT_WARM.
  const uint8_t cf9 = port.In(0);
  port.Out(0, cf9 | 0x02);
  port.Out(0, cf9 | 0x06);

  CHECK(resets == 1);
}

TEST_CASE_METHOD(ResetControlTest, "Linux's reboot=pci cold sequence resets once") {
  port.Out(0, 0x02);
  port.Out(0, 0x0e);

  CHECK(resets == 1);
}

TEST_CASE_METHOD(ResetControlTest, "Writing SYS_RST alone only selects the reset type") {
  port.Out(0, 0x02);

  CHECK(resets == 0);
  CHECK(port.In(0) == 0x02);
}

TEST_CASE_METHOD(ResetControlTest, "RST_CPU is never read back") {
  port.Out(0, 0x0e);

  CHECK(port.In(0) == 0x0a);
}

TEST_CASE_METHOD(ResetControlTest, "Undefined bits are dropped") {
  port.Out(0, 0xf1);

  CHECK(resets == 0);
  CHECK(port.In(0) == 0x00);
}

TEST_CASE_METHOD(ResetControlTest, "Every write with RST_CPU set resets") {
  port.Out(0, 0x04);
  port.Out(0, 0x04);

  CHECK(resets == 2);
}

TEST_CASE_METHOD(ResetControlTest, "A wide write to port 0xCF9 is judged by its first byte") {
  const std::array<uint8_t, 4> data = {0x00, 0x04, 0x04, 0x04};

  rcr.Write(IoAccess{kPort, 0, 0}, data);

  CHECK(resets == 0);
}

TEST_CASE_METHOD(ResetControlTest, "An empty write to port 0xCF9 does nothing") {
  rcr.Write(IoAccess{kPort, 0, 0}, std::span<const uint8_t>());

  CHECK(resets == 0);
}

TEST_CASE("A reset control register without a callback ignores RST_CPU") {
  ResetControl rcr{nullptr};
  PortDriver port{rcr, kPort};

  port.Out(0, 0x06);

  CHECK(port.In(0) == 0x02);
}

}  // namespace
}  // namespace mini_vmm::devices
