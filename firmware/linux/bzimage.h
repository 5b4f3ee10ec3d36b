// The bzImage format: a real-mode setup part whose setup header (Linux x86
// boot protocol, Documentation/arch/x86/boot.rst) describes how to load the
// protected-mode kernel that follows it.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <span>

#include "vmm/base/result.h"

namespace mini_vmm::firmware::linux_boot {

// Offset of the setup header in the image and in boot_params.
inline constexpr size_t kSetupHeaderOffset = 0x1f1;
// The 64-bit entry point is this far into the protected-mode kernel.
inline constexpr uint64_t kStartup64Offset = 0x200;
// 2.12 added xloadflags, which says whether 64-bit entry is possible.
inline constexpr uint16_t kMinBootProtocol = 0x020c;

struct BzImage {
  setup_header header;
  // The protected-mode kernel: loaded at code32_start (1 MiB), it
  // decompresses itself to pref_address.
  std::span<const uint8_t> protected_mode;
  // The compressed vmlinux inside protected_mode (boot protocol 2.08+),
  // including the 4-byte decompressed length the kernel build appends.
  std::span<const uint8_t> payload;
};

// Validates and parses a bzImage. Errors name what is wrong: not a kernel
// at all, a kernel too old for 64-bit entry, or a truncated file.
Result<BzImage> ParseBzImage(std::span<const uint8_t> image);

// Boot protocol 2.06+ reports the command line limit; older kernels 255.
uint32_t CmdlineLimit(const setup_header& header);

}  // namespace mini_vmm::firmware::linux_boot
