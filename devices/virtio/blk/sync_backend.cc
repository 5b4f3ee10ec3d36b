#include "devices/virtio/blk/sync_backend.h"

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <sys/uio.h>

#include <cerrno>

namespace mini_vmm::virtio::blk {
namespace {

template <typename Syscall>
int64_t RetryOnEintr(Syscall call) {
  int64_t rc;
  do {
    rc = call();
  } while (rc < 0 && errno == EINTR);
  return rc;
}

// A short transfer is an error too: the guest asked for every byte.
uint8_t ReadWrite(FileIo& io, int fd, const DiskRequest& request) {
  const int iovcnt = static_cast<int>(request.iovecs.size());
  const auto offset = static_cast<off_t>(request.offset);
  const int64_t n = RetryOnEintr([&]() -> int64_t {
    if (request.op == DiskOp::kRead)
      return io.Preadv2(fd, request.iovecs.data(), iovcnt, offset, 0);
    const int flags = request.durable ? RWF_DSYNC : 0;
    return io.Pwritev2(fd, request.iovecs.data(), iovcnt, offset, flags);
  });
  return n >= 0 && static_cast<uint64_t>(n) == request.length ? VIRTIO_BLK_S_OK
                                                              : VIRTIO_BLK_S_IOERR;
}

uint8_t Sync(FileIo& io, int fd) {
  return RetryOnEintr([&]() -> int64_t { return io.Fdatasync(fd); }) == 0 ? VIRTIO_BLK_S_OK
                                                                          : VIRTIO_BLK_S_IOERR;
}

uint8_t Fallocate(FileIo& io, int fd, DiskOp op, DiskRange range) {
  for (;;) {
    const int64_t rc = RetryOnEintr([&]() -> int64_t {
      return io.Fallocate(fd, FallocateMode(op, range), static_cast<off_t>(range.offset),
                          static_cast<off_t>(range.length));
    });
    if (rc == 0) return VIRTIO_BLK_S_OK;
    if (!RetryAsPunchHole(op, range, errno)) return FallocateErrorStatus(op, errno);
    range.unmap = true;
  }
}

uint8_t FallocateRanges(FileIo& io, int fd, const DiskRequest& request) {
  for (const DiskRange& range : request.ranges) {
    // §5.2.6: after an IOERR the driver assumes nothing about any segment,
    // so stopping at the first failure is allowed.
    if (uint8_t status = Fallocate(io, fd, request.op, range); status != VIRTIO_BLK_S_OK) {
      return status;
    }
  }
  // fallocate(2) has no RWF_DSYNC: a durable request (no FLUSH negotiated)
  // is synced before it completes, like a durable write (§5.2.6.2).
  return request.durable ? Sync(io, fd) : VIRTIO_BLK_S_OK;
}

// One request, start to finish; returns its virtio status.
uint8_t RunSync(FileIo& io, int fd, const DiskRequest& request) noexcept {
  switch (request.op) {
    case DiskOp::kRead:
    case DiskOp::kWrite:
      return ReadWrite(io, fd, request);
    case DiskOp::kFlush:
      return Sync(io, fd);
    case DiskOp::kDiscard:
    case DiskOp::kWriteZeroes:
      return FallocateRanges(io, fd, request);
  }
  return VIRTIO_BLK_S_IOERR;
}

}  // namespace

Result<std::unique_ptr<SyncBackend>> SyncBackend::Create(int fd, uint16_t max_in_flight,
                                                         FileIo& io) {
  EventFd event = TRY(EventFd::Create());
  return std::unique_ptr<SyncBackend>(new SyncBackend(fd, max_in_flight, io, std::move(event)));
}

SyncBackend::SyncBackend(int fd, uint16_t max_in_flight, FileIo& io, EventFd event)
    : fd_(fd), io_(io), event_(std::move(event)) {
  // Reserved so Enqueue never allocates (at most max_in_flight are pending).
  done_.reserve(max_in_flight);
}

void SyncBackend::Enqueue(uint16_t tag, DiskRequest&& request) noexcept {
  done_.push_back(DiskCompletion{tag, RunSync(io_, fd_, request)});
  event_.Signal();
}

void SyncBackend::Reap(std::vector<DiskCompletion>& out) noexcept {
  // The eventfd is not read (disk_backend.h): every Enqueue signals anew.
  out.insert(out.end(), done_.begin(), done_.end());
  done_.clear();
}

void SyncBackend::Drain() noexcept {
  event_.Consume();
  done_.clear();
}

}  // namespace mini_vmm::virtio::blk
