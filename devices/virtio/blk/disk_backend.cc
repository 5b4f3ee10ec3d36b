#include "devices/virtio/blk/disk_backend.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/virtio_blk.h>

#include <atomic>
#include <cerrno>

#include "devices/virtio/blk/sync_backend.h"
#include "devices/virtio/blk/uring_backend.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::blk {

Result<std::unique_ptr<DiskBackend>> CreateDiskBackend(int fd, uint16_t max_in_flight,
                                                       BackendKind kind) {
  if (kind == BackendKind::kSync) return TRY(SyncBackend::Create(fd, max_in_flight));
  auto uring = UringBackend::Create(fd, max_in_flight);
  if (uring.ok() || kind == BackendKind::kUring) return TRY(std::move(uring));
  // Old kernels, seccomp filters and io_uring_disabled=2 all end up here.
  // Once per process: every disk would say the same.
  static std::atomic<bool> logged{false};
  if (!logged.exchange(true)) {
    LOG_INFO("virtio-blk: {}; using synchronous disk I/O", uring.error().ToString());
  }
  return TRY(SyncBackend::Create(fd, max_in_flight));
}

int FallocateMode(DiskOp op, const DiskRange& range) {
  // §5.2.6.2: after a write zeroes, reads of its ranges MUST return zeros.
  // Both a zeroed range and a punched hole do. KEEP_SIZE everywhere: the
  // guest's view of the disk never changes size.
  if (op == DiskOp::kDiscard || range.unmap) return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
  return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

bool RetryAsPunchHole(DiskOp op, const DiskRange& range, int err) {
  return op == DiskOp::kWriteZeroes && !range.unmap && err == EOPNOTSUPP;
}

uint8_t FallocateErrorStatus(DiskOp op, int err) {
  if (err != EOPNOTSUPP) return VIRTIO_BLK_S_IOERR;
  // §5.2.6.2: a discard MAY deallocate, so a file system that cannot punch
  // holes has still done all that was promised.
  if (op == DiskOp::kDiscard) return VIRTIO_BLK_S_OK;
  // Write zeroes the file system cannot do: UNSUPP makes Linux stop sending
  // them and write zeros itself.
  return VIRTIO_BLK_S_UNSUPP;
}

}  // namespace mini_vmm::virtio::blk
