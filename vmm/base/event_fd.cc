#include "vmm/base/event_fd.h"

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace mini_vmm {

Result<EventFd> EventFd::Create() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Error::Errno(errno, "cannot create an eventfd");
  return EventFd(UniqueFd(fd));
}

void EventFd::Signal() const noexcept {
  const uint64_t one = 1;
  // The raw system call, not write(): see EventLoop::Run. An eventfd write
  // is how every device interrupts (irqfd), once per completion batch.
  while (::syscall(SYS_write, fd_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

uint64_t EventFd::Consume() const noexcept {
  uint64_t value = 0;
  for (;;) {
    ssize_t n = ::read(fd_.get(), &value, sizeof(value));
    if (n == static_cast<ssize_t>(sizeof(value))) return value;
    if (n < 0 && errno == EINTR) continue;
    return 0;  // EAGAIN: not signalled.
  }
}

}  // namespace mini_vmm
