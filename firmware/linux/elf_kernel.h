// An uncompressed x86_64 kernel as an ELF executable (vmlinux). It is
// entered at e_entry in 64-bit mode with boot_params, like a bzImage, but
// with no in-guest decompression.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vmm/base/result.h"

namespace mini_vmm::firmware::linux_boot {

struct ElfSegment {
  uint64_t physical_address;
  uint64_t file_offset;
  uint64_t file_size;
  uint64_t memory_size;
};

struct ElfKernel {
  uint64_t entry;
  std::vector<ElfSegment> segments;  // PT_LOAD only, validated against the file.
  uint64_t end;                      // One past the highest loaded byte.
};

bool LooksLikeElf(std::span<const uint8_t> image);
Result<ElfKernel> ParseElfKernel(std::span<const uint8_t> image);

}  // namespace mini_vmm::firmware::linux_boot
