#include "devices/virtio/vhost/features.h"

#include <linux/virtio_config.h>

#include "devices/virtio/virtio_ring.h"  // Before <linux/vhost_types.h>, which includes it.
// <linux/virtio_net.h> names a struct member `class`; only a feature bit is
// needed from it (net/virtio_net_uapi.h does the same, a layer above).
#define class class_  // NOLINT: renames the uAPI field, nothing else.
#include <linux/virtio_net.h>
#undef class
#include <linux/vhost_types.h>

namespace mini_vmm::virtio::vhost {
namespace {

constexpr uint64_t Bit(unsigned feature) { return uint64_t{1} << feature; }

constexpr uint64_t BitRange(unsigned first, unsigned end) {
  uint64_t bits = 0;
  for (unsigned b = first; b < end; ++b) bits |= Bit(b);
  return bits;
}

}  // namespace

uint64_t RingFeatures() {
  // VIRTIO_TRANSPORT_F_START..END are the ring and transport bits (virtio
  // 1.2 §6), which include VERSION_1, EVENT_IDX and INDIRECT_DESC.
  return BitRange(VIRTIO_TRANSPORT_F_START, VIRTIO_TRANSPORT_F_END) | Bit(VIRTIO_NET_F_MRG_RXBUF);
}

uint64_t OfferableWithVhost(uint64_t device_features, uint64_t vhost_features) {
  return device_features & ~(RingFeatures() & ~vhost_features);
}

uint64_t VhostFeaturesToSet(uint64_t driver_features, uint64_t vhost_features) {
  return driver_features & vhost_features &
         ~(Bit(VHOST_F_LOG_ALL) | Bit(VHOST_NET_F_VIRTIO_NET_HDR));
}

}  // namespace mini_vmm::virtio::vhost
