// End to end: a fake driver publishes requests, the device's I/O thread
// serves them against a temporary disk, the test reads the used ring, the
// status bytes, the file and the interrupt count.
#include <sched.h>

#include <catch2/catch.hpp>

#include "devices/virtio/blk/block_device.h"
#include "tests/support/thread_lookup.h"
#include "tests/unit/devices/virtio/blk/device_fixture.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::Bytes;
using testing::ChainBuilder;
using testing::DeviceTest;
using testing::Eventually;
using testing::Header;
using testing::kDiskFill;
using testing::kDriverFeatures;
using testing::kEventIdx;
using testing::ManualBackend;
using testing::Segment;
using testing::Segments;
using testing::VirtQueueDriver;

TEST_CASE_METHOD(DeviceTest, "A write reaches the file and completes with OK") {
  MakeDevice();
  Activate();
  auto chain = driver_.Chain();
  const uint16_t head =
      chain.Readable(Header(VIRTIO_BLK_T_OUT, 2)).Readable(Bytes(1024, 0x5a)).Writable(1).Publish();

  Kick();
  const auto used = WaitUsed();

  CHECK(used.id == head);
  CHECK(used.len == 1);
  CHECK(StatusAt(chain.buffer(2)) == VIRTIO_BLK_S_OK);
  CHECK(disk_.Read(2 * 512, 1024) == Bytes(1024, 0x5a));
  CHECK(disk_.Read(3 * 512 + 512, 1) == Bytes(1, kDiskFill));
}

TEST_CASE_METHOD(DeviceTest, "A read returns the file's bytes") {
  MakeDevice();
  Activate();
  auto chain = driver_.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_IN, 5)).Writable(512).Writable(1).Publish();

  Kick();
  const auto used = WaitUsed();

  CHECK(used.len == 513);
  CHECK(StatusAt(chain.buffer(2)) == VIRTIO_BLK_S_OK);
  CHECK(driver_.ReadBytes(chain.buffer(1), 512) == Bytes(512, kDiskFill));
}

TEST_CASE_METHOD(DeviceTest, "The synchronous backend serves requests the same way") {
  MakeDevice(false, BackendKind::kSync);
  Activate();
  auto chain = driver_.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_IN, 0)).Writable(1024).Writable(1).Publish();

  Kick();
  const auto used = WaitUsed();

  CHECK(used.len == 1025);
  CHECK(driver_.ReadBytes(chain.buffer(1), 1024) == Bytes(1024, kDiskFill));
}

TEST_CASE_METHOD(DeviceTest, "GET_ID returns the serial") {
  MakeDevice();
  Activate();
  auto chain = driver_.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_GET_ID, 0))
      .Writable(VIRTIO_BLK_ID_BYTES)
      .Writable(1)
      .Publish();

  Kick();
  const auto used = WaitUsed();

  CHECK(used.len == VIRTIO_BLK_ID_BYTES + 1);
  const auto id = driver_.ReadBytes(chain.buffer(1), VIRTIO_BLK_ID_BYTES);
  CHECK(std::string(id.begin(), id.begin() + 15) == "blk-test-serial");
  CHECK(id[15] == 0);
  CHECK(StatusAt(chain.buffer(2)) == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(DeviceTest, "FLUSH completes with OK") {
  MakeDevice();
  Activate();
  auto chain = driver_.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();

  Kick();
  const auto used = WaitUsed();

  CHECK(used.len == 1);
  CHECK(StatusAt(chain.buffer(1)) == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(DeviceTest, "The I/O thread that serves requests runs SCHED_BATCH") {
  MakeDevice();
  Activate();
  auto chain = driver_.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();

  Kick();
  WaitUsed();  // Served: the thread is past its start-up.

  CHECK(mini_vmm::testing::PolicyOfThreadNamed("virtio-blk-test") == SCHED_BATCH);
}

TEST_CASE_METHOD(DeviceTest, "DISCARD and WRITE_ZEROES leave zeros in the file") {
  MakeDevice();
  Activate();
  auto discard = driver_.Chain();
  discard.Readable(Header(VIRTIO_BLK_T_DISCARD, 0)).Readable(Segments({Segment(8, 8)})).Writable(1);
  discard.Publish();
  auto zeroes = driver_.Chain();
  zeroes.Readable(Header(VIRTIO_BLK_T_WRITE_ZEROES, 0)).Readable(Segments({Segment(32, 1)}));
  zeroes.Writable(1).Publish();

  Kick();
  WaitUsed();
  WaitUsed();

  CHECK(StatusAt(discard.buffer(2)) == VIRTIO_BLK_S_OK);
  CHECK(StatusAt(zeroes.buffer(2)) == VIRTIO_BLK_S_OK);
  CHECK(disk_.Read(8 * 512, 8 * 512) == Bytes(8 * 512, 0));
  CHECK(disk_.Read(32 * 512, 512) == Bytes(512, 0));
  CHECK(disk_.Read(33 * 512, 1) == Bytes(1, kDiskFill));
}

TEST_CASE_METHOD(DeviceTest, "A read-only disk refuses writes and leaves the file alone") {
  MakeDevice(/*read_only=*/true);
  Activate(kDriverFeatures & ~(1ull << VIRTIO_BLK_F_DISCARD) &
           ~(1ull << VIRTIO_BLK_F_WRITE_ZEROES));
  auto chain = driver_.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_OUT, 0)).Readable(Bytes(512, 0x5a)).Writable(1).Publish();

  Kick();
  const auto used = WaitUsed();

  CHECK(used.len == 1);
  CHECK(StatusAt(chain.buffer(2)) == VIRTIO_BLK_S_IOERR);
  CHECK(disk_.Read(0, 512) == Bytes(512, kDiskFill));
  CHECK(device_->counters().fault(RequestFault::kReadOnly) == 1);
}

TEST_CASE_METHOD(DeviceTest, "A malformed request gets IOERR, is counted, and the device goes on") {
  MakeDevice();
  Activate();
  auto bad = driver_.Chain();
  bad.Readable(Bytes(8, 0)).Writable(1).Publish();
  auto good = driver_.Chain();
  good.Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();

  Kick();
  const auto first = WaitUsed();
  WaitUsed();

  CHECK(first.len == 1);
  CHECK(StatusAt(bad.buffer(1)) == VIRTIO_BLK_S_IOERR);
  CHECK(StatusAt(good.buffer(1)) == VIRTIO_BLK_S_OK);
  CHECK(device_->counters().fault(RequestFault::kShortHeader) == 1);
  CHECK(device_->counters().requests == 2);
  CHECK(needs_reset_ == 0);
}

TEST_CASE_METHOD(DeviceTest, "A descriptor outside RAM asks for a reset and stops the queue") {
  MakeDevice();
  Activate();
  driver_.Chain()
      .Readable(Header(VIRTIO_BLK_T_IN, 0))
      .Raw(uint64_t{1} << 40, 512, VRING_DESC_F_WRITE)
      .Writable(1)
      .Publish();

  Kick();
  REQUIRE(Eventually([&] { return needs_reset_ == 1; }));
  driver_.Chain().Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();
  Kick();
  ResetDevice();  // Joins the I/O thread: everything it was going to do is done.

  CHECK(needs_reset_ == 1);
  CHECK(device_->counters().ring_faults == 1);
  CHECK(driver_.used_idx() == 0);
  CHECK(interrupt_.queue_notifications == 0);
}

TEST_CASE_METHOD(DeviceTest, "Requests served in one batch raise one interrupt") {
  // The synchronous backend completes all three before the loop reaps them.
  MakeDevice(false, BackendKind::kSync);
  Activate();
  driver_.Chain()
      .Readable(Header(VIRTIO_BLK_T_OUT, 0))
      .Readable(Bytes(512, 1))
      .Writable(1)
      .Publish();
  driver_.Chain()
      .Readable(Header(VIRTIO_BLK_T_OUT, 1))
      .Readable(Bytes(512, 2))
      .Writable(1)
      .Publish();
  driver_.Chain()
      .Readable(Header(VIRTIO_BLK_T_OUT, 2))
      .Readable(Bytes(512, 3))
      .Writable(1)
      .Publish();

  Kick();
  REQUIRE(Eventually([&] { return driver_.used_idx() == 3; }));
  ResetDevice();

  CHECK(interrupt_.queue_notifications == 1);
}

TEST_CASE_METHOD(DeviceTest, "VRING_AVAIL_F_NO_INTERRUPT suppresses the interrupt") {
  MakeDevice();
  Activate();
  driver_.SetAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
  driver_.Chain().Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();

  Kick();
  WaitUsed();
  ResetDevice();

  CHECK(interrupt_.queue_notifications == 0);
}

TEST_CASE_METHOD(DeviceTest, "With EVENT_IDX the driver is interrupted only past used_event") {
  MakeDevice();
  Activate(kDriverFeatures | kEventIdx);
  driver_.Chain().Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();
  Kick();
  WaitUsed();
  REQUIRE(Eventually([&] { return interrupt_.queue_notifications == 1; }));

  SECTION("used_event ahead of the used index: no interrupt") {
    driver_.SetUsedEvent(10);
    driver_.Chain().Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();
    Kick();
    WaitUsed();
    ResetDevice();

    CHECK(interrupt_.queue_notifications == 1);
  }
  SECTION("used_event reached: an interrupt") {
    driver_.SetUsedEvent(1);
    driver_.Chain().Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();
    Kick();
    WaitUsed();
    ResetDevice();

    CHECK(interrupt_.queue_notifications == 2);
  }
}

TEST_CASE_METHOD(DeviceTest, "With EVENT_IDX the device asks to be kicked for the next buffer") {
  MakeDevice();
  Activate(kDriverFeatures | kEventIdx);
  driver_.Chain().Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();

  Kick();
  WaitUsed();
  ResetDevice();

  CHECK(driver_.avail_event() == 1);
}

// Linux's largest request: seg_max data segments plus header and status, in
// one indirect table (Linux goes indirect whenever it can).
ChainBuilder& LargestRead(ChainBuilder& chain) {
  chain.Readable(Header(VIRTIO_BLK_T_IN, 0));
  for (uint32_t i = 0; i < BlockDevice::kQueueSize - 2; ++i) chain.Writable(512);
  return chain.Writable(1).Indirect();
}

// Linux's largest request: header, seg_max data segments and the status in
// one indirect table of queue-size entries.
TEST_CASE_METHOD(DeviceTest, "A request with seg_max data segments completes") {
  MakeDevice();
  VirtQueueDriver driver(mem_, GuestAddress(8 << 20), BlockDevice::kQueueSize);
  Activate(driver);
  auto chain = driver.Chain();
  LargestRead(chain).Publish();

  Kick();
  REQUIRE(Eventually([&] { return driver.used_idx() == 1 || needs_reset_ > 0; }));

  CHECK(needs_reset_ == 0);
  CHECK(driver.used_idx() == 1);
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
