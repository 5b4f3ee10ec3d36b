#include "vmm/base/event_loop.h"

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace mini_vmm {

Result<EventLoop> EventLoop::Create() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Error::Errno(errno, "cannot create an epoll instance");
  return EventLoop(std::move(epoll));
}

Result<void> EventLoop::Add(int fd, Trigger trigger, Callback callback) {
  auto watch = std::make_unique<Watch>(Watch{fd, std::move(callback)});
  epoll_event ev{};
  ev.events = EPOLLIN | (trigger == Trigger::kEdge ? EPOLLET : 0u);
  ev.data.ptr = watch.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Error::Errno(errno, "cannot watch file descriptor {}", fd);
  }
  watches_.push_back(std::move(watch));
  return {};
}

void EventLoop::Remove(int fd) noexcept {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  for (auto& watch : watches_) {
    if (watch->fd == fd) watch->removed = any_removed_ = true;
  }
  if (!dispatching_) FreeRemoved();
}

void EventLoop::FreeRemoved() noexcept {
  if (!any_removed_) return;
  any_removed_ = false;
  std::erase_if(watches_, [](const std::unique_ptr<Watch>& w) { return w->removed; });
}

Result<void> EventLoop::Run() {
  std::array<epoll_event, 16> events{};
  while (!quit_) {
    // The raw system call: glibc's epoll_wait() is a cancellation point and
    // brackets the call with cancellation bookkeeping, which nothing here
    // uses (mini-vmm never cancels a thread) and which cost about a tenth
    // of a virtio-blk request's instructions (bench/blkcost.py).
    const auto n = static_cast<int>(::syscall(SYS_epoll_wait, epoll_.get(), events.data(),
                                              static_cast<int>(events.size()), -1));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Errno(errno, "epoll_wait failed");
    }
    dispatching_ = true;
    for (int i = 0; i < n && !quit_; ++i) {
      Watch* watch = static_cast<Watch*>(events[static_cast<size_t>(i)].data.ptr);
      if (!watch->removed) watch->callback();  // Removed by an earlier callback: skipped.
    }
    dispatching_ = false;
    FreeRemoved();
  }
  return {};
}

}  // namespace mini_vmm
