#include "devices/virtio/vhost/watcher.h"

#include <unistd.h>

#include <system_error>

#include "vmm/base/io_thread.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::vhost {
namespace {

// Reads and resets an eventfd we do not own (the caller's). Non-blocking
// eventfds only: 0 when it was not signalled.
uint64_t Drain(int fd) noexcept {
  uint64_t value = 0;
  if (::read(fd, &value, sizeof(value)) != sizeof(value)) return 0;
  return value;
}

}  // namespace

Result<std::unique_ptr<VhostWatcher>> VhostWatcher::Create(std::string name,
                                                           VirtioInterrupt& interrupt,
                                                           RingErrorLog& errors) {
  EventLoop loop = TRY(EventLoop::Create());
  EventFd stop = TRY(EventFd::Create());
  std::unique_ptr<VhostWatcher> watcher(
      new VhostWatcher(std::move(name), interrupt, errors, std::move(loop), std::move(stop)));
  TRY(watcher->loop_.Add(watcher->stop_.fd(), [w = watcher.get()] { w->loop_.Quit(); }));
  return watcher;
}

VhostWatcher::~VhostWatcher() { Stop(); }

Result<void> VhostWatcher::WatchCall(int fd, uint16_t queue) {
  VMM_CHECK(!thread_.joinable());
  return loop_.Add(fd, [this, fd, queue] {
    if (Drain(fd) != 0) interrupt_.NotifyQueue(queue);
  });
}

Result<void> VhostWatcher::WatchErr(int fd, uint16_t queue) {
  VMM_CHECK(!thread_.joinable());
  return loop_.Add(fd, [this, fd, queue] {
    if (uint64_t count = Drain(fd); count != 0) errors_.Report(queue, count);
  });
}

Result<void> VhostWatcher::Start() {
  VMM_CHECK(!thread_.joinable());
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    return Error::Errno(e.code().value(), "cannot start the vhost thread of {}", name_);
  }
  return {};
}

void VhostWatcher::Run() noexcept {
  EnterIoThread(name_);  // Named, and SCHED_BATCH (io_thread.h says why).
  if (auto ran = loop_.Run(); !ran.ok()) {
    // No more interrupts relayed: the driver would wait forever, so say why.
    LOG_ERROR("{}: the vhost thread stopped: {}", name_, ran.error().ToString());
  }
}

void VhostWatcher::Stop() noexcept {
  if (!thread_.joinable()) return;
  stop_.Signal();
  thread_.join();
}

}  // namespace mini_vmm::virtio::vhost
