#include "vmm/gdb/kvm/kvm_target.h"

#include <array>

#include "arch/x86_64/page_walk.h"
#include "vmm/base/log.h"

namespace mini_vmm::gdb {
namespace {

using arch::x86_64::DebugAccess;
using arch::x86_64::DebugEvent;

StopEvent::Reason ReasonOf(DebugEvent::Kind kind) {
  switch (kind) {
    case DebugEvent::Kind::kSoftwareBreakpoint:
      return StopEvent::Reason::kSoftwareBreakpoint;
    case DebugEvent::Kind::kHardwareBreakpoint:
      return StopEvent::Reason::kHardwareBreakpoint;
    case DebugEvent::Kind::kSingleStep:
    case DebugEvent::Kind::kUnknown:
      // A #DB with no bit of ours is still a trap gdb should see.
      return StopEvent::Reason::kStep;
  }
  return StopEvent::Reason::kStep;
}

DebugAccess AccessOf(HardwareBreakpoint::Kind kind) {
  switch (kind) {
    case HardwareBreakpoint::Kind::kExecute:
      return DebugAccess::kExecute;
    case HardwareBreakpoint::Kind::kWrite:
      return DebugAccess::kWrite;
    case HardwareBreakpoint::Kind::kReadWrite:
      return DebugAccess::kReadWrite;
  }
  return DebugAccess::kReadWrite;
}

}  // namespace

void KvmTarget::OnDebugExit(uint32_t vcpu, const kvm::DebugExit& exit) noexcept {
  const DebugEvent event = arch::x86_64::DecodeDebugExit(exit.arch);
  mailbox_.Post(StopEvent{vcpu, ReasonOf(event.kind), event.pc, event.slot});
  // Park this vCPU as soon as the handler returns; the stub pauses the rest.
  runner_->RequestPause(vcpu);
}

Result<KvmRegisterState> KvmTarget::ReadState(VcpuIndex vcpu) const {
  const kvm::Vcpu& v = vcpus_[vcpu];
  KvmRegisterState state;
  state.regs = TRY(v.GetRegs());
  state.sregs = TRY(v.GetSregs());
  state.fpu = TRY(v.GetFpu());
  const std::array<uint32_t, 1> msrs = {kMsrKernelGsBase};
  std::vector<kvm_msr_entry> entries = TRY(v.GetMsrs(msrs));
  if (!entries.empty()) state.kernel_gs_base = entries[0].data;
  return state;
}

Result<void> KvmTarget::ReadRegisters(VcpuIndex vcpu, RegisterFile& out) {
  out = ToRegisterFile(TRY(ReadState(vcpu)));
  return {};
}

Result<void> KvmTarget::WriteRegisters(VcpuIndex vcpu, const RegisterFile& in) {
  KvmRegisterState state = TRY(ReadState(vcpu));
  FromRegisterFile(in, state);
  kvm::Vcpu& v = vcpus_[vcpu];
  TRY(v.SetRegs(state.regs));
  TRY(v.SetSregs(state.sregs));
  TRY(v.SetFpu(state.fpu));
  kvm_msr_entry msr{};
  msr.index = kMsrKernelGsBase;
  msr.data = state.kernel_gs_base;
  TRY(v.SetMsrs(std::span(&msr, 1)));
  return {};
}

std::optional<Translation> KvmTarget::Translate(VcpuIndex vcpu, uint64_t address) {
  Result<kvm_sregs> sregs = vcpus_[vcpu].GetSregs();
  if (!sregs.ok()) return std::nullopt;
  const arch::x86_64::PagingState paging{
      .cr0 = sregs->cr0, .cr3 = sregs->cr3, .cr4 = sregs->cr4, .efer = sregs->efer};
  const arch::x86_64::PageWalk walk = arch::x86_64::TranslateVirtual(memory_, paging, address);
  if (!walk.ok()) return std::nullopt;
  return Translation{walk.physical.value(), walk.BytesToPageEnd()};
}

bool KvmTarget::ReadPhysical(uint64_t address, std::span<uint8_t> out) {
  return memory_.Read(GuestAddress(address), out);
}

bool KvmTarget::WritePhysical(uint64_t address, std::span<const uint8_t> in) {
  return memory_.Write(GuestAddress(address), in);
}

Result<void> KvmTarget::SetHardwareBreakpoints(const HardwareBreakpoints& breakpoints) {
  arch::x86_64::DebugBreakpoints hardware;
  for (size_t i = 0; i < breakpoints.size(); ++i) {
    if (!breakpoints[i]) continue;
    hardware[i] = arch::x86_64::DebugBreakpoint{AccessOf(breakpoints[i]->kind),
                                                breakpoints[i]->address, breakpoints[i]->length};
  }
  if (!arch::x86_64::EncodeDr7(hardware)) {
    return Error::Invalid("gdb: a debug-register breakpoint DR7 cannot express");
  }
  const arch::x86_64::DebugBreakpoints previous = hardware_;
  hardware_ = hardware;
  for (VcpuIndex vcpu = 0; vcpu < vcpus_.size(); ++vcpu) {
    if (Result<void> applied = ApplyDebug(vcpu, ResumeAction{}); !applied.ok()) {
      hardware_ = previous;
      for (VcpuIndex undo = 0; undo <= vcpu; ++undo) (void)ApplyDebug(undo, ResumeAction{});
      return applied;
    }
  }
  return {};
}

Result<void> KvmTarget::ApplyDebug(VcpuIndex vcpu, const ResumeAction& action) {
  arch::x86_64::GuestDebugRequest request;
  request.breakpoints = hardware_;
  request.single_step = action.mode == ResumeMode::kStep;
  request.inject_breakpoint = action.inject_breakpoint;
  Result<void> applied = vcpus_[vcpu].SetGuestDebug(arch::x86_64::MakeGuestDebug(request));
  if (!applied.ok() && request.single_step) {
    // KVM before 5.15 refuses KVM_GUESTDBG_BLOCKIRQ: step without it (an
    // interrupt may then be taken first, as with older stubs).
    request.block_interrupts = false;
    applied = vcpus_[vcpu].SetGuestDebug(arch::x86_64::MakeGuestDebug(request));
  }
  return applied;
}

// A vCPU stopped by an execute breakpoint would hit it again at once: RF
// lets the instruction run (gdb usually removes the breakpoint first; this
// covers a client that does not).
void KvmTarget::SkipExecuteBreakpoint(VcpuIndex vcpu) {
  Result<kvm_regs> regs = vcpus_[vcpu].GetRegs();
  if (!regs.ok() || !arch::x86_64::HasExecuteBreakpointAt(hardware_, regs->rip)) return;
  regs->rflags |= arch::x86_64::kRflagsResume;
  (void)vcpus_[vcpu].SetRegs(*regs);
}

void KvmTarget::Resume(std::span<const ResumeAction> actions) {
  for (VcpuIndex vcpu = 0; vcpu < actions.size() && vcpu < vcpus_.size(); ++vcpu) {
    if (Result<void> applied = ApplyDebug(vcpu, actions[vcpu]); !applied.ok()) {
      LOG_WARN_RATELIMITED("gdb: {}", applied.error().ToString());
    }
  }
  for (VcpuIndex vcpu = 0; vcpu < actions.size() && vcpu < vcpus_.size(); ++vcpu) {
    if (actions[vcpu].mode == ResumeMode::kStay) continue;
    SkipExecuteBreakpoint(vcpu);
    runner_->Resume(vcpu);
  }
}

void KvmTarget::PauseAll() { runner_->PauseAll(); }

void KvmTarget::Detach() {
  hardware_ = {};
  for (kvm::Vcpu& vcpu : vcpus_) {
    if (Result<void> off = vcpu.SetGuestDebug(arch::x86_64::GuestDebugOff()); !off.ok()) {
      LOG_WARN("gdb: {}", off.error().ToString());
    }
  }
  runner_->ResumeAll();
}

void KvmTarget::Kill() { stop_.Request(StopReason::kUserQuit, "gdb: kill"); }

}  // namespace mini_vmm::gdb
