#include "devices/virtio/net/control_worker.h"

#include <system_error>

#include "vmm/base/io_thread.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::net {

Result<std::unique_ptr<ControlWorker>> ControlWorker::Create(std::string name,
                                                             NetWorker::Control control,
                                                             VirtioInterrupt& interrupt,
                                                             std::function<void()> needs_reset,
                                                             NetCounters& counters) {
  EventLoop loop = TRY(EventLoop::Create());
  EventFd stop = TRY(EventFd::Create());
  std::unique_ptr<ControlWorker> worker(
      new ControlWorker(std::move(name), std::move(control), interrupt, std::move(needs_reset),
                        counters, std::move(loop), std::move(stop)));
  ControlWorker* w = worker.get();
  TRY(w->loop_.Add(w->control_.kick.fd(), [w] { w->OnKick(); }));
  TRY(w->loop_.Add(w->stop_.fd(), [w] { w->loop_.Quit(); }));
  return worker;
}

ControlWorker::~ControlWorker() { Stop(); }

Result<void> ControlWorker::Start() {
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    return Error::Errno(e.code().value(), "cannot start the control thread of {}", name_);
  }
  return {};
}

void ControlWorker::Stop() noexcept {
  if (!thread_.joinable()) return;
  stop_.Signal();
  thread_.join();
}

void ControlWorker::Run() noexcept {
  EnterIoThread(name_);  // Named, and SCHED_BATCH (io_thread.h says why).
  // Requests may have been queued before the thread ran.
  OnKick();
  if (auto run = loop_.Run(); !run.ok()) {
    LOG_ERROR("{}: control thread stopped: {}", name_, run.error().ToString());
    needs_reset_();
  }
}

void ControlWorker::OnKick() {
  control_.kick.Consume();
  if (reset_requested_) return;
  const uint32_t used =
      ServeControlQueue(control_.queue, control_.context, counters_, control_.set_pairs, name_);
  if (const auto fault = control_.queue.fault()) {
    counters_.ring_faults.fetch_add(1, std::memory_order_relaxed);
    LOG_WARN_RATELIMITED("{}: control queue: {}; the device needs a reset", name_,
                         ChainErrorName(*fault));
    reset_requested_ = true;
    needs_reset_();
    return;
  }
  if (used > 0 && control_.queue.ShouldNotifyDriver()) interrupt_.NotifyQueue(control_.queue_index);
}

}  // namespace mini_vmm::virtio::net
