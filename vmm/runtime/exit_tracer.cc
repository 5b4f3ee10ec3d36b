#include "vmm/runtime/exit_tracer.h"

#include <unistd.h>

#include <variant>

#include "arch/x86_64/disassembly.h"
#include "vmm/base/format.h"
#include "vmm/trace/exit_format.h"

namespace mini_vmm {
namespace {

// The instruction that caused a port I/O or MMIO exit; nothing for other
// exits (RIP is not where they happened, or there is no instruction).
std::string InstructionOf(const RunnableVcpu& vcpu, const kvm::VcpuExit& exit,
                          const GuestMemory& memory) {
  if (!std::holds_alternative<kvm::IoExit>(exit) && !std::holds_alternative<kvm::MmioExit>(exit)) {
    return {};
  }
  Result<arch::x86_64::GuestCode> code = vcpu.CodeAtPc(memory);
  if (!code.ok()) return Format("({})", code.error().ToString());
  return Format("{:x}: {}", code->pc, arch::x86_64::DisassembleFirst(*code));
}

}  // namespace

ExitTracer::ExitTracer(trace::ExitFilter filter, uint32_t lines_per_second, UniqueFd file,
                       Clock clock)
    : filter_(std::move(filter)),
      limiter_(lines_per_second, lines_per_second),
      file_(std::move(file)),
      fd_(file_.valid() ? file_.get() : STDERR_FILENO),
      clock_(std::move(clock)) {}

ExitTracer::~ExitTracer() { ReportSuppressed(limiter_.TakeSuppressed()); }

void ExitTracer::Record(const RunnableVcpu& vcpu, const kvm::VcpuExit& exit,
                        const GuestMemory& memory) noexcept {
  if (!filter_.Matches(exit)) return;
  uint64_t suppressed = 0;
  if (!limiter_.AllowAt(clock_(), &suppressed)) return;
  ReportSuppressed(suppressed);
  try {
    WriteLine(trace::FormatExit(vcpu.id(), exit, InstructionOf(vcpu, exit, memory)));
  } catch (...) {
    // Only allocation can fail; a trace line is not worth more than that.
  }
}

void ExitTracer::ReportSuppressed(uint64_t count) noexcept {
  if (count == 0) return;
  try {
    WriteLine(Format("exit trace: {} lines suppressed (over the rate limit)", count));
  } catch (...) {
  }
}

void ExitTracer::WriteLine(std::string line) noexcept {
  const double seconds = static_cast<double>(log::SinceProcessStart().count()) / 1e9;
  try {
    line = Format("[{:11.6f}] {}\n", seconds, line);
  } catch (...) {
    return;
  }
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    // As in log::Write: EINTR is a thread kick meaning "stop now"; give up.
    const ssize_t written = ::write(fd_, p, left);
    if (written <= 0) return;
    p += written;
    left -= static_cast<size_t>(written);
  }
}

}  // namespace mini_vmm
