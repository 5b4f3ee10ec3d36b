// cli_fuzzer: the command line (vmm/cli/): `--disk` specs, sizes, and the
// whole argv parse, which has no side effects but its two output streams.
//
// The first byte picks what the rest of the input is:
//   0: one --memory value for ParseMemorySize and ParseMemoryOption;
//   1: one --disk spec for ParseDiskOption;
//   2: an argv, as tokens. A token byte below 0x80 picks a word a user
//      would type (options, "run", disk keys, sizes); 0x80 | n takes the
//      next n % 64 input bytes as a token of its own.
// Checked (VMM_CHECK aborts; an exception escaping ParseCommandLine, which
// promises never to throw, reaches libFuzzer as a crash too):
//   - a parsed size is a whole number of KiB, and "<n>M" parses to n MiB;
//   - a parsed disk has a path and a serial of at most 20 bytes;
//   - ParseCommandLine either runs (exit 0, a kernel path, 1-254 vCPUs, a
//     valid size, valid disks, nothing printed) or does not, and then it
//     printed help/version (exit 0) or one error line to err (exit 2).
// tests/fuzz/cli_seeds.py writes the seeds, from cli_test.cc and size_test.cc.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "devices/virtio/blk/disk_kind.h"
#include "tests/fuzz/fuzz_input.h"
#include "vmm/base/check.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/memory_option.h"
#include "vmm/cli/size.h"

namespace mini_vmm::cli {
namespace {

constexpr size_t kMaxTokens = 32;
constexpr size_t kSerialBytes = 20;  // VIRTIO_BLK_ID_BYTES.

constexpr std::array<std::string_view, 40> kWords = {
    "run",           "--kernel",
    "--initrd",      "--cmdline",
    "--cpus",        "--memory",
    "--no-hugepages", "--boot-timer",
    "--log-level",   "--disk",
    "--kvm-device",  "--help",
    "-h",            "--help-all",
    "--version",     "bzImage",
    "vmlinux",       "console=ttyS0 quiet",
    "1",             "254",
    "255",           "0",
    "512M",          "2G",
    "1024",          "16EiB",
    "debug",         "trace",
    "path=disk.img", "path=a.img,readonly=on",
    ",serial=data0", ",readonly=off",
    "path=",         "serial=0123456789abcdefghijk",
    "=",             ",",
    "--",            "--kernel=bzImage",
    "--memory=1G",   "2G,hugetlb=on",
};

std::string Rest(fuzz::FuzzInput& in, size_t max) {
  std::string text;
  while (!in.done() && text.size() < max) text.push_back(static_cast<char>(in.U8()));
  return text;
}

void CheckSize(const std::string& text) {
  const std::optional<uint64_t> bytes = ParseMemorySize(text);
  if (bytes) VMM_CHECK(*bytes % 1024 == 0);
  // The whole option: a hugetlbfs backing is always whole 2 MiB pages.
  auto memory = ParseMemoryOption(text);
  if (memory.ok() && memory->backing == GuestMemory::Backing::kHugetlb) {
    VMM_CHECK(memory->bytes % GuestMemory::kHugePageSize == 0);
  }
  if (!memory.ok()) VMM_CHECK(!memory.error().ToString().empty());
  // A plain number of MiB below 2^44 must parse exactly.
  uint64_t n = 0;
  for (char c : text) n = n * 31 + static_cast<unsigned char>(c);
  n %= uint64_t{1} << 20;
  const std::optional<uint64_t> mib = ParseMemorySize(std::to_string(n) + "M");
  VMM_CHECK(mib.has_value() && *mib == n << 20);
}

void CheckDisk(const std::string& text) {
  auto disk = virtio::blk::ParseDiskOption(text);
  if (!disk.ok()) {
    VMM_CHECK(!disk.error().ToString().empty());
    return;
  }
  VMM_CHECK(!disk->path.empty());
  VMM_CHECK(disk->serial.size() <= kSerialBytes);
}

void CheckArgv(fuzz::FuzzInput& in) {
  std::vector<std::string> tokens = {"mini-vmm"};
  while (!in.done() && tokens.size() < kMaxTokens) {
    const uint8_t token = in.U8();
    if (token & 0x80) {
      tokens.push_back(Rest(in, token % 64));
    } else {
      tokens.emplace_back(kWords[token % kWords.size()]);
    }
  }
  std::vector<const char*> argv;
  for (const std::string& t : tokens) argv.push_back(t.c_str());
  argv.push_back(nullptr);

  std::ostringstream out;
  std::ostringstream err;
  const ParsedCommandLine parsed =
      ParseCommandLine(static_cast<int>(tokens.size()), argv.data(), out, err);
  if (parsed.run) {
    VMM_CHECK(parsed.exit_code == kExitOk);
    VMM_CHECK(out.str().empty() && err.str().empty());
    const VmConfig& c = parsed.config;
    VMM_CHECK(!c.kernel_path.empty());
    VMM_CHECK(c.cpus >= 1 && c.cpus <= 254);
    VMM_CHECK(c.memory_bytes % 1024 == 0);
    for (const DeviceRequest& device : c.devices) {
      VMM_CHECK(device.kind != nullptr && device.options != nullptr);
      if (device.kind != &virtio::blk::DiskKind()) continue;
      const auto& disk = static_cast<const virtio::blk::DiskSpec&>(*device.options).config;
      VMM_CHECK(!disk.path.empty() && disk.serial.size() <= kSerialBytes);
    }
    return;
  }
  if (parsed.exit_code == kExitOk) {
    VMM_CHECK(!out.str().empty() && err.str().empty());
  } else {
    VMM_CHECK(parsed.exit_code == kExitUsage);
    VMM_CHECK(err.str().starts_with("mini-vmm: "));
  }
}

}  // namespace
}  // namespace mini_vmm::cli

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mini_vmm::cli;
  mini_vmm::fuzz::FuzzInput in(std::span<const uint8_t>(data, size));
  switch (in.U8() % 3) {
    case 0:
      CheckSize(Rest(in, 64));
      break;
    case 1:
      CheckDisk(Rest(in, 256));
      break;
    default:
      CheckArgv(in);
      break;
  }
  return 0;
}
