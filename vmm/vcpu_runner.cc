#include "vmm/vcpu_runner.h"

#include <signal.h>

#include <cerrno>
#include <cstring>

#include "arch/x86_64/crash_dump.h"
#include "vmm/base/format.h"
#include "vmm/base/log.h"
#include "vmm/exit_handler.h"

namespace mini_vmm {
namespace {

// The signal that kicks a vCPU thread out of KVM_RUN. Its handler does
// nothing: the point is the EINTR.
int KickSignal() { return SIGRTMIN; }

void OnKick(int) {}

Result<void> InstallKickHandler() {
  struct sigaction action {};
  action.sa_handler = OnKick;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // No SA_RESTART: KVM_RUN must return EINTR.
  if (::sigaction(KickSignal(), &action, nullptr) != 0) {
    return Error::Errno(errno, "cannot install the vCPU kick signal handler");
  }
  return {};
}

}  // namespace

Result<void> VcpuRunner::Start(std::vector<kvm::Vcpu>& vcpus) {
  TRY(InstallKickHandler());
  threads_.reserve(vcpus.size());
  for (kvm::Vcpu& vcpu : vcpus) {
    vcpus_.push_back(&vcpu);
    try {
      threads_.emplace_back([this, &vcpu] { Loop(vcpu); });
    } catch (const std::system_error& e) {
      StopAll();
      return Error::Errno(e.code().value(), "cannot start the thread of vCPU {}", vcpu.id());
    }
  }
  return {};
}

void VcpuRunner::StopAll() noexcept {
  stopping_.store(true, std::memory_order_release);
  for (size_t i = 0; i < threads_.size(); ++i) {
    vcpus_[i]->RequestExit();
    if (threads_[i].joinable()) ::pthread_kill(threads_[i].native_handle(), KickSignal());
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  vcpus_.clear();
}

void VcpuRunner::Loop(kvm::Vcpu& vcpu) noexcept {
  const std::string name = "vcpu" + std::to_string(vcpu.id());
  ::pthread_setname_np(::pthread_self(), name.c_str());
  const ExitContext context{env_.pio, env_.mmio, env_.memory, vcpu.id()};
  while (!env_.stop.requested() && !stopping_.load(std::memory_order_acquire)) {
    const kvm::VcpuExit exit = vcpu.Run();
    const ExitOutcome outcome = HandleExit(exit, context);
    switch (outcome.action) {
      case ExitAction::kContinue:
        break;
      case ExitAction::kPowerOff:
        env_.stop.Request(StopReason::kPowerOff, outcome.reason);
        break;
      case ExitAction::kReset:
        env_.stop.Request(StopReason::kReset, outcome.reason);
        break;
      case ExitAction::kCrash:
        env_.stop.Request(StopReason::kCrash,
                          Format("vCPU {}: {}\n{}", vcpu.id(), outcome.reason,
                                 arch::x86_64::DescribeVcpu(vcpu, env_.memory)));
        break;
    }
  }
}

}  // namespace mini_vmm
