// KvmTarget: the GDB stub's Target on real KVM vCPUs. Registers through
// KVM_GET/SET_REGS, SREGS, FPU and the KERNEL_GS_BASE MSR; virtual
// addresses through the guest's own page tables (arch/x86_64/page_walk.h)
// and guest-physical accesses through GuestMemory; breakpoints, steps and
// watchpoints through KVM_SET_GUEST_DEBUG (arch/x86_64/guest_debug.h);
// pause and resume through the VcpuRunner's gate.
//
// Wiring (the machine):
//   StopMailbox mailbox(TRY(EventFd::Create()), vcpus.size());
//   KvmTarget target(vcpus, memory, stop, mailbox);
//   VcpuRunner runner({..., .on_debug = [&](uint32_t i, const kvm::DebugExit& e) {
//                         target.OnDebugExit(i, e); }});
//   target.SetRunner(runner);   // before the stub thread starts
//
// Threading: the Target methods run on the stub thread, with the vCPUs
// paused except inside Resume(); OnDebugExit() runs on the vCPU's own
// thread and only posts to the mailbox and asks its vCPU to park.
#pragma once

#include <span>

#include "arch/x86_64/guest_debug.h"
#include "vmm/gdb/kvm/kvm_registers.h"
#include "vmm/gdb/stop_mailbox.h"
#include "vmm/gdb/target.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vcpu_exit.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/runtime/stop_signal.h"
#include "vmm/runtime/vcpu_runner.h"

namespace mini_vmm::gdb {

class KvmTarget final : public Target {
 public:
  KvmTarget(std::span<kvm::Vcpu> vcpus, const GuestMemory& memory, StopSignal& stop,
            StopMailbox& mailbox)
      : vcpus_(vcpus), memory_(memory), stop_(stop), mailbox_(mailbox) {}

  // The runner that runs `vcpus`; set once, before any other call.
  void SetRunner(VcpuRunner& runner) { runner_ = &runner; }

  // From VcpuRunner::Environment::on_debug, on vCPU `vcpu`'s thread.
  void OnDebugExit(uint32_t vcpu, const kvm::DebugExit& exit) noexcept;

  uint32_t VcpuCount() const override { return static_cast<uint32_t>(vcpus_.size()); }
  Result<void> ReadRegisters(VcpuIndex vcpu, RegisterFile& out) override;
  Result<void> WriteRegisters(VcpuIndex vcpu, const RegisterFile& in) override;
  std::optional<Translation> Translate(VcpuIndex vcpu, uint64_t address) override;
  bool ReadPhysical(uint64_t address, std::span<uint8_t> out) override;
  bool WritePhysical(uint64_t address, std::span<const uint8_t> in) override;
  Result<void> SetHardwareBreakpoints(const HardwareBreakpoints& breakpoints) override;
  void Resume(std::span<const ResumeAction> actions) override;
  void PauseAll() override;
  void Detach() override;
  void Kill() override;

 private:
  Result<KvmRegisterState> ReadState(VcpuIndex vcpu) const;
  Result<void> ApplyDebug(VcpuIndex vcpu, const ResumeAction& action);
  void SkipExecuteBreakpoint(VcpuIndex vcpu);

  std::span<kvm::Vcpu> vcpus_;
  const GuestMemory& memory_;
  StopSignal& stop_;
  StopMailbox& mailbox_;
  VcpuRunner* runner_ = nullptr;
  arch::x86_64::DebugBreakpoints hardware_;  // Stub thread only.
};

}  // namespace mini_vmm::gdb
