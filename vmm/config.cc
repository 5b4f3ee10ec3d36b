#include "vmm/config.h"

#include <fstream>
#include <sstream>
#include <string>

#include "firmware/linux/kernel_loader.h"
#include "vmm/base/mapped_file.h"

namespace mini_vmm {
namespace {

constexpr uint64_t kMiB = 1 << 20;
// Below this not even the boot structures and a kernel's first megabytes
// fit; the kernel loader reports precisely what a given kernel needs.
constexpr uint64_t kMinMemory = 16 * kMiB;

// MemTotal from /proc/meminfo, in bytes; 0 if unknown.
uint64_t HostMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
}

}  // namespace

Result<void> ValidateConfig(const VmConfig& config) {
  {
    MappedFile kernel = TRY(MappedFile::Open(config.kernel_path, "kernel image"));
    if (auto format = firmware::linux_boot::CheckKernelImage(kernel.bytes()); !format.ok()) {
      return Error::Invalid("kernel image \"{}\": {}", config.kernel_path,
                            format.error().ToString());
    }
  }
  if (config.initrd_path) TRY(CheckReadableFile(*config.initrd_path, "initrd"));
  if (config.memory_bytes < kMinMemory) {
    return Error::Invalid("--memory {} MiB is too small: a Linux guest needs at least {} MiB",
                          config.memory_bytes / kMiB, kMinMemory / kMiB);
  }
  if (config.memory_bytes % kMiB != 0) {
    return Error::Invalid("--memory must be a whole number of MiB");
  }
  const uint64_t host = HostMemoryBytes();
  if (host != 0 && config.memory_bytes > host) {
    return Error::Invalid("--memory {} MiB is more than this host's {} MiB of RAM",
                          config.memory_bytes / kMiB, host / kMiB);
  }
  return {};
}

}  // namespace mini_vmm
