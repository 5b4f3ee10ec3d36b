// StopMailbox: where a running target leaves its stops for the stub thread.
// vCPU threads Post() from their debug-exit handler; the stub's event loop
// wakes on fd() and TakeAll()s them.
//
// One slot per vCPU, kept in the order the stops came: nothing is dropped
// when several vCPUs stop at once (a single step on one and a watchpoint
// hit on another race whenever gdb resumes both). The Session reports one
// and keeps the others pending for the next resume (all-stop, like
// gdbserver); a lost step or watchpoint hit would never recur. A vCPU
// parks itself after posting, so it cannot post again before the stub
// took its stop and resumed it; should it, the first stop is kept.
//
//   StopMailbox mailbox(TRY(EventFd::Create()), vcpu_count);
//   mailbox.Post(StopEvent{vcpu, StopEvent::Reason::kStep});   // vCPU thread
//   for (const StopEvent& e : mailbox.TakeAll()) ...           // stub thread
//
// Threading: Post() from any thread (one short mutex section, no
// allocation, never held across a call out); TakeAll() and fd() from the
// stub thread.
#pragma once

#include <algorithm>
#include <mutex>
#include <vector>

#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/gdb/target.h"

namespace mini_vmm::gdb {

class StopMailbox {
 public:
  // Room for one stop of each of `vcpu_count` vCPUs; stops of other vCPUs
  // are dropped.
  StopMailbox(EventFd event, uint32_t vcpu_count) : event_(std::move(event)) {
    pending_.reserve(vcpu_count);
    vcpu_count_ = vcpu_count;
  }
  StopMailbox(const StopMailbox&) = delete;
  StopMailbox& operator=(const StopMailbox&) = delete;

  void Post(const StopEvent& event) noexcept {
    {
      std::lock_guard lock(mutex_);
      if (event.vcpu >= vcpu_count_) return;
      const bool has_one = std::any_of(pending_.begin(), pending_.end(),
                                       [&](const StopEvent& e) { return e.vcpu == event.vcpu; });
      if (has_one) return;
      pending_.push_back(event);  // Within the capacity reserved: no allocation.
    }
    event_.Signal();
  }

  // Every stop posted since the last call, oldest first.
  std::vector<StopEvent> TakeAll() {
    event_.Consume();
    std::vector<StopEvent> taken;
    taken.reserve(vcpu_count_);
    std::lock_guard lock(mutex_);
    taken.swap(pending_);  // pending_ keeps the fresh reservation.
    return taken;
  }

  int fd() const { return event_.fd(); }

 private:
  EventFd event_;
  uint32_t vcpu_count_ = 0;
  std::mutex mutex_;
  std::vector<StopEvent> pending_;  // Guarded by mutex_; at most one per vCPU.
};

}  // namespace mini_vmm::gdb
