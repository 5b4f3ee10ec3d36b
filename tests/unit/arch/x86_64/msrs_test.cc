#include "arch/x86_64/msrs.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint32_t kMsrTsc = 0x10;
constexpr uint32_t kMsrSysenterCs = 0x174;
constexpr uint32_t kMsrMiscEnable = 0x1a0;
constexpr uint32_t kMsrMtrrDefType = 0x2ff;
constexpr uint32_t kMsrLstar = 0xc0000082;

std::vector<uint32_t> Indices(const std::vector<kvm_msr_entry>& entries) {
  std::vector<uint32_t> indices(entries.size());
  std::transform(entries.begin(), entries.end(), indices.begin(),
                 [](const kvm_msr_entry& e) { return e.index; });
  return indices;
}

TEST_CASE("BootMsrs returns only the MSRs KVM supports") {
  const std::vector<uint32_t> supported = {kMsrLstar, kMsrTsc, 0x12345678, kMsrSysenterCs};

  auto msrs = BootMsrs(supported);

  CHECK(Indices(msrs) == std::vector<uint32_t>{kMsrSysenterCs, kMsrLstar, kMsrTsc});
}

TEST_CASE("BootMsrs returns nothing when KVM supports none of them") {
  const std::vector<uint32_t> supported = {0x12345678};

  CHECK(BootMsrs(supported).empty());
}

TEST_CASE("BootMsrs zeroes the SYSCALL/SYSENTER MSRs and the TSC") {
  const std::vector<uint32_t> supported = {kMsrSysenterCs, kMsrLstar, kMsrTsc};

  auto msrs = BootMsrs(supported);

  REQUIRE(msrs.size() == 3);
  CHECK(msrs[0].data == 0);
  CHECK(msrs[1].data == 0);
  CHECK(msrs[2].data == 0);
}

TEST_CASE("BootMsrs enables fast strings in IA32_MISC_ENABLE") {
  const std::vector<uint32_t> supported = {kMsrMiscEnable};

  auto msrs = BootMsrs(supported);

  REQUIRE(msrs.size() == 1);
  CHECK(msrs[0].index == kMsrMiscEnable);
  CHECK(msrs[0].data == 1);
}

TEST_CASE("BootMsrs enables MTRRs with write-back as the default type") {
  const std::vector<uint32_t> supported = {kMsrMtrrDefType};

  auto msrs = BootMsrs(supported);

  REQUIRE(msrs.size() == 1);
  CHECK(msrs[0].index == kMsrMtrrDefType);
  CHECK(msrs[0].data == 0x806);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
