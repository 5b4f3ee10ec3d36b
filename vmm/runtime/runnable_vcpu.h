// RunnableVcpu: what the vCPU runner needs of a vCPU. KvmVcpu adapts a
// kvm::Vcpu (and the x86 checks the runner makes on it); tests give the
// runner scripted fakes, so its threads, pause/resume, stop and exit
// dispatch are tested without /dev/kvm.
//
//   std::vector<std::unique_ptr<RunnableVcpu>> vcpus;
//   for (kvm::Vcpu& v : machine_vcpus) vcpus.push_back(std::make_unique<KvmVcpu>(v));
//   TRY(runner.Start(std::move(vcpus)));
//
// Threading: Run(), IsParked(), Describe() and CodeAtPc() are called from the vCPU's
// own thread only; RequestExit() from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "arch/x86_64/disassembly.h"
#include "vmm/base/result.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vcpu_exit.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm {

class RunnableVcpu {
 public:
  virtual ~RunnableVcpu() = default;

  // The vCPU's index (its APIC ID), 0..N-1.
  virtual uint32_t id() const = 0;
  // Runs the guest until the next exit that needs userspace.
  virtual kvm::VcpuExit Run() noexcept = 0;
  // Makes the current or next Run() return InterruptedExit (the runner
  // also signals the thread, for a Run() already in the guest).
  virtual void RequestExit() noexcept = 0;
  virtual void ClearExitRequest() noexcept = 0;
  // Halted with interrupts disabled, for good (arch/x86_64/parked_vcpu.h).
  virtual Result<bool> IsParked() const = 0;
  // Registers and the code at the instruction pointer, for a crash report.
  virtual std::string Describe(const GuestMemory& memory) const = 0;
  // The code bytes at the instruction pointer, for the exit trace.
  virtual Result<arch::x86_64::GuestCode> CodeAtPc(const GuestMemory& memory) const = 0;
};

// A KVM vCPU; `vcpu` must outlive the adapter.
class KvmVcpu final : public RunnableVcpu {
 public:
  explicit KvmVcpu(kvm::Vcpu& vcpu) : vcpu_(vcpu) {}

  uint32_t id() const override { return vcpu_.id(); }
  kvm::VcpuExit Run() noexcept override { return vcpu_.Run(); }
  void RequestExit() noexcept override { vcpu_.RequestExit(); }
  void ClearExitRequest() noexcept override { vcpu_.ClearExitRequest(); }
  Result<bool> IsParked() const override;
  std::string Describe(const GuestMemory& memory) const override;
  Result<arch::x86_64::GuestCode> CodeAtPc(const GuestMemory& memory) const override;

 private:
  kvm::Vcpu& vcpu_;
};

}  // namespace mini_vmm
