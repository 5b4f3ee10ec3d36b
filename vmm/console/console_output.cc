#include "vmm/console/console_output.h"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

#include "vmm/base/check.h"
#include "vmm/base/thread_kick.h"

namespace mini_vmm::console {
namespace {

// One write(2) carries at most this much; also the writer's stack buffer.
constexpr size_t kChunkSize = 4096;
// How often Stop() repeats the kick: one may land just before the writer
// enters write(2) or poll(2) and be lost.
constexpr std::chrono::milliseconds kKickInterval{10};

}  // namespace

ConsoleOutput::ConsoleOutput(int fd, Options options)
    : fd_(fd), drain_timeout_(options.drain_timeout), ring_(options.capacity) {
  VMM_CHECK(options.capacity > 0);
}

Result<void> ConsoleOutput::Start() {
  TRY(InstallThreadKickHandler());
  try {
    writer_ = std::thread([this] { WriterLoop(); });
  } catch (const std::system_error& e) {
    return Error::Errno(e.code().value(), "cannot start the console output thread");
  }
  return {};
}

void ConsoleOutput::WriteBytes(std::span<const uint8_t> bytes) noexcept {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    const size_t take = std::min(ring_.size() - size_, bytes.size());
    for (size_t i = 0; i < take; ++i) ring_[(head_ + size_ + i) % ring_.size()] = bytes[i];
    was_empty = size_ == 0;
    size_ += take;
    dropped_ += bytes.size() - take;
    if (take == 0) return;
  }
  // The writer only waits on an empty ring, so only that transition wakes it.
  if (was_empty) has_data_.notify_one();
}

uint64_t ConsoleOutput::dropped_bytes() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

size_t ConsoleOutput::PopLocked(std::span<uint8_t> out) {
  const size_t count = std::min(size_, out.size());
  for (size_t i = 0; i < count; ++i) out[i] = ring_[(head_ + i) % ring_.size()];
  head_ = (head_ + count) % ring_.size();
  size_ -= count;
  return count;
}

void ConsoleOutput::WriterLoop() noexcept {
  BlockAllSignalsButKick();
  ::pthread_setname_np(::pthread_self(), "console-out");
  std::array<uint8_t, kChunkSize> chunk{};
  for (;;) {
    size_t count = 0;
    {
      std::unique_lock lock(mutex_);
      has_data_.wait(lock, [this] { return size_ > 0 || stopping_; });
      if (size_ == 0 || give_up_.load(std::memory_order_acquire)) break;
      count = PopLocked(chunk);
    }
    WriteOut(std::span(chunk.data(), count));
  }
  std::lock_guard lock(mutex_);
  writer_exited_ = true;
  writer_done_.notify_all();
}

void ConsoleOutput::WriteOut(std::span<const uint8_t> bytes) noexcept {
  size_t done = 0;
  while (done < bytes.size() && !fd_broken_ && !give_up_.load(std::memory_order_acquire)) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;  // A kick from Stop(), or a stray signal: the loop re-checks give_up_.
    } else if (n < 0 && errno == EAGAIN) {
      // Whoever gave us stdout made it non-blocking; wait as a blocking
      // write would (poll returns EINTR on a kick whatever SA_RESTART says).
      pollfd writable{.fd = fd_, .events = POLLOUT, .revents = 0};
      ::poll(&writable, 1, -1);
    } else {
      // EPIPE, EBADF, EIO...: the reader is gone for good; later output is
      // discarded (and counted).
      fd_broken_ = true;
    }
  }
  if (done < bytes.size()) {
    std::lock_guard lock(mutex_);
    dropped_ += bytes.size() - done;
  }
}

bool ConsoleOutput::WaitUntilWriterDone(std::unique_lock<std::mutex>& lock,
                                        std::chrono::milliseconds timeout) {
  return writer_done_.wait_for(lock, timeout, [this] { return writer_exited_; });
}

uint64_t ConsoleOutput::Stop() noexcept {
  std::unique_lock lock(mutex_);
  if (writer_.joinable()) {
    stopping_ = true;
    has_data_.notify_one();
    if (!WaitUntilWriterDone(lock, drain_timeout_)) {
      give_up_.store(true, std::memory_order_release);
      do {
        KickThread(writer_.native_handle());
      } while (!WaitUntilWriterDone(lock, kKickInterval));
    }
    lock.unlock();
    writer_.join();
    lock.lock();
  }
  dropped_ += size_;  // Never written: the reader did not take it in time.
  size_ = 0;
  return dropped_;
}

}  // namespace mini_vmm::console
