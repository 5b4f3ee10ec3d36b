// Residency of host mappings, from /proc/PID/smaps text: how much of guest
// RAM the host has backed, and how much of that with huge pages (THP or
// hugetlbfs). Pure parsing, so it is tested on fixed text.
//
//   HostRange ram{base, base + size};
//   SmapsTotals t = SumSmaps(text, std::span(&ram, 1));
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace mini_vmm {

// [start, end) in the host's virtual address space.
struct HostRange {
  uintptr_t start = 0;
  uintptr_t end = 0;
};

struct SmapsTotals {
  uint64_t resident_bytes = 0;  // Rss plus hugetlbfs pages (which Rss leaves out).
  uint64_t huge_bytes = 0;      // AnonHugePages, ShmemPmdMapped, FilePmdMapped, hugetlbfs.
};

// Sums the mappings of `smaps` that lie inside one of `ranges`. Lines it
// does not know are skipped, so newer kernels' fields do no harm.
SmapsTotals SumSmaps(std::string_view smaps, std::span<const HostRange> ranges);

}  // namespace mini_vmm
