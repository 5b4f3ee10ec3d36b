// VirtioPciInterrupt: how a virtio-pci device interrupts the driver
// (virtio 1.2 §4.1.5.3-§4.1.5.4). With MSI-X enabled, a used-buffer
// notification fires the queue's vector (queue_msix_vector) and a
// configuration change the config vector (msix_config); VIRTIO_MSI_NO_VECTOR
// sends nothing. With MSI-X disabled, the device sets a bit in the ISR
// status and asserts its INTx line, which stays asserted until the driver
// reads the ISR (that read returns and clears the bits).
//
// Threading: NotifyQueue/NotifyConfigChange come from device threads,
// everything else from vCPU threads under the transport's lock. One mutex
// here guards the ISR, the vector assignments and the line; it is taken
// after the transport's lock and before MsixVectors' (lock order:
// PciRootBus config lock -> transport -> this -> MsixVectors). A device
// thread takes only this one, so a vCPU that holds the transport lock while
// it waits for the device to stop (a reset) never deadlocks with it.
//
// Direct delivery (vhost): DirectQueueEventFd(queue) is the irqfd of the
// queue's vector while that vector is deliverable. The direct listener
// hears of every change (a queue's vector, a mask, MSI-X enable) with no
// lock of ours held, on the vCPU thread that made it, under the
// transport's lock.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "devices/pci/intx.h"
#include "devices/pci/msix.h"
#include "devices/virtio/device.h"

namespace mini_vmm::virtio {

class VirtioPciInterrupt final : public VirtioInterrupt {
 public:
  // `msix` and `intx` must outlive this object.
  VirtioPciInterrupt(size_t num_queues, pci::MsixVectors& msix, pci::IntxLine& intx);

  void NotifyQueue(uint16_t queue) noexcept override;
  void NotifyConfigChange() noexcept override;
  int DirectQueueEventFd(uint16_t queue) const noexcept override;
  void SetDirectListener(DirectListener listener) override;

  // The ISR status register: returns the bits and clears them, deasserting
  // INTx (§4.1.4.5).
  uint8_t ReadAndClearIsr();
  // Whether the INTx line is asserted now (for PCI_STATUS_INTERRUPT).
  bool line_asserted() const;
  // Whether the function may drive INTx: not while PCI_COMMAND_INTX_DISABLE
  // is set, nor while MSI-X is enabled (PCI 3.0 §6.8.2). The line is
  // deasserted meanwhile; the ISR keeps its bits.
  void SetIntxGated(bool gated);

  // msix_config and queue_msix_vector (§4.1.4.3): a vector past the MSI-X
  // table is refused and reads back as VIRTIO_MSI_NO_VECTOR.
  void SetConfigVector(uint16_t vector);
  uint16_t config_vector() const;
  void SetQueueVector(size_t queue, uint16_t vector);
  uint16_t queue_vector(size_t queue) const;

  // Device reset (status 0): ISR cleared, line deasserted, every vector
  // VIRTIO_MSI_NO_VECTOR. MSI-X itself is PCI state and stays as it is.
  void Reset();

 private:
  void Raise(uint8_t isr_bit, uint16_t vector) noexcept;  // Caller holds mutex_.
  void UpdateLine() noexcept;                             // Caller holds mutex_.
  uint16_t Checked(uint16_t vector) const;
  // Tells the direct listener the current fd of `queue`, or of every
  // queue (nullopt). Caller does not hold mutex_.
  void TellDirectListener(std::optional<size_t> queue);

  pci::MsixVectors& msix_;
  pci::IntxLine& intx_;
  mutable std::mutex mutex_;
  uint8_t isr_ = 0;                      // Guarded by mutex_.
  bool intx_gated_ = false;              // Guarded by mutex_.
  bool line_ = false;                    // Guarded by mutex_.
  uint16_t config_vector_;               // Guarded by mutex_; guest-controlled.
  std::vector<uint16_t> queue_vectors_;  // Guarded by mutex_; guest-controlled.
  DirectListener direct_listener_;       // Guarded by mutex_.
};

}  // namespace mini_vmm::virtio
