// ConfigureLapic on a real vCPU: KVM tier (tests/support/kvm_main.cc).
#include "arch/x86_64/lapic.h"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>

#include "tests/support/tiny_guest.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr size_t kLvtLint0 = 0x350;
constexpr size_t kLvtLint1 = 0x360;
constexpr uint32_t kDeliveryModeMask = 0x700;
constexpr uint32_t kDeliveryModeNmi = 0x400;
constexpr uint32_t kDeliveryModeExtInt = 0x700;

TEST_CASE("ConfigureLapic wires LINT0 to ExtINT and LINT1 to NMI on a real vCPU") {
  auto guest = testing::MakeTinyGuest({});

  REQUIRE(ConfigureLapic(guest->vcpu).ok());

  auto lapic = guest->vcpu.GetLapic();
  REQUIRE(lapic.ok());
  CHECK((LapicRegister(*lapic, kLvtLint0) & kDeliveryModeMask) == kDeliveryModeExtInt);
  CHECK((LapicRegister(*lapic, kLvtLint1) & kDeliveryModeMask) == kDeliveryModeNmi);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
