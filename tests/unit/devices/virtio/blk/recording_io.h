// RecordingIo: the system-call seam of both disk backends at once. It logs
// each operation as the kernel is asked to do it ("write dsync",
// "fallocate", "fdatasync") and as it finishes ("fdatasync done"), and a
// test adds "complete" when the backend reports the request done, so the
// durability tests can assert which calls carried which flags and in which
// order. The calls themselves still happen (SyncBackend through
// SystemFileIo(); io_uring from the SQE the observer was shown).
#pragma once

#include <fcntl.h>
#include <liburing.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "devices/virtio/blk/file_io.h"
#include "devices/virtio/blk/uring_backend.h"

namespace mini_vmm::virtio::blk::testing {

class RecordingIo final : public FileIo, public UringObserver {
 public:
  // FileIo (SyncBackend).
  ssize_t Preadv2(int fd, const iovec* iov, int iovcnt, off_t offset, int flags) noexcept override {
    return Around("read", [&] { return SystemFileIo().Preadv2(fd, iov, iovcnt, offset, flags); });
  }
  ssize_t Pwritev2(int fd, const iovec* iov, int iovcnt, off_t offset,
                   int flags) noexcept override {
    return Around(WriteName(flags),
                  [&] { return SystemFileIo().Pwritev2(fd, iov, iovcnt, offset, flags); });
  }
  int Fdatasync(int fd) noexcept override {
    return Around("fdatasync", [&] { return SystemFileIo().Fdatasync(fd); });
  }
  int Fallocate(int fd, int mode, off_t offset, off_t length) noexcept override {
    return Around("fallocate", [&] { return SystemFileIo().Fallocate(fd, mode, offset, length); });
  }

  // UringObserver (UringBackend): named from the SQE the kernel gets.
  void OnPrepared(const io_uring_sqe& sqe) noexcept override {
    const std::string name = SqeName(sqe);
    std::lock_guard lock(mutex_);
    names_[sqe.user_data] = name;
    log_.push_back(name);
  }
  void OnCompleted(uint64_t user_data, int32_t /*res*/) noexcept override {
    std::lock_guard lock(mutex_);
    log_.push_back(names_[user_data] + " done");
  }

  void Mark(const std::string& event) {
    std::lock_guard lock(mutex_);
    log_.push_back(event);
  }
  std::vector<std::string> log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }

 private:
  static std::string WriteName(int flags) { return (flags & RWF_DSYNC) ? "write dsync" : "write"; }

  static std::string SqeName(const io_uring_sqe& sqe) {
    switch (sqe.opcode) {
      case IORING_OP_READV:
        return "read";
      case IORING_OP_WRITEV:
        return WriteName(static_cast<int>(sqe.rw_flags));
      case IORING_OP_FSYNC:
        return (sqe.fsync_flags & IORING_FSYNC_DATASYNC) ? "fdatasync" : "fsync";
      case IORING_OP_FALLOCATE:
        return "fallocate";
      default:
        return "opcode " + std::to_string(sqe.opcode);
    }
  }

  template <typename Call>
  auto Around(const std::string& name, Call call) -> decltype(call()) {
    Mark(name);
    auto result = call();
    Mark(name + " done");
    return result;
  }

  mutable std::mutex mutex_;
  std::vector<std::string> log_;
  std::map<uint64_t, std::string> names_;
};

}  // namespace mini_vmm::virtio::blk::testing
