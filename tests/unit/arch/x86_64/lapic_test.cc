#include "arch/x86_64/lapic.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr size_t kLvtLint0 = 0x350;
constexpr size_t kLvtLint1 = 0x360;
constexpr size_t kTaskPriority = 0x80;
constexpr uint32_t kMasked = 1u << 16;
constexpr uint32_t kLevelTriggered = 1u << 15;
constexpr uint32_t kDeliveryModeMask = 0x700;
constexpr uint32_t kDeliveryModeFixed = 0x000;
constexpr uint32_t kDeliveryModeSmi = 0x200;
constexpr uint32_t kDeliveryModeNmi = 0x400;
constexpr uint32_t kDeliveryModeExtInt = 0x700;

void Set(kvm_lapic_state& lapic, size_t offset, uint32_t value) {
  std::memcpy(lapic.regs + offset, &value, sizeof(value));
}

TEST_CASE("LINT0 becomes ExtINT, the 8259's output") {
  kvm_lapic_state lapic{};
  Set(lapic, kLvtLint0, kDeliveryModeFixed);

  SetLocalInterruptPins(lapic);

  CHECK((LapicRegister(lapic, kLvtLint0) & kDeliveryModeMask) == kDeliveryModeExtInt);
}

TEST_CASE("LINT1 becomes NMI") {
  kvm_lapic_state lapic{};
  Set(lapic, kLvtLint1, kDeliveryModeSmi);

  SetLocalInterruptPins(lapic);

  CHECK((LapicRegister(lapic, kLvtLint1) & kDeliveryModeMask) == kDeliveryModeNmi);
}

TEST_CASE("Bits of LINT0 and LINT1 other than the delivery mode are kept") {
  kvm_lapic_state lapic{};
  Set(lapic, kLvtLint0, kMasked | kLevelTriggered | 0x30);
  Set(lapic, kLvtLint1, kMasked | 0x2);

  SetLocalInterruptPins(lapic);

  CHECK(LapicRegister(lapic, kLvtLint0) ==
        (kMasked | kLevelTriggered | kDeliveryModeExtInt | 0x30));
  CHECK(LapicRegister(lapic, kLvtLint1) == (kMasked | kDeliveryModeNmi | 0x2));
}

TEST_CASE("Registers other than LINT0 and LINT1 are untouched") {
  kvm_lapic_state lapic{};
  Set(lapic, kTaskPriority, 0x20);
  Set(lapic, kLvtLint0 + 4, 0xdeadbeef);  // Between the two LVT registers.

  SetLocalInterruptPins(lapic);

  CHECK(LapicRegister(lapic, kTaskPriority) == 0x20);
  CHECK(LapicRegister(lapic, kLvtLint0 + 4) == 0xdeadbeef);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
