#include "vmm/memory/smaps.h"

#include <array>
#include <catch2/catch.hpp>

namespace mini_vmm {
namespace {

constexpr std::string_view kSmaps =
    "55d0c0000000-55d0c0021000 r-xp 00000000 08:01 1234  /usr/bin/mini-vmm\n"
    "Rss:                  64 kB\n"
    "AnonHugePages:         0 kB\n"
    "7f0000000000-7f0020000000 rw-p 00000000 00:00 0\n"
    "Size:             524288 kB\n"
    "Rss:              409600 kB\n"
    "AnonHugePages:    403456 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "Shared_Hugetlb:        0 kB\n"
    "Private_Hugetlb:       0 kB\n"
    "VmFlags: rd wr mr mw me ac hg dc\n"
    "7f1000000000-7f1000400000 rw-s 00000000 00:0f 99  /memfd:mini-vmm-guest-ram (deleted)\n"
    "Rss:                   0 kB\n"
    "Shared_Hugetlb:     4096 kB\n"
    "7f2000000000-7f2000001000 rw-p 00000000 00:00 0\n"
    "Rss:                   4 kB\n";

TEST_CASE("SumSmaps counts only mappings inside the ranges") {
  std::array<HostRange, 1> ram = {HostRange{0x7f0000000000, 0x7f0020000000}};
  SmapsTotals t = SumSmaps(kSmaps, ram);
  CHECK(t.resident_bytes == uint64_t{409600} << 10);
  CHECK(t.huge_bytes == uint64_t{403456} << 10);
}

TEST_CASE("SumSmaps counts hugetlbfs pages as resident and huge") {
  std::array<HostRange, 1> ram = {HostRange{0x7f1000000000, 0x7f1000400000}};
  SmapsTotals t = SumSmaps(kSmaps, ram);
  CHECK(t.resident_bytes == uint64_t{4096} << 10);
  CHECK(t.huge_bytes == uint64_t{4096} << 10);
}

TEST_CASE("SumSmaps adds up several ranges") {
  std::array<HostRange, 2> ram = {HostRange{0x7f0000000000, 0x7f0020000000},
                                  HostRange{0x7f2000000000, 0x7f2000001000}};
  CHECK(SumSmaps(kSmaps, ram).resident_bytes == (uint64_t{409604} << 10));
}

TEST_CASE("SumSmaps ignores a mapping that only overlaps a range") {
  std::array<HostRange, 1> half = {HostRange{0x7f0000000000, 0x7f0010000000}};
  CHECK(SumSmaps(kSmaps, half).resident_bytes == 0);
}

TEST_CASE("TruncatedSmaps: a header or field cut short counts nothing") {
  std::array<HostRange, 1> ram = {HostRange{0x7f0000000000, 0x7f0020000000}};
  CHECK(SumSmaps("7f0000000000-7f00200", ram).resident_bytes == 0);
  CHECK(SumSmaps("7f0000000000-7f0020000000 rw-p\nRss:", ram).resident_bytes == 0);
  CHECK(SumSmaps("7f0000000000-7f0020000000 rw-p\nRss: x kB", ram).resident_bytes == 0);
}

}  // namespace
}  // namespace mini_vmm
