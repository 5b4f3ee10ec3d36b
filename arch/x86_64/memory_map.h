// How guest RAM of a given size is laid out around the MMIO hole, and what
// the e820 map must mark reserved inside it.
#pragma once

#include <cstdint>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace mini_vmm::arch::x86_64 {

// RAM below the 3 GiB MMIO hole first, the rest from 4 GiB up.
std::vector<GuestRegionSpec> RamLayout(uint64_t ram_bytes);

// End of RAM below 4 GiB (where an initrd may go at most).
uint64_t LowRamEnd(uint64_t ram_bytes);

struct ReservedRange {
  uint64_t address;
  uint64_t size;
};
// The ISA hole and BIOS area holding the ACPI and MP tables, and the PCI
// ECAM window.
std::vector<ReservedRange> ReservedRanges();

}  // namespace mini_vmm::arch::x86_64
