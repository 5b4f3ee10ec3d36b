// Helpers shared by the virtio-blk tests: a temporary disk file, request
// headers and discard segments as bytes, and a fake backend that completes
// requests only when a test says so.
#pragma once

#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "devices/virtio/blk/disk_backend.h"
#include "devices/virtio/blk/request.h"
#include "vmm/base/event_fd.h"

namespace mini_vmm::virtio::blk::testing {

// A file of `size` bytes filled with `fill`, deleted on destruction.
class TempDisk {
 public:
  explicit TempDisk(uint64_t size, uint8_t fill = 0, const char* dir = "/tmp") {
    path_ = std::string(dir) + "/mini-vmm-blk-XXXXXX";
    const int fd = ::mkstemp(path_.data());
    REQUIRE(fd >= 0);
    const std::vector<uint8_t> bytes(size, fill);
    REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(size));
    ::close(fd);
  }
  ~TempDisk() { ::unlink(path_.c_str()); }
  TempDisk(const TempDisk&) = delete;
  TempDisk& operator=(const TempDisk&) = delete;

  const std::string& path() const { return path_; }

  std::vector<uint8_t> Read(uint64_t offset, size_t len) const {
    std::vector<uint8_t> bytes(len);
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const ssize_t n = ::pread(fd, bytes.data(), len, static_cast<off_t>(offset));
    ::close(fd);
    REQUIRE(n == static_cast<ssize_t>(len));
    return bytes;
  }

  uint64_t Size() const {
    struct stat st {};
    REQUIRE(::stat(path_.c_str(), &st) == 0);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::string path_;
};

inline std::vector<uint8_t> Header(uint32_t type, uint64_t sector) {
  virtio_blk_outhdr header{};
  header.type = type;
  header.sector = sector;
  std::vector<uint8_t> bytes(sizeof(header));
  std::memcpy(bytes.data(), &header, sizeof(header));
  return bytes;
}

inline std::vector<uint8_t> Segments(
    std::initializer_list<virtio_blk_discard_write_zeroes> segments) {
  std::vector<uint8_t> bytes(segments.size() * sizeof(virtio_blk_discard_write_zeroes));
  std::memcpy(bytes.data(), std::data(segments), bytes.size());
  return bytes;
}

inline virtio_blk_discard_write_zeroes Segment(uint64_t sector, uint32_t num_sectors,
                                               uint32_t flags = 0) {
  virtio_blk_discard_write_zeroes segment{};
  segment.sector = sector;
  segment.num_sectors = num_sectors;
  segment.flags = flags;
  return segment;
}

inline std::vector<uint8_t> Bytes(size_t len, uint8_t value) {
  return std::vector<uint8_t>(len, value);
}

// Waits until `fd` is readable; false after `timeout_ms`.
inline bool WaitReadable(int fd, int timeout_ms = 5000) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// Waits for a backend's completion eventfd to be signalled and takes the
// count, as the I/O thread's edge-triggered watch does (disk_backend.h:
// Reap() leaves the count alone); false after `timeout_ms`.
inline bool WaitCompletionSignal(int fd, int timeout_ms = 5000) {
  if (!WaitReadable(fd, timeout_ms)) return false;
  uint64_t count = 0;
  return ::read(fd, &count, sizeof(count)) == sizeof(count) && count > 0;
}

// A backend whose requests stay in flight until the test completes them,
// for the in-flight bound and reset-with-I/O tests.
class ManualBackend final : public DiskBackend {
 public:
  ManualBackend() : event_(std::move(EventFd::Create().value())) {}

  std::string_view name() const override { return "manual"; }
  int completion_fd() const override { return event_.fd(); }
  void Enqueue(uint16_t tag, DiskRequest&& request) noexcept override {
    std::lock_guard lock(mutex_);
    held_.push_back({tag, std::move(request)});
    ++enqueued_;
  }
  void SubmitBatch() noexcept override {}
  void Reap(std::vector<DiskCompletion>& out) noexcept override {
    std::lock_guard lock(mutex_);
    event_.Consume();
    out.insert(out.end(), done_.begin(), done_.end());
    done_.clear();
  }
  void Drain() noexcept override {
    std::lock_guard lock(mutex_);
    ++drains_;
    held_.clear();
    done_.clear();
    event_.Consume();
  }

  // Completes the oldest held request (called from the test thread).
  void CompleteOldest(uint8_t status) {
    std::lock_guard lock(mutex_);
    REQUIRE_FALSE(held_.empty());
    done_.push_back({held_.front().tag, status});
    held_.erase(held_.begin());
    event_.Signal();
  }

  int enqueued() const {
    std::lock_guard lock(mutex_);
    return enqueued_;
  }
  size_t held() const {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  int drains() const {
    std::lock_guard lock(mutex_);
    return drains_;
  }

 private:
  struct Held {
    uint16_t tag;
    DiskRequest request;
  };

  EventFd event_;
  mutable std::mutex mutex_;
  std::vector<Held> held_;
  std::vector<DiskCompletion> done_;
  int enqueued_ = 0;
  int drains_ = 0;
};

}  // namespace mini_vmm::virtio::blk::testing
