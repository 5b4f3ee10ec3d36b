// The host virtual addresses handed to vhost for one split ring
// (vhost_vring_addr.*_user_addr), from the guest-physical addresses the
// driver wrote, checked first.
//
// vhost's worker reads and writes these addresses from the kernel with the
// host process's rights: a ring that ran past the end of a guest RAM
// mapping would let the guest steer kernel writes into whatever the host
// mapped next to it. So each of the three parts must lie, whole, inside one
// region of guest RAM, at the alignment §2.7 requires, before vhost learns
// of it; anything else is refused and vhost is not touched.
//
//   VringGuestAddresses ring{.size = q.size(), .desc = q.desc_table(),
//                            .avail = q.avail_ring(), .used = q.used_ring()};
//   VringHostAddresses host = TRY(TranslateVring(memory, ring, event_idx));
//   TRY(backend.SetVringAddr(index, host));
#pragma once

#include <cstdint>
#include <optional>

#include "devices/virtio/vhost/vhost_backend.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::virtio::vhost {

struct VringGuestAddresses {
  uint16_t size = 0;   // guest-controlled
  GuestAddress desc;   // guest-controlled
  GuestAddress avail;  // guest-controlled
  GuestAddress used;   // guest-controlled
};

// Bytes of each part of a split ring of `size` entries (virtio 1.2 §2.7):
//   descriptor table  16 * size
//   available ring    flags, idx, ring[size], used_event  = 6 + 2 * size
//   used ring         flags, idx, ring[size] (8 each), avail_event = 6 + 8 * size
// The event fields exist only with VIRTIO_RING_F_EVENT_IDX, but are counted
// whenever `event_idx` is set, as the kernel does (vq_access_ok).
uint64_t DescTableBytes(uint16_t size);
uint64_t AvailRingBytes(uint16_t size, bool event_idx);
uint64_t UsedRingBytes(uint16_t size, bool event_idx);

// Why a ring was refused.
enum class VringFault {
  kSizeInvalid,      // 0, or not a power of two (§2.7)
  kDescMisaligned,   // not 16-byte aligned (§2.7, table 2.3)
  kAvailMisaligned,  // not 2-byte aligned
  kUsedMisaligned,   // not 4-byte aligned
  kDescOutsideRam,   // some byte of the part is not guest RAM, or the range wraps
  kAvailOutsideRam,
  kUsedOutsideRam,
};

const char* VringFaultName(VringFault fault);

// The first fault of `ring`, in the order of VringFault, or nullopt.
std::optional<VringFault> CheckVring(const GuestMemory& memory, const VringGuestAddresses& ring,
                                     bool event_idx);

// The host addresses of a ring CheckVring accepts; otherwise an error
// naming the fault and the guest address.
Result<VringHostAddresses> TranslateVring(const GuestMemory& memory,
                                          const VringGuestAddresses& ring, bool event_idx);

}  // namespace mini_vmm::virtio::vhost
