// NetDevice end to end on its I/O threads: a FakeTap behind it, real
// Queues in front fed by VirtQueueDrivers, the kick eventfds in the test's
// hands -- everything the transport would provide, without KVM.
#include "devices/virtio/net/net_device.h"

#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <sched.h>

#include <catch2/catch.hpp>
#include <deque>
#include <memory>

#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_tap.h"
#include "tests/support/thread_lookup.h"
#include "tests/support/virtqueue_driver.h"
#include "tests/unit/devices/virtio/net/net_test_util.h"

namespace mini_vmm::virtio::net::testing {
namespace {

using ::mini_vmm::testing::FakeTap;
using ::mini_vmm::testing::VirtQueueDriver;

constexpr uint64_t Bit(unsigned f) { return uint64_t{1} << f; }
constexpr uint64_t kFeatures = Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_NET_F_MAC) |
                               Bit(VIRTIO_NET_F_MRG_RXBUF) | Bit(VIRTIO_NET_F_CTRL_VQ);
constexpr MacAddress kMac{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};

class DeviceTest {
 protected:
  void MakeDevice(uint16_t pairs = 1) {
    auto tap = std::make_unique<FakeTap>(pairs);
    tap_ = tap.get();
    auto device = NetDevice::Create(
        std::move(tap), {.name = "net-test", .mac = kMac, .queue_pairs = pairs, .vhost = {}});
    REQUIRE(device.ok());
    device_ = std::move(device).value();
    const size_t n = device_->queue_max_sizes().size();
    queues_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      queues_.emplace_back(device_->queue_max_sizes()[i]);
      events_.push_back(std::move(EventFd::Create().value()));
    }
    NewDrivers();
  }

  // Fresh rings, as a driver sets up after a reset.
  void NewDrivers() {
    drivers_.clear();
    for (size_t i = 0; i < queues_.size(); ++i) drivers_.emplace_back(mem_, Base(i), 16);
  }

  // What the transport does at DRIVER_OK.
  void Activate(uint64_t features = kFeatures) {
    for (size_t i = 0; i < queues_.size(); ++i) {
      drivers_[i].Configure(queues_[i]);
      REQUIRE_FALSE(queues_[i]
                        .Activate(mem_, (features & Bit(VIRTIO_RING_F_EVENT_IDX)) != 0, true)
                        .has_value());
    }
    ActivateContext context{mem_,       queues_,  events_,
                            interrupt_, features, [this] { needs_reset_.fetch_add(1); }};
    REQUIRE(device_->Activate(context).ok());
  }

  // What the transport does at a reset.
  void ResetDevice() {
    device_->Reset();
    for (Queue& queue : queues_) queue.Reset();
    for (EventFd& event : events_) event.Consume();
  }

  VirtQueueDriver& driver(size_t queue) { return drivers_[queue]; }
  void Kick(size_t queue) { events_[queue].Signal(); }
  VirtQueueDriver::UsedElement WaitUsed(size_t queue) {
    std::optional<VirtQueueDriver::UsedElement> used;
    REQUIRE(Eventually([&] { return (used = driver(queue).NextUsed()).has_value(); }));
    return *used;
  }
  std::vector<uint8_t> WaitSent(size_t tap_queue = 0) {
    std::optional<std::vector<uint8_t>> sent;
    REQUIRE(Eventually([&] { return (sent = tap_->Sent(tap_queue)).has_value(); }));
    return *sent;
  }

  GuestMemory mem_ = MakeQueueMemory(5);  // Up to two pairs and the control queue.
  std::vector<Queue> queues_;
  std::vector<EventFd> events_;
  std::deque<VirtQueueDriver> drivers_;
  RecordingInterrupt interrupt_;
  std::atomic<int> needs_reset_{0};
  FakeTap* tap_ = nullptr;
  std::shared_ptr<NetDevice> device_;  // Last: stopped before the rest goes.
};

TEST_CASE_METHOD(DeviceTest, "One queue pair: two data queues, a control queue, no MQ") {
  MakeDevice(1);
  CHECK(device_->device_type() == VIRTIO_ID_NET);
  CHECK(device_->queue_max_sizes().size() == 3);
  const uint64_t features = device_->features();
  for (int f : {VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MRG_RXBUF,
                VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4,
                VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
                VIRTIO_NET_F_CTRL_VQ, VIRTIO_RING_F_EVENT_IDX}) {
    INFO("feature bit " << f);
    CHECK((features & Bit(static_cast<unsigned>(f))) != 0);
  }
  CHECK((features & Bit(VIRTIO_NET_F_MQ)) == 0);
}

TEST_CASE_METHOD(DeviceTest, "Two queue pairs offer MQ and five queues") {
  MakeDevice(2);
  CHECK(device_->queue_max_sizes().size() == 5);
  CHECK((device_->features() & Bit(VIRTIO_NET_F_MQ)) != 0);
  CHECK_FALSE(tap_->queue_enabled(1));  // Until the driver asks for it.
}

TEST_CASE_METHOD(DeviceTest, "The configuration space holds mac, link up and max pairs") {
  MakeDevice(2);
  std::vector<uint8_t> config(12, 0xff);
  device_->ReadConfig(0, config);
  CHECK(Slice(config, 0, 6) == std::vector<uint8_t>(kMac.begin(), kMac.end()));
  CHECK(config[6] == VIRTIO_NET_S_LINK_UP);
  CHECK(config[7] == 0);
  CHECK(config[8] == 2);  // max_virtqueue_pairs, le16
  CHECK(config[9] == 0);
  CHECK(config[10] == 0);  // mtu: not offered, reads 0
}

TEST_CASE_METHOD(DeviceTest, "Configuration writes are ignored") {
  MakeDevice();
  const std::vector<uint8_t> junk(6, 0x11);
  device_->WriteConfig(0, junk);
  std::vector<uint8_t> mac(6);
  device_->ReadConfig(0, mac);
  CHECK(mac == std::vector<uint8_t>(kMac.begin(), kMac.end()));
}

TEST_CASE_METHOD(DeviceTest, "Activation sets the tap's header size and the guest's offloads") {
  MakeDevice();
  Activate(kFeatures | Bit(VIRTIO_NET_F_GUEST_CSUM) | Bit(VIRTIO_NET_F_GUEST_TSO4));
  CHECK(tap_->vnet_header_size() == 12);
  CHECK(tap_->offload() == (TUN_F_CSUM | TUN_F_TSO4));
}

TEST_CASE_METHOD(DeviceTest, "GUEST_TSO without GUEST_CSUM turns no offload on") {
  MakeDevice();
  Activate(kFeatures | Bit(VIRTIO_NET_F_GUEST_TSO6));
  CHECK(tap_->offload() == 0);
}

TEST_CASE_METHOD(DeviceTest, "A transmitted frame reaches the tap from the I/O thread") {
  MakeDevice();
  Activate();
  const std::vector<uint8_t> frame = Frame(64);
  driver(1).Chain().Readable(Slice(frame, 0, 7)).Readable(Slice(frame, 7, 69)).Publish();
  Kick(1);

  CHECK(WaitSent() == frame);
  CHECK(WaitUsed(1).len == 0);
  CHECK(Eventually([&] { return interrupt_.count(1) == 1; }));
}

TEST_CASE_METHOD(DeviceTest, "The queue pair's I/O thread runs SCHED_BATCH") {
  MakeDevice();
  Activate();
  driver(1).Chain().Readable(Frame(64)).Publish();
  Kick(1);
  WaitUsed(1);  // Sent: the thread is past its start-up.

  CHECK(mini_vmm::testing::PolicyOfThreadNamed("net-testq0") == SCHED_BATCH);
}

TEST_CASE_METHOD(DeviceTest, "A frame waiting on the tap before activation is delivered") {
  MakeDevice();
  REQUIRE(tap_->Inject(Frame(40)));
  driver(0).Chain().Writable(1600).Publish();
  Activate();

  CHECK(WaitUsed(0).len == kHeaderBytes + 40);
}

TEST_CASE_METHOD(DeviceTest, "Rx without buffers stops polling the tap until the rx kick") {
  MakeDevice();
  Activate();
  REQUIRE(tap_->Inject(Frame(40, 1)));
  REQUIRE(Eventually([&] { return device_->counters().rx_stalls.load() == 1; }));

  // A second frame makes the tap readable again; a thread still polling it
  // would try (and stall) again.
  REQUIRE(tap_->Inject(Frame(40, 2)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(device_->counters().rx_stalls.load() == 1);
  CHECK_FALSE(driver(0).NextUsed().has_value());

  auto first = driver(0).Chain();
  first.Writable(1600).Publish();
  auto second = driver(0).Chain();
  second.Writable(1600).Publish();
  Kick(0);

  const auto a = WaitUsed(0);
  const auto b = WaitUsed(0);
  CHECK(Slice(driver(0).ReadBytes(first.buffer(0), a.len), kHeaderBytes, 40) ==
        Slice(Frame(40, 1), kHeaderBytes, 40));
  CHECK(Slice(driver(0).ReadBytes(second.buffer(0), b.len), kHeaderBytes, 40) ==
        Slice(Frame(40, 2), kHeaderBytes, 40));
}

TEST_CASE_METHOD(DeviceTest, "VQ_PAIRS_SET attaches the second tap queue and rx flows on it") {
  MakeDevice(2);
  Activate(kFeatures | Bit(VIRTIO_NET_F_MQ));
  CHECK_FALSE(tap_->queue_enabled(1));

  auto request = driver(4).Chain();
  const std::vector<uint8_t> set_pairs{VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0};
  request.Readable(set_pairs).Writable(1).Publish();
  Kick(4);

  CHECK(WaitUsed(4).len == 1);
  CHECK(driver(4).ReadBytes(request.buffer(1), 1)[0] == VIRTIO_NET_OK);
  CHECK(Eventually([&] { return tap_->queue_enabled(1); }));
  CHECK(device_->active_pairs() == 2);

  driver(2).Chain().Writable(1600).Publish();
  REQUIRE(tap_->Inject(Frame(30), 1));
  Kick(2);
  CHECK(WaitUsed(2).len == kHeaderBytes + 30);
}

TEST_CASE_METHOD(DeviceTest, "Without MQ the control queue follows the first pair") {
  MakeDevice(2);
  Activate(kFeatures);  // No MQ: queue 2 is the control queue (§5.1.2).

  auto request = driver(2).Chain();
  const std::vector<uint8_t> promisc{VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1};
  request.Readable(promisc).Writable(1).Publish();
  Kick(2);

  CHECK(WaitUsed(2).len == 1);
  CHECK(driver(2).ReadBytes(request.buffer(1), 1)[0] == VIRTIO_NET_OK);
}

TEST_CASE_METHOD(DeviceTest, "Reset stops the I/O threads and the device comes back") {
  MakeDevice();
  Activate();
  REQUIRE(device_->serving());
  driver(0).Chain().Writable(1600).Publish();  // Held by the device at reset.
  Kick(0);

  ResetDevice();
  CHECK_FALSE(device_->serving());
  // Nothing serves the tap now.
  REQUIRE(tap_->Inject(Frame(20, 5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(driver(0).NextUsed().has_value());

  NewDrivers();
  Activate();
  driver(0).Chain().Writable(1600).Publish();
  driver(1).Chain().Readable(Frame(10)).Publish();
  Kick(0);
  Kick(1);
  CHECK(WaitUsed(0).len == kHeaderBytes + 20);
  CHECK(WaitSent() == Frame(10));
}

TEST_CASE_METHOD(DeviceTest, "A new session without MQ detaches the queues the last one used") {
  MakeDevice(2);
  Activate(kFeatures | Bit(VIRTIO_NET_F_MQ));
  const std::vector<uint8_t> set_pairs{VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0};
  driver(4).Chain().Readable(set_pairs).Writable(1).Publish();
  Kick(4);
  REQUIRE(Eventually([&] { return tap_->queue_enabled(1); }));

  ResetDevice();
  NewDrivers();
  Activate(kFeatures);

  CHECK_FALSE(tap_->queue_enabled(1));
  CHECK(tap_->queue_enabled(0));
}

TEST_CASE_METHOD(DeviceTest, "A corrupt control ring asks for a reset") {
  MakeDevice();
  Activate();
  driver(2).PublishHead(16);
  Kick(2);

  CHECK(Eventually([&] { return needs_reset_.load() == 1; }));
}

TEST_CASE_METHOD(DeviceTest, "A corrupt tx ring asks for a reset") {
  MakeDevice();
  Activate();
  driver(1).PublishHead(16);  // Past the table.
  Kick(1);

  CHECK(Eventually([&] { return needs_reset_.load() == 1; }));
  CHECK(device_->counters().ring_faults.load() == 1);
}

TEST_CASE_METHOD(DeviceTest, "A malformed control request is answered and counted") {
  MakeDevice();
  Activate();
  auto request = driver(2).Chain();
  const std::vector<uint8_t> unknown{0x7f, 0};
  request.Readable(unknown).Writable(1).Publish();
  Kick(2);

  CHECK(WaitUsed(2).len == 1);
  CHECK(driver(2).ReadBytes(request.buffer(1), 1)[0] == VIRTIO_NET_ERR);
  CHECK(device_->counters().fault(ControlFault::kUnknownClass) == 1);
}

}  // namespace
}  // namespace mini_vmm::virtio::net::testing
