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

// Sees every operation as it is handed to the kernel (the prepared SQE
// itself, so its opcode and flags are what the kernel will get) and as it
// completes. For tests: durability is not visible in the file afterwards.
class UringObserver {
 public:
  virtual ~UringObserver() = default;
  virtual void OnPrepared(const io_uring_sqe& sqe) noexcept = 0;
  virtual void OnCompleted(uint64_t user_data, int32_t res) noexcept = 0;
};

class UringBackend final : public DiskBackend {
 public:
  // Fails where io_uring cannot be set up or lacks an operation we need
  // (kernels before 5.6 have no fallocate); CreateDiskBackend then falls
  // back to SyncBackend. `observer`, if any, must outlive the backend.
  static Result<std::unique_ptr<UringBackend>> Create(int fd, uint16_t max_in_flight,
                                                      UringObserver* observer = nullptr);
  ~UringBackend() override;
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  std::string_view name() const override { return "io_uring"; }
  int completion_fd() const override { return event_.fd(); }
  void Enqueue(uint16_t tag, DiskRequest&& request) noexcept override;
  void SubmitBatch() noexcept override;
  void Reap(std::vector<DiskCompletion>& out) noexcept override;
  void Drain() noexcept override;

 private:
  // One DiskRequest becomes one operation (read, write, flush) or one per
  // range (discard, write zeroes); it completes when all of them have. A
  // durable discard or write zeroes then gets one more: the sync that
  // fallocate(2), lacking RWF_DSYNC, cannot do itself.
  struct Pending {
    // Built in place by optional::emplace (see BlockWorker::InFlight).
    Pending(DiskRequest&& r, uint32_t ops, uint8_t first_status)
        : request(std::move(r)), ops_left(ops), status(first_status) {}
    DiskRequest request;
    uint32_t ops_left = 0;
    uint8_t status = 0;   // The first failure wins.
    bool synced = false;  // The closing sync was prepared.
  };

  UringBackend(int fd, uint16_t max_in_flight, UringObserver* observer, EventFd event);
  Result<void> Init(uint16_t max_in_flight);
  io_uring_sqe* GetSqe();
  void PrepareOp(uint16_t tag, uint32_t index);
  void PrepareRequestOp(io_uring_sqe* sqe, const DiskRequest& r, uint32_t index);
  // Accounts one completed operation; true if that prepared another (a
  // write-zeroes range retried as a hole punch, or the closing sync).
  bool HandleCqe(uint64_t user_data, int32_t res, std::vector<DiskCompletion>& out);
  // Accounts one finished operation; true if that prepared the request's
  // closing sync, which then needs submitting.
  bool FinishOp(uint16_t tag, uint8_t status, std::vector<DiskCompletion>& out);
  // Processes every completion the ring holds; true if any was retried and
  // so needs submitting.
  bool ReapRing(std::vector<DiskCompletion>& out);

  int fd_;
  UringObserver* observer_;
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
