#include "vmm/runtime/pause_gate.h"

#include "vmm/base/check.h"

namespace mini_vmm {

PauseGate::PauseGate(size_t vcpus)
    : size_(vcpus), requested_(std::make_unique<std::atomic<bool>[]>(vcpus)), parked_(vcpus) {}

void PauseGate::RequestPause(size_t vcpu) {
  VMM_CHECK(vcpu < size_);
  std::lock_guard lock(mutex_);
  requested_[vcpu].store(true, std::memory_order_relaxed);
}

void PauseGate::WaitPaused(size_t vcpu) {
  VMM_CHECK(vcpu < size_);
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return parked_[vcpu] || closed_; });
}

void PauseGate::Resume(size_t vcpu) {
  VMM_CHECK(vcpu < size_);
  {
    std::lock_guard lock(mutex_);
    requested_[vcpu].store(false, std::memory_order_relaxed);
  }
  changed_.notify_all();
}

void PauseGate::Close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

bool PauseGate::paused(size_t vcpu) const {
  VMM_CHECK(vcpu < size_);
  std::lock_guard lock(mutex_);
  return parked_[vcpu];
}

void PauseGate::Park(size_t vcpu) {
  VMM_CHECK(vcpu < size_);
  std::unique_lock lock(mutex_);
  if (closed_ || !requested_[vcpu].load(std::memory_order_relaxed)) return;
  parked_[vcpu] = true;
  changed_.notify_all();
  changed_.wait(lock, [&] { return closed_ || !requested_[vcpu].load(std::memory_order_relaxed); });
  parked_[vcpu] = false;
  changed_.notify_all();
}

}  // namespace mini_vmm
