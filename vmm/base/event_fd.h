// EventFd: a counter the kernel can signal (ioeventfd) or be signalled with
// (irqfd), and that threads use to wake each other.
#pragma once

#include <cstdint>

#include "vmm/base/result.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm {

class EventFd {
 public:
  // Non-blocking and close-on-exec.
  static Result<EventFd> Create();

  EventFd(EventFd&&) noexcept = default;
  EventFd& operator=(EventFd&&) noexcept = default;

  int fd() const { return fd_.get(); }
  // Adds one to the counter. Never fails for a valid eventfd short of
  // counter overflow, which 2^64-2 signals cannot reach.
  void Signal() const noexcept;
  // Returns the counter and resets it; 0 if it was not signalled.
  uint64_t Consume() const noexcept;

 private:
  explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace mini_vmm
