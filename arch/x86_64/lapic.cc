#include "arch/x86_64/lapic.h"

#include <cstring>

namespace mini_vmm::arch::x86_64 {
namespace {

// LVT register offsets in the APIC page (SDM vol. 3, table 10-1).
constexpr size_t kApicLvtLint0 = 0x350;
constexpr size_t kApicLvtLint1 = 0x360;
// LVT delivery mode, bits 8-10.
constexpr uint32_t kDeliveryModeMask = 0x700;
constexpr uint32_t kDeliveryModeNmi = 0x4 << 8;
constexpr uint32_t kDeliveryModeExtInt = 0x7 << 8;

void SetLapicRegister(kvm_lapic_state& lapic, size_t offset, uint32_t value) {
  std::memcpy(lapic.regs + offset, &value, sizeof(value));
}

}  // namespace

uint32_t LapicRegister(const kvm_lapic_state& lapic, size_t offset) {
  uint32_t value = 0;
  std::memcpy(&value, lapic.regs + offset, sizeof(value));
  return value;
}

void SetLocalInterruptPins(kvm_lapic_state& lapic) {
  const uint32_t lint0 = LapicRegister(lapic, kApicLvtLint0);
  SetLapicRegister(lapic, kApicLvtLint0, (lint0 & ~kDeliveryModeMask) | kDeliveryModeExtInt);
  const uint32_t lint1 = LapicRegister(lapic, kApicLvtLint1);
  SetLapicRegister(lapic, kApicLvtLint1, (lint1 & ~kDeliveryModeMask) | kDeliveryModeNmi);
}

Result<void> ConfigureLapic(kvm::Vcpu& vcpu) {
  kvm_lapic_state lapic = TRY(vcpu.GetLapic());
  SetLocalInterruptPins(lapic);
  TRY(vcpu.SetLapic(lapic));
  return {};
}

}  // namespace mini_vmm::arch::x86_64
