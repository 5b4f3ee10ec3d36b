// One thread per vCPU, each running KVM_RUN and dispatching exits until the
// VM stops. Stopping is race-free per the KVM API: set immediate_exit, then
// signal the thread, so a vCPU either sees the flag on entry or is kicked
// out of the guest by the signal.
//
// The same signal, sent by a per-thread timer once a second, lets each vCPU
// look whether it is parked (arch/x86_64/parked_vcpu.h). Once every vCPU
// is, the guest has halted for good (Linux's `poweroff` without ACPI ends
// that way) and the VM stops as powered off.
//
// Pause/resume: PauseAll() (or Pause(i)) takes vCPUs out of KVM_RUN the
// same way and holds them in a PauseGate between two exits, where their
// state is stable; Resume*() lets them run again. Debug exits (breakpoints,
// single steps, watchpoints) go to Environment::on_debug on the vCPU's own
// thread; the GDB stub pauses the others from there.
//
// The runner drives RunnableVcpus (runnable_vcpu.h): KVM's in the machine,
// scripted fakes in tests.
#pragma once

#include <pthread.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "devices/bus/bus.h"
#include "vmm/base/result.h"
#include "vmm/kvm/vcpu_exit.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/runtime/exit_tracer.h"
#include "vmm/runtime/pause_gate.h"
#include "vmm/runtime/runnable_vcpu.h"
#include "vmm/runtime/stop_signal.h"

namespace mini_vmm {

class VcpuRunner {
 public:
  struct Environment {
    const devices::Bus& pio;
    const devices::Bus& mmio;
    const GuestMemory& memory;
    StopSignal& stop;
    // Called on the vCPU's thread for every KVM_EXIT_DEBUG; none: ignored
    // (logged, rate-limited), since nothing armed a debug event.
    // The argument is the vCPU's index.
    std::function<void(uint32_t, const kvm::DebugExit&)> on_debug = nullptr;
    // --trace-exits; none: tracing off, at the cost of one test per exit.
    ExitTracer* trace = nullptr;
  };

  explicit VcpuRunner(Environment env) : env_(env) {}
  ~VcpuRunner() { StopAll(); }
  VcpuRunner(const VcpuRunner&) = delete;
  VcpuRunner& operator=(const VcpuRunner&) = delete;

  // Starts a thread per vCPU. `vcpus[i].id()` must be i. With
  // `start_paused`, every vCPU is held before its first KVM_RUN until
  // Resume() (the GDB stub's --gdb-wait).
  Result<void> Start(std::vector<std::unique_ptr<RunnableVcpu>> vcpus, bool start_paused = false);
  // Kicks every vCPU out of the guest and joins the threads. Idempotent.
  void StopAll() noexcept;

  // Return once vCPU `index` (or every vCPU) is held outside KVM_RUN. From
  // a vCPU thread (on_debug) pause only the other vCPUs: the caller is
  // outside KVM_RUN already, and waiting for itself would never end.
  void Pause(size_t index);
  void PauseAll();
  void Resume(size_t index);
  void ResumeAll();
  // Asks vCPU `index` to pause without waiting: from its own thread (in
  // on_debug) it parks as soon as the handler returns. Any thread.
  void RequestPause(size_t index);
  // Releases every paused vCPU for good and makes later pauses return at
  // once, so a thread blocked in PauseAll() (the GDB stub's) can finish
  // while the VM stops. Call before StopAll() when such a thread exists.
  // Thread-safe.
  void ReleasePaused() noexcept;

 private:
  void Loop(RunnableVcpu& vcpu) noexcept;
  void Kick(size_t index) noexcept;
  void CheckParked(const RunnableVcpu& vcpu) noexcept;

  Environment env_;
  std::atomic<bool> stopping_{false};
  // One flag per vCPU (indexed by vCPU id), written by its own thread after
  // each check, read by all: relaxed, since a stale "not parked" only
  // delays the decision by one check. A parked vCPU that another one wakes
  // (INIT/SIPI, CPU hotplug) keeps its stale "parked" for up to a second;
  // only if every other vCPU parks itself in that second is the guest
  // wrongly taken as halted, which Linux never does while onlining a CPU.
  std::unique_ptr<std::atomic<bool>[]> parked_;
  size_t num_parked_flags_ = 0;
  std::vector<std::unique_ptr<RunnableVcpu>> vcpus_;
  std::vector<std::thread> threads_;
  std::unique_ptr<PauseGate> gate_;  // Made by Start(), one slot per vCPU.
};

}  // namespace mini_vmm
