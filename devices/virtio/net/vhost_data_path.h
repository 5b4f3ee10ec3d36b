// VhostDataPath: a NetDevice's queue pairs carried by the kernel's
// vhost-net (`--net ...,vhost=on`), one vhost-net instance per pair; the
// control queue stays in userspace (ControlWorker). mini-vmm sets vhost up
// at DRIVER_OK and takes the rings back at reset; it never touches a frame.
//
//   std::vector<std::unique_ptr<vhost::VhostBackend>> backends;   // one per pair
//   for (...) backends.push_back(TRY(vhost::VhostKernel::Open(vhost::kVhostNetPath)));
//   auto path = TRY(VhostDataPath::Create("virtio-net0", std::move(backends)));
//   offered = vhost::OfferableWithVhost(offered, path->vhost_features());
//   ... at DRIVER_OK: TRY(path->Start(context, tap, pairs, control));
//   ... at reset:     path->Stop();
//
// The tap keeps IFF_VNET_HDR with the guest's header size (NetDevice
// configures it the same way for both data paths; vhost/features.h says
// why). Interrupts: where the transport has an irqfd for a queue's
// unmasked MSI-X vector (VirtioInterrupt::DirectQueueEventFd), vhost
// signals it and KVM injects the interrupt with no mini-vmm thread on the
// way. Otherwise (virtio-mmio, INTx, a masked or unassigned vector) vhost
// signals an eventfd that a watcher thread relays to NotifyQueue, which
// sets the status bit or the masked vector's pending bit. The transport's
// direct listener switches a ring between the two as the guest masks,
// unmasks or moves vectors.
//
// The memory table: guest RAM is fixed once the VM runs, so each device
// keeps its own vhost::VhostMemoryTable filled from the ActivateContext's
// GuestMemory at the first Start. When regions can come and go (memory
// hotplug, VFIO BARs used for DMA), the machine should own one table
// registered on its MemoryMap and hand it to every vhost device.
//
// Threading: Start/Stop on the device's thread (the transport's caller).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/virtio/device.h"
#include "devices/virtio/net/control_worker.h"
#include "devices/virtio/net/net_counters.h"
#include "devices/virtio/net/net_worker.h"
#include "devices/virtio/net/tap.h"
#include "devices/virtio/vhost/memory_table.h"
#include "devices/virtio/vhost/net_pair.h"
#include "vmm/memory/memory_map.h"

namespace mini_vmm::virtio::net {

class VhostDataPath {
 public:
  // SET_OWNER and GET_FEATURES on each backend (one per queue pair).
  static Result<std::unique_ptr<VhostDataPath>> Create(
      std::string name, std::vector<std::unique_ptr<vhost::VhostBackend>> backends);
  ~VhostDataPath();
  VhostDataPath(const VhostDataPath&) = delete;
  VhostDataPath& operator=(const VhostDataPath&) = delete;

  // What every instance offers (they run on the same kernel; the
  // intersection, to be safe).
  uint64_t vhost_features() const { return vhost_features_; }
  size_t pair_count() const { return pairs_.size(); }
  bool running() const { return running_; }

  // Starts vhost on the first `pairs` pairs whose two queues the driver
  // made ready, and `control` (if given) on a thread of its own. On
  // failure nothing stays started.
  Result<void> Start(const ActivateContext& context, Tap& tap, uint16_t pairs,
                     std::optional<NetWorker::Control> control, NetCounters& counters);
  // Control thread first (it may still switch tap queues), then every
  // pair (detach, GET_VRING_BASE; vhost/net_pair.h). Idempotent.
  void Stop() noexcept;

 private:
  VhostDataPath(std::string name, std::unique_ptr<vhost::VhostMemoryTable> table)
      : name_(std::move(name)), table_(std::move(table)) {}
  Result<void> FillMemory(const GuestMemory& memory);
  // The transport's direct listener: queue `queue` is now raised by
  // signalling `fd` (-1: through the relay).
  void OnDirectQueueEventFd(uint16_t queue, int fd) noexcept;

  const std::string name_;
  // Declared before what uses them: destroyed after.
  std::unique_ptr<vhost::VhostMemoryTable> table_;
  MemoryMap ram_;  // Guest RAM as of the first Start; table_ listens.
  bool ram_filled_ = false;
  std::vector<std::unique_ptr<vhost::VhostNetPair>> pairs_;
  uint64_t vhost_features_ = 0;
  bool running_ = false;
  VirtioInterrupt* interrupt_ = nullptr;  // While running: whose listener we are.
  std::unique_ptr<ControlWorker> control_;
};

}  // namespace mini_vmm::virtio::net
