// Sizes shared by the transmit and receive paths.
#pragma once

#include <linux/virtio_config.h>

#include <cstddef>
#include <cstdint>

#include "devices/virtio/net/virtio_net_uapi.h"

namespace mini_vmm::virtio::net {

// The largest frame the guest may send: the largest IPv6 packet short of a
// jumbogram (40-byte header + 65535 payload; more than any IPv4 one), with
// an Ethernet and a VLAN header. TSO/GSO frames stay within it.
inline constexpr size_t kMaxFrameBytes = 40 + 65535 + 14 + 4;
// What a tap read may return, header excluded: twice the above, so a frame
// never fills the buffer (a full buffer would mean the kernel truncated
// one; see RxPath).
inline constexpr size_t kRxBufferBytes = 2 * kMaxFrameBytes;
// The header in front of every frame: virtio_net_hdr_mrg_rxbuf (12 bytes)
// with VERSION_1 or MRG_RXBUF (§5.1.6: num_buffers is always there in
// virtio 1.x), the legacy virtio_net_hdr (10) otherwise.
inline constexpr size_t kHeaderBytes = sizeof(virtio_net_hdr_mrg_rxbuf);
inline constexpr size_t kLegacyHeaderBytes = sizeof(virtio_net_hdr);
// Where num_buffers sits in the 12-byte header.
inline constexpr size_t kNumBuffersOffset = offsetof(virtio_net_hdr_mrg_rxbuf, num_buffers);

inline size_t HeaderBytes(uint64_t driver_features) {
  const uint64_t wide =
      (uint64_t{1} << VIRTIO_F_VERSION_1) | (uint64_t{1} << VIRTIO_NET_F_MRG_RXBUF);
  return (driver_features & wide) != 0 ? kHeaderBytes : kLegacyHeaderBytes;
}

}  // namespace mini_vmm::virtio::net
