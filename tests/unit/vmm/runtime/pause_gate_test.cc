#include "vmm/runtime/pause_gate.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

namespace mini_vmm {
namespace {

// Threads that stand in for vCPU loops: count "exits", park when asked.
class FakeVcpus {
 public:
  explicit FakeVcpus(PauseGate& gate) : gate_(gate), exits_(gate.size()) {
    for (size_t i = 0; i < gate.size(); ++i) {
      threads_.emplace_back([this, i] {
        while (!stop_.load()) {
          if (gate_.pause_requested(i)) {
            gate_.Park(i);
            continue;
          }
          exits_[i].fetch_add(1);
          std::this_thread::yield();
        }
      });
    }
  }
  ~FakeVcpus() {
    stop_.store(true);
    gate_.Close();
    for (auto& t : threads_) t.join();
  }
  uint64_t exits(size_t i) const { return exits_[i].load(); }
  void WaitForProgress(size_t i) const {
    const uint64_t from = exits(i);
    while (exits(i) == from) std::this_thread::yield();
  }

 private:
  PauseGate& gate_;
  std::vector<std::atomic<uint64_t>> exits_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST_CASE("A paused vCPU stays parked, and runs again once resumed") {
  PauseGate gate(2);
  FakeVcpus vcpus(gate);
  gate.RequestPause(0);
  gate.WaitPaused(0);
  CHECK(gate.paused(0));
  const uint64_t frozen = vcpus.exits(0);
  vcpus.WaitForProgress(1);  // The other vCPU keeps running meanwhile...
  CHECK(vcpus.exits(0) == frozen);  // ...while this one made no progress.
  gate.Resume(0);
  vcpus.WaitForProgress(0);
  CHECK_FALSE(gate.paused(0));
}

TEST_CASE("Pausing every vCPU parks each of them") {
  PauseGate gate(3);
  FakeVcpus vcpus(gate);
  for (size_t i = 0; i < 3; ++i) gate.RequestPause(i);
  for (size_t i = 0; i < 3; ++i) gate.WaitPaused(i);
  for (size_t i = 0; i < 3; ++i) CHECK(gate.paused(i));
  for (size_t i = 0; i < 3; ++i) gate.Resume(i);
  for (size_t i = 0; i < 3; ++i) vcpus.WaitForProgress(i);
}

TEST_CASE("Close releases parked vCPUs and unblocks a waiting controller") {
  PauseGate gate(1);
  gate.RequestPause(0);
  std::thread vcpu([&] { gate.Park(0); });
  gate.WaitPaused(0);
  gate.Close();
  vcpu.join();  // Would hang if Close did not release it.
  CHECK_FALSE(gate.paused(0));
  gate.WaitPaused(0);  // Returns at once once closed.
}

TEST_CASE("Park without a pause request returns at once") {
  PauseGate gate(1);
  gate.Park(0);
  CHECK_FALSE(gate.paused(0));
}

TEST_CASE("A pause can be requested again after a resume") {
  PauseGate gate(1);
  FakeVcpus vcpus(gate);
  for (int round = 0; round < 3; ++round) {
    gate.RequestPause(0);
    gate.WaitPaused(0);
    gate.Resume(0);
    vcpus.WaitForProgress(0);
  }
}

}  // namespace
}  // namespace mini_vmm
