// VhostNetPair: one queue pair of a virtio-net device carried by one
// vhost-net instance (one open /dev/vhost-net, one kernel worker thread).
// mini-vmm only configures it and takes the ring state back on stop; it
// never touches a frame.
//
//   auto pair = TRY(VhostNetPair::Create("virtio-net0q0",
//                                        TRY(VhostKernel::Open(kVhostNetPath)), table));
//   offered = OfferableWithVhost(offered, pair->vhost_features());
//   ... driver negotiates, DRIVER_OK ...
//   TRY(pair->Start({.memory = mem, .rx = {...}, .tx = {...}, .tap_fd = tap.fd(0),
//                    .driver_features = acked, .interrupt = interrupt}));
//   ... device reset ...
//   pair->Stop();   // the kernel is done with the rings when this returns
//
// Start, in the kernel's required order (drivers/vhost/vhost.c, net.c):
//   1. both rings checked and translated (vring.h); nothing is sent to
//      the kernel if either is refused;
//   2. VHOST_SET_FEATURES (driver ∩ vhost);
//   3. per ring: SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR,
//      SET_VRING_KICK (the queue's ioeventfd: guest kicks wake the vhost
//      worker without passing through mini-vmm), SET_VRING_CALL (the
//      queue's irqfd, or an eventfd the watcher relays), SET_VRING_ERR;
//   4. the watcher thread starts;
//   5. VHOST_NET_SET_BACKEND per ring: from here the kernel moves frames.
// SET_OWNER and the memory table (VhostMemoryTable::Attach) happen once,
// in Create.
//
// Stop, the reverse: NET_SET_BACKEND -1 per ring first (the kernel flushes
// its worker, so no frame is half-moved afterwards, and rings become
// reconfigurable: SET_VRING_* fail with EBUSY while a backend is attached);
// GET_VRING_BASE per ring (where the kernel stopped; also a flush);
// unbind kick, call and err; stop the watcher; close our eventfds. The
// ring memory is guest RAM and stays mapped throughout. A Start after
// Stop sets everything again, from the bases the caller passes (0 after
// a virtio reset).
//
// Threading: Start/Stop/destruction from one thread (the transport's, via
// the device), serialised by the caller.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "devices/virtio/device.h"
#include "devices/virtio/vhost/memory_table.h"
#include "devices/virtio/vhost/ring_errors.h"
#include "devices/virtio/vhost/vhost_backend.h"
#include "devices/virtio/vhost/watcher.h"
#include "vmm/base/event_fd.h"

namespace mini_vmm::virtio::vhost {

// vhost-net's ring numbers within one instance.
inline constexpr uint32_t kRxRing = 0;
inline constexpr uint32_t kTxRing = 1;

struct VringConfig {
  uint16_t queue_index = 0;      // The virtio queue number (NotifyQueue, logs).
  const Queue* queue = nullptr;  // Active: size and addresses as the driver wrote them.
  int kick_fd = -1;              // The queue's ioeventfd.
  // The irqfd of the queue's MSI-X vector, to let vhost interrupt the guest
  // directly; -1 to relay through VirtioInterrupt::NotifyQueue.
  int direct_call_fd = -1;
};

struct PairConfig {
  const GuestMemory& memory;
  VringConfig rx;
  VringConfig tx;
  int tap_fd;  // The tap queue for this pair; IFF_VNET_HDR, header size set (features.h).
  uint64_t driver_features;
  VirtioInterrupt& interrupt;
};

class VhostNetPair {
 public:
  // SET_OWNER, GET_FEATURES, and the memory table attached.
  static Result<std::unique_ptr<VhostNetPair>> Create(std::string name,
                                                      std::unique_ptr<VhostBackend> backend,
                                                      VhostMemoryTable& table);
  ~VhostNetPair();
  VhostNetPair(const VhostNetPair&) = delete;
  VhostNetPair& operator=(const VhostNetPair&) = delete;

  // VHOST_GET_FEATURES, as read in Create.
  uint64_t vhost_features() const { return vhost_features_; }

  // See above. On failure nothing stays attached (Stop has run).
  Result<void> Start(const PairConfig& config);
  // See above. Idempotent; never fails (failures are logged).
  void Stop() noexcept;

  // While running: let vhost signal `irqfd` (the ring's MSI-X vector)
  // directly, or go back to the relay with -1. A transport with irqfds
  // calls this when the guest masks (-1: the relay's NotifyQueue then sets
  // the pending bit) or unmasks (the irqfd) the ring's vector, or moves
  // the ring to another vector; KVM cannot honour an MSI-X mask on an
  // irqfd by itself. Serialised with Start/Stop by the caller.
  Result<void> UseDirectCall(uint32_t ring, int irqfd);
  bool running() const { return running_; }

  // The avail indices the kernel stopped at (GET_VRING_BASE), per ring, as
  // of the last Stop; nullopt before the first, or if it could not be read.
  std::optional<uint16_t> stopped_base(uint32_t ring) const { return stopped_base_.at(ring); }

  const RingErrorLog& ring_errors() const { return errors_; }

 private:
  VhostNetPair(std::string name, std::unique_ptr<VhostBackend> backend, VhostMemoryTable& table,
               uint64_t vhost_features)
      : name_(std::move(name)),
        backend_(std::move(backend)),
        table_(table),
        vhost_features_(vhost_features),
        errors_(name_) {}

  // Per-session eventfds of one ring: the error eventfd, and the call
  // eventfd the watcher relays (vhost's call eventfd unless it signals an
  // irqfd directly).
  struct RingFds {
    std::optional<EventFd> call;
    std::optional<EventFd> err;
  };

  Result<void> SetUpAndAttach(const PairConfig& config, const VringHostAddresses& rx,
                              const VringHostAddresses& tx);
  Result<void> SetUpRing(uint32_t ring, const VringConfig& config,
                         const VringHostAddresses& addresses);
  void TearDownRings() noexcept;

  const std::string name_;
  std::unique_ptr<VhostBackend> backend_;
  VhostMemoryTable& table_;
  const uint64_t vhost_features_;
  RingErrorLog errors_;
  bool running_ = false;
  std::array<RingFds, 2> fds_;
  std::array<int, 2> direct_call_{-1, -1};  // What vhost signals: an irqfd, or -1 (the relay).
  std::array<std::optional<uint16_t>, 2> stopped_base_;
  // Declared last: stopped (joined) before the eventfds it watches close.
  std::unique_ptr<VhostWatcher> watcher_;
};

}  // namespace mini_vmm::virtio::vhost
