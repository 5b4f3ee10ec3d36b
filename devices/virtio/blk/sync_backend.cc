#include "devices/virtio/blk/sync_backend.h"

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <sys/uio.h>
#include <unistd.h>

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
uint8_t ReadWrite(int fd, const DiskRequest& request) {
  const int iovcnt = static_cast<int>(request.iovecs.size());
  const auto offset = static_cast<off_t>(request.offset);
  const int64_t n = RetryOnEintr([&]() -> int64_t {
    if (request.op == DiskOp::kRead) return ::preadv2(fd, request.iovecs.data(), iovcnt, offset, 0);
    const int flags = request.durable ? RWF_DSYNC : 0;
    return ::pwritev2(fd, request.iovecs.data(), iovcnt, offset, flags);
  });
  return n >= 0 && static_cast<uint64_t>(n) == request.length ? VIRTIO_BLK_S_OK
                                                              : VIRTIO_BLK_S_IOERR;
}

uint8_t Fallocate(int fd, DiskOp op, DiskRange range) {
  for (;;) {
    const int64_t rc = RetryOnEintr([&]() -> int64_t {
      return ::fallocate(fd, FallocateMode(op, range), static_cast<off_t>(range.offset),
                         static_cast<off_t>(range.length));
    });
    if (rc == 0) return VIRTIO_BLK_S_OK;
    if (!RetryAsPunchHole(op, range, errno)) return FallocateErrorStatus(op, errno);
    range.unmap = true;
  }
}

// One request, start to finish; returns its virtio status.
uint8_t RunSync(int fd, const DiskRequest& request) noexcept {
  switch (request.op) {
    case DiskOp::kRead:
    case DiskOp::kWrite:
      return ReadWrite(fd, request);
    case DiskOp::kFlush:
      return RetryOnEintr([&]() -> int64_t { return ::fdatasync(fd); }) == 0 ? VIRTIO_BLK_S_OK
                                                                             : VIRTIO_BLK_S_IOERR;
    case DiskOp::kDiscard:
    case DiskOp::kWriteZeroes:
      for (const DiskRange& range : request.ranges) {
        // §5.2.6: after an IOERR the driver assumes nothing about any
        // segment, so stopping at the first failure is allowed.
        if (uint8_t status = Fallocate(fd, request.op, range); status != VIRTIO_BLK_S_OK) {
          return status;
        }
      }
      return VIRTIO_BLK_S_OK;
  }
  return VIRTIO_BLK_S_IOERR;
}

}  // namespace

Result<std::unique_ptr<SyncBackend>> SyncBackend::Create(int fd, uint16_t max_in_flight) {
  EventFd event = TRY(EventFd::Create());
  return std::unique_ptr<SyncBackend>(new SyncBackend(fd, max_in_flight, std::move(event)));
}

SyncBackend::SyncBackend(int fd, uint16_t max_in_flight, EventFd event)
    : fd_(fd), event_(std::move(event)) {
  // Reserved so Enqueue never allocates (at most max_in_flight are pending).
  done_.reserve(max_in_flight);
}

void SyncBackend::Enqueue(uint16_t tag, DiskRequest request) noexcept {
  done_.push_back(DiskCompletion{tag, RunSync(fd_, request)});
  event_.Signal();
}

void SyncBackend::Reap(std::vector<DiskCompletion>& out) noexcept {
  event_.Consume();
  out.insert(out.end(), done_.begin(), done_.end());
  done_.clear();
}

void SyncBackend::Drain() noexcept {
  event_.Consume();
  done_.clear();
}

}  // namespace mini_vmm::virtio::blk
