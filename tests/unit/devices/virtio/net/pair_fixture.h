// PairTest: one QueuePair over real Queues that two VirtQueueDrivers feed
// and a FakeTap, called directly from the test thread (no I/O thread).
#pragma once

#include <catch2/catch.hpp>
#include <optional>

#include "devices/virtio/net/queue_pair.h"
#include "devices/virtio/virtio_ring.h"
#include "tests/support/fake_tap.h"
#include "tests/support/virtqueue_driver.h"
#include "tests/unit/devices/virtio/net/net_test_util.h"

namespace mini_vmm::virtio::net::testing {

using ::mini_vmm::testing::FakeTap;
using ::mini_vmm::testing::VirtQueueDriver;

inline constexpr uint16_t kDriverQueueSize = 16;
inline constexpr uint16_t kRxQueue = 0;
inline constexpr uint16_t kTxQueue = 1;

class PairTest {
 protected:
  void Start(bool mergeable = true, bool event_idx = false) {
    rx_driver_.Configure(rx_);
    tx_driver_.Configure(tx_);
    REQUIRE_FALSE(rx_.Activate(mem_, event_idx, /*indirect_desc=*/true).has_value());
    REQUIRE_FALSE(tx_.Activate(mem_, event_idx, /*indirect_desc=*/true).has_value());
    pair_.emplace(QueuePair::Config{.name = "net-test",
                                    .index = 0,
                                    .rx = rx_,
                                    .tx = tx_,
                                    .header_bytes = kHeaderBytes,
                                    .mergeable = mergeable},
                  tap_, interrupt_, counters_);
  }

  // The bytes the device wrote into the i-th buffer of a chain.
  std::vector<uint8_t> Written(GuestAddress buffer, uint32_t len) {
    return rx_driver_.ReadBytes(buffer, len);
  }

  GuestMemory mem_ = MakeQueueMemory(2);
  VirtQueueDriver rx_driver_{mem_, Base(0), kDriverQueueSize};
  VirtQueueDriver tx_driver_{mem_, Base(1), kDriverQueueSize};
  Queue rx_{256};
  Queue tx_{256};
  FakeTap tap_{1};
  RecordingInterrupt interrupt_;
  NetCounters counters_;
  std::optional<QueuePair> pair_;  // Last: goes first, abandoning what it holds.
};

}  // namespace mini_vmm::virtio::net::testing
