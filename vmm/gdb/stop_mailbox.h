// StopMailbox: where a running target leaves its stop for the stub thread.
// vCPU threads Post() from their debug-exit handler; the stub's event loop
// wakes on fd() and Take()s it.
//
// One slot: the first stop since the last Take() wins and later ones are
// dropped. In all-stop mode only one stop is reported per resume anyway; a
// dropped software breakpoint is hit again when its vCPU resumes (the int3
// was not executed), a dropped single step or watchpoint hit is lost, as
// with other stubs that do not queue per-thread events.
//
// Threading: Post() from any thread (lock-free for the caller's purposes:
// one short mutex section, never held across a call out); Take() and fd()
// from the stub thread.
#pragma once

#include <mutex>
#include <optional>

#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/gdb/target.h"

namespace mini_vmm::gdb {

class StopMailbox {
 public:
  explicit StopMailbox(EventFd event) : event_(std::move(event)) {}
  StopMailbox(const StopMailbox&) = delete;
  StopMailbox& operator=(const StopMailbox&) = delete;

  void Post(const StopEvent& event) noexcept {
    {
      std::lock_guard lock(mutex_);
      if (pending_) return;
      pending_ = event;
    }
    event_.Signal();
  }

  std::optional<StopEvent> Take() noexcept {
    event_.Consume();
    std::lock_guard lock(mutex_);
    std::optional<StopEvent> event = pending_;
    pending_.reset();
    return event;
  }

  int fd() const { return event_.fd(); }

 private:
  EventFd event_;
  std::mutex mutex_;
  std::optional<StopEvent> pending_;  // Guarded by mutex_.
};

}  // namespace mini_vmm::gdb
