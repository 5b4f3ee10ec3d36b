// Feature negotiation with vhost-net: what the device may offer, and what
// vhost is told after the driver's FEATURES_OK.
#include "devices/virtio/vhost/features.h"

#include <catch2/catch.hpp>

#include "tests/support/fake_vhost_backend.h"

namespace mini_vmm::virtio::vhost {
namespace {

constexpr uint64_t Bit(unsigned feature) { return uint64_t{1} << feature; }

const uint64_t kVhost = testing::FakeVhostBackend{}.offered_features;

TEST_CASE("vhost gets the features the driver acked and vhost offers") {
  const uint64_t driver = Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX) |
                          Bit(VIRTIO_NET_F_MRG_RXBUF) | Bit(VIRTIO_NET_F_CSUM) |
                          Bit(VIRTIO_NET_F_MAC);
  CHECK(VhostFeaturesToSet(driver, kVhost) ==
        (Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX) | Bit(VIRTIO_NET_F_MRG_RXBUF)));
}

TEST_CASE("vhost features the driver did not ack are not set") {
  CHECK(VhostFeaturesToSet(Bit(VIRTIO_F_VERSION_1), kVhost) == Bit(VIRTIO_F_VERSION_1));
}

TEST_CASE("dirty logging and vhost's own net header are never requested") {
  // Even a (buggy) caller passing them as acked does not get them set.
  const uint64_t driver = Bit(VHOST_F_LOG_ALL) | Bit(VHOST_NET_F_VIRTIO_NET_HDR);
  CHECK(VhostFeaturesToSet(driver, kVhost) == 0);
}

TEST_CASE("ring features vhost lacks are not offered; tap and control features stay") {
  const uint64_t vhost_without_event_idx = kVhost & ~Bit(VIRTIO_RING_F_EVENT_IDX);
  const uint64_t device = Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX) |
                          Bit(VIRTIO_NET_F_CSUM) | Bit(VIRTIO_NET_F_GUEST_TSO4) |
                          Bit(VIRTIO_NET_F_CTRL_VQ) | Bit(VIRTIO_NET_F_MQ);
  CHECK(OfferableWithVhost(device, vhost_without_event_idx) ==
        (device & ~Bit(VIRTIO_RING_F_EVENT_IDX)));
  CHECK(OfferableWithVhost(device, kVhost) == device);
}

TEST_CASE("mergeable rx buffers are a ring feature vhost must implement") {
  CHECK((RingFeatures() & Bit(VIRTIO_NET_F_MRG_RXBUF)) != 0);
  CHECK((RingFeatures() & Bit(VIRTIO_NET_F_CSUM)) == 0);
  CHECK(OfferableWithVhost(Bit(VIRTIO_NET_F_MRG_RXBUF), 0) == 0);
}

}  // namespace
}  // namespace mini_vmm::virtio::vhost
