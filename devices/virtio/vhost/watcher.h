// VhostWatcher: the one mini-vmm thread of a vhost instance. It relays
// the kernel's "used buffers" signal to the driver where vhost cannot
// interrupt the guest itself, and logs ring errors, rate-limited.
//
// A vring's call eventfd is either
//   - the irqfd of the queue's MSI-X vector (virtio-pci with MSI-X): vhost
//     signals it and KVM injects the interrupt; mini-vmm is not involved
//     and the watcher does not watch it; or
//   - an eventfd of ours (virtio-mmio, or PCI INTx): the interrupt needs
//     the ISR / InterruptStatus bit set first, which only the transport
//     can do, so the watcher calls VirtioInterrupt::NotifyQueue.
// Every vring's error eventfd is ours and watched.
//
//   VhostWatcher watcher = TRY(VhostWatcher::Create("virtio-net0q0", interrupt, errors));
//   TRY(watcher.WatchCall(relay_call.fd(), /*queue=*/0));
//   TRY(watcher.WatchErr(err.fd(), 0));
//   TRY(watcher.Start());
//   ...
//   watcher.Stop();   // joins: no NotifyQueue after it returns
//
// Threading: Watch*/Start/Stop from one thread (the device's owner);
// callbacks run on the watcher thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "devices/virtio/device.h"
#include "devices/virtio/vhost/ring_errors.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/event_loop.h"

namespace mini_vmm::virtio::vhost {

class VhostWatcher {
 public:
  static Result<std::unique_ptr<VhostWatcher>> Create(std::string name, VirtioInterrupt& interrupt,
                                                      RingErrorLog& errors);
  ~VhostWatcher();
  VhostWatcher(const VhostWatcher&) = delete;
  VhostWatcher& operator=(const VhostWatcher&) = delete;

  // Before Start: relay `fd`'s signals as NotifyQueue(queue) / report them
  // as ring errors of `queue`. The fds must stay open until Stop returns.
  Result<void> WatchCall(int fd, uint16_t queue);
  Result<void> WatchErr(int fd, uint16_t queue);

  Result<void> Start();
  // Idempotent; returns once the thread is gone.
  void Stop() noexcept;

 private:
  VhostWatcher(std::string name, VirtioInterrupt& interrupt, RingErrorLog& errors, EventLoop loop,
               EventFd stop)
      : name_(std::move(name)),
        interrupt_(interrupt),
        errors_(errors),
        loop_(std::move(loop)),
        stop_(std::move(stop)) {}
  void Run() noexcept;

  const std::string name_;
  VirtioInterrupt& interrupt_;
  RingErrorLog& errors_;
  EventLoop loop_;  // Used by the thread only once it runs.
  EventFd stop_;
  std::thread thread_;
};

}  // namespace mini_vmm::virtio::vhost
