#include "vmm/vcpu_runner.h"

#include <cerrno>
#include <cstring>

#include "arch/x86_64/crash_dump.h"
#include "vmm/base/format.h"
#include "vmm/base/log.h"
#include "vmm/base/thread_kick.h"
#include "vmm/exit_handler.h"

namespace mini_vmm {

Result<void> VcpuRunner::Start(std::vector<kvm::Vcpu>& vcpus) {
  TRY(InstallThreadKickHandler());
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
    if (threads_[i].joinable()) KickThread(threads_[i].native_handle());
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
  const ExitContext context{env_.pio, env_.mmio, vcpu.id()};
  while (!env_.stop.requested() && !stopping_.load(std::memory_order_acquire)) {
    const kvm::VcpuExit exit = vcpu.Run();
    const ExitOutcome outcome = HandleExit(exit, context);
    switch (outcome.action) {
      case ExitAction::kContinue:
        break;
      case ExitAction::kPowerOff:
        env_.stop.Request(StopReason::kPowerOff);
        break;
      case ExitAction::kReset:
        env_.stop.Request(StopReason::kReset);
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
