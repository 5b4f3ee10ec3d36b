// ConsoleOutput against a real pipe whose reader stalls: a write never
// blocks, Stop() returns in bounded time, a resumed reader gets the bytes in
// order, and every byte is either delivered or counted as dropped.
//
// A test whose subject blocks must fail, not hang: each one runs its action
// on a helper thread, and if that does not finish in kHangLimit the read end
// is closed, which turns any blocked write(2) into EPIPE and lets the test
// report the failure.
#include "vmm/console/console_output.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <numeric>
#include <vector>

namespace mini_vmm::console {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kHangLimit{5000};
constexpr size_t kPipeSize = 4096;  // The smallest pipe the kernel allows.

class StalledPipe {
 public:
  StalledPipe() {
    ::signal(SIGPIPE, SIG_IGN);  // As mini-vmm's main() does.
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    REQUIRE(::fcntl(write_fd_, F_SETPIPE_SZ, static_cast<int>(kPipeSize)) >= 0);
  }
  ~StalledPipe() {
    CloseReader();
    ::close(write_fd_);
  }
  StalledPipe(const StalledPipe&) = delete;
  StalledPipe& operator=(const StalledPipe&) = delete;

  int write_fd() const { return write_fd_; }

  // Everything in the pipe right now, without blocking.
  std::vector<uint8_t> ReadAvailable() {
    std::vector<uint8_t> out;
    REQUIRE(::fcntl(read_fd_, F_SETFL, O_NONBLOCK) == 0);
    uint8_t buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(read_fd_, buffer, sizeof(buffer))) > 0) {
      out.insert(out.end(), buffer, buffer + n);
    }
    return out;
  }

  void CloseReader() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }

  // Runs `action` on a helper thread; returns how long it took, or fails the
  // test (after unblocking it by closing the reader) if it hangs.
  milliseconds TimeBounded(const std::function<void()>& action) {
    const auto start = Clock::now();
    auto done = std::async(std::launch::async, action);
    if (done.wait_for(kHangLimit) != std::future_status::ready) {
      CloseReader();
      done.wait();
      FAIL("the action blocked on the stalled reader");
    }
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

std::vector<uint8_t> Pattern(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + i / 251);
  return bytes;
}

// Hands `bytes` to the sink one byte per call, as the UART does.
void WriteByteByByte(ConsoleOutput& output, const std::vector<uint8_t>& bytes) {
  for (const uint8_t& byte : bytes) output.WriteBytes(std::span(&byte, 1));
}

ConsoleOutput::Options SmallRing() {
  return ConsoleOutput::Options{.capacity = 8192, .drain_timeout = milliseconds(100)};
}

TEST_CASE("ConsoleOutput: writes never block while the reader stalls", "[console]") {
  StalledPipe pipe;
  ConsoleOutput output(pipe.write_fd(), SmallRing());
  REQUIRE(output.Start().ok());
  const std::vector<uint8_t> flood = Pattern(1 << 20);  // 128 times ring + pipe.

  pipe.TimeBounded([&] { WriteByteByByte(output, flood); });

  CHECK(output.dropped_bytes() > 0);
  uint64_t dropped = 0;
  const milliseconds stop_time = pipe.TimeBounded([&] { dropped = output.Stop(); });
  CHECK(stop_time < milliseconds(2000));
  // Every byte was either delivered or counted.
  CHECK(pipe.ReadAvailable().size() + dropped == flood.size());
}

TEST_CASE("ConsoleOutput: Stop returns while the writer is blocked in write", "[console]") {
  StalledPipe pipe;
  ConsoleOutput output(pipe.write_fd(), SmallRing());
  REQUIRE(output.Start().ok());
  // More than the pipe holds, less than ring + pipe: nothing is dropped on
  // the way in, so the writer is left blocked in write(2).
  const std::vector<uint8_t> bytes = Pattern(kPipeSize + 4096);
  pipe.TimeBounded([&] { output.WriteBytes(bytes); });
  ::usleep(50'000);  // Lets the writer fill the pipe and block.

  uint64_t dropped = 0;
  const milliseconds stop_time = pipe.TimeBounded([&] { dropped = output.Stop(); });

  CHECK(stop_time < milliseconds(2000));
  CHECK(dropped > 0);
  CHECK(pipe.ReadAvailable().size() + dropped == bytes.size());
}

TEST_CASE("ConsoleOutput: Stop returns while a non-blocking stdout stays full", "[console]") {
  StalledPipe pipe;
  // Whoever started mini-vmm may have made the pipe non-blocking.
  REQUIRE(::fcntl(pipe.write_fd(), F_SETFL, O_NONBLOCK) == 0);
  ConsoleOutput output(pipe.write_fd(), SmallRing());
  REQUIRE(output.Start().ok());
  const std::vector<uint8_t> bytes = Pattern(kPipeSize + 4096);
  pipe.TimeBounded([&] { output.WriteBytes(bytes); });
  ::usleep(50'000);

  uint64_t dropped = 0;
  const milliseconds stop_time = pipe.TimeBounded([&] { dropped = output.Stop(); });

  CHECK(stop_time < milliseconds(2000));
  CHECK(pipe.ReadAvailable().size() + dropped == bytes.size());
}

TEST_CASE("ConsoleOutput: a resumed reader gets every queued byte in order", "[console]") {
  StalledPipe pipe;
  ConsoleOutput output(pipe.write_fd(), SmallRing());
  REQUIRE(output.Start().ok());
  const std::vector<uint8_t> bytes = Pattern(SmallRing().capacity);  // Fits in the ring.
  pipe.TimeBounded([&] { WriteByteByByte(output, bytes); });

  std::vector<uint8_t> received;
  const auto deadline = Clock::now() + kHangLimit;  // Bytes dropped by mistake never come.
  while (received.size() < bytes.size() && Clock::now() < deadline) {
    const std::vector<uint8_t> chunk = pipe.ReadAvailable();
    received.insert(received.end(), chunk.begin(), chunk.end());
    if (chunk.empty()) ::usleep(1000);
  }

  CHECK(received == bytes);
  CHECK(output.Stop() == 0);
}

TEST_CASE("ConsoleOutput: bytes written before Start are delivered after it", "[console]") {
  StalledPipe pipe;
  ConsoleOutput output(pipe.write_fd(), SmallRing());
  const std::vector<uint8_t> bytes = Pattern(100);
  output.WriteBytes(bytes);

  REQUIRE(output.Start().ok());
  CHECK(output.Stop() == 0);

  CHECK(pipe.ReadAvailable() == bytes);
}

TEST_CASE("ConsoleOutput: output to a closed reader is counted as dropped", "[console]") {
  StalledPipe pipe;
  pipe.CloseReader();
  ConsoleOutput output(pipe.write_fd(), SmallRing());
  REQUIRE(output.Start().ok());

  pipe.TimeBounded([&] { output.WriteBytes(Pattern(1000)); });

  CHECK(output.Stop() == 1000);
}

TEST_CASE("ConsoleOutput: Stop without Start counts the queued bytes", "[console]") {
  StalledPipe pipe;
  ConsoleOutput output(pipe.write_fd(), SmallRing());
  output.WriteBytes(Pattern(10));

  CHECK(output.Stop() == 10);
  CHECK(output.Stop() == 10);  // Idempotent.
}

}  // namespace
}  // namespace mini_vmm::console
