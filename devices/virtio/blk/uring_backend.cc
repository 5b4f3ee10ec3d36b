#include "devices/virtio/blk/uring_backend.h"

#include <fcntl.h>
#include <linux/virtio_blk.h>

#include <cerrno>
#include <cstring>

#include "vmm/base/check.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::blk {
namespace {

// user_data carries the request's tag and the operation's index in it.
uint64_t UserData(uint16_t tag, uint32_t index) { return (uint64_t{tag} << 32) | index; }
uint16_t TagOf(uint64_t user_data) { return static_cast<uint16_t>(user_data >> 32); }
uint32_t IndexOf(uint64_t user_data) { return static_cast<uint32_t>(user_data); }
// The operation index of a durable range request's closing sync (range
// indices are below kMaxRanges).
constexpr uint32_t kSyncIndex = 0xffffffff;

bool Ranged(DiskOp op) { return op == DiskOp::kDiscard || op == DiskOp::kWriteZeroes; }

uint32_t OpCount(const DiskRequest& request) {
  return Ranged(request.op) ? static_cast<uint32_t>(request.ranges.size()) : 1;
}

struct ProbeDeleter {
  void operator()(io_uring_probe* probe) const { io_uring_free_probe(probe); }
};

}  // namespace

Result<std::unique_ptr<UringBackend>> UringBackend::Create(int fd, uint16_t max_in_flight,
                                                           UringObserver* observer) {
  EventFd event = TRY(EventFd::Create());
  std::unique_ptr<UringBackend> backend(
      new UringBackend(fd, max_in_flight, observer, std::move(event)));
  TRY(backend->Init(max_in_flight));
  return backend;
}

UringBackend::UringBackend(int fd, uint16_t max_in_flight, UringObserver* observer, EventFd event)
    : fd_(fd), observer_(observer), event_(std::move(event)), pending_(max_in_flight) {
  immediate_.reserve(max_in_flight);
}

Result<void> UringBackend::Init(uint16_t max_in_flight) {
  // The completion ring is the kernel's default, twice the submission ring:
  // one entry per request and then some. Only discard and write zeroes of
  // many ranges can have more operations in flight (up to kMaxRanges per
  // request); those extra completions wait in the kernel's overflow list,
  // which IORING_FEAT_NODROP guarantees and liburing's peek flushes. Sizing
  // the ring for that worst case instead (max_in_flight * kMaxRanges, 64 KiB
  // at 256 requests) kept 64 KiB of ring resident for a case Linux rarely
  // sends.
  io_uring_params params{};
  if (int rc = io_uring_queue_init_params(max_in_flight, &ring_, &params); rc < 0) {
    return Error::Errno(-rc, "io_uring is unavailable");
  }
  ring_initialized_ = true;
  if ((params.features & IORING_FEAT_NODROP) == 0) {
    return Error::Invalid("io_uring may drop completions (no IORING_FEAT_NODROP)");
  }
  std::unique_ptr<io_uring_probe, ProbeDeleter> probe(io_uring_get_probe_ring(&ring_));
  for (int op : {IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC, IORING_OP_FALLOCATE}) {
    if (!probe || !io_uring_opcode_supported(probe.get(), op)) {
      return Error::Invalid("io_uring lacks operation {}", op);
    }
  }
  if (int rc = io_uring_register_eventfd(&ring_, event_.fd()); rc < 0) {
    return Error::Errno(-rc, "cannot register an eventfd with io_uring");
  }
  return {};
}

UringBackend::~UringBackend() {
  if (!ring_initialized_) return;
  Drain();
  io_uring_queue_exit(&ring_);
}

io_uring_sqe* UringBackend::GetSqe() {
  if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
  // The submission ring is full: hand it to the kernel, which consumes it.
  SubmitBatch();
  return io_uring_get_sqe(&ring_);
}

void UringBackend::PrepareOp(uint16_t tag, uint32_t index) {
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) {
    FinishOp(tag, VIRTIO_BLK_S_IOERR, immediate_);
    event_.Signal();
    return;
  }
  if (index == kSyncIndex) {
    io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
  } else {
    PrepareRequestOp(sqe, pending_[tag]->request, index);
  }
  io_uring_sqe_set_data64(sqe, UserData(tag, index));
  if (observer_ != nullptr) observer_->OnPrepared(*sqe);
  ++ops_in_flight_;
}

void UringBackend::PrepareRequestOp(io_uring_sqe* sqe, const DiskRequest& r, uint32_t index) {
  const auto iovcnt = static_cast<unsigned>(r.iovecs.size());
  switch (r.op) {
    case DiskOp::kRead:
      io_uring_prep_readv(sqe, fd_, r.iovecs.data(), iovcnt, r.offset);
      break;
    case DiskOp::kWrite:
      io_uring_prep_writev2(sqe, fd_, r.iovecs.data(), iovcnt, r.offset, r.durable ? RWF_DSYNC : 0);
      break;
    case DiskOp::kFlush:
      io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
      break;
    case DiskOp::kDiscard:
    case DiskOp::kWriteZeroes: {
      const DiskRange& range = r.ranges[index];
      io_uring_prep_fallocate(sqe, fd_, FallocateMode(r.op, range),
                              static_cast<off_t>(range.offset), static_cast<off_t>(range.length));
      break;
    }
  }
}

void UringBackend::Enqueue(uint16_t tag, DiskRequest&& request) noexcept {
  VMM_CHECK(tag < pending_.size() && !pending_[tag].has_value());
  VMM_CHECK(request.ranges.size() <= kMaxRanges);
  const uint32_t ops = OpCount(request);
  if (ops == 0) {  // Nothing to do (the parser never asks for this).
    immediate_.push_back(DiskCompletion{tag, VIRTIO_BLK_S_OK});
    event_.Signal();
    return;
  }
  pending_[tag].emplace(std::move(request), ops, VIRTIO_BLK_S_OK);
  for (uint32_t i = 0; i < ops; ++i) PrepareOp(tag, i);
}

void UringBackend::SubmitBatch() noexcept {
  int rc;
  do {
    rc = io_uring_submit(&ring_);
  } while (rc == -EINTR);
  // What was not consumed stays in the ring and goes with the next submit.
  if (rc < 0) LOG_WARN_RATELIMITED("virtio-blk: io_uring_submit failed: {}", std::strerror(-rc));
}

bool UringBackend::FinishOp(uint16_t tag, uint8_t status, std::vector<DiskCompletion>& out) {
  Pending& pending = *pending_[tag];
  if (pending.status == VIRTIO_BLK_S_OK) pending.status = status;
  if (--pending.ops_left > 0) return false;
  if (pending.request.durable && Ranged(pending.request.op) && !pending.synced &&
      pending.status == VIRTIO_BLK_S_OK) {
    // §5.2.6.2 without FLUSH: stable before it completes. Only now, once
    // every range has been done: a sync racing them would not cover them.
    pending.synced = true;
    pending.ops_left = 1;
    PrepareOp(tag, kSyncIndex);
    return true;
  }
  out.push_back(DiskCompletion{tag, pending.status});
  pending_[tag].reset();
  return false;
}

bool UringBackend::HandleCqe(uint64_t user_data, int32_t res, std::vector<DiskCompletion>& out) {
  const uint16_t tag = TagOf(user_data);
  const uint32_t index = IndexOf(user_data);
  VMM_CHECK(tag < pending_.size() && pending_[tag].has_value());
  --ops_in_flight_;
  if (observer_ != nullptr) observer_->OnCompleted(user_data, res);
  if (index == kSyncIndex)
    return FinishOp(tag, res == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR, out);
  DiskRequest& r = pending_[tag]->request;
  uint8_t status = VIRTIO_BLK_S_OK;
  switch (r.op) {
    case DiskOp::kRead:
    case DiskOp::kWrite:
      // A short transfer is an error too: the guest asked for every byte.
      if (res < 0 || static_cast<uint64_t>(res) != r.length) status = VIRTIO_BLK_S_IOERR;
      break;
    case DiskOp::kFlush:
      if (res != 0) status = VIRTIO_BLK_S_IOERR;
      break;
    case DiskOp::kDiscard:
    case DiskOp::kWriteZeroes:
      if (res == 0) break;
      if (RetryAsPunchHole(r.op, r.ranges[index], -res)) {
        r.ranges[index].unmap = true;
        PrepareOp(tag, index);
        return true;
      }
      status = FallocateErrorStatus(r.op, -res);
      break;
  }
  return FinishOp(tag, status, out);
}

bool UringBackend::ReapRing(std::vector<DiskCompletion>& out) {
  bool retried = false;
  for (;;) {
    io_uring_cqe* cqe = nullptr;
    // io_uring_cq_ready() is inline, so finding the ring empty (once per
    // reap) costs no call into liburing.
    while (io_uring_cq_ready(&ring_) > 0 && io_uring_peek_cqe(&ring_, &cqe) == 0 &&
           cqe != nullptr) {
      const uint64_t user_data = io_uring_cqe_get_data64(cqe);
      const int32_t res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      retried = HandleCqe(user_data, res, out) || retried;
    }
    // IORING_FEAT_NODROP keeps the CQEs that found the ring full in the
    // kernel until they are asked for (more ops than CQ entries can be in
    // flight: a discard is one op per range).
    if (!io_uring_cq_has_overflow(&ring_) || io_uring_get_events(&ring_) < 0) return retried;
  }
}

void UringBackend::Reap(std::vector<DiskCompletion>& out) noexcept {
  // The eventfd is not read (disk_backend.h). io_uring signals it for every
  // batch of CQEs it posts after the last one it signalled, so a CQE that
  // lands after ReapRing's last peek brings a new signal.
  out.insert(out.end(), immediate_.begin(), immediate_.end());
  immediate_.clear();
  if (ReapRing(out)) SubmitBatch();
}

void UringBackend::Drain() noexcept {
  // Regular-file and block I/O cannot be interrupted once started, so there
  // is nothing to cancel: wait, which is bounded by the disk's latency.
  std::vector<DiskCompletion> ignored;
  while (ops_in_flight_ > 0) {
    io_uring_submit_and_wait(&ring_, 1);
    ReapRing(ignored);
  }
  for (auto& pending : pending_) pending.reset();
  immediate_.clear();
  event_.Consume();
}

}  // namespace mini_vmm::virtio::blk
