// The receive path: frames into one chain or, with MRG_RXBUF, several;
// waiting (not dropping, not spinning) when the driver has too few buffers.
#include <catch2/catch.hpp>

#include "devices/virtio/virtio_ring.h"
#include "tests/unit/devices/virtio/net/pair_fixture.h"

namespace mini_vmm::virtio::net::testing {
namespace {

using RxStop = QueuePair::RxStop;
using ::mini_vmm::testing::ChainBuilder;

// `frame` as the guest must see it: num_buffers filled in.
std::vector<uint8_t> Expected(std::vector<uint8_t> frame, uint16_t num_buffers) {
  std::memcpy(frame.data() + kNumBuffersOffset, &num_buffers, sizeof(num_buffers));
  return frame;
}

TEST_CASE_METHOD(PairTest, "A frame fills one chain and says num_buffers 1") {
  Start();
  auto chain = rx_driver_.Chain();
  chain.Writable(1600).Publish();
  const std::vector<uint8_t> frame = Frame(200);
  REQUIRE(tap_.Inject(frame));

  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);

  const auto used = rx_driver_.NextUsed();
  REQUIRE(used.has_value());
  CHECK(used->len == frame.size());
  CHECK(Written(chain.buffer(0), used->len) == Expected(frame, 1));
  CHECK(counters_.rx_frames == 1);
  CHECK(interrupt_.count(kRxQueue) == 1);
}

TEST_CASE_METHOD(PairTest, "With MRG_RXBUF a frame spreads over three chains") {
  Start(/*mergeable=*/true);
  std::vector<ChainBuilder> chains;
  for (int i = 0; i < 3; ++i) {
    chains.push_back(rx_driver_.Chain());
    chains.back().Writable(100).Publish();
  }
  const std::vector<uint8_t> frame = Frame(250);  // 262 bytes: 100 + 100 + 62.
  REQUIRE(tap_.Inject(frame));

  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);

  std::vector<uint8_t> received;
  for (uint32_t expected_len : {100u, 100u, 62u}) {
    const auto used = rx_driver_.NextUsed();
    REQUIRE(used.has_value());
    CHECK(used->len == expected_len);
    const auto bytes = Written(chains[received.size() / 100].buffer(0), used->len);
    received.insert(received.end(), bytes.begin(), bytes.end());
  }
  CHECK(received == Expected(frame, 3));
  CHECK(NumBuffers(received) == 3);
  CHECK(interrupt_.count(kRxQueue) == 1);
}

TEST_CASE_METHOD(PairTest, "Rx with too few buffers waits for the driver, then resumes") {
  Start(/*mergeable=*/true);
  auto first = rx_driver_.Chain();
  first.Writable(100).Publish();
  const std::vector<uint8_t> frame = Frame(250);
  REQUIRE(tap_.Inject(frame));

  CHECK(pair_->ProcessRx(64) == RxStop::kNoBuffers);
  CHECK_FALSE(rx_driver_.NextUsed().has_value());  // Nothing half-delivered.
  CHECK(rx_driver_.used_flags() == 0);             // Kicks are wanted again.
  CHECK(counters_.rx_stalls == 1);

  auto second = rx_driver_.Chain();
  second.Writable(100).Publish();
  auto third = rx_driver_.Chain();
  third.Writable(100).Publish();
  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);

  const auto a = rx_driver_.NextUsed();
  const auto b = rx_driver_.NextUsed();
  const auto c = rx_driver_.NextUsed();
  REQUIRE((a && b && c));
  std::vector<uint8_t> received = Written(first.buffer(0), a->len);
  for (auto [chain, len] : {std::pair{&second, b->len}, std::pair{&third, c->len}}) {
    const auto bytes = Written(chain->buffer(0), len);
    received.insert(received.end(), bytes.begin(), bytes.end());
  }
  CHECK(received == Expected(frame, 3));
  CHECK(counters_.rx_frames == 1);
}

TEST_CASE_METHOD(PairTest, "Rx with no buffers at all keeps the frame for later") {
  Start();
  REQUIRE(tap_.Inject(Frame(30)));

  CHECK(pair_->ProcessRx(64) == RxStop::kNoBuffers);
  CHECK(pair_->ProcessRx(64) == RxStop::kNoBuffers);  // Still held, not re-read.

  auto chain = rx_driver_.Chain();
  chain.Writable(1600).Publish();
  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);
  const auto used = rx_driver_.NextUsed();
  REQUIRE(used.has_value());
  CHECK(Written(chain.buffer(0), used->len) == Expected(Frame(30), 1));
}

TEST_CASE_METHOD(PairTest, "With EVENT_IDX a stalled rx queue asks for a kick at the next buffer") {
  Start(/*mergeable=*/true, /*event_idx=*/true);
  rx_driver_.Chain().Writable(1600).Publish();
  REQUIRE(tap_.Inject(Frame(30)));
  REQUIRE(tap_.Inject(Frame(30)));

  CHECK(pair_->ProcessRx(64) == RxStop::kNoBuffers);

  CHECK(rx_driver_.avail_event() == 1);  // Kick when avail->idx passes 1.
}

TEST_CASE_METHOD(PairTest, "Without MRG_RXBUF a frame too big for the chain is dropped") {
  Start(/*mergeable=*/false);
  auto chain = rx_driver_.Chain();
  chain.Writable(100).Publish();
  REQUIRE(tap_.Inject(Frame(200)));
  REQUIRE(tap_.Inject(Frame(50, 9)));

  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);

  // The big frame is gone; the chain took the next one.
  CHECK(counters_.fault(RxFault::kFrameTooBig) == 1);
  const auto used = rx_driver_.NextUsed();
  REQUIRE(used.has_value());
  CHECK(Written(chain.buffer(0), used->len) == Expected(Frame(50, 9), 1));
  CHECK_FALSE(rx_driver_.NextUsed().has_value());
}

TEST_CASE_METHOD(PairTest, "Without MRG_RXBUF a frame never spreads over two chains") {
  Start(/*mergeable=*/false);
  rx_driver_.Chain().Writable(100).Publish();
  rx_driver_.Chain().Writable(100).Publish();
  REQUIRE(tap_.Inject(Frame(150)));

  pair_->ProcessRx(64);

  CHECK(counters_.fault(RxFault::kFrameTooBig) == 1);
  CHECK_FALSE(rx_driver_.NextUsed().has_value());
}

TEST_CASE_METHOD(PairTest, "An rx chain smaller than the header is returned empty") {
  Start();
  rx_driver_.Chain().Writable(11).Publish();
  auto good = rx_driver_.Chain();
  good.Writable(1600).Publish();
  REQUIRE(tap_.Inject(Frame(20)));

  pair_->ProcessRx(64);

  const auto empty = rx_driver_.NextUsed();
  REQUIRE(empty.has_value());
  CHECK(empty->len == 0);
  const auto used = rx_driver_.NextUsed();
  REQUIRE(used.has_value());
  CHECK(Written(good.buffer(0), used->len) == Expected(Frame(20), 1));
  CHECK(counters_.fault(RxFault::kBufferTooSmall) == 1);
}

TEST_CASE_METHOD(PairTest, "An rx chain with only readable buffers is returned empty") {
  Start();
  rx_driver_.Chain().Readable(64).Publish();
  rx_driver_.Chain().Writable(1600).Publish();
  REQUIRE(tap_.Inject(Frame(20)));

  pair_->ProcessRx(64);

  const auto empty = rx_driver_.NextUsed();
  REQUIRE(empty.has_value());
  CHECK(empty->len == 0);
  CHECK(rx_driver_.NextUsed().has_value());
  CHECK(counters_.fault(RxFault::kBufferTooSmall) == 1);
}

TEST_CASE_METHOD(PairTest, "A tap frame shorter than the header is dropped") {
  Start();
  rx_driver_.Chain().Writable(1600).Publish();
  REQUIRE(tap_.Inject(std::vector<uint8_t>(5, 1)));

  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);

  CHECK(counters_.fault(RxFault::kShortFrame) == 1);
  CHECK_FALSE(rx_driver_.NextUsed().has_value());
}

TEST_CASE_METHOD(PairTest, "A tap frame that fills the whole read buffer is dropped as truncated") {
  Start();
  rx_driver_.Chain().Writable(1600).Publish();
  REQUIRE(tap_.Inject(Frame(kRxBufferBytes)));

  pair_->ProcessRx(64);

  CHECK(counters_.fault(RxFault::kShortFrame) == 1);
  CHECK_FALSE(rx_driver_.NextUsed().has_value());
}

TEST_CASE_METHOD(PairTest, "A 64 KiB GSO frame spreads over mergeable buffers") {
  Start(/*mergeable=*/true);
  auto first = rx_driver_.Chain();
  first.Writable(8192).Publish();
  for (int i = 1; i < 9; ++i) rx_driver_.Chain().Writable(8192).Publish();  // 72 KiB in all.
  REQUIRE(tap_.Inject(Frame(kMaxFrameBytes)));

  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);

  const auto used = rx_driver_.NextUsed();
  REQUIRE(used.has_value());
  CHECK(used->len == 8192);
  // 12 + 65593 bytes: eight full buffers and 69 bytes of a ninth.
  CHECK(NumBuffers(Written(first.buffer(0), kHeaderBytes)) == 9);
  CHECK(counters_.rx_frames == 1);
}

TEST_CASE_METHOD(PairTest, "A failing tap read stops rx and asks the driver for a kick") {
  Start();
  rx_driver_.Chain().Writable(1600).Publish();
  tap_.FailReads(EIO);

  CHECK(pair_->ProcessRx(64) == RxStop::kTapError);

  CHECK(counters_.rx_errors == 1);
  CHECK(rx_driver_.used_flags() == 0);  // VRING_USED_F_NO_NOTIFY cleared.
  tap_.FailReads(0);
  REQUIRE(tap_.Inject(Frame(20)));
  CHECK(pair_->ProcessRx(64) == RxStop::kTapEmpty);
  CHECK(rx_driver_.NextUsed().has_value());
}

TEST_CASE_METHOD(PairTest, "Rx stops at its budget") {
  Start();
  for (int i = 0; i < 3; ++i) rx_driver_.Chain().Writable(1600).Publish();
  for (uint8_t i = 0; i < 3; ++i) REQUIRE(tap_.Inject(Frame(20, i)));

  CHECK(pair_->ProcessRx(2) == RxStop::kBudget);
  CHECK(counters_.rx_frames == 2);
  CHECK(pair_->ProcessRx(2) == RxStop::kTapEmpty);
  CHECK(counters_.rx_frames == 3);
}

TEST_CASE_METHOD(PairTest, "An rx ring naming a descriptor past the table faults the pair") {
  Start();
  rx_driver_.PublishHead(kDriverQueueSize);
  REQUIRE(tap_.Inject(Frame(20)));

  CHECK(pair_->ProcessRx(64) == RxStop::kFault);
  CHECK(pair_->faulted());
  CHECK(counters_.ring_faults == 1);
}

}  // namespace
}  // namespace mini_vmm::virtio::net::testing
