// The control queue: VQ_PAIRS_SET and the rx-mode class accepted, every
// malformed or unknown request answered VIRTIO_NET_ERR with a named fault.
#include "devices/virtio/net/control.h"

#include <catch2/catch.hpp>
#include <optional>

#include "tests/support/virtio_test_helpers.h"
#include "tests/support/virtqueue_driver.h"
#include "tests/unit/devices/virtio/net/net_test_util.h"

namespace mini_vmm::virtio::net::testing {
namespace {

using ::mini_vmm::testing::ChainBuilder;
using ::mini_vmm::testing::ScopedChain;
using ::mini_vmm::testing::VirtQueueDriver;

constexpr ControlContext kMq{.mq = true, .max_pairs = 4};

class ControlTest {
 protected:
  ControlTest() {
    driver_.Configure(queue_);
    REQUIRE_FALSE(queue_.Activate(mem_, false, true).has_value());
  }

  // Publishes `chain`, pops it, handles it; the ack byte lands in ack_.
  ControlOutcome Handle(ChainBuilder& chain, const ControlContext& context = kMq) {
    chain.Publish();
    auto popped = queue_.Pop();
    REQUIRE(popped.has_value());
    ScopedChain scoped(std::move(*popped));
    return HandleControl(*scoped, context);
  }
  // A request: readable `request`, then a one-byte ack buffer.
  ControlOutcome Request(std::vector<uint8_t> request, const ControlContext& context = kMq) {
    auto chain = driver_.Chain();
    chain.Readable(request).Writable(1);
    const ControlOutcome outcome = Handle(chain, context);
    ack_ = driver_.ReadBytes(chain.buffer(1), 1)[0];
    return outcome;
  }

  GuestMemory mem_ = MakeQueueMemory(1);
  VirtQueueDriver driver_{mem_, Base(0), 16};
  Queue queue_{64};
  uint8_t ack_ = 0xAA;
};

std::vector<uint8_t> PairsSet(uint16_t pairs) {
  return {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, static_cast<uint8_t>(pairs),
          static_cast<uint8_t>(pairs >> 8)};
}

TEST_CASE_METHOD(ControlTest, "VQ_PAIRS_SET within range is acked and applied") {
  const ControlOutcome outcome = Request(PairsSet(3));
  CHECK(ack_ == VIRTIO_NET_OK);
  CHECK(outcome.written == 1);
  CHECK(outcome.queue_pairs == std::optional<uint16_t>(3));
  CHECK_FALSE(outcome.fault.has_value());
}

TEST_CASE_METHOD(ControlTest, "VQ_PAIRS_SET split across descriptors is acked") {
  const std::vector<uint8_t> request = PairsSet(2);
  auto chain = driver_.Chain();
  chain.Readable(Slice(request, 0, 1))
      .Readable(Slice(request, 1, 2))
      .Readable(Slice(request, 3, 1));
  chain.Writable(1);
  const ControlOutcome outcome = Handle(chain);
  CHECK(driver_.ReadBytes(chain.buffer(3), 1)[0] == VIRTIO_NET_OK);
  CHECK(outcome.queue_pairs == std::optional<uint16_t>(2));
}

TEST_CASE_METHOD(ControlTest, "VQ_PAIRS_SET to zero pairs is refused") {
  const ControlOutcome outcome = Request(PairsSet(0));
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kPairsOutOfRange);
  CHECK_FALSE(outcome.queue_pairs.has_value());
}

TEST_CASE_METHOD(ControlTest, "VQ_PAIRS_SET beyond max_virtqueue_pairs is refused") {
  const ControlOutcome outcome = Request(PairsSet(5));
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kPairsOutOfRange);
}

TEST_CASE_METHOD(ControlTest, "VQ_PAIRS_SET without VIRTIO_NET_F_MQ is refused") {
  const ControlOutcome outcome = Request(PairsSet(1), ControlContext{.mq = false, .max_pairs = 1});
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kMqNotNegotiated);
}

TEST_CASE_METHOD(ControlTest, "VQ_PAIRS_SET without its pair count is refused") {
  const ControlOutcome outcome = Request({VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2});
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kShortPayload);
}

TEST_CASE_METHOD(ControlTest, "An unknown multiqueue command is refused") {
  const ControlOutcome outcome = Request({VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, 0, 0});
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kUnknownCommand);
}

TEST_CASE_METHOD(ControlTest, "Rx-mode PROMISC on is acked") {
  const ControlOutcome outcome = Request({VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1});
  CHECK(ack_ == VIRTIO_NET_OK);
  CHECK_FALSE(outcome.fault.has_value());
  CHECK_FALSE(outcome.queue_pairs.has_value());
}

TEST_CASE_METHOD(ControlTest, "Rx-mode NOBCAST off is acked") {
  Request({VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST, 0});
  CHECK(ack_ == VIRTIO_NET_OK);
}

TEST_CASE_METHOD(ControlTest, "An rx-mode command past NOBCAST is refused") {
  const ControlOutcome outcome = Request({VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST + 1, 1});
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kUnknownCommand);
}

TEST_CASE_METHOD(ControlTest, "An rx-mode command without its on/off byte is refused") {
  const ControlOutcome outcome = Request({VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI});
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kShortPayload);
}

TEST_CASE_METHOD(ControlTest, "An unknown class is refused") {
  const ControlOutcome outcome = Request({VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 1, 0});
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kUnknownClass);
}

TEST_CASE_METHOD(ControlTest, "A request of one byte is refused") {
  const ControlOutcome outcome = Request({VIRTIO_NET_CTRL_MQ});
  CHECK(ack_ == VIRTIO_NET_ERR);
  CHECK(outcome.fault == ControlFault::kShortHeader);
}

TEST_CASE_METHOD(ControlTest, "A request with no ack buffer is returned with nothing written") {
  auto chain = driver_.Chain();
  chain.Readable(PairsSet(2));
  const ControlOutcome outcome = Handle(chain);
  CHECK(outcome.written == 0);
  CHECK(outcome.fault == ControlFault::kNoAck);
  CHECK_FALSE(outcome.queue_pairs.has_value());
}

TEST_CASE_METHOD(ControlTest, "A request with only an ack buffer is refused") {
  auto chain = driver_.Chain();
  chain.Writable(1);
  const ControlOutcome outcome = Handle(chain);
  CHECK(driver_.ReadBytes(chain.buffer(0), 1)[0] == VIRTIO_NET_ERR);
  CHECK(outcome.written == 1);
  CHECK(outcome.fault == ControlFault::kShortHeader);
}

}  // namespace
}  // namespace mini_vmm::virtio::net::testing
