// How PCI functions interrupt the guest on this machine:
//  - MsiVectors: a function's MSI or MSI-X vectors as KVM MSI routes, each
//    with an irqfd. A route is created when the guest first programs a
//    vector and updated when it reprograms it; a masked vector keeps its
//    route (the function sets its pending bit instead of firing,
//    pci/msix.h, pci/msi.h; a passed-through function's relay parks it).
//  - IntxPins / IntxPin: the four level-triggered IOAPIC pins slots'
//    INTA#-INTD# are swizzled onto (platform/layout.h). Functions share a
//    pin, so its level is the OR of theirs: the pin is driven (KVM_IRQ_LINE)
//    high while any function asserts it, and low when the last one lets go.
//    KVM's IOAPIC re-delivers a level interrupt that is still asserted at
//    EOI, so nothing is lost between an ISR read and the next assert.
//
// Threading: MsiVectors is called by its function's MsixVectors or
// MsiCapability with that object's lock held, or, for a passed-through
// function, by the vfio_pci::InterruptRelay (under the capability's lock,
// and for Fire() under the relay's own too), so one function's calls are
// serialized; they come from vCPU threads (table and config writes) and
// device threads (Fire). Its own mutex guards the vectors all the same.
// IntxPin is called from both kinds of thread too; IntxPins' mutex guards
// the levels.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "devices/pci/intx.h"
#include "devices/pci/msix.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/log.h"
#include "vmm/kvm/interrupt_router.h"
#include "vmm/kvm/registration.h"

namespace mini_vmm {

class MsiVectors final : public pci::MsiSink {
 public:
  // `router` must outlive this object.
  MsiVectors(std::string name, kvm::InterruptRouter& router, uint16_t num_vectors);
  MsiVectors(const MsiVectors&) = delete;
  MsiVectors& operator=(const MsiVectors&) = delete;

  void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override;
  void Fire(uint16_t vector) noexcept override;
  // The vector's irqfd eventfd once it has a route; routes and their
  // eventfds live as long as this object.
  int DirectEventFd(uint16_t vector) const noexcept override;

  // The eventfd whose signal raises `vector`, once it has a route (for
  // vhost's call eventfd); nullptr before.
  const EventFd* eventfd(uint16_t vector) const;
  size_t routes() const;

 private:
  struct Vector {
    // Destroyed in reverse: the irqfd before its eventfd, both before the
    // route they point at.
    std::optional<kvm::MsiRoute> route;
    std::optional<EventFd> fd;
    std::optional<kvm::IrqFd> irqfd;
  };

  Result<void> Connect(Vector& v, const kvm::MsiMessage& message);

  const std::string name_;
  kvm::InterruptRouter& router_;
  mutable std::mutex mutex_;
  std::vector<Vector> vectors_;  // Guarded by mutex_.
};

class IntxPins {
 public:
  // `router` must outlive this object; `gsis` are its fixed routes.
  IntxPins(kvm::InterruptRouter& router, std::array<uint32_t, 4> gsis)
      : router_(router), gsis_(gsis) {}
  IntxPins(const IntxPins&) = delete;
  IntxPins& operator=(const IntxPins&) = delete;

  uint32_t gsi(uint8_t line) const { return gsis_[line % gsis_.size()]; }
  // One function's vote on line `line` (0-3) changed.
  void Set(uint8_t line, bool asserted) noexcept;
  // How many functions assert `line` now (tests).
  uint32_t asserting(uint8_t line) const;

 private:
  kvm::InterruptRouter& router_;
  const std::array<uint32_t, 4> gsis_;
  mutable std::mutex mutex_;
  std::array<uint32_t, 4> asserting_{};  // Guarded by mutex_.
};

// One function's INTx pin: its line among the four, and whether it asserts.
// The line follows from the slot, which the root bus assigns after the
// function exists: Bind() it before the guest runs.
class IntxPin final : public pci::IntxLine {
 public:
  explicit IntxPin(IntxPins& pins) : pins_(pins) {}
  ~IntxPin() override { Deassert(); }
  void Bind(uint8_t line);
  void Assert() noexcept override;
  void Deassert() noexcept override;

 private:
  IntxPins& pins_;
  std::mutex mutex_;
  uint8_t line_ = 0;       // Guarded by mutex_.
  bool asserted_ = false;  // Guarded by mutex_.
};

}  // namespace mini_vmm
