// Puts a Linux kernel (bzImage or ELF vmlinux) and its initrd into guest
// memory and says where to enter it.
//
//   LoadedKernel k = TRY(LoadKernel(mem, kernel_file.bytes()));
//   uint64_t initrd = TRY(ChooseInitrdAddress(size, k, low_ram_end));
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <span>

#include "vmm/base/result.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::firmware::linux_boot {

// Where the protected-mode part of a bzImage goes (boot.rst: 0x100000).
inline constexpr uint64_t kBzImageLoadAddress = 0x100000;

enum class KernelFormat { kBzImage, kElf };

struct LoadedKernel {
  KernelFormat format;
  uint64_t entry;       // 64-bit entry point (guest-physical).
  setup_header header;  // Goes into boot_params.
  // One past the highest byte the kernel occupies while it boots, including
  // where a bzImage decompresses itself to (pref_address + init_size).
  uint64_t end;
};

Result<LoadedKernel> LoadKernel(const GuestMemory& mem, std::span<const uint8_t> image);

// The format checks LoadKernel starts with, without guest memory: for
// validating a configuration before any VM exists.
Result<KernelFormat> CheckKernelImage(std::span<const uint8_t> image);

// The highest page-aligned address where `initrd_size` bytes fit above the
// kernel and below both `ram_end` (end of RAM below 4 GiB) and the kernel's
// initrd_addr_max. Fails, naming the sizes, if they do not fit.
Result<uint64_t> ChooseInitrdAddress(uint64_t initrd_size, const LoadedKernel& kernel,
                                     uint64_t ram_end);

}  // namespace mini_vmm::firmware::linux_boot
