// ConsoleOutput: guest console output on its way to a host fd (stdout),
// through a bounded buffer and one writer thread, so that no vCPU thread
// ever writes to stdout.
//
//   console::ConsoleOutput output(STDOUT_FILENO);
//   Serial serial(irq, output, ...);           // vCPUs call output.WriteBytes()
//   TRY(output.Start());
//   ...                                        // vCPU threads joined
//   uint64_t dropped = output.Stop();          // bounded, whatever the reader does
//
// Why a thread and a bound. A vCPU that writes to stdout itself (Firecracker
// does, from the vCPU thread) stops the guest while the reader of stdout
// stalls, and a stop request then waits for that reader. Cloud Hypervisor
// buffers on the vCPU thread and writes from its console thread when stdout
// is writable, but that needs a non-blocking stdout, and O_NONBLOCK belongs
// to the open file description mini-vmm shares with its parent (the shell
// would see EAGAIN too). Here the vCPU only copies bytes into a ring of
// `capacity` bytes; a writer thread does blocking writes. When the reader
// stalls, only that thread waits: the ring fills, and further guest output
// is dropped and counted (the guest cannot be told; a UART has no flow
// control towards a missing reader). Newest bytes are dropped, so what the
// reader gets is a contiguous prefix of each stall.
//
// Threading contract:
//  - WriteBytes(): any vCPU thread, concurrently. Holds mutex_ only for a
//    copy of at most the given bytes, never across a system call, so it never
//    waits for the reader.
//  - The writer thread (started by Start()) is the only thread that writes
//    to the fd. It blocks every signal but the thread-kick signal.
//  - Start() and Stop(): the thread that owns the object, once each. Stop()
//    lets the writer drain the ring for up to `drain_timeout` (the guest's
//    last words, "reboot: Power down", normally reach the reader), then
//    interrupts its write(2) with kicks until it exits, and joins it: it
//    returns within about drain_timeout + 10 ms even if the reader never
//    reads again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "devices/legacy/byte_sink.h"
#include "vmm/base/result.h"

namespace mini_vmm::console {

class ConsoleOutput final : public devices::ByteSink {
 public:
  struct Options {
    size_t capacity = 64 << 10;
    std::chrono::milliseconds drain_timeout{2000};
  };

  // `fd` is borrowed and must stay open until Stop() returns.
  explicit ConsoleOutput(int fd) : ConsoleOutput(fd, Options{}) {}
  ConsoleOutput(int fd, Options options);
  ConsoleOutput(const ConsoleOutput&) = delete;
  ConsoleOutput& operator=(const ConsoleOutput&) = delete;
  ~ConsoleOutput() override { Stop(); }

  // Starts the writer thread. Bytes written before Start() are kept (up to
  // the capacity) and written once it runs.
  Result<void> Start();
  // Drains (bounded by drain_timeout), stops and joins the writer. Returns
  // how many bytes never reached the fd: dropped on a full ring, refused by
  // the fd (EPIPE), or still queued when the drain timed out.
  // Idempotent; a no-op for the writer if Start() never succeeded.
  uint64_t Stop() noexcept;

  // Queues what fits; drops and counts the rest. Never blocks on the fd.
  void WriteBytes(std::span<const uint8_t> bytes) noexcept override;

  uint64_t dropped_bytes() const;

 private:
  void WriterLoop() noexcept;
  // Moves up to `out.size()` queued bytes into `out`; returns how many.
  size_t PopLocked(std::span<uint8_t> out);
  // Writes all of `bytes` unless the fd fails or Stop() gives up on it.
  void WriteOut(std::span<const uint8_t> bytes) noexcept;
  bool WaitUntilWriterDone(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds timeout);

  const int fd_;
  const std::chrono::milliseconds drain_timeout_;

  mutable std::mutex mutex_;
  std::condition_variable has_data_;     // Writer waits: data queued or stopping_.
  std::condition_variable writer_done_;  // Stop() waits: writer_exited_.
  // Guarded by mutex_:
  std::vector<uint8_t> ring_;  // Fixed size `capacity`, allocated once.
  size_t head_ = 0;            // Oldest queued byte.
  size_t size_ = 0;            // Queued bytes.
  uint64_t dropped_ = 0;
  bool stopping_ = false;  // Stop() called: drain, then exit.
  bool writer_exited_ = false;
  // Set by Stop() after the drain timeout: abandon the write in progress.
  // Read by the writer between system calls, hence atomic.
  std::atomic<bool> give_up_{false};
  // Writer-thread only: the fd failed (EPIPE, EBADF...); drop from now on.
  bool fd_broken_ = false;

  std::thread writer_;
};

}  // namespace mini_vmm::console
