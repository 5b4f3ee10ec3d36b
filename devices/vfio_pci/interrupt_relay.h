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
//  - The host may allocate fewer vectors than asked (SET_IRQS then says how
//    many it could, vfio::IrqsSet): the relay enables that many (for MSI,
//    the power of two at or below), and the vectors above stay recorded but
//    unconnected; see Enable() for what the guest sees of them.
//  - MSI: msi_sink() is the MsiSink of the function's emulated MSI
//    capability (pci::MsiCapability). Routes are recorded as they come;
//    MsiEnabled(n) enables VFIO's MSI index with n eventfds at once (the
//    kernel cannot grow an MSI block: a new n means disable, re-enable).
//    MSI vector i shares VectorRoutes' vector i with MSI-X vector i, which
//    is safe because the two are never enabled together.
//  - A masked vector must not reach the guest, and must not be lost: its
//    VFIO trigger is switched to a private "parked" eventfd. When the guest
//    unmasks it, the trigger is switched back first, then the parked
//    eventfd is drained; if the device signalled it meanwhile, the vector
//    fires once (the pending message the PCI spec delivers on unmask). MSI
//    vectors that are enabled but not routable start parked. A parked
//    signal reads as the vector's pending bit (MSI's Pending Bits, MSI-X's
//    PBA) until then; disabling the index, or re-enabling it without the
//    vector, drops it.
//  - INTx: the machine's trigger eventfd (an irqfd with resample) and its
//    resample eventfd (VFIO's unmask). VFIO allows one interrupt type at a
//    time, so INTx is disabled while MSI or MSI-X is enabled and restored
//    after, and MSI and MSI-X refuse to be enabled together (the function
//    keeps the guest from asking; the relay checks again).
//
// Threading: MsixVectors and MsiCapability call their sinks with their own
// lock held; the relay's mutex guards its state (lock order: capability,
// then relay). Errors from the kernel are logged at a rate limit (the
// vector stays undeliverable; the guest driver times out) rather than
// failing the vCPU.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
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
  // `io` and `routes` must outlive the relay; `msix_vectors` and
  // `msi_vectors` are the sizes of the function's MSI-X table and MSI
  // capability (0: none).
  InterruptRelay(std::string name, vfio::DeviceIo& io, VectorRoutes& routes,
                 uint16_t msix_vectors, uint8_t msi_vectors = 0);
  InterruptRelay(const InterruptRelay&) = delete;
  InterruptRelay& operator=(const InterruptRelay&) = delete;

  // pci::MsiSink for MSI-X, called by MsixVectors.
  void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override;
  void Fire(uint16_t vector) noexcept override;
  // pci::MsiSink for MSI, for the function's MsiCapability.
  pci::MsiSink& msi_sink() { return msi_port_; }

  // The guest set the MSI-X enable bit: enable MSI-X on the device at once,
  // with every vector, before any is unmasked. Devices decide at run time
  // whether MSI-X is on (an NVMe controller ties its admin queue to vector
  // 0 when the driver enables it, which Linux does before unmasking), so
  // the device's state must follow the guest's view, not lag behind it.
  void MsixEnabled() noexcept;
  // The guest cleared the MSI-X enable bit: disable MSI-X on the device,
  // and give INTx back if it was connected.
  void MsixDisabled() noexcept;
  // MSI is enabled with `vectors` (2^MME) vectors: enable VFIO's MSI index
  // with that many (at most what VFIO offers), or re-enable it if the count
  // changed. Call after the capability has reported its routes.
  void MsiEnabled(uint8_t vectors) noexcept;
  // MSI is disabled: disable it on the device and give INTx back. Parked
  // interrupts are dropped (see pci::MsiCapability). Idempotent.
  void MsiDisabled() noexcept;
  // Connects INTx: the device's interrupt signals `trigger`, and a signal
  // of `unmask` (KVM's resample on EOI) unmasks it. The fds must stay open
  // until Shutdown().
  Result<void> ConnectIntx(int trigger, int unmask);
  // Disables every interrupt on the device (teardown); idempotent and
  // sticky: nothing enables one again afterwards, so a vCPU that has not
  // been joined yet cannot turn the device's interrupts back on by writing
  // an enable or mask bit (the guest's write only reaches the emulated
  // registers).
  void Shutdown() noexcept;

  bool msix_enabled() const;
  bool msi_enabled() const;
  // MSI vectors whose device interrupt waits in a parked eventfd (bit i:
  // vector i), for the guest's read of the Pending Bits. Does not consume.
  uint32_t msi_parked_pending() const;
  // The same for MSI-X vectors [first, first + count) (bit i: vector
  // first + i; count is at most 64, one PBA qword), for the guest's read
  // of the Pending Bit Array (PCI 3.0 §6.8.2.10: a masked vector with a
  // pending message has its bit set).
  uint64_t msix_parked_pending(uint32_t first, uint32_t count) const;
  // Which fd VFIO signals for `vector` (tests): a VectorRoutes fd, a
  // parked fd, or -1.
  int trigger_of(uint16_t vector) const;
  int msi_trigger_of(uint8_t vector) const;

 private:
  enum class Target : uint8_t { kNone, kGuest, kParked };
  struct Vector {
    Target target = Target::kNone;
    std::optional<EventFd> parked;
  };
  // One VFIO interrupt index with eventfd vectors (MSI-X or MSI).
  struct Channel {
    Channel(uint32_t i, const char* n, size_t count) : index(i), name(n), vectors(count) {}
    const uint32_t index;
    const char* const name;
    std::vector<Vector> vectors;
    size_t live = 0;       // Vectors enabled in VFIO; 0 while the index is off.
    size_t requested = 0;  // Vectors asked for at enable; live may be fewer.
  };
  // MSI's MsiSink, forwarding to the relay.
  class MsiPort final : public pci::MsiSink {
   public:
    explicit MsiPort(InterruptRelay& relay) : relay_(relay) {}
    void UpdateRoute(uint16_t vector, std::optional<pci::MsiMessage> message) noexcept override;
    void Fire(uint16_t vector) noexcept override { relay_.routes_.Fire(vector); }

   private:
    InterruptRelay& relay_;
  };

  // Caller holds mutex_ for all of these.
  void RouteChanged(Channel& channel, uint16_t vector,
                    const std::optional<pci::MsiMessage>& message) noexcept;
  Result<void> Point(Channel& channel, uint16_t vector, Target target);
  Result<void> Enable(Channel& channel, size_t count);
  // Enables the index with as many of `count` vectors as the host allocates.
  Result<size_t> EnableVectors(Channel& channel, size_t count);
  Result<void> SetIntx(std::span<const int> trigger);
  uint64_t ParkedPending(const Channel& channel, size_t first, size_t count) const;
  void Disable(Channel& channel) noexcept;
  int FdOf(const Channel& channel, uint16_t vector) const;
  void EnableIntx() noexcept;

  const std::string name_;
  vfio::DeviceIo& io_;
  VectorRoutes& routes_;
  MsiPort msi_port_{*this};
  mutable std::mutex mutex_;
  Channel msix_;           // Guarded by mutex_.
  Channel msi_;            // Guarded by mutex_.
  int intx_trigger_ = -1;  // Guarded by mutex_.
  int intx_unmask_ = -1;   // Guarded by mutex_.
  bool intx_on_ = false;   // Guarded by mutex_.
  bool shut_down_ = false;  // Guarded by mutex_.
};

}  // namespace mini_vmm::vfio_pci
