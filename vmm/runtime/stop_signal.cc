#include "vmm/runtime/stop_signal.h"

namespace mini_vmm {

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone:
      return "running";
    case StopReason::kPowerOff:
      return "guest powered off";
    case StopReason::kReset:
      return "guest rebooted";
    case StopReason::kUserQuit:
      return "stopped by the user";
    case StopReason::kCrash:
      return "guest crashed";
  }
  return "unknown";
}

void StopSignal::Request(StopReason reason, std::string detail) noexcept {
  StopReason expected = StopReason::kNone;
  {
    std::lock_guard lock(mutex_);
    if (!reason_.compare_exchange_strong(expected, reason, std::memory_order_acq_rel)) return;
    detail_ = std::move(detail);
  }
  event_.Signal();
}

std::string StopSignal::detail() const {
  std::lock_guard lock(mutex_);
  return detail_;
}

}  // namespace mini_vmm
