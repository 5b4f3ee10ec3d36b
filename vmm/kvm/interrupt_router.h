// InterruptRouter: the one owner of KVM's GSI routing table, and the one
// way irqfds are connected to GSIs. The platform's fixed routes (PIC/IOAPIC
// pins) are set once; MSI routes are added, changed and removed while the
// guest runs (it programs and masks MSI-X vectors from vCPU threads), and
// every change commits the whole table with KVM_SET_GSI_ROUTING, which is
// how KVM takes it.
//
//   InterruptRouter router(vm, x86::LegacyIrqRoutes(), {.first = 24, .end = 1024});
//   TRY(router.CommitFixed());
//   MsiRoute route = TRY(router.AddMsi({.address = addr, .data = data}));
//   IrqFd irq = TRY(router.ConnectIrqFd(efd, route.gsi()));  // irqfd on the route
//   TRY(route.Update({...}));                                // guest reprogrammed it
//   // drop `irq`, then `route`: removes it and frees its GSI
//
// Threading: every method takes `mutex_`; commits happen under it, so KVM
// always sees the table in the order the changes were made. An MsiRoute
// must not outlive its router.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/kvm/vm_interfaces.h"

namespace mini_vmm::kvm {

struct MsiMessage {
  uint64_t address = 0;
  uint32_t data = 0;
  bool operator==(const MsiMessage&) const = default;
};

// GSIs [first, end) are handed out for MSI routes.
struct GsiRange {
  uint32_t first = 0;
  uint32_t end = 0;
};

class InterruptRouter;

// One MSI route; removed (and its GSI freed) when destroyed.
class MsiRoute {
 public:
  MsiRoute(MsiRoute&& other) noexcept
      : router_(std::exchange(other.router_, nullptr)), gsi_(other.gsi_) {}
  MsiRoute& operator=(MsiRoute&&) = delete;
  MsiRoute(const MsiRoute&) = delete;
  MsiRoute& operator=(const MsiRoute&) = delete;
  ~MsiRoute();

  uint32_t gsi() const { return gsi_; }
  // Points the route at a new message (the guest reprogrammed the vector).
  Result<void> Update(MsiMessage message);

 private:
  friend class InterruptRouter;
  MsiRoute(InterruptRouter* router, uint32_t gsi) : router_(router), gsi_(gsi) {}

  InterruptRouter* router_;
  uint32_t gsi_;
};

class InterruptRouter {
 public:
  // `lines` (the VM, or a test's fake) takes the tables and the irqfds; it
  // must outlive the router.
  InterruptRouter(IrqLines& lines, std::vector<kvm_irq_routing_entry> fixed, GsiRange msi_gsis);
  InterruptRouter(const InterruptRouter&) = delete;
  InterruptRouter& operator=(const InterruptRouter&) = delete;

  // Commits the fixed routes alone (at VM creation).
  Result<void> CommitFixed();
  // Allocates a GSI, routes it to `message` and commits. Fails when the GSI
  // range is exhausted or KVM refuses the table (then nothing changed).
  Result<MsiRoute> AddMsi(MsiMessage message);
  // Signalling `fd` raises `gsi`, which must be routed: a fixed route or a
  // live MSI route (drop the IrqFd before its MsiRoute). With `resample`,
  // level-triggered (IrqLines::RegisterIrqFd).
  Result<IrqFd> ConnectIrqFd(const EventFd& fd, uint32_t gsi, const EventFd* resample = nullptr);
  // Sets a fixed route's level (KVM_IRQ_LINE), for lines without an irqfd.
  Result<void> SetLevel(uint32_t gsi, bool level);

  // What KVM was last given (tests, debugging).
  std::vector<kvm_irq_routing_entry> committed() const;
  size_t msi_routes() const;

 private:
  friend class MsiRoute;
  Result<void> Update(uint32_t gsi, MsiMessage message);
  void Remove(uint32_t gsi) noexcept;
  // Builds the table from fixed_ and msi_ and commits it. Caller holds mutex_.
  Result<void> CommitLocked();

  bool RoutedLocked(uint32_t gsi) const;

  IrqLines& lines_;
  const std::vector<kvm_irq_routing_entry> fixed_;
  const GsiRange msi_gsis_;
  mutable std::mutex mutex_;
  std::map<uint32_t, MsiMessage> msi_;               // Guarded by mutex_; by GSI.
  std::vector<kvm_irq_routing_entry> committed_;  // Guarded by mutex_.
};

}  // namespace mini_vmm::kvm
