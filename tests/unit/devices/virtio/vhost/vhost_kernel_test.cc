// The vhost tier: VhostNetPair against the kernel's vhost-net and a real
// tap made by the test (root; tests/support/vhost_main.cc skips elsewhere).
// A frame the host stack sends out of the tap must show up in the receive
// ring, filled by the kernel's vhost worker, with the guest's 12-byte
// virtio_net_hdr in front; a frame the "guest" puts on the transmit ring
// must come out of the tap.
#include "devices/virtio/vhost/vhost_kernel.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "devices/virtio/vhost/net_pair.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/support/virtqueue_driver.h"

namespace mini_vmm::virtio::vhost {
namespace {

using testing::VirtQueueDriver;

constexpr uint16_t kSize = 64;
constexpr uint32_t kHeaderBytes = 12;    // virtio_net_hdr_mrg_rxbuf: VERSION_1.
constexpr uint16_t kEtherType = 0x88b5;  // IEEE 802 local experimental.
constexpr uint64_t kFeatures = uint64_t{1} << VIRTIO_F_VERSION_1;

class AtomicInterrupt final : public VirtioInterrupt {
 public:
  void NotifyQueue(uint16_t /*queue*/) noexcept override { notifications.fetch_add(1); }
  void NotifyConfigChange() noexcept override {}
  std::atomic<int> notifications{0};
};

UniqueFd Checked(int fd) {
  INFO(std::strerror(errno));
  REQUIRE(fd >= 0);
  return UniqueFd(fd);
}

// A non-persistent tap (gone with its fd), named by the kernel, with the
// guest's vnet header size, and up.
struct TestTap {
  UniqueFd fd;
  std::string name;
  int index = 0;

  TestTap() {
    fd = Checked(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    std::strncpy(ifr.ifr_name, "mvmvh%d", IFNAMSIZ - 1);
    REQUIRE(::ioctl(fd.get(), TUNSETIFF, &ifr) == 0);
    name = ifr.ifr_name;
    int header = kHeaderBytes;
    REQUIRE(::ioctl(fd.get(), TUNSETVNETHDRSZ, &header) == 0);
    UniqueFd sock = Checked(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    REQUIRE(::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) == 0);
    index = static_cast<int>(::if_nametoindex(name.c_str()));
    REQUIRE(index > 0);
  }
};

// A broadcast frame with a marker the host stack's own traffic (IPv6
// router solicitations on a fresh interface) cannot contain.
std::array<uint8_t, 60> TestFrame(uint8_t tag) {
  std::array<uint8_t, 60> frame{};
  std::fill_n(frame.begin(), 6, 0xff);
  const uint8_t source[6] = {0x02, 0x00, 0x00, 0x76, 0x68, tag};
  std::memcpy(&frame[6], source, 6);
  frame[12] = kEtherType >> 8;
  frame[13] = kEtherType & 0xff;
  const char marker[] = "mini-vmm vhost tier";
  std::memcpy(&frame[14], marker, sizeof(marker));
  frame[14 + sizeof(marker)] = tag;
  return frame;
}

UniqueFd PacketSocket(int ifindex) {
  UniqueFd sock = Checked(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(kEtherType)));
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(kEtherType);
  addr.sll_ifindex = ifindex;
  REQUIRE(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  return sock;
}

struct VhostKernelTest {
  GuestMemory mem = testing::MakeGuestMemory(0, 4 << 20);
  MemoryMap map;
  VhostMemoryTable table{VhostMaxMemRegions()};
  VirtQueueDriver rx_driver{mem, GuestAddress(0x10000), kSize};
  VirtQueueDriver tx_driver{mem, GuestAddress(0x200000), kSize};
  Queue rx{kSize};
  Queue tx{kSize};
  EventFd rx_kick = std::move(EventFd::Create()).value();
  EventFd tx_kick = std::move(EventFd::Create()).value();
  AtomicInterrupt interrupt;
  TestTap tap;
  std::unique_ptr<VhostNetPair> pair;

  VhostKernelTest() {
    REQUIRE(map.AddListener(&table).ok());
    for (const GuestRegion& r : mem.regions()) {
      REQUIRE(map.Add({.start = r.start(), .size = r.size(), .host = r.host_address()}).ok());
    }
    rx_driver.Configure(rx);
    tx_driver.Configure(tx);
    REQUIRE_FALSE(rx.Activate(mem, false, false).has_value());
    REQUIRE_FALSE(tx.Activate(mem, false, false).has_value());
    auto vhost = VhostKernel::Open(kVhostNetPath);
    REQUIRE(vhost.ok());
    auto created = VhostNetPair::Create(tap.name + "q0", std::move(vhost).value(), table);
    INFO((created.ok() ? "" : created.error().ToString()));
    REQUIRE(created.ok());
    pair = std::move(created).value();
  }
  ~VhostKernelTest() {
    pair.reset();
    map.RemoveListener(&table);
  }

  void Start() {
    auto started = pair->Start({.memory = mem,
                                .rx = {.queue_index = 0, .queue = &rx, .kick_fd = rx_kick.fd()},
                                .tx = {.queue_index = 1, .queue = &tx, .kick_fd = tx_kick.fd()},
                                .tap_fd = tap.fd.get(),
                                .driver_features = kFeatures,
                                .interrupt = interrupt});
    INFO((started.ok() ? "" : started.error().ToString()));
    REQUIRE(started.ok());
  }

  template <typename Predicate>
  bool WaitFor(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }
};

TEST_CASE_METHOD(VhostKernelTest, "vhost-net accepts the whole set-up and stop sequence") {
  CHECK((pair->vhost_features() & kFeatures) == kFeatures);
  Start();
  CHECK(pair->running());
  pair->Stop();
  CHECK(pair->stopped_base(kRxRing) == 0);
  CHECK(pair->stopped_base(kTxRing) == 0);
  // And again: the stop left the rings reconfigurable.
  Start();
  pair->Stop();
}

TEST_CASE_METHOD(VhostKernelTest, "a frame sent out of the tap lands in the receive ring") {
  std::vector<GuestAddress> buffers;
  for (int i = 0; i < 8; ++i) {
    auto chain = rx_driver.Chain();
    chain.Writable(2048).Publish();
    buffers.push_back(chain.buffer(0));
  }
  Start();
  rx_kick.Signal();

  const auto frame = TestFrame(1);
  UniqueFd sock = PacketSocket(tap.index);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = tap.index;
  to.sll_halen = 6;
  std::fill_n(to.sll_addr, 6, 0xff);
  REQUIRE(::sendto(sock.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof(to)) == static_cast<ssize_t>(frame.size()));

  // The kernel's worker fills buffers (ours, and maybe IPv6 noise first)
  // and signals the relayed call eventfd.
  bool found = false;
  REQUIRE(WaitFor([&] {
    while (auto used = rx_driver.NextUsed()) {
      if (used->len != kHeaderBytes + frame.size()) continue;
      auto bytes = rx_driver.ReadBytes(buffers.at(used->id), used->len);
      found = std::equal(frame.begin(), frame.end(), bytes.begin() + kHeaderBytes);
      if (found) return true;
    }
    return false;
  }));
  CHECK(found);
  CHECK(WaitFor([&] { return interrupt.notifications.load() > 0; }));
  pair->Stop();
  CHECK(pair->stopped_base(kRxRing) >= 1);
}

TEST_CASE_METHOD(VhostKernelTest, "a frame on the transmit ring comes out of the tap") {
  UniqueFd sock = PacketSocket(tap.index);
  Start();
  const auto frame = TestFrame(2);
  std::array<uint8_t, kHeaderBytes> header{};  // No offloads: all zero.
  tx_driver.Chain().Readable(header).Readable(frame).Publish();
  tx_kick.Signal();

  pollfd ready{.fd = sock.get(), .events = POLLIN, .revents = 0};
  std::array<uint8_t, 2048> received{};
  ssize_t n = -1;
  for (int tries = 0; tries < 20 && n != static_cast<ssize_t>(frame.size()); ++tries) {
    REQUIRE(::poll(&ready, 1, 10000) == 1);
    n = ::recv(sock.get(), received.data(), received.size(), 0);
  }
  REQUIRE(n == static_cast<ssize_t>(frame.size()));
  CHECK(std::equal(frame.begin(), frame.end(), received.begin()));
  REQUIRE(WaitFor([&] { return tx_driver.used_idx() == 1; }));
  pair->Stop();
  CHECK(pair->stopped_base(kTxRing) == 1);
}

}  // namespace
}  // namespace mini_vmm::virtio::vhost
