// Both backends against a temporary file, through the DiskBackend interface
// the device uses: Enqueue, SubmitBatch, wait for the eventfd, Reap.
#include "devices/virtio/blk/disk_backend.h"

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/unit/devices/virtio/blk/blk_test_util.h"
#include "vmm/base/unique_fd.h"

namespace mini_vmm::virtio::blk {
namespace {

using testing::Bytes;
using testing::TempDisk;
using testing::WaitCompletionSignal;

constexpr uint64_t kDiskBytes = 64 * 1024;
constexpr uint8_t kFill = 0x11;

class BackendTest {
 protected:
  // Every test runs once per backend.
  BackendTest() : kind_(GENERATE(BackendKind::kUring, BackendKind::kSync)) {}

  std::unique_ptr<DiskBackend> Backend(int flags = O_RDWR) {
    fd_ = UniqueFd(::open(disk_.path().c_str(), flags | O_CLOEXEC));
    REQUIRE(fd_.valid());
    auto backend = CreateDiskBackend(fd_.get(), 16, kind_);
    REQUIRE(backend.ok());
    return std::move(backend).value();
  }

  // Waits for `count` completions.
  static std::vector<DiskCompletion> Wait(DiskBackend& backend, size_t count) {
    std::vector<DiskCompletion> done;
    while (done.size() < count) {
      REQUIRE(WaitCompletionSignal(backend.completion_fd()));
      backend.Reap(done);
    }
    return done;
  }

  static uint8_t Run(DiskBackend& backend, DiskRequest request) {
    backend.Enqueue(3, std::move(request));
    backend.SubmitBatch();
    const auto done = Wait(backend, 1);
    REQUIRE(done.size() == 1);
    CHECK(done[0].tag == 3);
    return done[0].status;
  }

  static DiskRequest ReadWrite(DiskOp op, uint64_t offset, std::vector<uint8_t>& buffer) {
    return DiskRequest{.op = op,
                       .offset = offset,
                       .length = buffer.size(),
                       .iovecs = {iovec{buffer.data(), buffer.size()}}};
  }

  static DiskRequest Ranged(DiskOp op, std::vector<DiskRange> ranges) {
    return DiskRequest{.op = op, .ranges = std::move(ranges)};
  }

  BackendKind kind_;
  TempDisk disk_{kDiskBytes, kFill};
  UniqueFd fd_;
};

TEST_CASE_METHOD(BackendTest, "A write lands in the file and reads back") {
  auto backend = Backend();
  std::vector<uint8_t> out = Bytes(1024, 0x5a);
  std::vector<uint8_t> in(1024);

  CHECK(Run(*backend, ReadWrite(DiskOp::kWrite, 4096, out)) == VIRTIO_BLK_S_OK);
  CHECK(Run(*backend, ReadWrite(DiskOp::kRead, 4096, in)) == VIRTIO_BLK_S_OK);

  CHECK(in == out);
  CHECK(disk_.Read(4096, 1024) == out);
  CHECK(disk_.Read(4096 + 1024, 1) == Bytes(1, kFill));
}

// The I/O thread watches completion_fd edge-triggered and never reads it:
// each later completion must still bring an event.
TEST_CASE_METHOD(BackendTest, "Every completion signals an edge-triggered watch that never reads") {
  auto backend = Backend();
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event watch{.events = EPOLLIN | EPOLLET, .data = {}};
  REQUIRE(::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, backend->completion_fd(), &watch) == 0);
  std::vector<uint8_t> in(512);

  for (uint16_t tag = 0; tag < 3; ++tag) {
    backend->Enqueue(tag, ReadWrite(DiskOp::kRead, 0, in));
    backend->SubmitBatch();
    std::vector<DiskCompletion> done;
    while (done.empty()) {
      epoll_event event{};
      REQUIRE(::epoll_wait(epoll.get(), &event, 1, 5000) == 1);
      backend->Reap(done);
    }
    REQUIRE(done.size() == 1);
    CHECK(done[0].tag == tag);
    CHECK(done[0].status == VIRTIO_BLK_S_OK);
  }
}

TEST_CASE_METHOD(BackendTest, "A read scatters into several iovecs") {
  auto backend = Backend();
  std::vector<uint8_t> a(512), b(1024);
  DiskRequest request{.op = DiskOp::kRead,
                      .offset = 0,
                      .length = 1536,
                      .iovecs = {iovec{a.data(), a.size()}, iovec{b.data(), b.size()}}};

  CHECK(Run(*backend, std::move(request)) == VIRTIO_BLK_S_OK);

  CHECK(a == Bytes(512, kFill));
  CHECK(b == Bytes(1024, kFill));
}

TEST_CASE_METHOD(BackendTest, "A read past the end of the file is short, so IOERR") {
  auto backend = Backend();
  std::vector<uint8_t> in(1024);

  CHECK(Run(*backend, ReadWrite(DiskOp::kRead, kDiskBytes - 512, in)) == VIRTIO_BLK_S_IOERR);
}

TEST_CASE_METHOD(BackendTest, "A write to a file opened read-only gets IOERR") {
  auto backend = Backend(O_RDONLY);
  std::vector<uint8_t> out = Bytes(512, 1);

  CHECK(Run(*backend, ReadWrite(DiskOp::kWrite, 0, out)) == VIRTIO_BLK_S_IOERR);

  CHECK(disk_.Read(0, 512) == Bytes(512, kFill));
}

TEST_CASE_METHOD(BackendTest, "A durable write succeeds") {
  auto backend = Backend();
  std::vector<uint8_t> out = Bytes(512, 7);
  DiskRequest request = ReadWrite(DiskOp::kWrite, 0, out);
  request.durable = true;

  CHECK(Run(*backend, std::move(request)) == VIRTIO_BLK_S_OK);

  CHECK(disk_.Read(0, 512) == out);
}

TEST_CASE_METHOD(BackendTest, "FLUSH succeeds") {
  auto backend = Backend();

  CHECK(Run(*backend, DiskRequest{.op = DiskOp::kFlush}) == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(BackendTest, "DISCARD leaves zeros and the file size alone") {
  auto backend = Backend();

  CHECK(Run(*backend, Ranged(DiskOp::kDiscard, {{.offset = 8192, .length = 8192}})) ==
        VIRTIO_BLK_S_OK);

  CHECK(disk_.Read(8192, 8192) == Bytes(8192, 0));
  CHECK(disk_.Read(8192 - 1, 1) == Bytes(1, kFill));
  CHECK(disk_.Size() == kDiskBytes);
}

TEST_CASE_METHOD(BackendTest, "WRITE_ZEROES zeroes every range, unmapped or not") {
  auto backend = Backend();

  CHECK(Run(*backend,
            Ranged(DiskOp::kWriteZeroes, {{.offset = 0, .length = 4096},
                                          {.offset = 16384, .length = 512, .unmap = true}})) ==
        VIRTIO_BLK_S_OK);

  CHECK(disk_.Read(0, 4096) == Bytes(4096, 0));
  CHECK(disk_.Read(4096, 1) == Bytes(1, kFill));
  CHECK(disk_.Read(16384, 512) == Bytes(512, 0));
  CHECK(disk_.Size() == kDiskBytes);
}

TEST_CASE_METHOD(BackendTest, "A request with no ranges completes at once") {
  auto backend = Backend();

  CHECK(Run(*backend, Ranged(DiskOp::kDiscard, {})) == VIRTIO_BLK_S_OK);
}

TEST_CASE_METHOD(BackendTest, "Requests in flight together complete once each") {
  auto backend = Backend();
  std::vector<uint8_t> a = Bytes(512, 1), b = Bytes(512, 2);
  backend->Enqueue(0, ReadWrite(DiskOp::kWrite, 0, a));
  backend->Enqueue(1, ReadWrite(DiskOp::kWrite, 512, b));
  backend->Enqueue(2, DiskRequest{.op = DiskOp::kFlush});
  backend->SubmitBatch();

  auto done = Wait(*backend, 3);

  std::vector<uint8_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  std::sort(done.begin(), done.end(), [](auto& x, auto& y) { return x.tag < y.tag; });
  REQUIRE(done.size() == 3);
  CHECK(done[0].tag == 0);
  CHECK(done[1].tag == 1);
  CHECK(done[2].tag == 2);
  CHECK(disk_.Read(0, 1024) == both);
}

TEST_CASE_METHOD(BackendTest, "More range operations than the completion ring holds all complete") {
  // 16 requests of 16 ranges: 256 operations in flight, where io_uring's
  // completion ring has 32 entries (twice the 16 requests): the rest must
  // wait in the kernel's overflow list and still be reaped.
  auto backend = Backend();
  constexpr uint64_t kRangeBytes = kDiskBytes / (16 * kMaxRanges);
  for (uint16_t tag = 0; tag < 16; ++tag) {
    std::vector<DiskRange> ranges;
    for (uint64_t i = 0; i < kMaxRanges; ++i) {
      ranges.push_back({.offset = (tag * kMaxRanges + i) * kRangeBytes, .length = kRangeBytes});
    }
    backend->Enqueue(tag, Ranged(DiskOp::kWriteZeroes, std::move(ranges)));
  }
  backend->SubmitBatch();

  auto done = Wait(*backend, 16);

  REQUIRE(done.size() == 16);
  CHECK(std::all_of(done.begin(), done.end(),
                    [](const DiskCompletion& c) { return c.status == VIRTIO_BLK_S_OK; }));
  CHECK(disk_.Read(0, kDiskBytes) == Bytes(kDiskBytes, 0));
}

TEST_CASE_METHOD(BackendTest, "Drain finishes what is in flight and reports none of it") {
  auto backend = Backend();
  std::vector<uint8_t> a = Bytes(512, 1);
  backend->Enqueue(0, ReadWrite(DiskOp::kWrite, 0, a));
  backend->Enqueue(1, DiskRequest{.op = DiskOp::kFlush});
  backend->SubmitBatch();

  backend->Drain();

  std::vector<DiskCompletion> done;
  backend->Reap(done);
  CHECK(done.empty());
  CHECK(disk_.Read(0, 512) == a);
}

TEST_CASE("WRITE_ZEROES falls back to a hole where ZERO_RANGE is unsupported") {
  // tmpfs punches holes but has no FALLOC_FL_ZERO_RANGE.
  const auto kind = GENERATE(BackendKind::kUring, BackendKind::kSync);
  TempDisk disk(kDiskBytes, kFill, "/dev/shm");
  UniqueFd fd(::open(disk.path().c_str(), O_RDWR | O_CLOEXEC));
  auto backend = CreateDiskBackend(fd.get(), 4, kind);
  REQUIRE(backend.ok());

  (*backend)->Enqueue(
      0, DiskRequest{.op = DiskOp::kWriteZeroes, .ranges = {{.offset = 4096, .length = 4096}}});
  (*backend)->SubmitBatch();
  std::vector<DiskCompletion> done;
  while (done.empty()) {
    REQUIRE(WaitCompletionSignal((*backend)->completion_fd()));
    (*backend)->Reap(done);
  }

  CHECK(done[0].status == VIRTIO_BLK_S_OK);
  CHECK(disk.Read(4096, 4096) == Bytes(4096, 0));
  CHECK(disk.Size() == kDiskBytes);
}

}  // namespace
}  // namespace mini_vmm::virtio::blk
