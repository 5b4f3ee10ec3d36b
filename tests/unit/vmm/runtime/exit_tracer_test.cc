#include "vmm/runtime/exit_tracer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_vcpu.h"

namespace mini_vmm {
namespace {

using testing::FakeVcpu;

constexpr int64_t kSecond = 1'000'000'000;

// The tracer's output, in a memfd the test reads back.
struct TraceFile {
  TraceFile() : fd(::memfd_create("trace", MFD_CLOEXEC)) { REQUIRE(fd.valid()); }
  UniqueFd Writer() const { return UniqueFd(::dup(fd.get())); }
  // The lines written so far, without their "[   time] " prefix.
  std::vector<std::string> Lines() const {
    std::string text(1 << 16, '\0');
    const ssize_t n = ::pread(fd.get(), text.data(), text.size(), 0);
    REQUIRE(n >= 0);
    text.resize(static_cast<size_t>(n));
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string line = text.substr(start, end - start);
      const size_t prefix = line.find("] ");
      lines.push_back(prefix == std::string::npos ? line : line.substr(prefix + 2));
    }
    return lines;
  }
  UniqueFd fd;
};

struct Fixture {
  Fixture() {
    // out dx, al; then nop.
    vcpu.SetCode({.pc = 0xffffffff81000000,
                  .gpa = 0x1000000,
                  .mode = arch::x86_64::CpuMode::kLong64,
                  .bytes = {0xee, 0x90}});
  }
  ExitTracer Make(const std::string& filter, uint32_t rate) {
    return ExitTracer(*trace::ParseExitFilter(filter), rate, file.Writer(), [this] { return now; });
  }
  kvm::IoExit SerialOut() { return kvm::IoExit{0x3f8, 1, 1, true, byte}; }

  FakeVcpu vcpu{1};
  GuestMemory memory = testing::MakeGuestMemory(0, 0x10000);
  TraceFile file;
  int64_t now = 100 * kSecond;
  std::array<uint8_t, 1> byte = {'A'};
};

TEST_CASE("ExitTracer writes a port write with the instruction capstone decodes at RIP") {
  Fixture f;
  {
    ExitTracer tracer = f.Make("pio", 10);
    tracer.Record(f.vcpu, f.SerialOut(), f.memory);
  }
  const std::vector<std::string> lines = f.file.Lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "vcpu1 pio out port=0x3f8 size=1 data=0x41 | ffffffff81000000: ee  out dx, al");
}

TEST_CASE("ExitTracer says why there is no instruction when the code cannot be read") {
  Fixture f;
  FakeVcpu no_code{0};
  {
    ExitTracer tracer = f.Make("pio", 10);
    tracer.Record(no_code, f.SerialOut(), f.memory);
  }
  const std::vector<std::string> lines = f.file.Lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "vcpu0 pio out port=0x3f8 size=1 data=0x41 | (fake vCPU 0 has no code)");
}

TEST_CASE("ExitTracer does not disassemble exits that are not I/O") {
  Fixture f;
  {
    ExitTracer tracer = f.Make("all", 10);
    tracer.Record(f.vcpu, kvm::HltExit{}, f.memory);
  }
  CHECK(f.file.Lines() == std::vector<std::string>{"vcpu1 hlt"});
}

TEST_CASE("ExitTracer writes nothing for exits the filter leaves out") {
  Fixture f;
  {
    ExitTracer tracer = f.Make("pio=0x60-0x64", 10);
    tracer.Record(f.vcpu, f.SerialOut(), f.memory);
    tracer.Record(f.vcpu, kvm::HltExit{}, f.memory);
  }
  CHECK(f.file.Lines().empty());
}

TEST_CASE("ExitTracer lets a burst through, then counts what it suppresses") {
  Fixture f;
  ExitTracer tracer = f.Make("pio", 3);
  for (int i = 0; i < 10; ++i) tracer.Record(f.vcpu, f.SerialOut(), f.memory);

  const std::vector<std::string> lines = f.file.Lines();
  CHECK(lines.size() == 3);
}

TEST_CASE("ExitTracer reports the suppressed count before the next line that passes") {
  Fixture f;
  ExitTracer tracer = f.Make("pio", 3);
  for (int i = 0; i < 10; ++i) tracer.Record(f.vcpu, f.SerialOut(), f.memory);
  f.now += kSecond;  // The bucket refills.
  tracer.Record(f.vcpu, kvm::IoExit{0x3f9, 1, 1, true, f.byte}, f.memory);

  const std::vector<std::string> lines = f.file.Lines();
  REQUIRE(lines.size() == 5);
  CHECK(lines[3] == "exit trace: 7 lines suppressed (over the rate limit)");
  CHECK(lines[4].starts_with("vcpu1 pio out port=0x3f9 "));
}

TEST_CASE("ExitTracer reports suppressed lines when it goes, if no line followed") {
  Fixture f;
  {
    ExitTracer tracer = f.Make("pio", 1);
    for (int i = 0; i < 4; ++i) tracer.Record(f.vcpu, f.SerialOut(), f.memory);
  }
  const std::vector<std::string> lines = f.file.Lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == "exit trace: 3 lines suppressed (over the rate limit)");
}

TEST_CASE("ExitTracer suppresses only what passes the filter") {
  Fixture f;
  {
    ExitTracer tracer = f.Make("pio", 1);
    tracer.Record(f.vcpu, f.SerialOut(), f.memory);
    for (int i = 0; i < 5; ++i) tracer.Record(f.vcpu, kvm::HltExit{}, f.memory);
  }
  CHECK(f.file.Lines().size() == 1);  // No "suppressed" line: the HLTs were never candidates.
}

TEST_CASE("ExitTracer holds a steady rate under a guest spinning on one port") {
  Fixture f;
  ExitTracer tracer = f.Make("pio", 5);
  // 10 seconds of a guest exiting 1000 times a second.
  for (int second = 0; second < 10; ++second) {
    for (int i = 0; i < 1000; ++i) {
      f.now += kSecond / 1000;
      tracer.Record(f.vcpu, f.SerialOut(), f.memory);
    }
  }
  size_t traced = 0;
  for (const std::string& line : f.file.Lines()) traced += line.starts_with("vcpu1 ") ? 1u : 0u;
  // A burst of 5, then 5 a second: about 55, never the 10000 exits.
  CHECK(traced >= 50);
  CHECK(traced <= 56);
}

}  // namespace
}  // namespace mini_vmm
