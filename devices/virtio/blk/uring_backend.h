// UringBackend: DiskBackend over io_uring (liburing). Reads and writes are
// readv/writev straight into guest-RAM iovecs, FLUSH is an fsync with
// IORING_FSYNC_DATASYNC, DISCARD and WRITE_ZEROES are fallocate(2) ranges.
// The ring's eventfd (io_uring_register_eventfd) is the completion fd.
//
// Only the device's I/O thread uses it (and Drain() after that thread has
// stopped), so nothing here is locked.
#pragma once

#include <liburing.h>

#include <memory>
#include <optional>
#include <vector>

#include "devices/virtio/blk/disk_backend.h"
#include "vmm/base/event_fd.h"

namespace mini_vmm::virtio::blk {

class UringBackend final : public DiskBackend {
 public:
  // Fails where io_uring cannot be set up or lacks an operation we need
  // (kernels before 5.6 have no fallocate); CreateDiskBackend then falls
  // back to SyncBackend.
  static Result<std::unique_ptr<UringBackend>> Create(int fd, uint16_t max_in_flight);
  ~UringBackend() override;
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  std::string_view name() const override { return "io_uring"; }
  int completion_fd() const override { return event_.fd(); }
  void Enqueue(uint16_t tag, DiskRequest request) noexcept override;
  void SubmitBatch() noexcept override;
  void Reap(std::vector<DiskCompletion>& out) noexcept override;
  void Drain() noexcept override;

 private:
  // One DiskRequest becomes one operation (read, write, flush) or one per
  // range (discard, write zeroes); it completes when all of them have.
  struct Pending {
    DiskRequest request;
    uint32_t ops_left = 0;
    uint8_t status = 0;  // The first failure wins.
  };

  UringBackend(int fd, uint16_t max_in_flight, EventFd event);
  Result<void> Init(uint16_t max_in_flight);
  io_uring_sqe* GetSqe();
  void PrepareOp(uint16_t tag, uint32_t index);
  // Accounts one completed operation; true if it was prepared again (a
  // write-zeroes range retried as a hole punch).
  bool HandleCqe(uint64_t user_data, int32_t res, std::vector<DiskCompletion>& out);
  void FinishOp(uint16_t tag, uint8_t status, std::vector<DiskCompletion>& out);
  // Processes every completion the ring holds; true if any was retried and
  // so needs submitting.
  bool ReapRing(std::vector<DiskCompletion>& out);

  int fd_;
  EventFd event_;
  io_uring ring_{};
  bool ring_initialized_ = false;
  std::vector<std::optional<Pending>> pending_;  // Indexed by tag.
  uint32_t ops_in_flight_ = 0;                   // Prepared and not yet completed.
  // Completions decided without the kernel (nothing to do, or no SQE to be
  // had), reported by the next Reap().
  std::vector<DiskCompletion> immediate_;
};

}  // namespace mini_vmm::virtio::blk
