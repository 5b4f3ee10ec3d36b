// Vcpu: one KVM virtual CPU and its mapped kvm_run page. Run() is called
// from the vCPU's own thread only; RequestExit() from any thread.
//
//   Vcpu vcpu = TRY(vm.CreateVcpu(0));
//   TRY(vcpu.SetRegs(regs));
//   for (;;) {
//     VcpuExit exit = vcpu.Run();
//     std::visit(dispatcher, exit);
//   }
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <vector>

#include "vmm/base/mmap_region.h"
#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"
#include "vmm/kvm/vcpu_exit.h"

namespace mini_vmm::kvm {

class Vcpu {
 public:
  Vcpu(uint32_t id, UniqueFd fd, MmapRegion run);
  Vcpu(Vcpu&&) noexcept = default;
  Vcpu& operator=(Vcpu&&) noexcept = default;
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  uint32_t id() const { return id_; }

  // Enters the guest until the next exit that needs userspace.
  VcpuExit Run() noexcept;

  // Makes the current or next Run() return InterruptedExit. To interrupt a
  // running vCPU, also signal its thread (the vmm layer does both).
  void RequestExit() noexcept;
  void ClearExitRequest() noexcept;

  Result<kvm_regs> GetRegs() const;
  Result<void> SetRegs(const kvm_regs& regs);
  Result<kvm_sregs> GetSregs() const;
  Result<void> SetSregs(const kvm_sregs& sregs);
  Result<kvm_fpu> GetFpu() const;
  Result<void> SetFpu(const kvm_fpu& fpu);
  Result<kvm_lapic_state> GetLapic() const;
  Result<void> SetLapic(const kvm_lapic_state& lapic);
  Result<void> SetCpuid(std::span<const kvm_cpuid_entry2> entries);
  // Sets all entries or fails naming the first MSR KVM refused.
  Result<void> SetMsrs(std::span<const kvm_msr_entry> entries);
  // Reads the given MSR indices; KVM stops at the first it cannot read, so
  // the result may be a prefix of `indices`.
  Result<std::vector<kvm_msr_entry>> GetMsrs(std::span<const uint32_t> indices) const;
  Result<kvm_mp_state> GetMpState() const;
  Result<void> SetGuestDebug(const kvm_guest_debug& debug);
  // Guest-virtual to guest-physical through the vCPU's current page tables.
  Result<kvm_translation> Translate(uint64_t guest_virtual) const;

 private:
  kvm_run* run() const { return static_cast<kvm_run*>(run_.data()); }

  uint32_t id_;
  UniqueFd fd_;
  MmapRegion run_;
};

}  // namespace mini_vmm::kvm
