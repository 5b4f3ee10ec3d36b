// StopSignal: why the VM is stopping, decided once by whoever asks first
// (a vCPU seeing a triple fault, the power device, the console's Ctrl-A x),
// and an eventfd that wakes the main loop to tear everything down.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "vmm/base/event_fd.h"

namespace mini_vmm {

enum class StopReason {
  kNone,
  kPowerOff,  // ACPI S5.
  kReset,     // i8042 pulse, ACPI reset register, port 0xCF9, announced
              // triple fault, KVM reset event.
  kUserQuit,  // Ctrl-A x or a signal to mini-vmm.
  kCrash,     // Triple fault, entry failure, internal error.
};

const char* StopReasonName(StopReason reason);

class StopSignal {
 public:
  explicit StopSignal(EventFd event) : event_(std::move(event)) {}

  // Records the first reason; later requests are ignored. Thread-safe.
  void Request(StopReason reason, std::string detail = {}) noexcept;
  bool requested() const { return reason_.load(std::memory_order_acquire) != StopReason::kNone; }
  StopReason reason() const { return reason_.load(std::memory_order_acquire); }
  std::string detail() const;
  const EventFd& event() const { return event_; }

 private:
  EventFd event_;
  std::atomic<StopReason> reason_{StopReason::kNone};
  mutable std::mutex mutex_;
  std::string detail_;  // Guarded by mutex_.
};

}  // namespace mini_vmm
