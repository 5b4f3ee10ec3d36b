// Tap: the host side of a virtio-net device, one queue per queue pair.
// Frames cross it with a virtio_net_hdr in front (IFF_VNET_HDR), so
// checksum and segmentation offloads pass between guest and host kernel
// untouched. HostTap (host_tap.h) is a real tap; tests use a fake
// (tests/support/fake_tap.h).
//
// Threading: queue `q`'s Read, Write and SetQueueEnabled are called by the
// I/O thread serving queue pair `q` only; SetVnetHeaderSize and SetOffload
// while no I/O thread runs (device activation). Implementations need no
// locking beyond that.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "vmm/base/result.h"

namespace mini_vmm::virtio::net {

class Tap {
 public:
  virtual ~Tap() = default;

  virtual size_t queue_count() const = 0;
  // Queue `queue`'s descriptor: readable (level-triggered) while a frame waits.
  virtual int fd(size_t queue) const = 0;

  // Reads one frame, vnet header first, into `frame`; 0 when none waits.
  // A frame longer than `frame` is truncated by the kernel: callers size
  // the buffer for the largest frame the offloads allow.
  virtual Result<size_t> Read(size_t queue, std::span<uint8_t> frame) = 0;
  // Writes one frame, vnet header first, gathered from `frame`.
  virtual Result<void> Write(size_t queue, std::span<const iovec> frame) = 0;

  // The vnet header length the tap reads and writes (TUNSETVNETHDRSZ).
  virtual Result<void> SetVnetHeaderSize(int bytes) = 0;
  // TUN_F_* offloads the guest accepts in received frames (TUNSETOFFLOAD).
  virtual Result<void> SetOffload(unsigned tun_offloads) = 0;
  // Whether the kernel steers received frames to `queue` (TUNSETQUEUE
  // attach/detach; a multiqueue tap only). A detached queue must not be
  // read.
  virtual Result<void> SetQueueEnabled(size_t queue, bool enabled) = 0;
};

}  // namespace mini_vmm::virtio::net
