// What VFIO_DEVICE_SET_IRQS's return value means (Device::SetIrqs): the
// kernel returns a positive count when it could not allocate every MSI or
// MSI-X vector asked for (vfio_msi_enable()), which is neither success nor
// an errno.
#include <catch2/catch.hpp>
#include <cerrno>

#include "vmm/vfio/device.h"

namespace mini_vmm::vfio {
namespace {

TEST_CASE("SetIrqsZero: every vector was set") {
  auto set = InterpretSetIrqs(0, EBUSY, "set");
  REQUIRE(set.ok());
  CHECK(set->only_available == 0);
}

TEST_CASE("SetIrqsPositive: the host could allocate only that many vectors") {
  // errno is stale here (EBUSY from some earlier call): it must not show.
  auto set = InterpretSetIrqs(3, EBUSY, "set");
  REQUIRE(set.ok());
  CHECK(set->only_available == 3);
}

TEST_CASE("SetIrqsNegative: the errno of the failed call") {
  auto set = InterpretSetIrqs(-1, EINVAL, "dev: VFIO_DEVICE_SET_IRQS on index 2 (4 from 0)");
  REQUIRE_FALSE(set.ok());
  CHECK(set.error().errno_value() == EINVAL);
  CHECK(set.error().ToString() ==
        "dev: VFIO_DEVICE_SET_IRQS on index 2 (4 from 0) failed: Invalid argument");
}

}  // namespace
}  // namespace mini_vmm::vfio
