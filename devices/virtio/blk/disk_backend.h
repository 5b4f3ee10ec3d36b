// DiskBackend: runs virtio-blk's file operations asynchronously and reports
// their completion through an eventfd the device's I/O thread polls.
//
//   auto backend = TRY(CreateDiskBackend(image.fd(), queue_size, BackendKind::kAuto));
//   loop.Add(backend->completion_fd(), [&] { backend->Reap(done); ... });
//   backend->Enqueue(tag, std::move(disk_request));   // any number of times
//   backend->SubmitBatch();                            // one syscall per batch
//
// Reads and writes go straight between the file and guest RAM (the request
// carries iovecs into guest memory), so a request must not outlive the
// guest's buffers: Drain() waits for everything in flight before a device
// reset lets the driver reuse them.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "devices/virtio/reader_writer.h"
#include "vmm/base/result.h"

namespace mini_vmm::virtio::blk {

// kFlush is fdatasync(2) and completes only once it has returned: §5.2.6.2,
// the device MUST commit stable writes before reporting the flush complete.
enum class DiskOp : uint8_t { kRead, kWrite, kFlush, kDiscard, kWriteZeroes };

// The most ranges one DiskRequest may carry (virtio-blk's max_discard_seg
// and max_write_zeroes_seg); sizes the io_uring completion ring.
inline constexpr uint32_t kMaxRanges = 16;

// A byte range of the file, for discard and write-zeroes.
struct DiskRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool unmap = false;  // Write zeroes may deallocate the range.
};

struct DiskRequest {
  DiskOp op = DiskOp::kFlush;
  uint64_t offset = 0;  // kRead, kWrite: byte offset in the file.
  uint64_t length = 0;  // kRead, kWrite: total bytes of `iovecs`.
  // kRead, kWrite: guest RAM. Inline for common requests: no allocation.
  IovecList iovecs{};
  // kDiscard, kWriteZeroes. Empty (so no allocation) for everything else.
  std::vector<DiskRange> ranges{};
  // kWrite, kDiscard, kWriteZeroes: on stable storage before completion,
  // for drivers that did not negotiate VIRTIO_BLK_F_FLUSH: without it the
  // device is write-through and every completed write is stable (§5.2.6.2,
  // the first "stable" case). Writes carry RWF_DSYNC; fallocate(2) has no
  // such flag, so discard and write zeroes are followed by fdatasync.
  bool durable = false;
};

struct DiskCompletion {
  uint16_t tag;
  uint8_t status;  // VIRTIO_BLK_S_OK, _IOERR or _UNSUPP.
};

class DiskBackend {
 public:
  virtual ~DiskBackend() = default;

  virtual std::string_view name() const = 0;
  // An eventfd, signalled whenever requests finish: Reap() then has
  // something to return. The I/O thread watches it edge-triggered and never
  // reads the count (a syscall less per completion), so Reap() takes every
  // finished request, and a signal may find nothing left.
  virtual int completion_fd() const = 0;
  // Starts `request` under `tag` (< the max_in_flight it was created with,
  // and not already in flight). Never fails: a request that cannot be
  // started completes with VIRTIO_BLK_S_IOERR.
  virtual void Enqueue(uint16_t tag, DiskRequest&& request) noexcept = 0;
  // Hands every request Enqueue()d since the last call to the kernel.
  virtual void SubmitBatch() noexcept = 0;
  // Appends the requests that finished since the last call.
  virtual void Reap(std::vector<DiskCompletion>& out) noexcept = 0;
  // Waits for every request in flight and forgets their outcome; afterwards
  // nothing touches guest memory on the backend's behalf.
  virtual void Drain() noexcept = 0;
};

enum class BackendKind {
  kAuto,  // io_uring, or the synchronous backend where io_uring is unavailable.
  kUring,
  kSync,
};

// `fd` is borrowed and must outlive the backend.
Result<std::unique_ptr<DiskBackend>> CreateDiskBackend(int fd, uint16_t max_in_flight,
                                                       BackendKind kind);

// Shared by both backends: the fallocate(2) mode for one range, and what an
// fallocate error means for the guest.
int FallocateMode(DiskOp op, const DiskRange& range);
// True if a write-zeroes range that failed with `err` should be retried as
// a hole punch (the file system lacks FALLOC_FL_ZERO_RANGE; a hole reads as
// zeros too, which is all §5.2.6.2 asks).
bool RetryAsPunchHole(DiskOp op, const DiskRange& range, int err);
uint8_t FallocateErrorStatus(DiskOp op, int err);

}  // namespace mini_vmm::virtio::blk
