#include "vmm/base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "vmm/base/thread_kick.h"

namespace mini_vmm::log {
namespace {

TEST_CASE("RateLimiter lets a burst through, then suppresses and counts") {
  RateLimiter limiter(3, 1);
  uint64_t suppressed = 0;
  CHECK(limiter.Allow(&suppressed));
  CHECK(limiter.Allow(&suppressed));
  CHECK(limiter.Allow(&suppressed));
  CHECK_FALSE(limiter.Allow(&suppressed));
  CHECK_FALSE(limiter.Allow(&suppressed));
  CHECK(suppressed == 0);
}

TEST_CASE("RateLimiter bounds a flood to its burst") {
  RateLimiter limiter(10, 1);
  uint64_t suppressed = 0;
  int allowed = 0;
  for (int i = 0; i < 100000; ++i) allowed += limiter.Allow(&suppressed) ? 1 : 0;
  // A flood within one second gets the burst and at most one refill.
  CHECK(allowed >= 10);
  CHECK(allowed <= 11);
}

TEST_CASE("ParseLevel accepts the documented names only") {
  LogLevel level = LogLevel::kError;
  CHECK(ParseLevel("debug", &level));
  CHECK(level == LogLevel::kDebug);
  CHECK_FALSE(ParseLevel("verbose", &level));
  CHECK(level == LogLevel::kDebug);
}

}  // namespace
}  // namespace mini_vmm::log

namespace mini_vmm {
namespace {

// stderr replaced by a pipe whose buffer is full and that nobody reads.
class StalledStderr {
 public:
  StalledStderr() {
    REQUIRE(::pipe2(fds_, O_CLOEXEC) == 0);
    REQUIRE(::fcntl(fds_[1], F_SETFL, O_NONBLOCK) == 0);
    const char chunk[4096] = {};
    while (::write(fds_[1], chunk, sizeof(chunk)) > 0) {
    }
    REQUIRE(::fcntl(fds_[1], F_SETFL, 0) == 0);  // Blocking again, and full.
    saved_ = ::dup(STDERR_FILENO);
    REQUIRE(::dup2(fds_[1], STDERR_FILENO) == STDERR_FILENO);
  }
  ~StalledStderr() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  StalledStderr(const StalledStderr&) = delete;
  StalledStderr& operator=(const StalledStderr&) = delete;

  // The reader comes back: makes room for a blocked writer.
  void Drain() {
    ::fcntl(fds_[0], F_SETFL, O_NONBLOCK);
    char chunk[4096];
    while (::read(fds_[0], chunk, sizeof(chunk)) > 0) {
    }
  }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

TEST_CASE("A kick ends a log write blocked on a stalled stderr") {
  REQUIRE(InstallThreadKickHandler().ok());
  StalledStderr stalled;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    log::Write(LogLevel::kError, "this line has nowhere to go");
    done.store(true);
  });
  // Kick until the write gives up; before the fix it retried forever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done.load() && std::chrono::steady_clock::now() < deadline) {
    KickThread(writer.native_handle());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool returned = done.load();
  if (!returned) stalled.Drain();  // Let it finish so the test can fail, not hang.
  writer.join();
  CHECK(returned);
}

}  // namespace
}  // namespace mini_vmm
