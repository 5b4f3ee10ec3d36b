// PauseGate: holds vCPU threads at a known point outside KVM_RUN, so their
// registers can be read and written (the GDB stub), or the VM's state saved
// (snapshots), while they are stopped; and lets them go again.
//
//   // Controller (any thread but the vCPUs'):
//   gate.RequestPause(i);  vcpu.RequestExit();  KickThread(thread);  // out of KVM_RUN
//   gate.WaitPaused(i);    // vCPU i is now parked; its state is stable
//   ... read/write its registers ...
//   gate.Resume(i);
//   // vCPU thread i, between exits:
//   if (gate.pause_requested(i)) gate.Park(i);   // returns when resumed or closed
//
// Close() releases every parked thread for good (the VM is stopping) and
// makes later Park() calls return at once; WaitPaused() then returns too.
//
// Threading: every method is thread-safe. pause_requested() is one relaxed
// atomic load, cheap enough for every exit; the rest take `mutex_`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace mini_vmm {

class PauseGate {
 public:
  explicit PauseGate(size_t vcpus);
  PauseGate(const PauseGate&) = delete;
  PauseGate& operator=(const PauseGate&) = delete;

  size_t size() const { return size_; }

  void RequestPause(size_t vcpu);
  // Waits until `vcpu` is parked (or the gate is closed).
  void WaitPaused(size_t vcpu);
  void Resume(size_t vcpu);
  void Close();

  bool pause_requested(size_t vcpu) const {
    return requested_[vcpu].load(std::memory_order_relaxed);
  }
  bool paused(size_t vcpu) const;
  // Blocks the calling vCPU thread while a pause of `vcpu` is requested.
  void Park(size_t vcpu);

 private:
  const size_t size_;
  std::unique_ptr<std::atomic<bool>[]> requested_;  // Written under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // Any of the state below changed.
  std::vector<bool> parked_;         // Guarded by mutex_.
  bool closed_ = false;              // Guarded by mutex_.
};

}  // namespace mini_vmm
