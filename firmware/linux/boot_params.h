// The zero page (struct boot_params) a 64-bit Linux entry expects in RSI:
// the kernel's setup header plus what the loader decided (command line,
// initrd, memory map, ACPI RSDP).
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vmm/base/result.h"
#include "vmm/memory/guest_memory.h"

namespace mini_vmm::firmware::linux_boot {

// e820 types (ACPI spec, "Address Range Types").
inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;

struct E820Entry {
  uint64_t address;
  uint64_t size;
  uint32_t type;
};

struct BootParamsConfig {
  setup_header header;  // From the bzImage, or SyntheticHeader() for ELF.
  uint64_t cmdline_address = 0;
  uint64_t initrd_address = 0;
  uint64_t initrd_size = 0;
  uint64_t acpi_rsdp_address = 0;
  std::vector<E820Entry> e820;
};

// A setup header for kernels that come without one (ELF vmlinux), saying
// just enough for the kernel to accept boot_params: "HdrS", protocol 2.12.
setup_header SyntheticHeader();

// Pure; fails only if the memory map has more entries than the zero page.
Result<boot_params> BuildBootParams(const BootParamsConfig& config);

// The guest memory map: RAM regions as e820 RAM, with `reserved` ranges
// (which must lie inside RAM or in holes) carved out as reserved.
std::vector<E820Entry> BuildE820(std::span<const GuestRegion> ram,
                                 std::span<const E820Entry> reserved);

// The guest memory the VMM reserves for the command line and its NUL.
struct CmdlineArea {
  GuestAddress address;
  uint64_t size;
};

// Whether a command line of `length` bytes (plus its NUL) fits both the
// kernel's limit and an area of `area_size` bytes; the error says which.
Result<void> CheckCmdlineFits(size_t length, uint64_t area_size, uint32_t kernel_limit);

// Writes `cmdline` and its NUL at the start of `area`; fails, saying the
// bound, if the kernel's limit (excluding the NUL, read from the untrusted
// image header) or the area is exceeded.
Result<void> WriteCmdline(const GuestMemory& mem, CmdlineArea area, std::string_view cmdline,
                          uint32_t kernel_limit);

}  // namespace mini_vmm::firmware::linux_boot
