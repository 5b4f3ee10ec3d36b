// VirtioPciTransport: a virtio device as a modern (non-transitional)
// virtio-pci function, virtio 1.2 §4.1: vendor 0x1af4, device 0x1040 +
// type, revision 1. Everything lives in one 64-bit memory BAR (BAR 0):
//
//   0x0000  common configuration  (VIRTIO_PCI_CAP_COMMON_CFG)
//   0x1000  ISR status            (VIRTIO_PCI_CAP_ISR_CFG)
//   0x2000  device configuration  (VIRTIO_PCI_CAP_DEVICE_CFG)
//   0x3000  notifications         (VIRTIO_PCI_CAP_NOTIFY_CFG): queue i's
//           doorbell at 0x3000 + 4 * i (notify_off_multiplier 4)
//   0x4000  MSI-X table, 0x5000 MSI-X PBA (emulated, never mapped)
//
// plus the VIRTIO_PCI_CAP_PCI_CFG window, through which firmware reaches the
// BAR from configuration space. Usage, by the machine:
//
//   auto dev = std::make_shared<VirtioPciTransport>(blk, memory, std::move(queue_events),
//                                                   msi_sink, intx_line);
//   dev->set_bar_observer(&mover);      // BarMoved(0, old, new): (re)attach `dev`
//   uint8_t slot = TRY(root_bus.Add(dev));  // as a BusDevice of kBarSize at
//                                           // the new address, and register
//   for (const auto& d : dev->doorbells())  // one KVM ioeventfd per queue at
//     ...                                   // bar + d.offset, 2 bytes.
//
// A doorbell write that still reaches the transport (ioeventfd not yet
// registered) signals the queue's eventfd itself.
//
// Threading: one mutex guards the configuration space, TransportCore and
// the register selectors; both the root bus (config accesses) and the BAR
// (vCPU MMIO) take it. Interrupt state has its own lock (pci_interrupt.h),
// so device threads never wait for this one. The BarObserver runs with this
// mutex and the root bus's config lock held: it may move bus registrations
// and ioeventfds, but must not access this function.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "devices/bus/bus_device.h"
#include "devices/pci/config_space.h"
#include "devices/pci/intx.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci_device.h"
#include "devices/virtio/device.h"
#include "devices/virtio/transport/pci_interrupt.h"
#include "devices/virtio/transport/transport_core.h"

namespace mini_vmm::virtio {

class VirtioPciTransport final : public pci::PciDevice, public devices::BusDevice {
 public:
  static constexpr uint16_t kVendorId = 0x1af4;          // Red Hat, Inc. (virtio)
  static constexpr uint16_t kModernDeviceBase = 0x1040;  // §4.1.2.1: 0x1040 + type
  static constexpr int kBar = 0;
  static constexpr uint64_t kBarSize = 0x8000;
  static constexpr uint64_t kCommonOffset = 0x0000;
  static constexpr uint64_t kIsrOffset = 0x1000;
  static constexpr uint64_t kDeviceOffset = 0x2000;
  static constexpr uint64_t kDeviceSize = 0x1000;
  static constexpr uint64_t kNotifyOffset = 0x3000;
  static constexpr uint32_t kNotifyMultiplier = 4;
  static constexpr uint64_t kMsixTableOffset = 0x4000;
  static constexpr uint64_t kMsixPbaOffset = 0x5000;
  // One MSI-X vector per queue plus one for configuration changes must fit
  // in the 4 KiB table region.
  static constexpr size_t kMaxQueues = 255;

  // Where the guest kicks one queue: BAR `bar` + `offset`, a 2-byte write
  // of the queue index (Linux's vp_notify).
  struct Doorbell {
    int bar;
    uint64_t offset;
    uint16_t queue;
  };

  // `msi` and `intx` must outlive the transport.
  VirtioPciTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                     std::vector<EventFd> queue_events, pci::MsiSink& msi, pci::IntxLine& intx);

  // PciDevice.
  std::string_view name() const override { return "virtio-pci"; }
  void ReadConfig(uint32_t offset, std::span<uint8_t> data) noexcept override;
  void WriteConfig(uint32_t offset, std::span<const uint8_t> data) noexcept override;
  // BusDevice: BAR 0, `access.offset` relative to the BAR.
  void Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override;

  void set_bar_observer(pci::BarObserver* observer);
  // What firmware does before the OS runs: programs BAR 0 at `address`
  // (aligned to kBarSize) and turns memory decoding on, so the guest finds
  // the BAR assigned and the observer is told it is mapped.
  void AssignBar(uint64_t address);
  std::vector<Doorbell> doorbells() const;
  // MSI-X vectors (one per queue, plus one for configuration changes): the
  // machine sets up an MSI route and an irqfd for each, indexed like the
  // MsiSink's calls.
  uint16_t num_msix_vectors() const { return msix_.num_vectors(); }
  const std::vector<EventFd>& queue_events() const { return core_.queue_events(); }

  // Stops the device for good (TransportCore::Shutdown): afterwards no
  // device thread calls the MSI sink or the INTx line.
  void Shutdown();

 private:
  void BarRead(uint64_t offset, std::span<uint8_t> data);            // Caller holds mutex_.
  void BarWrite(uint64_t offset, std::span<const uint8_t> data);     // Caller holds mutex_.
  void CommonRead(uint64_t offset, std::span<uint8_t> data);         // Caller holds mutex_.
  void CommonWrite(uint64_t offset, std::span<const uint8_t> data);  // Caller holds mutex_.
  uint32_t CommonRegister(uint64_t offset);                          // Caller holds mutex_.
  void SetCommonRegister(uint64_t offset, uint32_t value);           // Caller holds mutex_.
  void WriteStatus(uint8_t status);                                  // Caller holds mutex_.
  // The pci_cfg window (§4.1.4.9): the BAR access its cap.bar, cap.offset
  // and cap.length select, if valid.
  bool PciCfgTarget(uint64_t* offset, size_t* length) const;  // Caller holds mutex_.
  void AddCapabilities();

  std::mutex mutex_;
  pci::PciConfigSpace config_;          // Guarded by mutex_.
  pci::MsixVectors msix_;               // Own lock.
  VirtioPciInterrupt interrupt_;        // Own lock.
  TransportCore core_;                  // Guarded by mutex_.
  uint32_t device_feature_select_ = 0;  // Guarded by mutex_; guest-controlled.
  uint32_t driver_feature_select_ = 0;  // Guarded by mutex_; guest-controlled.
  uint8_t pci_cfg_cap_ = 0;             // Offset of the pci_cfg capability.
};

}  // namespace mini_vmm::virtio
