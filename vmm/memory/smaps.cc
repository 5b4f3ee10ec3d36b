#include "vmm/memory/smaps.h"

#include <charconv>

namespace mini_vmm {
namespace {

// "7f12a000-7f12c000 rw-p ..." -> the range; false for a field line.
bool ParseHeader(std::string_view line, HostRange* range) {
  const size_t dash = line.find('-');
  const size_t space = line.find(' ');
  if (dash == std::string_view::npos || space == std::string_view::npos || dash > space) {
    return false;
  }
  auto first = std::from_chars(line.data(), line.data() + dash, range->start, 16);
  auto second = std::from_chars(line.data() + dash + 1, line.data() + space, range->end, 16);
  return first.ec == std::errc() && first.ptr == line.data() + dash &&
         second.ec == std::errc() && second.ptr == line.data() + space;
}

// "AnonHugePages:      2048 kB" -> bytes, if the line names `field`.
bool FieldBytes(std::string_view line, std::string_view field, uint64_t* bytes) {
  if (!line.starts_with(field) || line.size() <= field.size() || line[field.size()] != ':') {
    return false;
  }
  std::string_view rest = line.substr(field.size() + 1);
  const size_t digits = rest.find_first_not_of(' ');
  if (digits == std::string_view::npos) return false;
  rest.remove_prefix(digits);
  uint64_t kib = 0;
  if (std::from_chars(rest.data(), rest.data() + rest.size(), kib).ec != std::errc()) return false;
  *bytes = kib << 10;
  return true;
}

bool Inside(const HostRange& mapping, std::span<const HostRange> ranges) {
  for (const HostRange& r : ranges) {
    if (mapping.start >= r.start && mapping.end <= r.end) return true;
  }
  return false;
}

}  // namespace

SmapsTotals SumSmaps(std::string_view smaps, std::span<const HostRange> ranges) {
  SmapsTotals totals;
  bool counting = false;
  while (!smaps.empty()) {
    const size_t newline = smaps.find('\n');
    const std::string_view line = smaps.substr(0, newline);
    smaps.remove_prefix(newline == std::string_view::npos ? smaps.size() : newline + 1);
    HostRange mapping;
    if (ParseHeader(line, &mapping)) {
      counting = Inside(mapping, ranges);
      continue;
    }
    uint64_t bytes = 0;
    if (!counting) continue;
    if (FieldBytes(line, "Rss", &bytes)) {
      totals.resident_bytes += bytes;
    } else if (FieldBytes(line, "AnonHugePages", &bytes) ||
               FieldBytes(line, "ShmemPmdMapped", &bytes) ||
               FieldBytes(line, "FilePmdMapped", &bytes)) {
      totals.huge_bytes += bytes;
    } else if (FieldBytes(line, "Shared_Hugetlb", &bytes) ||
               FieldBytes(line, "Private_Hugetlb", &bytes)) {
      totals.resident_bytes += bytes;
      totals.huge_bytes += bytes;
    }
  }
  return totals;
}

}  // namespace mini_vmm
