// ControlWorker: a thread that serves only the control queue, for a device
// whose queue pairs run elsewhere (in the kernel's vhost-net; see
// vhost_data_path.h). With the userspace data path, pair 0's NetWorker
// serves the control queue instead.
//
//   auto worker = TRY(ControlWorker::Create(name, control, interrupt, needs_reset, counters));
//   TRY(worker->Start());
//   ...
//   worker->Stop();   // joins: no set_pairs call after it returns
//
// Threading: Create/Start/Stop on the device's thread; set_pairs and the
// queue on the worker's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "devices/virtio/device.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/net/net_worker.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/event_loop.h"

namespace mini_vmm::virtio::net {

class ControlWorker {
 public:
  static Result<std::unique_ptr<ControlWorker>> Create(std::string name, NetWorker::Control control,
                                                       VirtioInterrupt& interrupt,
                                                       std::function<void()> needs_reset,
                                                       NetCounters& counters);
  ~ControlWorker();
  ControlWorker(const ControlWorker&) = delete;
  ControlWorker& operator=(const ControlWorker&) = delete;

  Result<void> Start();
  // Idempotent.
  void Stop() noexcept;

 private:
  ControlWorker(std::string name, NetWorker::Control control, VirtioInterrupt& interrupt,
                std::function<void()> needs_reset, NetCounters& counters, EventLoop loop,
                EventFd stop)
      : name_(std::move(name)),
        control_(std::move(control)),
        interrupt_(interrupt),
        needs_reset_(std::move(needs_reset)),
        counters_(counters),
        loop_(std::move(loop)),
        stop_(std::move(stop)) {}
  void OnKick();
  void Run() noexcept;

  const std::string name_;
  NetWorker::Control control_;
  VirtioInterrupt& interrupt_;
  std::function<void()> needs_reset_;
  NetCounters& counters_;
  EventLoop loop_;
  EventFd stop_;
  bool reset_requested_ = false;  // Worker thread only.
  std::thread thread_;            // Last: started once everything above exists.
};

}  // namespace mini_vmm::virtio::net
