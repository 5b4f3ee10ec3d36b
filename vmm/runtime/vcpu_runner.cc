#include "vmm/runtime/vcpu_runner.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include "vmm/base/format.h"
#include "vmm/base/log.h"
#include "vmm/base/thread_kick.h"
#include "vmm/runtime/exit_handler.h"

namespace mini_vmm {

namespace {

// How often each vCPU thread is kicked out of KVM_RUN to check whether it
// is parked: the delay before a halted guest ends mini-vmm.
constexpr time_t kParkCheckIntervalSeconds = 1;

// A timer sending the kick signal to the calling thread every interval.
class PeriodicKick {
 public:
  PeriodicKick() {
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = ThreadKickSignal();
    // glibc 2.36 has no sigev_notify_thread_id macro yet; this is its field.
    event._sigev_un._tid = ::gettid();
    if (::timer_create(CLOCK_MONOTONIC, &event, &timer_) != 0) {
      LOG_WARN(
          "cannot create the vCPU park-check timer (errno {}): a guest that halts for good "
          "will not end mini-vmm",
          errno);
      return;
    }
    armed_ = true;
    const itimerspec spec{{kParkCheckIntervalSeconds, 0}, {kParkCheckIntervalSeconds, 0}};
    ::timer_settime(timer_, 0, &spec, nullptr);
  }
  ~PeriodicKick() {
    if (armed_) ::timer_delete(timer_);
  }
  PeriodicKick(const PeriodicKick&) = delete;
  PeriodicKick& operator=(const PeriodicKick&) = delete;

 private:
  timer_t timer_{};
  bool armed_ = false;
};

}  // namespace

Result<void> VcpuRunner::Start(std::vector<std::unique_ptr<RunnableVcpu>> vcpus,
                               bool start_paused) {
  VMM_CHECK(threads_.empty());
  for (size_t i = 0; i < vcpus.size(); ++i) VMM_CHECK(vcpus[i]->id() == i);
  TRY(InstallThreadKickHandler());
  num_parked_flags_ = vcpus.size();
  gate_ = std::make_unique<PauseGate>(vcpus.size());
  if (start_paused) {
    for (size_t i = 0; i < vcpus.size(); ++i) gate_->RequestPause(i);
  }
  parked_ = std::make_unique<std::atomic<bool>[]>(num_parked_flags_);
  vcpus_ = std::move(vcpus);
  threads_.reserve(vcpus_.size());
  for (auto& owned : vcpus_) {
    RunnableVcpu& vcpu = *owned;
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
  if (gate_) gate_->Close();  // Release paused vCPUs, so they see stopping_.
  for (size_t i = 0; i < threads_.size(); ++i) Kick(i);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  // The vCPUs stay: a late Pause/Resume/Kick must find them (threads_ is
  // empty, so none does anything).
  threads_.clear();
}

void VcpuRunner::Kick(size_t index) noexcept {
  vcpus_[index]->RequestExit();
  if (threads_[index].joinable()) KickThread(threads_[index].native_handle());
}

void VcpuRunner::Pause(size_t index) {
  VMM_CHECK(gate_ != nullptr && index < threads_.size());
  gate_->RequestPause(index);
  Kick(index);
  gate_->WaitPaused(index);
}

void VcpuRunner::PauseAll() {
  VMM_CHECK(gate_ != nullptr);
  // Ask all first, then wait: the vCPUs leave the guest in parallel.
  for (size_t i = 0; i < threads_.size(); ++i) {
    gate_->RequestPause(i);
    Kick(i);
  }
  for (size_t i = 0; i < threads_.size(); ++i) gate_->WaitPaused(i);
}

void VcpuRunner::Resume(size_t index) {
  VMM_CHECK(gate_ != nullptr && index < threads_.size());
  gate_->Resume(index);
}

void VcpuRunner::ResumeAll() {
  for (size_t i = 0; i < threads_.size(); ++i) Resume(i);
}

void VcpuRunner::RequestPause(size_t index) {
  VMM_CHECK(gate_ != nullptr && index < threads_.size());
  gate_->RequestPause(index);
  Kick(index);
}

void VcpuRunner::ReleasePaused() noexcept {
  if (gate_) gate_->Close();
}

void VcpuRunner::Loop(RunnableVcpu& vcpu) noexcept {
  const std::string name = "vcpu" + std::to_string(vcpu.id());
  ::pthread_setname_np(::pthread_self(), name.c_str());
  const ExitContext context{env_.pio, env_.mmio, env_.memory, vcpu.id()};
  const PeriodicKick park_check;
  const size_t index = vcpu.id();
  while (!env_.stop.requested() && !stopping_.load(std::memory_order_acquire)) {
    if (gate_->pause_requested(index)) {
      gate_->Park(index);
      // The kick that paused us left immediate_exit set. A stop that came
      // meanwhile set stopping_ before its own request: the loop test sees it.
      vcpu.ClearExitRequest();
      continue;
    }
    const kvm::VcpuExit exit = vcpu.Run();
    if (std::holds_alternative<kvm::InterruptedExit>(exit)) CheckParked(vcpu);
    const ExitOutcome outcome = HandleExit(exit, context);
    // After handling, so a traced read shows the value the guest gets.
    if (env_.trace != nullptr) [[unlikely]] {
      env_.trace->Record(vcpu, exit, env_.memory);
    }
    switch (outcome.action) {
      case ExitAction::kContinue:
        break;
      case ExitAction::kPowerOff:
        env_.stop.Request(StopReason::kPowerOff, outcome.reason);
        break;
      case ExitAction::kReset:
        env_.stop.Request(StopReason::kReset, outcome.reason);
        break;
      case ExitAction::kDebug:
        if (env_.on_debug) {
          env_.on_debug(vcpu.id(), std::get<kvm::DebugExit>(exit));
        } else {
          LOG_WARN_RATELIMITED("vCPU {}: debug exit with no debugger attached", vcpu.id());
        }
        break;
      case ExitAction::kCrash:
        env_.stop.Request(StopReason::kCrash, Format("vCPU {}: {}\n{}", vcpu.id(), outcome.reason,
                                                     vcpu.Describe(env_.memory)));
        break;
    }
  }
}

void VcpuRunner::CheckParked(const RunnableVcpu& vcpu) noexcept {
  if (vcpu.id() >= num_parked_flags_) return;
  const Result<bool> parked = vcpu.IsParked();
  if (!parked.ok()) return;  // Not knowing is "not parked": keep running.
  parked_[vcpu.id()].store(*parked, std::memory_order_relaxed);
  if (!*parked) return;
  for (size_t i = 0; i < num_parked_flags_; ++i) {
    if (!parked_[i].load(std::memory_order_relaxed)) return;
  }
  env_.stop.Request(StopReason::kPowerOff, "every vCPU halted with interrupts disabled");
}

}  // namespace mini_vmm
