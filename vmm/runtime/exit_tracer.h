// ExitTracer: `--trace-exits`, one line per vCPU exit the filter matches
// (vmm/trace/exit_filter.h, line format in vmm/trace/exit_format.h), with
// the instruction at RIP disassembled for port I/O and MMIO (the same
// capstone code as the crash dump, arch/x86_64/disassembly.h).
//
// Bounded: a token bucket shared by all vCPUs lets `lines_per_second`
// lines through (bursts of as many); the rest are counted, not formatted
// or disassembled, and "exit trace: N lines suppressed" comes before the
// next line that passes, and at destruction. A guest spinning on an exit
// costs the host a filter test and an atomic per exit, nothing more.
//
// Off costs nothing: the vCPU loop holds a null ExitTracer* and tests it
// once per exit; nothing here runs.
//
//   ExitTracer tracer(filter, 1000, UniqueFd());  // stderr
//   tracer.Record(vcpu, exit, memory);              // after HandleExit()
//
// Threading: Record() from any vCPU thread at once. Each line is one
// write(2), so lines never interleave (O_APPEND file or stderr).
#pragma once

#include <cstdint>
#include <functional>

#include "vmm/base/log.h"
#include "vmm/base/unique_fd.h"
#include "vmm/kvm/vcpu_exit.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/runtime/runnable_vcpu.h"
#include "vmm/trace/exit_filter.h"

namespace mini_vmm {

class ExitTracer {
 public:
  // The CLOCK_MONOTONIC time in ns; tests pass their own.
  using Clock = std::function<int64_t()>;

  // Writes to `file`, or to stderr if it is not valid.
  ExitTracer(trace::ExitFilter filter, uint32_t lines_per_second, UniqueFd file,
             Clock clock = log::MonotonicNs);
  ~ExitTracer();
  ExitTracer(const ExitTracer&) = delete;
  ExitTracer& operator=(const ExitTracer&) = delete;

  // Traces `exit` of `vcpu` if the filter and the rate allow. Call after
  // the exit was handled, so reads show the value the guest gets.
  void Record(const RunnableVcpu& vcpu, const kvm::VcpuExit& exit,
              const GuestMemory& memory) noexcept;

 private:
  void WriteLine(std::string line) noexcept;
  void ReportSuppressed(uint64_t count) noexcept;

  const trace::ExitFilter filter_;
  log::RateLimiter limiter_;
  const UniqueFd file_;
  const int fd_;
  const Clock clock_;
};

}  // namespace mini_vmm
