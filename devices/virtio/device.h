// VirtioDevice: what a device implements; transports (virtio-mmio, later
// virtio-pci) know nothing else about it.
//
// Lifecycle, driven by the transport from the driver's status writes:
//   construction → [driver negotiates features, sets up queues]
//   → Activate(context) at DRIVER_OK: the device starts serving its queues
//     (usually on its own I/O thread)
//   → Reset(): the device stops, synchronously, and forgets the session.
// Queues belong to the transport; the device uses them only between
// Activate() and Reset().
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "devices/virtio/queue.h"
#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::virtio {

// How a device tells the driver something happened. Thread-safe.
class VirtioInterrupt {
 public:
  virtual ~VirtioInterrupt() = default;
  // Used buffers were added to `queue` (and the driver wants to know).
  virtual void NotifyQueue(uint16_t queue) noexcept = 0;
  virtual void NotifyConfigChange() noexcept = 0;

  // For data paths outside mini-vmm (vhost): an eventfd whose signal
  // raises `queue`'s interrupt with no mini-vmm thread involved (the KVM
  // irqfd of an unmasked MSI-X vector), or -1 when the interrupt must go
  // through NotifyQueue (a masked or unassigned vector, INTx, virtio-mmio).
  virtual int DirectQueueEventFd(uint16_t /*queue*/) const noexcept { return -1; }
  // `listener(queue, fd)` is called with DirectQueueEventFd(queue)'s new
  // value whenever it may have changed (repeats are possible), on the vCPU
  // thread whose write changed it, under the transport's lock: serialised
  // with Activate and Reset. An empty listener removes it.
  using DirectListener = std::function<void(uint16_t queue, int fd)>;
  virtual void SetDirectListener(DirectListener /*listener*/) {}
};

struct ActivateContext {
  const GuestMemory& memory;
  // Every queue of the device, in index order. Only those the driver made
  // ready are active(), i.e. validated (size, alignment, inside RAM); the
  // others are in their reset state and the device must not serve them.
  std::span<Queue> queues;
  // Signalled (by KVM's ioeventfd, or by the transport) when the driver
  // kicks the queue of the same index.
  std::span<const EventFd> queue_events;
  VirtioInterrupt& interrupt;
  uint64_t driver_features;
  // Puts the device in DEVICE_NEEDS_RESET (§2.1.2) and tells the driver.
  // Callable from any thread; the device should stop using its queues.
  std::function<void()> needs_reset;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  virtual std::string_view name() const = 0;
  virtual uint32_t device_type() const = 0;  // VIRTIO_ID_*
  // Feature bits offered to the driver (include VIRTIO_F_VERSION_1).
  virtual uint64_t features() const = 0;
  // One entry per queue: its maximum size.
  virtual std::span<const uint16_t> queue_max_sizes() const = 0;

  // Device configuration space (§4.2.2: offset 0x100 on virtio-mmio). Reads
  // past the end return zeros; writes to read-only fields are ignored.
  virtual void ReadConfig(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void WriteConfig(uint64_t offset, std::span<const uint8_t> data) = 0;

  // Starts serving the queues. An error is a host failure (e.g. no thread):
  // the transport reports it and puts the device in DEVICE_NEEDS_RESET.
  virtual Result<void> Activate(const ActivateContext& context) = 0;
  // Stops serving and returns to the post-construction state. Blocks until
  // no device thread touches the queues or guest memory any more.
  virtual void Reset() = 0;
};

}  // namespace mini_vmm::virtio
