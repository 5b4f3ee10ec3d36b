// SyncBackend: the fallback DiskBackend for hosts without a usable io_uring.
// Each request runs to completion inside Enqueue() (preadv2/pwritev2,
// fdatasync, fallocate on the device's I/O thread), then is reported
// through the same eventfd protocol as the asynchronous backend, so the
// device cannot tell them apart. The system calls go through a FileIo
// (file_io.h), which tests replace with a recording one.
#pragma once

#include <memory>
#include <vector>

#include "devices/virtio/blk/disk_backend.h"
#include "devices/virtio/blk/file_io.h"
#include "vmm/base/event_fd.h"

namespace mini_vmm::virtio::blk {

class SyncBackend final : public DiskBackend {
 public:
  // `io` makes the system calls (tests record them); it must outlive the
  // backend.
  static Result<std::unique_ptr<SyncBackend>> Create(int fd, uint16_t max_in_flight,
                                                     FileIo& io = SystemFileIo());

  std::string_view name() const override { return "sync"; }
  int completion_fd() const override { return event_.fd(); }
  void Enqueue(uint16_t tag, DiskRequest&& request) noexcept override;
  void SubmitBatch() noexcept override {}
  void Reap(std::vector<DiskCompletion>& out) noexcept override;
  void Drain() noexcept override;

 private:
  SyncBackend(int fd, uint16_t max_in_flight, FileIo& io, EventFd event);

  int fd_;
  FileIo& io_;
  EventFd event_;
  std::vector<DiskCompletion> done_;
};

}  // namespace mini_vmm::virtio::blk
