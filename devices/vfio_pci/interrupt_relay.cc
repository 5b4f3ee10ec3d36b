#include "devices/vfio_pci/interrupt_relay.h"

#include <linux/vfio.h>
#include <poll.h>

#include <algorithm>
#include <bit>
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
  if (shut_down_) return {};  // Sticky: see Shutdown().
  const Channel& other = &channel == &msix_ ? msi_ : msix_;
  if (other.live != 0) {
    return Error::Invalid("{} is enabled; VFIO takes one interrupt type at a time", other.name);
  }
  const size_t wanted = std::min(count, channel.vectors.size());
  count = std::min(wanted, size_t{io_.irq(channel.index).count});
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
  auto granted = EnableVectors(channel, count);
  if (!granted.ok()) {
    EnableIntx();
    return std::move(granted).error();
  }
  if (*granted < wanted) {
    // Vectors [granted, wanted) have no host vector behind them (the guest's
    // table or capability lists more than VFIO offers, or the host could
    // not allocate them all). They are recorded, never connected, and what
    // the guest sees is silence on them:
    //  - MSI: the host programmed the device's MME for `granted` vectors,
    //    and a function given fewer messages than it asked for sends the
    //    events of the missing ones on those it has (PCI 3.0 §6.8.1.3), so
    //    they arrive on a vector below `granted`;
    //  - MSI-X: the host kernel leaves the device's own table entries above
    //    `granted` masked, so the device holds those events pending in its
    //    own PBA, which the guest does not see.
    // A driver waiting on such a vector times out; this says why, once per
    // enable.
    LOG_WARN_RATELIMITED(
        "{}: {} has {} of the {} vectors the guest enabled; vector {} and up never fire", name_,
        channel.name, *granted, wanted, *granted);
  }
  LOG_DEBUG_RATELIMITED("{}: {} enabled on the device with {} vectors", name_, channel.name,
                        *granted);
  channel.live = *granted;
  channel.requested = count;
  // A parked signal of a vector that is not connected now is left from an
  // earlier enable period (the guest lowered MME, or the host granted
  // fewer): it is no pending message of this one.
  for (size_t i = channel.live; i < channel.vectors.size(); ++i) {
    if (channel.vectors[i].parked) (void)channel.vectors[i].parked->Consume();
  }
  return {};
}

Result<size_t> InterruptRelay::EnableVectors(Channel& channel, size_t count) {
  // MSI-X without dynamic allocation (VFIO_IRQ_INFO_NORESIZE on Linux <
  // 6.5), and MSI always, fix the vector count at enable time: enable them
  // all at once. When the host cannot allocate that many, SET_IRQS says how
  // many it could (vfio_msi_enable()); retry with the largest count it
  // allows: that many for MSI-X, for MSI the power of two at or below it
  // (MME can say nothing else), as QEMU does. Each retry asks for fewer
  // vectors than the one before, so the loop ends.
  const bool msi = &channel == &msi_;
  std::vector<int> fds;
  for (;;) {
    fds.resize(count);
    for (size_t i = 0; i < fds.size(); ++i) fds[i] = FdOf(channel, static_cast<uint16_t>(i));
    const vfio::IrqsSet set = TRY(io_.SetIrqTriggers(channel.index, 0, fds));
    if (set.only_available == 0) return count;
    const size_t available =
        msi ? std::bit_floor(size_t{set.only_available}) : size_t{set.only_available};
    if (available >= count) {
      return Error::Invalid("enabling {} {} vectors failed though {} are available", count,
                            channel.name, set.only_available);
    }
    count = available;
  }
}

Result<void> InterruptRelay::Point(Channel& channel, uint16_t vector, Target target) {
  Vector& v = channel.vectors[vector];
  if (target == Target::kParked && !v.parked) v.parked.emplace(TRY(EventFd::Create()));
  const Target before = v.target;
  v.target = target;
  if (channel.live == 0) {
    // MSI-X is enabled by its first routed vector at the latest; MSI only
    // by MsiEnabled(), which applies what is recorded here.
    return &channel == &msix_ ? Enable(channel, channel.vectors.size()) : Result<void>();
  }
  // Recorded for the next enable; no host vector is behind it now (logged
  // once, at enable).
  if (vector >= channel.live) return {};
  const int fds[] = {FdOf(channel, vector)};
  // The guest's mask writes lead here: rate-limited.
  LOG_DEBUG_RATELIMITED("{}: {} vector {} to {}", name_, channel.name, vector,
                        target == Target::kGuest ? "the guest" : "its parked eventfd");
  auto set = io_.SetIrqTriggers(channel.index, vector, fds);
  if (!set.ok()) {
    v.target = before;
    return std::move(set).error();
  }
  if (set->only_available != 0) {  // Vectors of an enabled block allocate nothing.
    v.target = before;
    return Error::Invalid("VFIO_DEVICE_SET_IRQS of {} vector {} returned {}", channel.name, vector,
                          set->only_available);
  }
  return {};
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
  // Against what was asked, not what the host granted: a short grant must
  // not turn every later MSI config write into a disable and re-enable.
  if (msi_.live != 0 && msi_.requested == wanted) return;
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
  EnableIntx();
}

void InterruptRelay::Disable(Channel& channel) noexcept {
  if (channel.live != 0) {
    if (auto off = io_.DisableIrqs(channel.index); !off.ok()) {
      LOG_WARN_RATELIMITED("{}: disabling {}: {}", name_, channel.name, off.error().ToString());
    }
  }
  channel.live = 0;
  channel.requested = 0;
  // What waited while masked is dropped with the enable: the guest's
  // pending bits clear, and a signal from this enable period must not fire
  // after a later one.
  for (Vector& v : channel.vectors) {
    v.target = Target::kNone;
    if (v.parked) (void)v.parked->Consume();
  }
}

void InterruptRelay::EnableIntx() noexcept {
  if (shut_down_ || intx_trigger_ < 0 || intx_on_ || msix_.live != 0 || msi_.live != 0) return;
  const int fds[] = {intx_trigger_};
  auto on = SetIntx(fds);
  if (!on.ok()) {
    LOG_WARN_RATELIMITED("{}: INTx not connected: {}", name_, on.error().ToString());
    return;
  }
  intx_on_ = true;
}

Result<void> InterruptRelay::ConnectIntx(int trigger, int unmask) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return Error::Invalid("{}: interrupts are shut down", name_);
  intx_trigger_ = trigger;
  intx_unmask_ = unmask;
  if (msix_.live != 0 || msi_.live != 0) return {};  // Connected when they go.
  const int fds[] = {trigger};
  TRY(SetIntx(fds));
  intx_on_ = true;
  return {};
}

Result<void> InterruptRelay::SetIntx(std::span<const int> trigger) {
  const vfio::IrqsSet set = TRY(io_.SetIrqTriggers(VFIO_PCI_INTX_IRQ_INDEX, 0, trigger));
  if (set.only_available != 0) {  // INTx allocates no vectors.
    return Error::Invalid("VFIO_DEVICE_SET_IRQS of INTx returned {}", set.only_available);
  }
  return io_.SetIrqUnmask(VFIO_PCI_INTX_IRQ_INDEX, intx_unmask_);
}

void InterruptRelay::Shutdown() noexcept {
  std::lock_guard lock(mutex_);
  shut_down_ = true;
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

uint64_t InterruptRelay::ParkedPending(const Channel& channel, size_t first, size_t count) const {
  uint64_t pending = 0;
  // Vectors at or above `live` have no host vector behind them: nothing
  // signals their parked eventfds (Enable() drained them).
  const size_t end =
      std::min({first + std::min(count, size_t{64}), channel.live, channel.vectors.size()});
  for (size_t i = first; i < end; ++i) {
    const Vector& v = channel.vectors[i];
    if (v.target != Target::kParked || !v.parked) continue;
    // A zero-timeout poll: readable means signalled, and nothing is consumed.
    pollfd p{.fd = v.parked->fd(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) pending |= uint64_t{1} << (i - first);
  }
  return pending;
}

uint32_t InterruptRelay::msi_parked_pending() const {
  std::lock_guard lock(mutex_);
  return static_cast<uint32_t>(ParkedPending(msi_, 0, 32));
}

uint64_t InterruptRelay::msix_parked_pending(uint32_t first, uint32_t count) const {
  std::lock_guard lock(mutex_);
  return ParkedPending(msix_, first, count);
}

int InterruptRelay::trigger_of(uint16_t vector) const {
  std::lock_guard lock(mutex_);
  if (vector >= msix_.live) return -1;
  return FdOf(msix_, vector);
}

int InterruptRelay::msi_trigger_of(uint8_t vector) const {
  std::lock_guard lock(mutex_);
  if (vector >= msi_.vectors.size() || vector >= msi_.live) return -1;
  return FdOf(msi_, vector);
}

}  // namespace mini_vmm::vfio_pci
