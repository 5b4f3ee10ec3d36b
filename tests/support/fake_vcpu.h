// FakeVcpu: a RunnableVcpu whose "guest" is a script of exits. With nothing
// scripted, Run() waits like a running guest, returning InterruptedExit
// after a short while (as the park-check timer's kick would) or at once
// after RequestExit(). Tests read what it consumed and whether it is inside
// Run() (in the guest) right now.
//
//   auto vcpu = std::make_unique<FakeVcpu>(0);
//   vcpu->ScriptIoWrite(0x3f8, {'x'});
//   vcpu->Script(kvm::SystemEventExit{KVM_SYSTEM_EVENT_SHUTDOWN});
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <vector>

#include "vmm/runtime/runnable_vcpu.h"

namespace mini_vmm::testing {

class FakeVcpu final : public RunnableVcpu {
 public:
  explicit FakeVcpu(uint32_t id) : id_(id) {}

  uint32_t id() const override { return id_; }

  kvm::VcpuExit Run() noexcept override {
    std::unique_lock lock(mutex_);
    in_run_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::milliseconds(20),
                      [this] { return exit_requested_ || !script_.empty(); });
    in_run_ = false;
    changed_.notify_all();
    if (exit_requested_ || script_.empty()) return kvm::InterruptedExit{};
    kvm::VcpuExit exit = script_.front();
    script_.pop_front();
    ++consumed_;
    return exit;
  }
  void RequestExit() noexcept override {
    std::lock_guard lock(mutex_);
    exit_requested_ = true;
    changed_.notify_all();
  }
  void ClearExitRequest() noexcept override {
    std::lock_guard lock(mutex_);
    exit_requested_ = false;
  }
  Result<bool> IsParked() const override { return parked.load(); }
  std::string Describe(const GuestMemory&) const override { return "fake vCPU registers"; }
  Result<arch::x86_64::GuestCode> CodeAtPc(const GuestMemory&) const override {
    std::lock_guard lock(mutex_);
    if (!code_) return Error::Invalid("fake vCPU {} has no code", id_);
    return *code_;
  }
  // What CodeAtPc() returns from now on (before: an error).
  void SetCode(arch::x86_64::GuestCode code) {
    std::lock_guard lock(mutex_);
    code_ = std::move(code);
  }

  void Script(kvm::VcpuExit exit) {
    std::lock_guard lock(mutex_);
    script_.push_back(exit);
    changed_.notify_all();
  }
  // An OUT of `bytes` to `port` (the fake keeps the bytes alive).
  void ScriptIoWrite(uint16_t port, std::vector<uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    auto& data = payloads_.emplace_back(std::move(bytes));
    script_.push_back(kvm::IoExit{.port = port,
                                  .size = static_cast<uint8_t>(data.size()),
                                  .count = 1,
                                  .is_write = true,
                                  .data = std::span<uint8_t>(data)});
    changed_.notify_all();
  }

  size_t consumed() const {
    std::lock_guard lock(mutex_);
    return consumed_;
  }
  bool in_run() const {
    std::lock_guard lock(mutex_);
    return in_run_;
  }
  std::atomic<bool> parked{false};

 private:
  const uint32_t id_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<kvm::VcpuExit> script_;
  std::list<std::vector<uint8_t>> payloads_;
  std::optional<arch::x86_64::GuestCode> code_;
  size_t consumed_ = 0;
  bool in_run_ = false;
  bool exit_requested_ = false;
};

}  // namespace mini_vmm::testing
