// Interrupt lines as devices see them. The VM wires them to KVM (an irqfd
// on a GSI, or an MSI route); tests use counting fakes.
#pragma once

#include "vmm/base/event_fd.h"

namespace mini_vmm::devices {

// An edge-triggered interrupt: each Trigger() is one edge.
class EdgeInterrupt {
 public:
  virtual ~EdgeInterrupt() = default;
  virtual void Trigger() noexcept = 0;
};

// An edge interrupt delivered by signalling an eventfd registered with KVM
// as an irqfd: the interrupt never passes through a vCPU thread.
class IrqFdInterrupt final : public EdgeInterrupt {
 public:
  explicit IrqFdInterrupt(EventFd fd) : fd_(std::move(fd)) {}
  void Trigger() noexcept override { fd_.Signal(); }
  const EventFd& eventfd() const { return fd_; }

 private:
  EventFd fd_;
};

}  // namespace mini_vmm::devices
