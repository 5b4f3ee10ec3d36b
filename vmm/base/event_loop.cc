#include "vmm/base/event_loop.h"

#include <sys/epoll.h>

#include <array>
#include <cerrno>

namespace mini_vmm {

Result<EventLoop> EventLoop::Create() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Error::Errno(errno, "cannot create an epoll instance");
  return EventLoop(std::move(epoll));
}

Result<void> EventLoop::Add(int fd, Callback callback) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Error::Errno(errno, "cannot watch file descriptor {}", fd);
  }
  callbacks_[fd] = std::move(callback);
  return {};
}

void EventLoop::Remove(int fd) noexcept {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  callbacks_.erase(fd);
}

Result<void> EventLoop::Run() {
  std::array<epoll_event, 16> events{};
  while (!quit_) {
    const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Errno(errno, "epoll_wait failed");
    }
    for (int i = 0; i < n && !quit_; ++i) {
      auto it = callbacks_.find(events[static_cast<size_t>(i)].data.fd);
      if (it == callbacks_.end()) continue;  // Removed by an earlier callback.
      Callback callback = it->second;        // A copy: the callback may Remove() itself.
      callback();
    }
  }
  return {};
}

}  // namespace mini_vmm
