#include "vmm/base/thread_kick.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <thread>

namespace mini_vmm {
namespace {

TEST_CASE("KickThread: a read blocked on an empty pipe returns EINTR", "[thread_kick]") {
  REQUIRE(InstallThreadKickHandler().ok());
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::atomic<int> result_errno{0};
  std::atomic<bool> returned{false};
  std::thread reader([&] {
    BlockAllSignalsButKick();
    char byte;
    if (::read(fds[0], &byte, 1) < 0) result_errno = errno;
    returned = true;
  });

  // A kick can land before the thread enters read(2); repeat, as callers do.
  for (int i = 0; i < 500 && !returned; ++i) {
    KickThread(reader.native_handle());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!returned) ::close(fds[1]);  // Unblocks the read (EOF) so the test can fail.
  reader.join();

  CHECK(result_errno == EINTR);
  ::close(fds[0]);
  if (returned && result_errno == EINTR) ::close(fds[1]);
}

}  // namespace
}  // namespace mini_vmm
