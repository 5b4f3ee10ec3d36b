#include "devices/legacy/boot_marker.h"

#include <array>
#include <catch2/catch.hpp>

#include "arch/x86_64/platform/layout.h"
#include "tests/unit/devices/legacy/legacy_fakes.h"

namespace mini_vmm::devices {
namespace {

using testing::PortDriver;

struct BootMarkerTest {
  int calls = 0;
  BootMarker marker{[this] { ++calls; }};
  PortDriver port{marker, arch::x86_64::kBootMarkerPort};
};

TEST_CASE_METHOD(BootMarkerTest, "Writing 123 reports the boot marker") {
  port.Out(0, 123);

  CHECK(calls == 1);
}

TEST_CASE_METHOD(BootMarkerTest, "Other values are not the boot marker") {
  port.Out(0, 122);
  port.Out(0, 0);

  CHECK(calls == 0);
}

TEST_CASE_METHOD(BootMarkerTest, "Only the first boot marker is reported") {
  port.Out(0, 123);
  port.Out(0, 123);

  CHECK(calls == 1);
}

TEST_CASE_METHOD(BootMarkerTest, "A wide write is judged by its first byte") {
  const std::array<uint8_t, 4> data = {123, 0, 0, 0};

  marker.Write(IoAccess{arch::x86_64::kBootMarkerPort, 0, 0}, data);

  CHECK(calls == 1);
}

TEST_CASE_METHOD(BootMarkerTest, "Reads return 0") { CHECK(port.In(0) == 0); }

}  // namespace
}  // namespace mini_vmm::devices
