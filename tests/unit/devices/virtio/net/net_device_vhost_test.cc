// NetDevice with vhost backends (recording fakes, no /dev/vhost-net): each
// queue pair's rings go to its own vhost-net instance, no frame passes
// through mini-vmm, the control queue stays in userspace, and a reset
// takes the rings back.
#include <linux/virtio_config.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <thread>

#include "devices/virtio/net/net_device.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_tap.h"
#include "tests/support/fake_vhost_backend.h"
#include "tests/support/virtqueue_driver.h"
#include "tests/unit/devices/virtio/net/net_test_util.h"

namespace mini_vmm::virtio::net::testing {
namespace {

using ::mini_vmm::testing::FakeTap;
using ::mini_vmm::testing::FakeVhostBackend;
using ::mini_vmm::testing::VirtQueueDriver;

constexpr uint64_t Bit(unsigned f) { return uint64_t{1} << f; }
constexpr uint64_t kFeatures = Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_NET_F_MAC) |
                               Bit(VIRTIO_NET_F_MRG_RXBUF) | Bit(VIRTIO_NET_F_CTRL_VQ) |
                               Bit(VIRTIO_NET_F_MQ) | Bit(VIRTIO_NET_F_CSUM);
constexpr uint16_t kPairs = 2;
constexpr size_t kControlQueue = 2 * kPairs;

class VhostDeviceTest {
 protected:
  void MakeDevice(uint64_t vhost_features = FakeVhostBackend{}.offered_features) {
    auto tap = std::make_unique<FakeTap>(kPairs);
    tap_ = tap.get();
    std::vector<std::unique_ptr<vhost::VhostBackend>> backends;
    for (uint16_t p = 0; p < kPairs; ++p) {
      auto fake = std::make_unique<FakeVhostBackend>();
      fake->offered_features = vhost_features;
      vhost_.push_back(fake.get());
      backends.push_back(std::move(fake));
    }
    auto device = NetDevice::Create(std::move(tap), {.name = "net-test",
                                                     .mac = {0x52, 0, 0, 0, 0, 1},
                                                     .queue_pairs = kPairs,
                                                     .vhost = std::move(backends)});
    REQUIRE(device.ok());
    device_ = std::move(device).value();
    for (size_t i = 0; i < device_->queue_max_sizes().size(); ++i) {
      queues_.emplace_back(device_->queue_max_sizes()[i]);
      events_.push_back(std::move(EventFd::Create().value()));
      drivers_.emplace_back(mem_, Base(i), 16);
    }
  }

  void Activate(uint64_t features = kFeatures) {
    for (size_t i = 0; i < queues_.size(); ++i) {
      drivers_[i].Configure(queues_[i]);
      REQUIRE_FALSE(queues_[i].Activate(mem_, false, false).has_value());
    }
    ActivateContext context{mem_, queues_, events_, interrupt_, features, [] {}};
    auto activated = device_->Activate(context);
    INFO((activated.ok() ? "" : activated.error().ToString()));
    REQUIRE(activated.ok());
  }

  void ResetDevice() {
    device_->Reset();
    for (Queue& queue : queues_) queue.Reset();
  }

  GuestMemory mem_ = MakeQueueMemory(5);
  std::vector<Queue> queues_;
  std::vector<EventFd> events_;
  std::deque<VirtQueueDriver> drivers_;
  RecordingInterrupt interrupt_;
  FakeTap* tap_ = nullptr;
  std::vector<FakeVhostBackend*> vhost_;  // Owned by the device.
  std::shared_ptr<NetDevice> device_;     // Last: stopped before the rest goes.
};

TEST_CASE_METHOD(VhostDeviceTest, "With vhost, ring features the kernel lacks are not offered") {
  MakeDevice(FakeVhostBackend{}.offered_features & ~Bit(VIRTIO_RING_F_EVENT_IDX));
  CHECK(device_->uses_vhost());
  CHECK((device_->features() & Bit(VIRTIO_RING_F_EVENT_IDX)) == 0);
  // Offloads live in the tap's vnet header, the control queue in mini-vmm.
  CHECK((device_->features() & Bit(VIRTIO_NET_F_CSUM)) != 0);
  CHECK((device_->features() & Bit(VIRTIO_NET_F_MQ)) != 0);
}

TEST_CASE_METHOD(VhostDeviceTest, "Each queue pair's rings go to its own vhost-net instance") {
  MakeDevice();
  Activate();
  for (size_t p = 0; p < kPairs; ++p) {
    INFO("pair " << p);
    const FakeVhostBackend& fake = *vhost_[p];
    CHECK(fake.rings[vhost::kRxRing].kick == events_[2 * p].fd());
    CHECK(fake.rings[vhost::kTxRing].kick == events_[2 * p + 1].fd());
    CHECK(fake.rings[vhost::kRxRing].backend == tap_->fd(p));
    CHECK(fake.rings[vhost::kTxRing].backend == tap_->fd(p));
    CHECK(fake.table.size() == 5);  // Every RAM region of the guest.
    CHECK(fake.features == (Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_NET_F_MRG_RXBUF)));
  }
  CHECK(tap_->vnet_header_size() == 12);  // The guest's header: vhost passes it through.
  CHECK(device_->serving());
}

TEST_CASE_METHOD(VhostDeviceTest, "With vhost, mini-vmm moves no frame") {
  MakeDevice();
  Activate();
  drivers_[1].Chain().Readable(std::vector<uint8_t>(12 + 60, 0)).Publish();
  events_[1].Signal();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(tap_->Sent(0).has_value());
  CHECK(drivers_[1].used_idx() == 0);
}

TEST_CASE_METHOD(VhostDeviceTest,
                 "With vhost, the control queue is served and VQ_PAIRS_SET attaches tap queues") {
  MakeDevice();
  Activate();
  CHECK_FALSE(tap_->queue_enabled(1));
  const std::vector<uint8_t> request = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0};
  auto chain = drivers_[kControlQueue].Chain();
  chain.Readable(request).Writable(1);
  chain.Publish();
  events_[kControlQueue].Signal();
  std::optional<VirtQueueDriver::UsedElement> used;
  REQUIRE(Eventually([&] { return (used = drivers_[kControlQueue].NextUsed()).has_value(); }));
  CHECK(drivers_[kControlQueue].ReadBytes(chain.buffer(1), 1)[0] == VIRTIO_NET_OK);
  CHECK(tap_->queue_enabled(1));
  CHECK(device_->active_pairs() == 2);
  CHECK(Eventually([&] { return interrupt_.count(kControlQueue) == 1; }));
}

TEST_CASE_METHOD(VhostDeviceTest, "A call vhost signals reaches the driver on the right queue") {
  MakeDevice();
  Activate();
  const uint64_t one = 1;
  REQUIRE(::write(vhost_[1]->rings[vhost::kTxRing].call, &one, sizeof(one)) == sizeof(one));
  CHECK(Eventually([&] { return interrupt_.count(3) == 1; }));  // Pair 1's transmitq.
}

TEST_CASE_METHOD(VhostDeviceTest, "With an unmasked MSI-X vector vhost signals its irqfd") {
  MakeDevice();
  std::vector<EventFd> irqfds;
  for (uint16_t q = 0; q < 2 * kPairs; ++q) {
    irqfds.push_back(std::move(EventFd::Create().value()));
    interrupt_.direct[q] = irqfds.back().fd();
  }
  Activate();

  for (size_t p = 0; p < kPairs; ++p) {
    CHECK(vhost_[p]->rings[vhost::kRxRing].call == irqfds[2 * p].fd());
    CHECK(vhost_[p]->rings[vhost::kTxRing].call == irqfds[2 * p + 1].fd());
  }
  CHECK(interrupt_.listener);  // The transport tells the device of masks.
}

TEST_CASE_METHOD(VhostDeviceTest, "A masked vector sends vhost back to the relay until it is unmasked") {
  MakeDevice();
  auto irqfd = EventFd::Create().value();
  interrupt_.direct[3] = irqfd.fd();  // Pair 1's transmitq.
  Activate();
  const size_t calls_before = vhost_[1]->CallsStartingWith("SET_VRING_CALL").size();

  interrupt_.SetDirect(3, -1);  // The guest masks the vector.
  const int relay = vhost_[1]->rings[vhost::kTxRing].call;
  const uint64_t one = 1;
  REQUIRE(::write(relay, &one, sizeof(one)) == sizeof(one));
  const bool relayed = Eventually([&] { return interrupt_.count(3) == 1; });
  interrupt_.SetDirect(3, -1);          // Told again: no second ioctl.
  interrupt_.SetDirect(3, irqfd.fd());  // Unmasked.

  CHECK(relay != irqfd.fd());
  CHECK(relay >= 0);
  CHECK(relayed);
  CHECK(vhost_[1]->rings[vhost::kTxRing].call == irqfd.fd());
  CHECK(vhost_[1]->CallsStartingWith("SET_VRING_CALL").size() == calls_before + 2);
}

TEST_CASE_METHOD(VhostDeviceTest, "After a reset vector changes reach no vhost ring") {
  MakeDevice();
  auto irqfd = EventFd::Create().value();
  Activate();
  ResetDevice();
  const size_t calls_before = vhost_[0]->calls.size();

  interrupt_.SetDirect(0, irqfd.fd());

  CHECK_FALSE(interrupt_.listener);
  CHECK(vhost_[0]->calls.size() == calls_before);
}

TEST_CASE_METHOD(VhostDeviceTest, "Reset detaches the tap and reads every ring's base") {
  MakeDevice();
  Activate();
  ResetDevice();
  for (FakeVhostBackend* fake : vhost_) {
    CHECK(fake->CallsStartingWith("NET_SET_BACKEND").back() == "NET_SET_BACKEND 1 -1");
    CHECK(fake->CallsStartingWith("GET_VRING_BASE") ==
          std::vector<std::string>{"GET_VRING_BASE 0", "GET_VRING_BASE 1"});
    for (const auto& ring : fake->rings) CHECK(ring.backend == -1);
  }
  CHECK_FALSE(device_->serving());
}

TEST_CASE_METHOD(VhostDeviceTest, "A reset device comes back up on vhost") {
  MakeDevice();
  Activate();
  ResetDevice();
  Activate();  // The fakes refuse SET_VRING_* while a tap is still attached.
  CHECK(vhost_[0]->rings[vhost::kRxRing].backend == tap_->fd(0));
  CHECK(device_->serving());
}

TEST_CASE_METHOD(VhostDeviceTest, "A ring outside RAM fails activation and leaves vhost stopped") {
  MakeDevice();
  for (size_t i = 0; i < queues_.size(); ++i) {
    drivers_[i].Configure(queues_[i]);
    REQUIRE_FALSE(queues_[i].Activate(mem_, false, false).has_value());
  }
  // Moved after validation: vhost checks again, whatever the transport did.
  queues_[3].set_desc_table(GuestAddress(1ull << 40));
  ActivateContext context{mem_, queues_, events_, interrupt_, kFeatures, [] {}};
  auto activated = device_->Activate(context);
  REQUIRE_FALSE(activated.ok());
  CHECK(activated.error().ToString().find("a descriptor table outside guest RAM") !=
        std::string::npos);
  CHECK(vhost_[1]->CallsStartingWith("SET_VRING").empty());
  CHECK(vhost_[0]->rings[vhost::kRxRing].backend == -1);  // Pair 0 was undone.
  CHECK_FALSE(device_->serving());
}

}  // namespace
}  // namespace mini_vmm::virtio::net::testing
