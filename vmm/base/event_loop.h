// EventLoop: epoll over file descriptors with a callback each, run by one
// thread (the main thread for the console, an I/O thread per device).
//
//   EventLoop loop = TRY(EventLoop::Create());
//   TRY(loop.Add(stop.event().fd(), [&] { loop.Quit(); }));
//   TRY(loop.Run());
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm {

class EventLoop {
 public:
  using Callback = std::function<void()>;

  static Result<EventLoop> Create();
  EventLoop(EventLoop&&) noexcept = default;
  EventLoop& operator=(EventLoop&&) noexcept = default;

  // Calls `callback` from Run() whenever `fd` is readable (or hung up).
  Result<void> Add(int fd, Callback callback);
  // Stops watching `fd` (e.g. stdin at EOF). Safe from inside a callback.
  void Remove(int fd) noexcept;
  // Dispatches until Quit() is called from a callback.
  Result<void> Run();
  void Quit() { quit_ = true; }

 private:
  explicit EventLoop(UniqueFd epoll) : epoll_(std::move(epoll)) {}

  UniqueFd epoll_;
  std::map<int, Callback> callbacks_;
  bool quit_ = false;
};

}  // namespace mini_vmm
