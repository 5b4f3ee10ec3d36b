// The transmit path: chains become frames on the tap whatever the
// descriptor layout; each malformed shape is dropped, returned and counted.
#include <catch2/catch.hpp>

#include "devices/virtio/virtio_ring.h"
#include "tests/unit/devices/virtio/net/pair_fixture.h"

namespace mini_vmm::virtio::net::testing {
namespace {

TEST_CASE_METHOD(PairTest, "A header split across three descriptors reaches the tap whole") {
  Start();
  const std::vector<uint8_t> frame = Frame(100);
  tx_driver_.Chain()
      .Readable(Slice(frame, 0, 3))
      .Readable(Slice(frame, 3, 20))  // The rest of the header and 11 bytes of payload.
      .Readable(Slice(frame, 23, frame.size() - 23))
      .Publish();

  CHECK_FALSE(pair_->ProcessTx(64));

  CHECK(tap_.Sent() == frame);
  const auto used = tx_driver_.NextUsed();
  REQUIRE(used.has_value());
  CHECK(used->len == 0);
  CHECK(counters_.tx_frames == 1);
  CHECK(interrupt_.count(kTxQueue) == 1);
}

TEST_CASE_METHOD(PairTest, "A frame of only a header is sent") {
  Start();
  const std::vector<uint8_t> frame = Frame(0);
  tx_driver_.Chain().Readable(frame).Publish();

  pair_->ProcessTx(64);

  CHECK(tap_.Sent() == frame);
}

TEST_CASE_METHOD(PairTest, "Frames in an indirect table are sent") {
  Start();
  const std::vector<uint8_t> frame = Frame(40, 7);
  tx_driver_.Chain()
      .Readable(Slice(frame, 0, 5))
      .Readable(Slice(frame, 5, 47))
      .Indirect()
      .Publish();

  pair_->ProcessTx(64);

  CHECK(tap_.Sent() == frame);
}

// --- Malformed chains: dropped, returned with used len 0, counted ----------

TEST_CASE_METHOD(PairTest, "A tx chain with a writable descriptor is dropped") {
  Start();
  tx_driver_.Chain().Readable(Frame(20)).Writable(16).Publish();

  pair_->ProcessTx(64);

  CHECK_FALSE(tap_.Sent().has_value());
  const auto used = tx_driver_.NextUsed();
  REQUIRE(used.has_value());
  CHECK(used->len == 0);
  CHECK(counters_.fault(TxFault::kWritableBuffer) == 1);
  CHECK(counters_.tx_frames == 0);
}

TEST_CASE_METHOD(PairTest, "A tx chain shorter than the header is dropped") {
  Start();
  tx_driver_.Chain().Readable(5).Readable(6).Publish();  // 11 < 12 bytes.

  pair_->ProcessTx(64);

  CHECK_FALSE(tap_.Sent().has_value());
  CHECK(tx_driver_.NextUsed().has_value());
  CHECK(counters_.fault(TxFault::kShorterThanHeader) == 1);
}

TEST_CASE_METHOD(PairTest, "An empty tx chain is dropped") {
  Start();
  tx_driver_.Chain().Readable(0).Publish();

  pair_->ProcessTx(64);

  CHECK_FALSE(tap_.Sent().has_value());
  CHECK(counters_.fault(TxFault::kShorterThanHeader) == 1);
}

TEST_CASE_METHOD(PairTest, "A tx chain longer than the largest frame is dropped") {
  Start();
  tx_driver_.Chain()
      .Readable(static_cast<uint32_t>(kHeaderBytes))
      .Readable(static_cast<uint32_t>(kMaxFrameBytes + 1))
      .Publish();

  pair_->ProcessTx(64);

  CHECK_FALSE(tap_.Sent().has_value());
  CHECK(tx_driver_.NextUsed().has_value());
  CHECK(counters_.fault(TxFault::kTooLong) == 1);
}

TEST_CASE_METHOD(PairTest, "A tx chain of exactly the largest frame is sent") {
  Start();
  tx_driver_.Chain()
      .Readable(static_cast<uint32_t>(kHeaderBytes))
      .Readable(static_cast<uint32_t>(kMaxFrameBytes))
      .Publish();

  pair_->ProcessTx(64);

  const auto sent = tap_.Sent();
  REQUIRE(sent.has_value());
  CHECK(sent->size() == kHeaderBytes + kMaxFrameBytes);
}

TEST_CASE_METHOD(PairTest, "A frame the tap refuses is counted and its chain returned") {
  Start();
  tap_.FailWrites(EINVAL);
  tx_driver_.Chain().Readable(Frame(10)).Publish();

  pair_->ProcessTx(64);

  CHECK(tx_driver_.NextUsed().has_value());
  CHECK(counters_.tx_errors == 1);
  CHECK(counters_.tx_frames == 0);
}

TEST_CASE_METHOD(PairTest, "Tx stops at its budget and says more is waiting") {
  Start();
  for (uint8_t i = 0; i < 3; ++i) tx_driver_.Chain().Readable(Frame(10, i)).Publish();

  CHECK(pair_->ProcessTx(2));
  CHECK(tap_.Sent() == Frame(10, 0));
  CHECK(tap_.Sent() == Frame(10, 1));
  CHECK_FALSE(tap_.Sent().has_value());

  CHECK_FALSE(pair_->ProcessTx(2));
  CHECK(tap_.Sent() == Frame(10, 2));
}

TEST_CASE_METHOD(PairTest, "A tx ring naming a descriptor past the table faults the pair") {
  Start();
  tx_driver_.PublishHead(kDriverQueueSize);

  pair_->ProcessTx(64);

  CHECK(pair_->faulted());
  CHECK(counters_.ring_faults == 1);
  CHECK(interrupt_.count(kTxQueue) == 0);
}

TEST_CASE_METHOD(PairTest, "Tx without NO_INTERRUPT from the driver interrupts once per batch") {
  Start();
  tx_driver_.Chain().Readable(Frame(10)).Publish();
  tx_driver_.Chain().Readable(Frame(10)).Publish();

  pair_->ProcessTx(64);

  CHECK(interrupt_.count(kTxQueue) == 1);
}

TEST_CASE_METHOD(PairTest, "Tx with VRING_AVAIL_F_NO_INTERRUPT does not interrupt") {
  Start();
  tx_driver_.SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  tx_driver_.Chain().Readable(Frame(10)).Publish();

  pair_->ProcessTx(64);

  CHECK(tx_driver_.NextUsed().has_value());
  CHECK(interrupt_.count(kTxQueue) == 0);
}

}  // namespace
}  // namespace mini_vmm::virtio::net::testing
