// BlockWorker, through the device that owns it: the bound on requests in
// flight, and what a reset or a queue fault does with them. A ManualBackend
// holds every request until the test completes it.
#include "devices/virtio/blk/block_worker.h"

#include <catch2/catch.hpp>

#include "devices/virtio/blk/block_device.h"
#include "tests/unit/devices/virtio/blk/device_fixture.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::Bytes;
using testing::DeviceTest;
using testing::Eventually;
using testing::Header;
using testing::kDriverFeatures;
using testing::kDriverQueueSize;
using testing::ManualBackend;
using testing::VirtQueueDriver;

class LifecycleTest : public DeviceTest {
 protected:
  LifecycleTest() {
    auto backend = std::make_unique<ManualBackend>();
    backend_ = backend.get();
    MakeDevice(false, BackendKind::kUring, std::move(backend));
  }

  // A FLUSH in an indirect table: one ring descriptor per request, so a
  // whole queue's worth fits in the descriptor table.
  void PublishFlushes(VirtQueueDriver& driver, int count) {
    for (int i = 0; i < count; ++i) {
      driver.Chain().Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Indirect().Publish();
    }
  }

  ManualBackend* backend_;
};

TEST_CASE_METHOD(LifecycleTest, "No more requests are in flight than the queue has entries") {
  Activate();
  PublishFlushes(driver_, kDriverQueueSize);
  Kick();
  REQUIRE(Eventually([&] { return device_->counters().kicks == 1; }));
  REQUIRE(backend_->enqueued() == kDriverQueueSize);
  // A hostile driver republishes a head it has not got back.
  driver_.PublishHead(0);
  Kick();
  // The worker has handled that kick to the end: whatever it would have
  // enqueued for it, it has.
  REQUIRE(Eventually([&] { return device_->counters().kicks == 2; }));
  CHECK(backend_->enqueued() == kDriverQueueSize);

  backend_->CompleteOldest(VIRTIO_BLK_S_OK);

  REQUIRE(Eventually([&] { return backend_->enqueued() == kDriverQueueSize + 1; }));
  CHECK(driver_.used_idx() == 1);
  CHECK(needs_reset_ == 0);
}

// The worker sizes its tables from the queue: a guest-written size on a
// queue that was never validated would pick the allocation (0xffff entries
// is about 14 MiB per disk, per activation).
TEST_CASE_METHOD(LifecycleTest, "A request queue that is not ready starts no worker") {
  queue_.set_size(0xffff);  // QueueNum written, QueueReady never set.
  ActivateContext context{
      mem_, std::span<Queue>(&queue_, 1), events_, interrupt_, kDriverFeatures, [this] {
        needs_reset_.fetch_add(1);
      }};

  REQUIRE(device_->Activate(context).ok());

  CHECK_FALSE(device_->serving());
  CHECK(needs_reset_ == 0);
}

TEST_CASE_METHOD(LifecycleTest, "A completion after the backend's verdict writes its status") {
  Activate();
  auto chain = driver_.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_IN, 0)).Writable(512).Writable(1).Publish();
  Kick();
  REQUIRE(Eventually([&] { return backend_->enqueued() == 1; }));

  backend_->CompleteOldest(VIRTIO_BLK_S_IOERR);
  const auto used = WaitUsed();

  CHECK(used.len == 1);
  CHECK(StatusAt(chain.buffer(2)) == VIRTIO_BLK_S_IOERR);
  CHECK(device_->counters().io_errors == 1);
}

TEST_CASE_METHOD(LifecycleTest, "Reset drains and forgets requests in flight") {
  Activate();
  PublishFlushes(driver_, 3);
  Kick();
  REQUIRE(Eventually([&] { return backend_->enqueued() == 3; }));

  // In a debug build a dropped chain aborts: getting past this line is the
  // test that the in-flight chains were abandoned, not dropped.
  ResetDevice();

  CHECK(backend_->drains() == 1);
  CHECK(backend_->held() == 0);
  CHECK(driver_.used_idx() == 0);
}

TEST_CASE_METHOD(LifecycleTest, "After a reset the device serves a new session") {
  Activate();
  PublishFlushes(driver_, 2);
  Kick();
  REQUIRE(Eventually([&] { return backend_->enqueued() == 2; }));
  ResetDevice();
  // The driver starts over with fresh rings.
  VirtQueueDriver second(mem_, GuestAddress(8 << 20), kDriverQueueSize);
  Activate(second);
  auto chain = second.Chain();
  chain.Readable(Header(VIRTIO_BLK_T_FLUSH, 0)).Writable(1).Publish();
  Kick();
  REQUIRE(Eventually([&] { return backend_->enqueued() == 3; }));

  backend_->CompleteOldest(VIRTIO_BLK_S_OK);
  const auto used = WaitUsed(second);

  CHECK(used.len == 1);
  CHECK(second.ReadBytes(chain.buffer(1), 1)[0] == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(LifecycleTest, "Completions after a queue fault are abandoned, not used") {
  Activate();
  PublishFlushes(driver_, 1);
  Kick();
  REQUIRE(Eventually([&] { return backend_->enqueued() == 1; }));
  driver_.Chain().Readable(Header(VIRTIO_BLK_T_IN, 0)).Raw(uint64_t{1} << 40, 512, 0).Publish();
  Kick();
  REQUIRE(Eventually([&] { return needs_reset_ == 1; }));

  backend_->CompleteOldest(VIRTIO_BLK_S_IOERR);
  // Counted as it is handled, so this waits for the I/O thread to see it.
  REQUIRE(Eventually([&] { return device_->counters().io_errors == 1; }));
  ResetDevice();

  CHECK(driver_.used_idx() == 0);
  CHECK(needs_reset_ == 1);
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
