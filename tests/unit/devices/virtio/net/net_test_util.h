// Shared pieces of the virtio-net tests: guest memory with one region per
// virtqueue (each VirtQueueDriver's data area runs to the end of its
// region), frames with a vnet header in front, and a recording interrupt.
#pragma once

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "devices/virtio/device.h"
#include "devices/virtio/net/frame.h"
#include "tests/support/fake_guest_memory.h"

namespace mini_vmm::virtio::net::testing {

inline constexpr uint64_t kRegionStride = 16ull << 20;
inline constexpr uint64_t kRegionSize = 4ull << 20;

// `queues` regions of 4 MiB, 16 MiB apart; queue i's rings start at Base(i).
inline GuestMemory MakeQueueMemory(size_t queues) {
  std::vector<GuestRegionSpec> layout;
  for (size_t i = 0; i < queues; ++i)
    layout.push_back({GuestAddress(i * kRegionStride), kRegionSize});
  auto mem = GuestMemory::Create(layout, GuestMemory::Options{.hugepages = false});
  REQUIRE(mem.ok());
  return std::move(mem).value();
}
inline GuestAddress Base(size_t queue) { return GuestAddress(queue * kRegionStride); }

// A 12-byte virtio_net_hdr_mrg_rxbuf with recognisable fields, then
// `payload` bytes counting up from `seed`.
inline std::vector<uint8_t> Frame(size_t payload, uint8_t seed = 0) {
  std::vector<uint8_t> frame(kHeaderBytes + payload);
  virtio_net_hdr_mrg_rxbuf header{};
  header.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  header.hdr.csum_start = 34;
  header.hdr.csum_offset = 16;
  std::memcpy(frame.data(), &header, sizeof(header));
  for (size_t i = 0; i < payload; ++i) frame[kHeaderBytes + i] = static_cast<uint8_t>(seed + i);
  return frame;
}

inline std::vector<uint8_t> Slice(const std::vector<uint8_t>& bytes, size_t from, size_t n) {
  return {bytes.begin() + static_cast<ptrdiff_t>(from),
          bytes.begin() + static_cast<ptrdiff_t>(from + n)};
}

inline uint16_t NumBuffers(const std::vector<uint8_t>& header) {
  uint16_t n = 0;
  std::memcpy(&n, header.data() + kNumBuffersOffset, sizeof(n));
  return n;
}

class RecordingInterrupt final : public VirtioInterrupt {
 public:
  void NotifyQueue(uint16_t queue) noexcept override {
    if (queue < notifications.size()) notifications[queue].fetch_add(1);
  }
  void NotifyConfigChange() noexcept override { config_changes.fetch_add(1); }
  int count(uint16_t queue) const { return notifications.at(queue).load(); }

  // Direct delivery, as a virtio-pci transport with irqfds offers it.
  int DirectQueueEventFd(uint16_t queue) const noexcept override {
    return queue < direct.size() ? direct[queue] : -1;
  }
  void SetDirectListener(DirectListener l) override { listener = std::move(l); }
  // A guest's mask (fd -1) or unmask of `queue`'s vector.
  void SetDirect(uint16_t queue, int fd) {
    direct.at(queue) = fd;
    if (listener) listener(queue, fd);
  }

  std::array<std::atomic<int>, 64> notifications{};
  std::atomic<int> config_changes{0};
  std::array<int, 64> direct = [] {
    std::array<int, 64> fds{};
    fds.fill(-1);
    return fds;
  }();
  DirectListener listener;
};

// Polls `done` for up to five seconds.
inline bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace mini_vmm::virtio::net::testing
