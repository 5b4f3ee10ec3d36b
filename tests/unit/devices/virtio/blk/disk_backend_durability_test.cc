// Durability, which the file's contents cannot show: both backends run
// against a real file with RecordingIo at their system-call seam, and each
// test asserts the exact calls, flags and order up to the moment the
// request is reported complete. A no-op flush, a missing RWF_DSYNC or a
// sync that runs before (or alongside) the operation it covers all fail.
#include <fcntl.h>
#include <linux/virtio_blk.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "devices/virtio/blk/disk_backend.h"
#include "devices/virtio/blk/sync_backend.h"
#include "devices/virtio/blk/uring_backend.h"
#include "tests/unit/devices/virtio/blk/blk_test_util.h"
#include "tests/unit/devices/virtio/blk/recording_io.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::Bytes;
using testing::RecordingIo;
using testing::TempDisk;
using testing::WaitCompletionSignal;
using Log = std::vector<std::string>;

constexpr uint64_t kDiskBytes = 64 * 1024;

class DurabilityTest {
 protected:
  // Every test runs once per backend, and expects the same log from both.
  DurabilityTest() : kind_(GENERATE(BackendKind::kUring, BackendKind::kSync)) {}

  std::unique_ptr<DiskBackend> Backend(const TempDisk& disk) {
    fd_ = UniqueFd(::open(disk.path().c_str(), O_RDWR | O_CLOEXEC));
    REQUIRE(fd_.valid());
    if (kind_ == BackendKind::kSync)
      return std::move(SyncBackend::Create(fd_.get(), 16, io_).value());
    auto uring = UringBackend::Create(fd_.get(), 16, &io_);
    REQUIRE(uring.ok());
    return std::move(uring).value();
  }
  std::unique_ptr<DiskBackend> Backend() { return Backend(disk_); }

  // Runs `request` and logs "complete" once the backend reports it.
  uint8_t Run(DiskBackend& backend, DiskRequest request) {
    backend.Enqueue(0, std::move(request));
    backend.SubmitBatch();
    std::vector<DiskCompletion> done;
    while (done.empty()) {
      REQUIRE(WaitCompletionSignal(backend.completion_fd()));
      backend.Reap(done);
    }
    io_.Mark("complete");
    REQUIRE(done.size() == 1);
    return done[0].status;
  }

  DiskRequest Write(bool durable) {
    return DiskRequest{.op = DiskOp::kWrite,
                       .offset = 4096,
                       .length = data_.size(),
                       .iovecs = {iovec{data_.data(), data_.size()}},
                       .durable = durable};
  }

  static DiskRequest Ranged(DiskOp op, bool durable) {
    return DiskRequest{.op = op, .ranges = {{.offset = 8192, .length = 4096}}, .durable = durable};
  }

  BackendKind kind_;
  TempDisk disk_{kDiskBytes, 0x11};
  UniqueFd fd_;
  RecordingIo io_;
  std::vector<uint8_t> data_ = Bytes(1024, 0x5a);
};

TEST_CASE_METHOD(DurabilityTest, "A durable write carries RWF_DSYNC") {
  auto backend = Backend();

  CHECK(Run(*backend, Write(/*durable=*/true)) == VIRTIO_BLK_S_OK);

  CHECK(io_.log() == Log{"write dsync", "write dsync done", "complete"});
  CHECK(disk_.Read(4096, 1024) == data_);
}

TEST_CASE_METHOD(DurabilityTest, "A write under a negotiated FLUSH is not synced") {
  auto backend = Backend();

  CHECK(Run(*backend, Write(/*durable=*/false)) == VIRTIO_BLK_S_OK);

  CHECK(io_.log() == Log{"write", "write done", "complete"});
}

TEST_CASE_METHOD(DurabilityTest, "A FLUSH syncs after the writes it covers, then completes") {
  auto backend = Backend();
  REQUIRE(Run(*backend, Write(/*durable=*/false)) == VIRTIO_BLK_S_OK);

  CHECK(Run(*backend, DiskRequest{.op = DiskOp::kFlush}) == VIRTIO_BLK_S_OK);

  CHECK(io_.log() == Log{"write", "write done", "complete",  //
                         "fdatasync", "fdatasync done", "complete"});
}

TEST_CASE_METHOD(DurabilityTest,
                 "A durable WRITE_ZEROES is synced after its range, then completes") {
  auto backend = Backend();

  CHECK(Run(*backend, Ranged(DiskOp::kWriteZeroes, /*durable=*/true)) == VIRTIO_BLK_S_OK);

  CHECK(io_.log() == Log{"fallocate", "fallocate done", "fdatasync", "fdatasync done", "complete"});
  CHECK(disk_.Read(8192, 4096) == Bytes(4096, 0));
}

TEST_CASE_METHOD(DurabilityTest, "A durable DISCARD is synced after its range, then completes") {
  auto backend = Backend();

  CHECK(Run(*backend, Ranged(DiskOp::kDiscard, /*durable=*/true)) == VIRTIO_BLK_S_OK);

  CHECK(io_.log() == Log{"fallocate", "fallocate done", "fdatasync", "fdatasync done", "complete"});
}

TEST_CASE_METHOD(DurabilityTest, "A DISCARD under a negotiated FLUSH is not synced") {
  auto backend = Backend();

  CHECK(Run(*backend, Ranged(DiskOp::kDiscard, /*durable=*/false)) == VIRTIO_BLK_S_OK);

  CHECK(io_.log() == Log{"fallocate", "fallocate done", "complete"});
}

TEST_CASE_METHOD(DurabilityTest, "A durable WRITE_ZEROES retried as a hole is synced once, last") {
  // tmpfs punches holes but has no FALLOC_FL_ZERO_RANGE.
  TempDisk shm(kDiskBytes, 0x11, "/dev/shm");
  auto backend = Backend(shm);

  CHECK(Run(*backend, Ranged(DiskOp::kWriteZeroes, /*durable=*/true)) == VIRTIO_BLK_S_OK);

  CHECK(io_.log() == Log{"fallocate", "fallocate done", "fallocate", "fallocate done", "fdatasync",
                         "fdatasync done", "complete"});
  CHECK(shm.Read(8192, 4096) == Bytes(4096, 0));
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
