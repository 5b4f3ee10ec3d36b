// VmConfig: everything the user asked for, validated once before any KVM
// call (STYLE.md: CLI -> VmConfig -> VmBuilder).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vmm/base/log.h"

namespace mini_vmm {

struct VmConfig {
  std::string kernel_path;
  std::optional<std::string> initrd_path;
  std::string cmdline = "console=ttyS0 reboot=k panic=-1";
  uint32_t cpus = 1;
  uint64_t memory_bytes = 512ull << 20;
  bool hugepages = true;
  // Print the boot-marker time even when the log level hides info lines.
  bool boot_timer = false;
  LogLevel log_level = LogLevel::kWarn;
  std::string kvm_path = "/dev/kvm";
};

}  // namespace mini_vmm
