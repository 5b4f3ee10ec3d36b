// Registration: something registered with the VM (a memslot, an ioeventfd,
// an irqfd) that is undone when its owner goes. The VM (or a test's fake)
// says how to undo it; owners only hold and drop it.
//
//   IoEventFd doorbell = TRY(vm.RegisterIoEvent(efd, IoEventSpace::kMmio, addr, 4, q));
//   // ... dropping `doorbell` deassigns it
//
// Move-only; the undo runs exactly once, from the destructor, and must not
// throw (KVM failures are logged there).
#pragma once

#include <functional>
#include <utility>

namespace mini_vmm::kvm {

class Registration {
 public:
  Registration() = default;
  explicit Registration(std::function<void()> release) : release_(std::move(release)) {}
  Registration(Registration&& other) noexcept : release_(std::exchange(other.release_, nullptr)) {}
  Registration& operator=(Registration&&) = delete;
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration() {
    if (release_) release_();
  }

 private:
  std::function<void()> release_;
};

// A registered ioeventfd: guest writes to the address signal the eventfd
// inside KVM, without an exit to userspace.
class IoEventFd : public Registration {
 public:
  using Registration::Registration;
};

// A registered irqfd: signalling the eventfd injects the GSI inside KVM.
class IrqFd : public Registration {
 public:
  using Registration::Registration;
};

}  // namespace mini_vmm::kvm
