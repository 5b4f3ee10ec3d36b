// InterruptRelay: the VFIO side of a passed-through function's interrupts.
// The device's interrupts are eventfds the kernel signals (SET_IRQS); the
// guest's are KVM irqfds. The relay points the one at the other so an
// interrupt never passes through mini-vmm:
//
//  - MSI-X: it is the MsiSink of the function's emulated MSI-X table
//    (pci::MsixVectors). When the guest unmasks a vector, the machine's
//    VectorRoutes gives it a KVM MSI route and an irqfd'd eventfd, and the
//    relay hands that eventfd to VFIO as the vector's trigger (enabling
//    MSI-X on the device with all its vectors the first time).
//  - A masked vector must not reach the guest, and must not be lost: its
//    VFIO trigger is switched to a private "parked" eventfd. When the guest
//    unmasks it, the trigger is switched back first, then the parked
//    eventfd is drained; if the device signalled it meanwhile, the vector
//    fires once (the pending message the PCI spec delivers on unmask).
//  - INTx: the machine's trigger eventfd (an irqfd with resample) and its
//    resample eventfd (VFIO's unmask). VFIO allows one interrupt type at a
//    time, so INTx is disabled while MSI-X is enabled and restored after.
//
// Threading: MsixVectors calls UpdateRoute/Fire with its own lock held;
// the relay's mutex guards its state. Errors from the kernel are logged at
// a rate limit (the vector stays undeliverable; the guest driver times out)
// rather than failing the vCPU.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "devices/pci/msix.h"
#include "vmm/base/event_fd.h"
#include "vmm/vfio/device_io.h"

namespace mini_vmm::vfio_pci {

// The machine's side: a KVM MSI route and an irqfd per vector.
class VectorRoutes : public pci::MsiSink {
 public:
  // The eventfd whose signal raises `vector` in the guest, once the vector
  // has a route; -1 before.
  virtual int TriggerFd(uint16_t vector) const = 0;
};

class InterruptRelay final : public pci::MsiSink {
 public:
  // `io` and `routes` must outlive the relay.
  InterruptRelay(std::string name, vfio::DeviceIo& io, VectorRoutes& routes, uint16_t vectors);
  InterruptRelay(const InterruptRelay&) = delete;
  InterruptRelay& operator=(const InterruptRelay&) = delete;

  // pci::MsiSink, called by MsixVectors.
  void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override;
  void Fire(uint16_t vector) noexcept override;

  // The guest set the MSI-X enable bit: enable MSI-X on the device at once,
  // with every vector, before any is unmasked. Devices decide at run time
  // whether MSI-X is on (an NVMe controller ties its admin queue to vector
  // 0 when the driver enables it, which Linux does before unmasking), so
  // the device's state must follow the guest's view, not lag behind it.
  void MsixEnabled() noexcept;
  // The guest cleared the MSI-X enable bit: disable MSI-X on the device,
  // and give INTx back if it was connected.
  void MsixDisabled() noexcept;
  // Connects INTx: the device's interrupt signals `trigger`, and a signal
  // of `unmask` (KVM's resample on EOI) unmasks it. The fds must stay open
  // until Shutdown().
  Result<void> ConnectIntx(int trigger, int unmask);
  // Disables every interrupt on the device (teardown); idempotent.
  void Shutdown() noexcept;

  bool msix_enabled() const;
  // Which fd VFIO signals for `vector` (tests): a VectorRoutes fd, a
  // parked fd, or -1.
  int trigger_of(uint16_t vector) const;

 private:
  enum class Target : uint8_t { kNone, kGuest, kParked };
  struct Vector {
    Target target = Target::kNone;
    std::optional<EventFd> parked;
  };

  // Points `vector`'s VFIO trigger at `target`. Caller holds mutex_.
  Result<void> Point(uint16_t vector, Target target);
  Result<void> EnableMsix();        // Caller holds mutex_.
  int FdOf(uint16_t vector) const;  // Caller holds mutex_.
  void EnableIntx() noexcept;       // Caller holds mutex_.

  const std::string name_;
  vfio::DeviceIo& io_;
  VectorRoutes& routes_;
  mutable std::mutex mutex_;
  std::vector<Vector> vectors_;  // Guarded by mutex_.
  bool msix_on_ = false;         // Guarded by mutex_.
  int intx_trigger_ = -1;        // Guarded by mutex_.
  int intx_unmask_ = -1;         // Guarded by mutex_.
  bool intx_on_ = false;         // Guarded by mutex_.
};

}  // namespace mini_vmm::vfio_pci
