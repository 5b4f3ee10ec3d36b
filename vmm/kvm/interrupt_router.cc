#include "vmm/kvm/interrupt_router.h"

#include "vmm/base/log.h"

namespace mini_vmm::kvm {
namespace {

kvm_irq_routing_entry MsiEntry(uint32_t gsi, MsiMessage message) {
  kvm_irq_routing_entry entry{};
  entry.gsi = gsi;
  entry.type = KVM_IRQ_ROUTING_MSI;
  entry.u.msi.address_lo = static_cast<uint32_t>(message.address);
  entry.u.msi.address_hi = static_cast<uint32_t>(message.address >> 32);
  entry.u.msi.data = message.data;
  return entry;
}

}  // namespace

MsiRoute::~MsiRoute() {
  if (router_ != nullptr) router_->Remove(gsi_);
}

Result<void> MsiRoute::Update(MsiMessage message) {
  VMM_CHECK(router_ != nullptr);
  return router_->Update(gsi_, message);
}

InterruptRouter::InterruptRouter(IrqLines& lines, std::vector<kvm_irq_routing_entry> fixed,
                                 GsiRange msi_gsis)
    : lines_(lines), fixed_(std::move(fixed)), msi_gsis_(msi_gsis) {
  VMM_CHECK(msi_gsis_.first <= msi_gsis_.end);
  for (const kvm_irq_routing_entry& e : fixed_) {
    VMM_CHECK(e.gsi < msi_gsis_.first || e.gsi >= msi_gsis_.end);
  }
}

Result<void> InterruptRouter::CommitFixed() {
  std::lock_guard lock(mutex_);
  return CommitLocked();
}

Result<MsiRoute> InterruptRouter::AddMsi(MsiMessage message) {
  std::lock_guard lock(mutex_);
  // The lowest free GSI, so a removed route's GSI is reused first.
  uint32_t gsi = msi_gsis_.first;
  for (const auto& [used, unused] : msi_) {
    if (used != gsi) break;
    ++gsi;
  }
  if (gsi >= msi_gsis_.end) {
    return Error::Invalid("no GSI left for another MSI route (all {} in use)",
                          msi_gsis_.end - msi_gsis_.first);
  }
  msi_.emplace(gsi, message);
  if (auto committed = CommitLocked(); !committed.ok()) {
    msi_.erase(gsi);
    return std::move(committed).error();
  }
  return MsiRoute(this, gsi);
}

bool InterruptRouter::RoutedLocked(uint32_t gsi) const {
  if (msi_.contains(gsi)) return true;
  for (const kvm_irq_routing_entry& e : fixed_) {
    if (e.gsi == gsi) return true;
  }
  return false;
}

Result<IrqFd> InterruptRouter::ConnectIrqFd(const EventFd& fd, uint32_t gsi,
                                            const EventFd* resample) {
  std::lock_guard lock(mutex_);
  // KVM would accept an irqfd on an unrouted GSI and drop its interrupts.
  if (!RoutedLocked(gsi)) return Error::Invalid("GSI {} has no route for an irqfd", gsi);
  return lines_.RegisterIrqFd(fd, gsi, resample);
}

Result<void> InterruptRouter::SetLevel(uint32_t gsi, bool level) {
  std::lock_guard lock(mutex_);
  if (!RoutedLocked(gsi)) return Error::Invalid("GSI {} has no route", gsi);
  return lines_.SetIrqLine(gsi, level);
}

Result<void> InterruptRouter::Update(uint32_t gsi, MsiMessage message) {
  std::lock_guard lock(mutex_);
  auto it = msi_.find(gsi);
  VMM_CHECK(it != msi_.end());
  if (it->second == message) return {};  // Unchanged: no ioctl.
  const MsiMessage old = std::exchange(it->second, message);
  if (auto committed = CommitLocked(); !committed.ok()) {
    it->second = old;
    return committed;
  }
  return {};
}

void InterruptRouter::Remove(uint32_t gsi) noexcept {
  std::lock_guard lock(mutex_);
  msi_.erase(gsi);
  // A stale route left in KVM is harmless (its irqfd is gone first), so a
  // failed commit is logged, not fatal.
  if (auto committed = CommitLocked(); !committed.ok()) {
    LOG_WARN("cannot remove MSI route {}: {}", gsi, committed.error().ToString());
  }
}

Result<void> InterruptRouter::CommitLocked() {
  std::vector<kvm_irq_routing_entry> table = fixed_;
  table.reserve(fixed_.size() + msi_.size());
  for (const auto& [gsi, message] : msi_) table.push_back(MsiEntry(gsi, message));
  TRY(lines_.SetGsiRouting(table));
  committed_ = std::move(table);
  return {};
}

std::vector<kvm_irq_routing_entry> InterruptRouter::committed() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

size_t InterruptRouter::msi_routes() const {
  std::lock_guard lock(mutex_);
  return msi_.size();
}

}  // namespace mini_vmm::kvm
