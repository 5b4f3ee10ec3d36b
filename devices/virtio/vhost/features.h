// Which virtio features vhost-net carries, and which stay with the tap or
// with mini-vmm.
//
// vhost-net implements the ring: the transport features (bits 28..40:
// VERSION_1, EVENT_IDX, INDIRECT_DESC, ...) and MRG_RXBUF, which changes how
// it fills rx buffers. It reports them in VHOST_GET_FEATURES, and a device
// must not offer the driver any of them that vhost lacks
// (OfferableWithVhost). Every other net feature is not vhost's business:
//   - CSUM, GUEST_CSUM, HOST_/GUEST_TSO4/6 travel in the virtio_net_hdr
//     that the *tap* reads and writes (IFF_VNET_HDR), enabled for received
//     frames with TUNSETOFFLOAD;
//   - MAC, STATUS, CTRL_VQ, MQ are device configuration and the control
//     queue, which mini-vmm serves in userspace.
// After the driver's FEATURES_OK, vhost gets driver ∩ vhost (VhostFeaturesToSet).
//
// The vnet header: vhost-net can add and strip it itself
// (VHOST_NET_F_VIRTIO_NET_HDR) for a tap without IFF_VNET_HDR; mini-vmm
// never asks for that. The tap keeps IFF_VNET_HDR, and its header size
// (TUNSETVNETHDRSZ) must equal the guest's: 12 bytes
// (virtio_net_hdr_mrg_rxbuf) when VERSION_1 or MRG_RXBUF is negotiated, 10
// otherwise. vhost then passes headers through untouched, so a size
// mismatch would shift every frame. Offloads need the header at all, so
// TUNSETVNETHDRSZ is what makes CSUM/TSO and MRG_RXBUF work with vhost.
//
// Never requested: VHOST_F_LOG_ALL (dirty-page logging, for live migration,
// which mini-vmm does not do; it would make vhost write a log we never set
// up) and VHOST_NET_F_VIRTIO_NET_HDR (above). The latter is bit 27, which
// is also VIRTIO_F_ANY_LAYOUT: a legacy-only feature that VERSION_1 implies
// and that mini-vmm's devices never offer, so masking it loses nothing.
#pragma once

#include <cstdint>

namespace mini_vmm::virtio::vhost {

// The features that change how the ring is read and written: vhost must
// implement each one the driver may negotiate.
uint64_t RingFeatures();

// `device_features` without the ring features vhost does not offer.
uint64_t OfferableWithVhost(uint64_t device_features, uint64_t vhost_features);

// What VHOST_SET_FEATURES gets: driver ∩ vhost, never LOG_ALL or
// VIRTIO_NET_HDR.
uint64_t VhostFeaturesToSet(uint64_t driver_features, uint64_t vhost_features);

}  // namespace mini_vmm::virtio::vhost
