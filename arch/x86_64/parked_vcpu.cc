#include "arch/x86_64/parked_vcpu.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint64_t kRflagsInterruptEnable = 1u << 9;  // IF

}  // namespace

bool IsParked(uint32_t mp_state, uint64_t rflags) {
  switch (mp_state) {
    case KVM_MP_STATE_HALTED:
      // HLT with IF set is an idle CPU waiting for its next interrupt.
      return (rflags & kRflagsInterruptEnable) == 0;
    case KVM_MP_STATE_UNINITIALIZED:
    case KVM_MP_STATE_INIT_RECEIVED:
      return true;
    default:
      return false;
  }
}

Result<bool> IsVcpuParked(const kvm::Vcpu& vcpu) {
  const kvm_mp_state mp_state = TRY(vcpu.GetMpState());
  const kvm_regs regs = TRY(vcpu.GetRegs());
  return IsParked(mp_state.mp_state, regs.rflags);
}

}  // namespace mini_vmm::arch::x86_64
