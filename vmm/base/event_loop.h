// EventLoop: epoll over file descriptors with a callback each, run by one
// thread (the main thread for the console, an I/O thread per device).
//
//   EventLoop loop = TRY(EventLoop::Create());
//   TRY(loop.Add(stop.event().fd(), [&] { loop.Quit(); }));
//   TRY(loop.Run());
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  // kLevel: the callback runs while `fd` is readable, so it must drain it.
  // kEdge: once per wake-up of `fd` since the last dispatch (EPOLLET), for
  // an eventfd that only says "look again" and that nobody else reads: the
  // callback need not read the count (one read(2) less per doorbell), which
  // just grows; 2^64 - 2 signals would be needed before a write blocked,
  // and KVM's ioeventfds saturate rather than block. The callback must do
  // all the work the signal stands for (or signal the fd again), since no
  // further event comes without a new signal. A count already pending when
  // the fd is added is reported once.
  enum class Trigger { kLevel, kEdge };

  static Result<EventLoop> Create();
  EventLoop(EventLoop&&) noexcept = default;
  EventLoop& operator=(EventLoop&&) noexcept = default;

  // Calls `callback` from Run() whenever `fd` is readable (or hung up), or
  // once per wake-up with Trigger::kEdge (above).
  Result<void> Add(int fd, Callback callback) {
    return Add(fd, Trigger::kLevel, std::move(callback));
  }
  Result<void> Add(int fd, Trigger trigger, Callback callback);
  // Stops watching `fd` (e.g. stdin at EOF). Safe from inside a callback,
  // also the callback of `fd` itself: no event of `fd` is dispatched after.
  void Remove(int fd) noexcept;
  // Dispatches until Quit() is called from a callback.
  Result<void> Run();
  void Quit() { quit_ = true; }

 private:
  // One watched fd. epoll's data points at it, so dispatching an event is a
  // call, with no lookup and no copy of the callback (this is every virtio
  // request's path). Entries removed while Run() dispatches are freed only
  // once the batch of events is done, since a later event of the same
  // batch may still point at them.
  struct Watch {
    int fd;
    Callback callback;
    bool removed = false;
  };

  explicit EventLoop(UniqueFd epoll) : epoll_(std::move(epoll)) {}
  void FreeRemoved() noexcept;

  UniqueFd epoll_;
  std::vector<std::unique_ptr<Watch>> watches_;
  bool dispatching_ = false;
  bool any_removed_ = false;  // Some watch awaits FreeRemoved().
  bool quit_ = false;
};

}  // namespace mini_vmm
