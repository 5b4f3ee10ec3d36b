// MmioTransport: a virtio device behind the virtio-mmio register layout,
// version 2 (virtio 1.2 §4.2.2), as Linux's virtio_mmio driver finds it
// through the ACPI DSDT ("LNRO0005") or virtio_mmio.device= on the command
// line.
//
//   auto mmio = std::make_shared<MmioTransport>(blk, memory, std::move(queue_events), irq);
//   TRY(mmio_bus.Insert(mmio, base, MmioTransport::kWindowSize));
//   // The VM builder registers each queue's eventfd with KVM as an
//   // ioeventfd on base + VIRTIO_MMIO_QUEUE_NOTIFY, datamatch = queue
//   // index, so a doorbell never exits to userspace.
//
// The interrupt is edge-triggered (an irqfd): every used-buffer or
// configuration notification sets its InterruptStatus bit and fires one
// edge; the driver reads InterruptStatus, acknowledges what it saw, and then
// services every queue, so an edge that arrives while it is in its handler
// is never lost.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "devices/bus/bus_device.h"
#include "devices/bus/interrupt.h"
#include "devices/virtio/device.h"
#include "devices/virtio/transport/transport_core.h"

namespace mini_vmm::virtio {

// InterruptStatus plus the line: shared by the transport (vCPU threads) and
// the device (its I/O thread), hence atomic.
class MmioInterrupt final : public VirtioInterrupt {
 public:
  explicit MmioInterrupt(devices::EdgeInterrupt& line) : line_(line) {}
  void NotifyQueue(uint16_t queue) noexcept override;
  void NotifyConfigChange() noexcept override;
  uint32_t status() const { return status_.load(std::memory_order_acquire); }
  void Acknowledge(uint32_t bits) { status_.fetch_and(~bits, std::memory_order_acq_rel); }
  void Clear() { status_.store(0, std::memory_order_release); }

 private:
  devices::EdgeInterrupt& line_;
  std::atomic<uint32_t> status_{0};
};

class MmioTransport final : public devices::BusDevice {
 public:
  // 4 KiB per device, like Firecracker: registers up to 0x100, then the
  // device's configuration space.
  static constexpr uint64_t kWindowSize = 0x1000;
  static constexpr uint32_t kMagic = 0x74726976;  // "virt"
  static constexpr uint32_t kVersion = 2;
  static constexpr uint32_t kVendorId = 0x4d564d4d;  // "MMVM"

  // `line` must outlive the transport.
  MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                std::vector<EventFd> queue_events, devices::EdgeInterrupt& line);

  std::string_view name() const override { return "virtio-mmio"; }
  void Read(const devices::IoAccess& access, std::span<uint8_t> data) noexcept override;
  void Write(const devices::IoAccess& access, std::span<const uint8_t> data) noexcept override;

  // The queue eventfds, for registering ioeventfds with KVM.
  const std::vector<EventFd>& queue_events() const { return core_.queue_events(); }

  // Stops the device for good (TransportCore::Shutdown): after it returns,
  // nothing calls the interrupt line any more, so the line may be freed.
  void Shutdown();

 private:
  uint32_t ReadRegister(uint64_t offset);
  void WriteRegister(uint64_t offset, uint32_t value);

  std::mutex mutex_;
  MmioInterrupt interrupt_;
  TransportCore core_;                // Guarded by mutex_.
  uint32_t device_features_sel_ = 0;  // Guarded by mutex_.
  uint32_t driver_features_sel_ = 0;  // Guarded by mutex_.
};

}  // namespace mini_vmm::virtio
