// DeviceAttachment: one device's place in the machine, as one move-only
// handle: everything registered for it (bus ranges, ioeventfds, irqfds, the
// interrupt objects and eventfds they signal) and how to stop it.
//
//   DeviceAttachment a("virtio-blk0", [t = transport] { t->Shutdown(); });
//   auto& irq = a.Hold(std::make_unique<IrqFdInterrupt>(TRY(EventFd::Create())));
//   a.Hold(TRY(router.ConnectIrqFd(irq->eventfd(), gsi)));
//   a.Hold(TRY(mmio_bus.Attach(transport, base, size)));
//
// Teardown, in the destructor (or Stop() earlier):
//   1. the stop function: the device's threads are joined, so nothing calls
//      an interrupt or touches guest memory any more;
//   2. what was held is released newest first, as members of a class are:
//      the bus range goes before the transport it points to, an irqfd is
//      deassigned before its eventfd closes.
// The Machine stops every attachment before it frees any of them, and all
// of them before guest memory and the buses go.
//
// Threading: owned and destroyed by the thread that builds the machine.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mini_vmm {

class DeviceAttachment {
 public:
  DeviceAttachment(std::string name, std::function<void()> stop)
      : name_(std::move(name)), stop_(std::move(stop)) {}
  DeviceAttachment(DeviceAttachment&&) noexcept = default;
  DeviceAttachment& operator=(DeviceAttachment&&) = delete;
  DeviceAttachment(const DeviceAttachment&) = delete;
  DeviceAttachment& operator=(const DeviceAttachment&) = delete;
  ~DeviceAttachment();

  // Keeps `resource` until teardown; returns a reference to the held value.
  template <typename T>
  T& Hold(T resource) {
    auto held = std::make_shared<T>(std::move(resource));
    T& ref = *held;
    held_.push_back(std::move(held));
    return ref;
  }

  // Stops the device; later calls do nothing. Must not throw.
  void Stop() noexcept;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::function<void()> stop_;  // Empty once called.
  // Type-erased owners, released in reverse order.
  std::vector<std::shared_ptr<void>> held_;
};

}  // namespace mini_vmm
