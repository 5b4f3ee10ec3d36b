// VhostBackend: the vhost uAPI (<linux/vhost.h>) of one vhost device
// instance, one call per ioctl, so the set-up and tear-down sequences above
// it can be tested against a recording fake (tests/support/fake_vhost_backend.h)
// and run unchanged on the kernel (VhostKernel, vhost_kernel.h).
//
// Rings are numbered as vhost numbers them: for vhost-net, 0 = receiveq and
// 1 = transmitq of the one queue pair the instance carries.
//
// What the kernel enforces, and callers must respect (drivers/vhost/vhost.c):
//   - SET_OWNER first, once per open file; every other call fails before it.
//   - SET_VRING_NUM, SET_VRING_BASE and SET_VRING_ADDR fail with EBUSY while
//     a backend is attached (NET_SET_BACKEND with a tap fd): detach (fd -1)
//     before reconfiguring a ring.
//   - Ring addresses are host virtual addresses in this process; the kernel
//     reads and writes them with copy_{from,to}_user on its worker thread,
//     so they must stay mapped while attached (vring.h checks they lie in
//     guest RAM).
#pragma once

#include <cstdint>
#include <span>

#include "vmm/base/result.h"

namespace mini_vmm::virtio::vhost {

// One VHOST_SET_MEM_TABLE entry: guest-physical range → host virtual.
struct VhostMemoryRegion {
  uint64_t guest_phys_addr = 0;
  uint64_t size = 0;
  uint64_t userspace_addr = 0;

  uint64_t guest_end() const { return guest_phys_addr + size; }
  bool operator==(const VhostMemoryRegion&) const = default;
};

// Host virtual addresses of one split ring's three parts
// (vhost_vring_addr.desc/avail/used_user_addr).
struct VringHostAddresses {
  uint64_t desc = 0;
  uint64_t avail = 0;
  uint64_t used = 0;

  bool operator==(const VringHostAddresses&) const = default;
};

// Passed as an fd to detach (VHOST_FILE_UNBIND).
inline constexpr int kDetach = -1;

class VhostBackend {
 public:
  virtual ~VhostBackend() = default;

  virtual Result<void> SetOwner() = 0;
  virtual Result<uint64_t> GetFeatures() = 0;
  virtual Result<void> SetFeatures(uint64_t features) = 0;
  virtual Result<void> SetMemTable(std::span<const VhostMemoryRegion> regions) = 0;

  virtual Result<void> SetVringNum(uint32_t ring, uint32_t size) = 0;
  virtual Result<void> SetVringAddr(uint32_t ring, const VringHostAddresses& addresses) = 0;
  // The avail index the kernel starts consuming at.
  virtual Result<void> SetVringBase(uint32_t ring, uint16_t next_avail) = 0;
  // Where the kernel stopped consuming; reading it also waits for the
  // kernel's worker to finish with the ring (vhost_net flushes after every
  // ring ioctl).
  virtual Result<uint16_t> GetVringBase(uint32_t ring) = 0;
  // Eventfds (or kDetach): the driver's kicks, the interrupt to the driver,
  // and ring errors the kernel hit (bad descriptors, unmapped addresses).
  virtual Result<void> SetVringKick(uint32_t ring, int fd) = 0;
  virtual Result<void> SetVringCall(uint32_t ring, int fd) = 0;
  virtual Result<void> SetVringErr(uint32_t ring, int fd) = 0;

  // vhost-net only: the tap queue the ring moves frames to/from, or kDetach.
  virtual Result<void> NetSetBackend(uint32_t ring, int fd) = 0;
};

}  // namespace mini_vmm::virtio::vhost
