#include "devices/vfio_pci/interrupt_relay.h"

#include <linux/vfio.h>
#include <poll.h>

#include <algorithm>
#include <utility>

#include "vmm/base/log.h"

namespace mini_vmm::vfio_pci {

InterruptRelay::InterruptRelay(std::string name, vfio::DeviceIo& io, VectorRoutes& routes,
                               uint16_t msix_vectors, uint8_t msi_vectors)
    : name_(std::move(name)),
      io_(io),
      routes_(routes),
      msix_(VFIO_PCI_MSIX_IRQ_INDEX, "MSI-X", msix_vectors),
      msi_(VFIO_PCI_MSI_IRQ_INDEX, "MSI", msi_vectors) {}

int InterruptRelay::FdOf(const Channel& channel, uint16_t vector) const {
  const Vector& v = channel.vectors[vector];
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

Result<void> InterruptRelay::Enable(Channel& channel, size_t count) {
  const Channel& other = &channel == &msix_ ? msi_ : msix_;
  if (other.live != 0) {
    return Error::Invalid("{} is enabled; VFIO takes one interrupt type at a time", other.name);
  }
  count = std::min({count, channel.vectors.size(), size_t{io_.irq(channel.index).count}});
  if (count == 0) {
    return Error::Invalid("the device offers no {} vectors through VFIO", channel.name);
  }
  if (&channel == &msi_) {
    // MSI's pending bits are the guest's to read: a vector that cannot
    // reach the guest yet waits in its parked eventfd rather than nowhere.
    for (size_t i = 0; i < count; ++i) {
      Vector& v = channel.vectors[i];
      if (v.target == Target::kGuest) continue;
      if (!v.parked) v.parked.emplace(TRY(EventFd::Create()));
      v.target = Target::kParked;
    }
  }
  // VFIO takes one interrupt type at a time.
  if (intx_on_) {
    TRY(io_.DisableIrqs(VFIO_PCI_INTX_IRQ_INDEX));
    intx_on_ = false;
  }
  // MSI-X without dynamic allocation (VFIO_IRQ_INFO_NORESIZE on Linux <
  // 6.5), and MSI always, fix the vector count at enable time: enable them
  // all at once. The guest's table or capability may list more vectors
  // than VFIO offers (a device's own inconsistency); those stay unconnected.
  std::vector<int> fds(count);
  for (size_t i = 0; i < fds.size(); ++i) fds[i] = FdOf(channel, static_cast<uint16_t>(i));
  if (auto set = io_.SetIrqTriggers(channel.index, 0, fds); !set.ok()) {
    EnableIntx();
    return set;
  }
  LOG_DEBUG("{}: {} enabled on the device with {} vectors", name_, channel.name, fds.size());
  channel.live = count;
  return {};
}

Result<void> InterruptRelay::Point(Channel& channel, uint16_t vector, Target target) {
  Vector& v = channel.vectors[vector];
  if (target == Target::kParked && !v.parked) v.parked.emplace(TRY(EventFd::Create()));
  const Target before = v.target;
  v.target = target;
  const bool msix = &channel == &msix_;
  if (channel.live == 0) {
    // MSI-X is enabled by its first routed vector at the latest; MSI only
    // by MsiEnabled(), which applies what is recorded here.
    return msix ? Enable(channel, channel.vectors.size()) : Result<void>();
  }
  if (vector >= channel.live) {
    if (!msix) return {};  // Recorded for the next enable with more vectors.
    v.target = before;
    return Error::Invalid("VFIO offers no MSI-X vector {}", vector);
  }
  const int fds[] = {FdOf(channel, vector)};
  LOG_DEBUG("{}: {} vector {} to {}", name_, channel.name, vector,
            target == Target::kGuest ? "the guest" : "its parked eventfd");
  auto set = io_.SetIrqTriggers(channel.index, vector, fds);
  if (!set.ok()) v.target = before;
  return set;
}

void InterruptRelay::RouteChanged(Channel& channel, uint16_t vector,
                                  const std::optional<pci::MsiMessage>& message) noexcept {
  if (vector >= channel.vectors.size()) return;
  Vector& v = channel.vectors[vector];
  const bool msix = &channel == &msix_;
  Result<void> pointed;
  if (message) {
    if (routes_.TriggerFd(vector) < 0) return;  // No KVM route: logged by the machine.
    if (v.target == Target::kGuest && (channel.live != 0 || !msix)) return;
    pointed = Point(channel, vector, Target::kGuest);
    // Switched back first, drained second: a signal before the switch is in
    // the parked eventfd, one after it reaches the guest directly.
    if (pointed.ok() && v.parked && v.parked->Consume() != 0) routes_.Fire(vector);
  } else {
    if (v.target != Target::kGuest) return;
    if (channel.live == 0) {
      if (!msix) v.target = Target::kNone;  // MsiEnabled() parks it.
      return;
    }
    pointed = Point(channel, vector, Target::kParked);
  }
  if (!pointed.ok()) {
    LOG_WARN_RATELIMITED("{}: {} vector {} not connected: {}", name_, channel.name, vector,
                         pointed.error().ToString());
  }
}

void InterruptRelay::UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept {
  routes_.UpdateRoute(vector, message);
  std::lock_guard lock(mutex_);
  RouteChanged(msix_, vector, message);
}

void InterruptRelay::Fire(uint16_t vector) noexcept { routes_.Fire(vector); }

void InterruptRelay::MsiPort::UpdateRoute(uint16_t vector,
                                          std::optional<pci::MsiMessage> message) noexcept {
  relay_.routes_.UpdateRoute(vector, message);
  std::lock_guard lock(relay_.mutex_);
  relay_.RouteChanged(relay_.msi_, vector, message);
}

void InterruptRelay::MsixEnabled() noexcept {
  std::lock_guard lock(mutex_);
  if (msix_.live != 0) return;
  if (auto on = Enable(msix_, msix_.vectors.size()); !on.ok()) {
    LOG_WARN_RATELIMITED("{}: enabling MSI-X: {}", name_, on.error().ToString());
  }
}

void InterruptRelay::MsixDisabled() noexcept {
  std::lock_guard lock(mutex_);
  if (msix_.live == 0) return;
  Disable(msix_);
  EnableIntx();
}

void InterruptRelay::MsiEnabled(uint8_t vectors) noexcept {
  std::lock_guard lock(mutex_);
  const size_t wanted =
      std::min({size_t{vectors}, msi_.vectors.size(), size_t{io_.irq(msi_.index).count}});
  if (msi_.live != 0 && msi_.live == wanted) return;
  if (msi_.live != 0) {
    // The kernel cannot resize an enabled MSI block (the guest changed MME
    // while MSI was on): off, then on with the new count.
    if (auto off = io_.DisableIrqs(msi_.index); !off.ok()) {
      LOG_WARN_RATELIMITED("{}: disabling MSI: {}", name_, off.error().ToString());
    }
    msi_.live = 0;
  }
  if (auto on = Enable(msi_, vectors); !on.ok()) {
    LOG_WARN_RATELIMITED("{}: enabling MSI: {}", name_, on.error().ToString());
  }
}

void InterruptRelay::MsiDisabled() noexcept {
  std::lock_guard lock(mutex_);
  Disable(msi_);
  // What waited while masked is dropped with the pending bits.
  for (Vector& v : msi_.vectors) {
    if (v.parked) (void)v.parked->Consume();
  }
  EnableIntx();
}

void InterruptRelay::Disable(Channel& channel) noexcept {
  if (channel.live != 0) {
    if (auto off = io_.DisableIrqs(channel.index); !off.ok()) {
      LOG_WARN_RATELIMITED("{}: disabling {}: {}", name_, channel.name, off.error().ToString());
    }
  }
  channel.live = 0;
  for (Vector& v : channel.vectors) v.target = Target::kNone;
}

void InterruptRelay::EnableIntx() noexcept {
  if (intx_trigger_ < 0 || intx_on_ || msix_.live != 0 || msi_.live != 0) return;
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
  if (msix_.live != 0 || msi_.live != 0) return {};  // Connected when they go.
  const int fds[] = {trigger};
  TRY(io_.SetIrqTriggers(VFIO_PCI_INTX_IRQ_INDEX, 0, fds));
  TRY(io_.SetIrqUnmask(VFIO_PCI_INTX_IRQ_INDEX, unmask));
  intx_on_ = true;
  return {};
}

void InterruptRelay::Shutdown() noexcept {
  std::lock_guard lock(mutex_);
  Disable(msix_);
  Disable(msi_);
  if (intx_on_) (void)io_.DisableIrqs(VFIO_PCI_INTX_IRQ_INDEX);
  intx_on_ = false;
  intx_trigger_ = -1;
}

bool InterruptRelay::msix_enabled() const {
  std::lock_guard lock(mutex_);
  return msix_.live != 0;
}

bool InterruptRelay::msi_enabled() const {
  std::lock_guard lock(mutex_);
  return msi_.live != 0;
}

uint32_t InterruptRelay::msi_parked_pending() const {
  std::lock_guard lock(mutex_);
  uint32_t pending = 0;
  for (size_t i = 0; i < msi_.vectors.size() && i < 32; ++i) {
    const Vector& v = msi_.vectors[i];
    if (v.target != Target::kParked || !v.parked) continue;
    // A zero-timeout poll: readable means signalled, and nothing is consumed.
    pollfd p{.fd = v.parked->fd(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) pending |= 1u << i;
  }
  return pending;
}

int InterruptRelay::trigger_of(uint16_t vector) const {
  std::lock_guard lock(mutex_);
  if (vector >= msix_.vectors.size() || msix_.live == 0) return -1;
  return FdOf(msix_, vector);
}

int InterruptRelay::msi_trigger_of(uint8_t vector) const {
  std::lock_guard lock(mutex_);
  if (vector >= msi_.vectors.size() || vector >= msi_.live) return -1;
  return FdOf(msi_, vector);
}

}  // namespace mini_vmm::vfio_pci
