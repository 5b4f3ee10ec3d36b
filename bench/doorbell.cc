// bench/doorbell: what a virtio doorbell costs when KVM absorbs it with an
// ioeventfd, against a trapped MMIO write that userspace handles.
//
// A one-vCPU real-mode guest executes N 32-bit writes of the queue index (0)
// to a guest-physical address with no memslot (as a driver writes
// QueueNotify), then an OUT to port 0x10 that ends the run. Modes:
//   ioeventfd  a KVM ioeventfd (datamatch 0) on the address: every write is
//              matched inside KVM and signals an eventfd; no exit to us.
//   mmio-exit  no ioeventfd: every write is a KVM_EXIT_MMIO, which this
//              program decodes and answers as mini-vmm's MMIO transport does
//              when no ioeventfd matched (it signals the queue's eventfd),
//              then re-enters the guest.
//   ram-write  baseline: the address is RAM (a memslot), so the loop runs
//              with no exit at all; its cost is the guest loop itself.
// Each run gets a fresh VM; only KVM_RUN up to the final OUT is timed
// (CLOCK_MONOTONIC). Runs of the three modes are interleaved. Every mode
// checks its eventfd (or exit) count, so a doorbell that was not delivered
// cannot pass as a fast one.
//
//   doorbell [--iterations N] [--runs N] [--kvm-device PATH] [--label TEXT]
//            [--json PATH]
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vmm/base/event_fd.h"
#include "vmm/base/result.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vcpu_exit.h"
#include "vmm/kvm/vm.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::bench {
namespace {

constexpr uint64_t kRamSize = 0x10000;  // 64 KiB at guest-physical 0.
constexpr uint64_t kCodeAddress = 0x1000;
// Outside guest RAM and below 4 GiB, where KVM wants it on Intel.
constexpr uint64_t kTssAddress = 0xfffb'd000;
// DS = 0x2000, offset 0x50: past the 64 KiB of RAM, so no memslot maps it.
constexpr uint64_t kDoorbellPage = 0x20000;
constexpr uint64_t kDoorbellAddress = kDoorbellPage + 0x50;
constexpr uint32_t kQueueIndex = 0;  // What the guest writes; the datamatch.
constexpr uint16_t kDonePort = 0x10;
constexpr unsigned kTimeoutSeconds = 600;

enum class Mode { kIoEventFd, kMmioExit, kRamWrite };
constexpr std::array<Mode, 3> kModes = {Mode::kIoEventFd, Mode::kMmioExit, Mode::kRamWrite};

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kIoEventFd:
      return "ioeventfd";
    case Mode::kMmioExit:
      return "mmio-exit";
    case Mode::kRamWrite:
      return "ram-write";
  }
  return "?";
}

// Real mode, 16-bit default operand size; 0x66 selects 32-bit operands.
std::vector<uint8_t> GuestCode(uint32_t iterations) {
  std::vector<uint8_t> code = {
      0xb8, 0x00, 0x20,  // mov ax, 0x2000
      0x8e, 0xd8,        // mov ds, ax
      0x66, 0xb9,        // mov ecx, imm32 (below)
  };
  for (int shift = 0; shift < 32; shift += 8) {
    code.push_back(static_cast<uint8_t>(iterations >> shift));
  }
  const std::vector<uint8_t> rest = {
      0x66, 0x31, 0xc0,              // xor eax, eax (the queue index, 0)
      0x66, 0xa3, 0x50, 0x00,        // again: mov [0x0050], eax (32-bit write)
      0x66, 0x49,                    // dec ecx
      0x75, 0xf8,                    // jnz again
      0xe6, kDonePort & 0xff, 0xf4,  // out 0x10, al; hlt
  };
  code.insert(code.end(), rest.begin(), rest.end());
  return code;
}

struct RunResult {
  double seconds = 0;
  uint64_t doorbells = 0;   // Eventfd count (ioeventfd, mmio-exit) or 0.
  uint64_t mmio_exits = 0;  // Exits to this program on the doorbell address.
};

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

uint32_t LittleEndian32(std::span<const uint8_t> data) {
  uint32_t value = 0;
  for (size_t i = 0; i < data.size() && i < 4; ++i) value |= uint32_t{data[i]} << (8 * i);
  return value;
}

// Runs the vCPU until the OUT to kDonePort, handling doorbell MMIO exits.
Result<RunResult> RunGuest(kvm::Vcpu& vcpu, const EventFd& queue_event) {
  RunResult result;
  const double deadline = Now() + kTimeoutSeconds;
  alarm(kTimeoutSeconds + 1);  // Interrupts KVM_RUN if the guest never exits.
  const double start = Now();
  for (;;) {
    kvm::VcpuExit exit = vcpu.Run();
    if (auto* mmio = std::get_if<kvm::MmioExit>(&exit)) {
      if (!mmio->is_write || mmio->address != kDoorbellAddress || mmio->data.size() != 4) {
        return Error::Invalid("unexpected MMIO {} at {:#x}", mmio->is_write ? "write" : "read",
                              mmio->address);
      }
      // The transport's QueueNotify: a write of a valid queue index kicks it.
      if (LittleEndian32(mmio->data) == kQueueIndex) queue_event.Signal();
      ++result.mmio_exits;
      continue;
    }
    if (auto* io = std::get_if<kvm::IoExit>(&exit)) {
      if (io->port != kDonePort) return Error::Invalid("unexpected I/O port {:#x}", io->port);
      break;
    }
    if (std::holds_alternative<kvm::InterruptedExit>(exit) && Now() < deadline) continue;
    return Error::Invalid("the guest stopped with exit #{} (see vmm/kvm/vcpu_exit.h)",
                          exit.index());
  }
  result.seconds = Now() - start;
  alarm(0);
  result.doorbells = queue_event.Consume();
  return result;
}

Result<RunResult> RunOnce(const kvm::Kvm& kvm, Mode mode, uint32_t iterations) {
  kvm::Vm vm = TRY(kvm.CreateVm());
  TRY(vm.SetTssAddress(kTssAddress));
  TRY(vm.CreateIrqchip());  // As in mini-vmm; irrelevant to MMIO dispatch.

  std::vector<GuestRegionSpec> layout = {{GuestAddress(0), kRamSize}};
  if (mode == Mode::kRamWrite) layout.push_back({GuestAddress(kDoorbellPage), 0x1000});
  GuestMemory mem = TRY(GuestMemory::Create(layout, GuestMemory::Options{.hugepages = false}));
  const std::vector<uint8_t> code = GuestCode(iterations);
  if (!mem.Write(GuestAddress(kCodeAddress), code)) return Error::Invalid("code does not fit");
  std::vector<kvm::Memslot> slots;  // Declared after `mem`: destroyed first.
  for (const GuestRegion& region : mem.regions()) {
    slots.push_back(TRY(vm.AddMemslot(region.start(), region.size(), region.host_address())));
  }

  EventFd queue_event = TRY(EventFd::Create());
  std::optional<kvm::IoEventFd> doorbell;
  if (mode == Mode::kIoEventFd) {
    doorbell.emplace(TRY(vm.RegisterIoEvent(queue_event, kvm::IoEventSpace::kMmio,
                                            kDoorbellAddress, 4, uint64_t{kQueueIndex})));
  }

  kvm::Vcpu vcpu = TRY(vm.CreateVcpu(0));
  kvm_sregs sregs = TRY(vcpu.GetSregs());
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  TRY(vcpu.SetSregs(sregs));
  kvm_regs regs{};
  regs.rip = kCodeAddress;
  regs.rflags = 0x2;  // Bit 1 is reserved and reads as 1.
  TRY(vcpu.SetRegs(regs));

  RunResult result = TRY(RunGuest(vcpu, queue_event));
  const uint64_t want_events = mode == Mode::kRamWrite ? 0 : iterations;
  const uint64_t want_exits = mode == Mode::kMmioExit ? iterations : 0;
  if (result.doorbells != want_events || result.mmio_exits != want_exits) {
    return Error::Invalid("{}: {} doorbells signalled and {} MMIO exits, expected {} and {}",
                          ModeName(mode), result.doorbells, result.mmio_exits, want_events,
                          want_exits);
  }
  return result;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Options {
  uint32_t iterations = 100000;
  int runs = 5;
  std::string kvm_device = kvm::Kvm::kDefaultPath;
  std::string label;
  std::string json;
};

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr,
               "doorbell: %s\nusage: doorbell [--iterations N] [--runs N] [--kvm-device PATH] "
               "[--label TEXT] [--json PATH]\n",
               message);
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") Usage("the cost of a virtio doorbell, ioeventfd vs MMIO exit");
    if (i + 1 >= argc) Usage("every option needs a value");
    const char* value = argv[++i];
    if (arg == "--iterations" || arg == "--runs") {
      char* end = nullptr;
      const unsigned long n = std::strtoul(value, &end, 10);
      if (*end != '\0' || n == 0 || n > 0xffffffffUL) Usage("want a positive 32-bit count");
      if (arg == "--iterations") {
        options.iterations = static_cast<uint32_t>(n);
      } else {
        options.runs = static_cast<int>(std::min(n, 1000UL));
      }
    } else if (arg == "--kvm-device") {
      options.kvm_device = value;
    } else if (arg == "--label") {
      options.label = value;
    } else if (arg == "--json") {
      options.json = value;
    } else {
      Usage("unknown option");
    }
  }
  return options;
}

void WriteJson(const Options& options, const std::array<std::vector<double>, 3>& ns) {
  FILE* f = std::fopen(options.json.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "doorbell: cannot write %s: %s\n", options.json.c_str(),
                 std::strerror(errno));
    return;
  }
  std::fprintf(f, "{\n  \"label\": \"%s\",\n  \"iterations\": %u,\n  \"runs\": %d,\n",
               options.label.c_str(), options.iterations, options.runs);
  for (size_t m = 0; m < kModes.size(); ++m) {
    std::fprintf(f, "  \"%s_ns_per_write\": {\"median\": %.1f, \"runs\": [", ModeName(kModes[m]),
                 Median(ns[m]));
    for (size_t r = 0; r < ns[m].size(); ++r) {
      std::fprintf(f, "%s%.1f", r == 0 ? "" : ", ", ns[m][r]);
    }
    std::fprintf(f, "]},\n");
  }
  std::fprintf(f, "  \"ratio_mmio_exit_over_ioeventfd\": %.2f\n}\n",
               Median(ns[1]) / Median(ns[0]));
  std::fclose(f);
}

int Main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  struct sigaction action {};
  action.sa_handler = [](int) {};
  sigemptyset(&action.sa_mask);
  sigaction(SIGALRM, &action, nullptr);  // No SA_RESTART: KVM_RUN returns EINTR.

  auto kvm = kvm::Kvm::Open(options.kvm_device);
  if (!kvm.ok()) {
    std::fprintf(stderr, "doorbell: %s\n", kvm.error().ToString().c_str());
    return 1;
  }
  std::printf("doorbell: %u 32-bit MMIO writes per run, %d runs per mode (interleaved), %s%s%s\n",
              options.iterations, options.runs, options.kvm_device.c_str(),
              options.label.empty() ? "" : ": ", options.label.c_str());
  std::array<std::vector<double>, 3> ns;
  for (int run = 0; run < options.runs; ++run) {
    for (size_t m = 0; m < kModes.size(); ++m) {
      // Rotate the order, so no mode always runs first.
      const size_t index = (m + static_cast<size_t>(run)) % kModes.size();
      const Mode mode = kModes[index];
      auto result = RunOnce(*kvm, mode, options.iterations);
      if (!result.ok()) {
        std::fprintf(stderr, "doorbell: %s\n", result.error().ToString().c_str());
        return 1;
      }
      const double per_write = result->seconds * 1e9 / options.iterations;
      ns[index].push_back(per_write);
      std::printf("run %d %-10s %8.3f s %10.0f ns per write\n", run + 1, ModeName(mode),
                  result->seconds, per_write);
      std::fflush(stdout);
    }
  }
  const double ioeventfd = Median(ns[0]);
  const double mmio_exit = Median(ns[1]);
  const double ram = Median(ns[2]);
  std::printf("\nmedian ns per doorbell write (%u writes, %d runs%s%s)\n", options.iterations,
              options.runs, options.label.empty() ? "" : ", ", options.label.c_str());
  std::printf("  ioeventfd (KVM signals the eventfd, no exit)   %10.0f ns\n", ioeventfd);
  std::printf("  mmio-exit (KVM_EXIT_MMIO handled in userspace) %10.0f ns\n", mmio_exit);
  std::printf("  ram-write (baseline: the loop, no doorbell)    %10.0f ns\n", ram);
  std::printf("ratio mmio-exit / ioeventfd: %.2fx (%.2fx after subtracting the baseline)\n",
              mmio_exit / ioeventfd, (mmio_exit - ram) / (ioeventfd - ram));
  if (!options.json.empty()) WriteJson(options, ns);
  return 0;
}

}  // namespace
}  // namespace mini_vmm::bench

int main(int argc, char** argv) { return mini_vmm::bench::Main(argc, argv); }
