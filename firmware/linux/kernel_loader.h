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

// kDecompressedBzImage: a bzImage whose payload the host decompressed
// (bzimage_payload.h), loaded like an ELF vmlinux with the bzImage's header.
enum class KernelFormat { kBzImage, kElf, kDecompressedBzImage };

struct LoadedKernel {
  KernelFormat format;
  uint64_t entry;       // 64-bit entry point (guest-physical).
  setup_header header;  // Goes into boot_params.
  // One past the highest byte the kernel occupies while it boots, including
  // where a bzImage decompresses itself to (pref_address + init_size).
  uint64_t end;
};

// Guest memory the VMM fills with boot structures (zero page, page tables,
// ACPI tables, command line...) before it copies the kernel. An ELF kernel
// chooses its own load addresses, so a segment there would overwrite them.
struct BootRegion {
  const char* name;  // "zero page": for the error.
  uint64_t address;
  uint64_t size;
};

// Fails, naming the segment and the structure, if an ELF kernel's PT_LOAD
// segment overlaps any of `boot_regions`. (A bzImage always loads at 1 MiB,
// above them; the initrd is placed above the kernel's end.)
Result<LoadedKernel> LoadKernel(const GuestMemory& mem, std::span<const uint8_t> image,
                                std::span<const BootRegion> boot_regions = {});

// Loads `vmlinux`, the ELF a bzImage's payload decompressed to
// (DecompressBzImagePayload), as LoadKernel loads an ELF kernel: its PT_LOAD
// segments at their physical addresses (checked against `boot_regions` and
// guest RAM), entered at e_entry (startup_64, in 64-bit mode). The
// bzImage's setup header goes to boot_params, so the kernel reads its own
// values (cmdline_size, initrd_addr_max...), not a synthetic header's.
Result<LoadedKernel> LoadDecompressedKernel(const GuestMemory& mem, const setup_header& header,
                                            std::span<const uint8_t> vmlinux,
                                            std::span<const BootRegion> boot_regions = {});

// The checks LoadKernel starts with, without guest memory: for validating
// a configuration before any VM exists.
Result<KernelFormat> CheckKernelImage(std::span<const uint8_t> image,
                                      std::span<const BootRegion> boot_regions = {});

// The command-line limit the kernel image declares (cmdline_size; 2047 for
// an ELF vmlinux, which has no setup header). Untrusted: pair it with the
// VMM's own bound (CheckCmdlineFits).
Result<uint32_t> KernelCmdlineLimit(std::span<const uint8_t> image);

// The highest page-aligned address where `initrd_size` bytes fit above the
// kernel and below both `ram_end` (end of RAM below 4 GiB) and the kernel's
// initrd_addr_max. Fails, naming the sizes, if they do not fit.
Result<uint64_t> ChooseInitrdAddress(uint64_t initrd_size, const LoadedKernel& kernel,
                                     uint64_t ram_end);

}  // namespace mini_vmm::firmware::linux_boot
