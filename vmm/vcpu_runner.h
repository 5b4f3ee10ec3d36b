// One thread per vCPU, each running KVM_RUN and dispatching exits until the
// VM stops. Stopping is race-free per the KVM API: set immediate_exit, then
// signal the thread, so a vCPU either sees the flag on entry or is kicked
// out of the guest by the signal.
#pragma once

#include <pthread.h>

#include <atomic>
#include <thread>
#include <vector>

#include "devices/bus/bus.h"
#include "vmm/base/result.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/stop_signal.h"

namespace mini_vmm {

class VcpuRunner {
 public:
  struct Environment {
    const devices::Bus& pio;
    const devices::Bus& mmio;
    const GuestMemory& memory;
    StopSignal& stop;
  };

  explicit VcpuRunner(Environment env) : env_(env) {}
  ~VcpuRunner() { StopAll(); }
  VcpuRunner(const VcpuRunner&) = delete;
  VcpuRunner& operator=(const VcpuRunner&) = delete;

  // Starts a thread per vCPU; the vCPUs must outlive the runner.
  Result<void> Start(std::vector<kvm::Vcpu>& vcpus);
  // Kicks every vCPU out of the guest and joins the threads. Idempotent.
  void StopAll() noexcept;

 private:
  void Loop(kvm::Vcpu& vcpu) noexcept;

  Environment env_;
  std::atomic<bool> stopping_{false};
  std::vector<kvm::Vcpu*> vcpus_;
  std::vector<std::thread> threads_;
};

}  // namespace mini_vmm
