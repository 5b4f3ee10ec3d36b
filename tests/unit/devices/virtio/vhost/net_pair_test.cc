// VhostNetPair against the recording fake: the set-up ioctls and their
// order, refusal before any ioctl when a ring is bad, direct and relayed
// calls, ring errors, and a stop that detaches first and reads the bases.
#include "devices/virtio/vhost/net_pair.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "devices/virtio/vhost/features.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_vhost_backend.h"
#include "tests/support/virtqueue_driver.h"

namespace mini_vmm::virtio::vhost {
namespace {

using testing::FakeVhostBackend;
using testing::VirtQueueDriver;

constexpr uint64_t Bit(unsigned feature) { return uint64_t{1} << feature; }
constexpr uint16_t kSize = 256;
// Pair 1 of a multiqueue device: virtio queues 2 (rx) and 3 (tx).
constexpr uint16_t kRxQueue = 2;
constexpr uint16_t kTxQueue = 3;
const uint64_t kDriverFeatures = Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX) |
                                 Bit(VIRTIO_NET_F_MRG_RXBUF) | Bit(VIRTIO_NET_F_CSUM);

// NotifyQueue comes from the watcher thread.
class AtomicInterrupt final : public VirtioInterrupt {
 public:
  void NotifyQueue(uint16_t queue) noexcept override {
    last_queue.store(queue);
    notifications.fetch_add(1);
  }
  void NotifyConfigChange() noexcept override {}
  std::atomic<int> notifications{0};
  std::atomic<int> last_queue{-1};
};

template <typename Predicate>
bool WaitFor(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void Signal(int fd) {
  const uint64_t one = 1;
  REQUIRE(::write(fd, &one, sizeof(one)) == sizeof(one));
}

EventFd MakeEventFd() {
  auto fd = EventFd::Create();
  REQUIRE(fd.ok());
  return std::move(fd).value();
}

struct NetPairTest {
  GuestMemory mem = testing::MakeGuestMemory(0, 1 << 20);
  VhostMemoryTable table{64};
  MemoryMap map;
  VirtQueueDriver rx_driver{mem, GuestAddress(0x10000), kSize};
  VirtQueueDriver tx_driver{mem, GuestAddress(0x40000), kSize};
  Queue rx{kSize};
  Queue tx{kSize};
  EventFd rx_kick = MakeEventFd();
  EventFd tx_kick = MakeEventFd();
  EventFd tap = MakeEventFd();  // Any fd: the fake only records it.
  AtomicInterrupt interrupt;
  FakeVhostBackend* fake = nullptr;
  std::unique_ptr<VhostNetPair> pair;

  NetPairTest() {
    REQUIRE(map.AddListener(&table).ok());
    for (const GuestRegion& r : mem.regions()) {
      REQUIRE(map.Add({.start = r.start(), .size = r.size(), .host = r.host_address()}).ok());
    }
    rx_driver.Configure(rx);
    tx_driver.Configure(tx);
    REQUIRE_FALSE(rx.Activate(mem, true, false).has_value());
    REQUIRE_FALSE(tx.Activate(mem, true, false).has_value());
    auto owned = std::make_unique<FakeVhostBackend>();
    fake = owned.get();
    auto created = VhostNetPair::Create("virtio-net0q1", std::move(owned), table);
    REQUIRE(created.ok());
    pair = std::move(created).value();
  }
  ~NetPairTest() {
    pair.reset();
    map.RemoveListener(&table);
  }

  PairConfig Config(uint64_t features = kDriverFeatures) {
    return PairConfig{.memory = mem,
                      .rx = {.queue_index = kRxQueue, .queue = &rx, .kick_fd = rx_kick.fd()},
                      .tx = {.queue_index = kTxQueue, .queue = &tx, .kick_fd = tx_kick.fd()},
                      .tap_fd = tap.fd(),
                      .driver_features = features,
                      .interrupt = interrupt};
  }

  // The calls made after the first `skip`.
  std::vector<std::string> CallsFrom(size_t skip) const {
    return {fake->calls.begin() + static_cast<std::ptrdiff_t>(skip), fake->calls.end()};
  }
};

TEST_CASE_METHOD(NetPairTest, "creating sets the owner, reads the features and pushes the table") {
  CHECK(fake->calls == std::vector<std::string>{"SET_OWNER", "GET_FEATURES", "SET_MEM_TABLE 1"});
  CHECK(pair->vhost_features() == fake->offered_features);
  REQUIRE(fake->table.size() == 1);
  CHECK(fake->table[0].userspace_addr ==
        reinterpret_cast<uint64_t>(mem.regions()[0].host_address()));
}

TEST_CASE_METHOD(NetPairTest, "start sends the set-up ioctls in the kernel's order") {
  const size_t before = fake->calls.size();
  REQUIRE(pair->Start(Config()).ok());
  CHECK(CallsFrom(before) ==
        std::vector<std::string>{
            "SET_FEATURES 0x120008000",  // VERSION_1 | EVENT_IDX | MRG_RXBUF; not CSUM
            "SET_VRING_NUM 0 256", "SET_VRING_BASE 0 0", "SET_VRING_ADDR 0", "SET_VRING_KICK 0 fd",
            "SET_VRING_CALL 0 fd", "SET_VRING_ERR 0 fd", "SET_VRING_NUM 1 256",
            "SET_VRING_BASE 1 0", "SET_VRING_ADDR 1", "SET_VRING_KICK 1 fd", "SET_VRING_CALL 1 fd",
            "SET_VRING_ERR 1 fd", "NET_SET_BACKEND 0 fd", "NET_SET_BACKEND 1 fd"});
  CHECK(fake->features ==
        (Bit(VIRTIO_F_VERSION_1) | Bit(VIRTIO_RING_F_EVENT_IDX) | Bit(VIRTIO_NET_F_MRG_RXBUF)));
  CHECK(pair->running());
}

TEST_CASE_METHOD(NetPairTest, "start hands vhost the host addresses, ioeventfds and the tap") {
  REQUIRE(pair->Start(Config()).ok());
  const auto& r = fake->rings[kRxRing];
  CHECK(r.addr.desc == reinterpret_cast<uint64_t>(mem.TranslateToHost(rx.desc_table(), 1)));
  CHECK(r.addr.avail == reinterpret_cast<uint64_t>(mem.TranslateToHost(rx.avail_ring(), 1)));
  CHECK(r.addr.used == reinterpret_cast<uint64_t>(mem.TranslateToHost(rx.used_ring(), 1)));
  CHECK(r.kick == rx_kick.fd());
  CHECK(fake->rings[kTxRing].kick == tx_kick.fd());
  CHECK(r.backend == tap.fd());
  CHECK(fake->rings[kTxRing].backend == tap.fd());
}

TEST_CASE_METHOD(NetPairTest,
                 "a used ring outside RAM is refused before vhost hears of the rings") {
  tx.set_used_ring(GuestAddress(2 << 20));
  const size_t before = fake->calls.size();
  auto started = pair->Start(Config());
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().ToString().find("virtio-net0q1: transmit queue: ") == 0);
  CHECK(started.error().ToString().find("a used ring outside guest RAM") != std::string::npos);
  CHECK(fake->calls.size() == before);
  CHECK_FALSE(pair->running());
}

TEST_CASE_METHOD(NetPairTest, "a ring feature vhost lacks but the driver acked is refused") {
  fake = nullptr;  // Only the pair's view matters: vhost without EVENT_IDX.
  auto owned = std::make_unique<FakeVhostBackend>();
  owned->offered_features &= ~Bit(VIRTIO_RING_F_EVENT_IDX);
  FakeVhostBackend& lacking = *owned;
  pair.reset();
  pair = std::move(VhostNetPair::Create("virtio-net0q1", std::move(owned), table)).value();
  auto started = pair->Start(Config());
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().ToString() ==
        "virtio-net0q1: the driver negotiated ring features 0x20000000 that vhost-net lacks");
  CHECK(lacking.CallsStartingWith("SET_VRING").empty());
}

TEST_CASE_METHOD(NetPairTest, "with an MSI-X irqfd vhost signals it directly") {
  EventFd irqfd = MakeEventFd();
  PairConfig config = Config();
  config.tx.direct_call_fd = irqfd.fd();
  REQUIRE(pair->Start(config).ok());
  CHECK(fake->rings[kTxRing].call == irqfd.fd());
  // Not relayed: a signal on the irqfd is KVM's business, not NotifyQueue's.
  Signal(irqfd.fd());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(interrupt.notifications.load() == 0);
  CHECK(irqfd.Consume() == 1);
}

TEST_CASE_METHOD(NetPairTest, "a masked MSI-X vector switches vhost to the relay and back") {
  EventFd irqfd = MakeEventFd();
  PairConfig config = Config();
  config.tx.direct_call_fd = irqfd.fd();
  REQUIRE(pair->Start(config).ok());

  REQUIRE(pair->UseDirectCall(kTxRing, -1).ok());  // Masked: through NotifyQueue.
  const int relay = fake->rings[kTxRing].call;
  CHECK(relay != irqfd.fd());
  Signal(relay);
  REQUIRE(WaitFor([&] { return interrupt.notifications.load() == 1; }));
  CHECK(interrupt.last_queue.load() == kTxQueue);

  REQUIRE(pair->UseDirectCall(kTxRing, irqfd.fd()).ok());  // Unmasked: direct again.
  CHECK(fake->rings[kTxRing].call == irqfd.fd());
  CHECK(fake->rings[kTxRing].backend == tap.fd());  // Switched while attached.
}

TEST_CASE_METHOD(NetPairTest, "a relayed call notifies the driver on the virtio queue's index") {
  REQUIRE(pair->Start(Config()).ok());
  Signal(fake->rings[kTxRing].call);
  REQUIRE(WaitFor([&] { return interrupt.notifications.load() == 1; }));
  CHECK(interrupt.last_queue.load() == kTxQueue);
}

TEST_CASE_METHOD(NetPairTest, "a ring error signalled by vhost is counted") {
  REQUIRE(pair->Start(Config()).ok());
  log::SetLevel(LogLevel::kError);
  Signal(fake->rings[kRxRing].err);
  REQUIRE(WaitFor([&] { return pair->ring_errors().errors() == 1; }));
  log::SetLevel(LogLevel::kInfo);
  CHECK(interrupt.notifications.load() == 0);
}

TEST_CASE_METHOD(NetPairTest, "stop detaches the tap first, reads each ring's base, then unbinds") {
  REQUIRE(pair->Start(Config()).ok());
  const size_t before = fake->calls.size();
  pair->Stop();
  CHECK(CallsFrom(before) ==
        std::vector<std::string>{"NET_SET_BACKEND 0 -1", "NET_SET_BACKEND 1 -1", "GET_VRING_BASE 0",
                                 "GET_VRING_BASE 1", "SET_VRING_KICK 0 -1", "SET_VRING_CALL 0 -1",
                                 "SET_VRING_ERR 0 -1", "SET_VRING_KICK 1 -1", "SET_VRING_CALL 1 -1",
                                 "SET_VRING_ERR 1 -1"});
  CHECK_FALSE(pair->running());
}

TEST_CASE_METHOD(NetPairTest, "stop keeps the avail index where the kernel stopped") {
  REQUIRE(pair->Start(Config()).ok());
  fake->rings[kRxRing].base = 42;  // The kernel's worker consumed 42 buffers.
  fake->rings[kTxRing].base = 7;
  pair->Stop();
  CHECK(pair->stopped_base(kRxRing) == 42);
  CHECK(pair->stopped_base(kTxRing) == 7);
}

TEST_CASE_METHOD(NetPairTest, "a stopped pair starts again from the queue's indices") {
  REQUIRE(pair->Start(Config()).ok());
  pair->Stop();
  rx.Reset();  // A virtio reset, then the driver sets the queue up again.
  rx_driver.Configure(rx);
  REQUIRE_FALSE(rx.Activate(mem, true, false).has_value());
  // The fake refuses SET_VRING_* with EBUSY had the tap stayed attached.
  REQUIRE(pair->Start(Config()).ok());
  CHECK(fake->rings[kRxRing].base == 0);
  CHECK(fake->rings[kRxRing].backend == tap.fd());
}

TEST_CASE_METHOD(NetPairTest, "stop is idempotent") {
  REQUIRE(pair->Start(Config()).ok());
  pair->Stop();
  const size_t calls = fake->calls.size();
  pair->Stop();
  CHECK(fake->calls.size() == calls);
}

TEST_CASE_METHOD(NetPairTest, "a failure half-way through start leaves nothing attached") {
  fake->fail_call = "NET_SET_BACKEND";
  fake->fail_errno = EBADF;
  log::SetLevel(LogLevel::kError);
  auto started = pair->Start(Config());
  log::SetLevel(LogLevel::kInfo);
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().ToString() == "fake NET_SET_BACKEND: Bad file descriptor");
  CHECK_FALSE(pair->running());
  for (const auto& ring : fake->rings) {
    CHECK(ring.backend == -1);
    CHECK(ring.kick == -1);
    CHECK(ring.call == -1);
    CHECK(ring.err == -1);
  }
}

TEST_CASE_METHOD(NetPairTest, "destroying a running pair stops it and leaves the table") {
  REQUIRE(pair->Start(Config()).ok());
  pair.reset();
  // The table has no backend left: a change pushes to nobody.
  REQUIRE(map.Add({.start = GuestAddress(4 << 20),
                   .size = 0x1000,
                   .host = mem.regions()[0].host_address()})
              .ok());
  CHECK(table.regions().size() == 2);
}

}  // namespace
}  // namespace mini_vmm::virtio::vhost
