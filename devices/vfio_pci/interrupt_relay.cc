#include "devices/vfio_pci/interrupt_relay.h"

#include <linux/vfio.h>

#include <algorithm>
#include <utility>

#include "vmm/base/log.h"

namespace mini_vmm::vfio_pci {

InterruptRelay::InterruptRelay(std::string name, vfio::DeviceIo& io, VectorRoutes& routes,
                               uint16_t vectors)
    : name_(std::move(name)), io_(io), routes_(routes), vectors_(vectors) {}

int InterruptRelay::FdOf(uint16_t vector) const {
  const Vector& v = vectors_[vector];
  switch (v.target) {
    case Target::kGuest:
      return routes_.TriggerFd(vector);
    case Target::kParked:
      return v.parked->fd();
    case Target::kNone:
      return -1;
  }
  return -1;
}

Result<void> InterruptRelay::EnableMsix() {
  // VFIO takes one interrupt type at a time.
  if (intx_on_) {
    TRY(io_.DisableIrqs(VFIO_PCI_INTX_IRQ_INDEX));
    intx_on_ = false;
  }
  // Without dynamic MSI-X allocation (VFIO_IRQ_INFO_NORESIZE on Linux < 6.5)
  // the vector count is fixed at enable time: enable them all at once.
  // The table the guest sees may list more vectors than VFIO offers (a
  // device's own inconsistency); those cannot be connected.
  const size_t count = std::min<size_t>(vectors_.size(), io_.irq(VFIO_PCI_MSIX_IRQ_INDEX).count);
  if (count == 0) return Error::Invalid("the device offers no MSI-X vectors through VFIO");
  std::vector<int> fds(count);
  for (size_t i = 0; i < fds.size(); ++i) fds[i] = FdOf(static_cast<uint16_t>(i));
  TRY(io_.SetIrqTriggers(VFIO_PCI_MSIX_IRQ_INDEX, 0, fds));
  LOG_DEBUG("{}: MSI-X enabled on the device with {} vectors", name_, fds.size());
  msix_on_ = true;
  return {};
}

Result<void> InterruptRelay::Point(uint16_t vector, Target target) {
  Vector& v = vectors_[vector];
  if (target == Target::kParked && !v.parked) v.parked.emplace(TRY(EventFd::Create()));
  const Target before = v.target;
  v.target = target;
  if (!msix_on_) return EnableMsix();
  if (vector >= io_.irq(VFIO_PCI_MSIX_IRQ_INDEX).count) {
    v.target = before;
    return Error::Invalid("VFIO offers no MSI-X vector {}", vector);
  }
  const int fds[] = {FdOf(vector)};
  LOG_DEBUG("{}: MSI-X vector {} to {}", name_, vector,
            target == Target::kGuest ? "the guest" : "its parked eventfd");
  auto set = io_.SetIrqTriggers(VFIO_PCI_MSIX_IRQ_INDEX, vector, fds);
  if (!set.ok()) v.target = before;
  return set;
}

void InterruptRelay::UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept {
  routes_.UpdateRoute(vector, message);
  std::lock_guard lock(mutex_);
  if (vector >= vectors_.size()) return;
  Vector& v = vectors_[vector];
  Result<void> pointed;
  if (message) {
    if (routes_.TriggerFd(vector) < 0) return;  // No KVM route: logged by the machine.
    if (v.target == Target::kGuest && msix_on_) return;
    pointed = Point(vector, Target::kGuest);
    // Switched back first, drained second: a signal before the switch is in
    // the parked eventfd, one after it reaches the guest directly.
    if (pointed.ok() && v.parked && v.parked->Consume() != 0) routes_.Fire(vector);
  } else {
    if (v.target != Target::kGuest || !msix_on_) return;
    pointed = Point(vector, Target::kParked);
  }
  if (!pointed.ok()) {
    LOG_WARN_RATELIMITED("{}: MSI-X vector {} not connected: {}", name_, vector,
                         pointed.error().ToString());
  }
}

void InterruptRelay::Fire(uint16_t vector) noexcept { routes_.Fire(vector); }

void InterruptRelay::MsixEnabled() noexcept {
  std::lock_guard lock(mutex_);
  if (msix_on_) return;
  if (auto on = EnableMsix(); !on.ok()) {
    LOG_WARN_RATELIMITED("{}: enabling MSI-X: {}", name_, on.error().ToString());
  }
}

void InterruptRelay::MsixDisabled() noexcept {
  std::lock_guard lock(mutex_);
  if (!msix_on_) return;
  if (auto off = io_.DisableIrqs(VFIO_PCI_MSIX_IRQ_INDEX); !off.ok()) {
    LOG_WARN_RATELIMITED("{}: disabling MSI-X: {}", name_, off.error().ToString());
  }
  msix_on_ = false;
  for (Vector& v : vectors_) v.target = Target::kNone;
  EnableIntx();
}

void InterruptRelay::EnableIntx() noexcept {
  if (intx_trigger_ < 0 || intx_on_ || msix_on_) return;
  const int fds[] = {intx_trigger_};
  auto on = io_.SetIrqTriggers(VFIO_PCI_INTX_IRQ_INDEX, 0, fds);
  if (on.ok()) on = io_.SetIrqUnmask(VFIO_PCI_INTX_IRQ_INDEX, intx_unmask_);
  if (!on.ok()) {
    LOG_WARN_RATELIMITED("{}: INTx not connected: {}", name_, on.error().ToString());
    return;
  }
  intx_on_ = true;
}

Result<void> InterruptRelay::ConnectIntx(int trigger, int unmask) {
  std::lock_guard lock(mutex_);
  intx_trigger_ = trigger;
  intx_unmask_ = unmask;
  const int fds[] = {trigger};
  TRY(io_.SetIrqTriggers(VFIO_PCI_INTX_IRQ_INDEX, 0, fds));
  TRY(io_.SetIrqUnmask(VFIO_PCI_INTX_IRQ_INDEX, unmask));
  intx_on_ = true;
  return {};
}

void InterruptRelay::Shutdown() noexcept {
  std::lock_guard lock(mutex_);
  if (msix_on_) (void)io_.DisableIrqs(VFIO_PCI_MSIX_IRQ_INDEX);
  if (intx_on_) (void)io_.DisableIrqs(VFIO_PCI_INTX_IRQ_INDEX);
  msix_on_ = false;
  intx_on_ = false;
  intx_trigger_ = -1;
  for (Vector& v : vectors_) v.target = Target::kNone;
}

bool InterruptRelay::msix_enabled() const {
  std::lock_guard lock(mutex_);
  return msix_on_;
}

int InterruptRelay::trigger_of(uint16_t vector) const {
  std::lock_guard lock(mutex_);
  if (vector >= vectors_.size() || !msix_on_) return -1;
  return FdOf(vector);
}

}  // namespace mini_vmm::vfio_pci
