#include "arch/x86_64/msrs.h"

#include <algorithm>

namespace mini_vmm::arch::x86_64 {
namespace {

// Architectural MSR numbers (Intel SDM vol. 4; AMD APM vol. 2 for the
// SYSCALL MSRs). The kernel's msr-index.h is not a uAPI header.
constexpr uint32_t kMsrSysenterCs = 0x174;
constexpr uint32_t kMsrSysenterEsp = 0x175;
constexpr uint32_t kMsrSysenterEip = 0x176;
constexpr uint32_t kMsrMiscEnable = 0x1a0;
constexpr uint32_t kMsrMtrrDefType = 0x2ff;
constexpr uint32_t kMsrTsc = 0x10;
constexpr uint32_t kMsrStar = 0xc0000081;
constexpr uint32_t kMsrLstar = 0xc0000082;
constexpr uint32_t kMsrCstar = 0xc0000083;
constexpr uint32_t kMsrSyscallMask = 0xc0000084;
constexpr uint32_t kMsrKernelGsBase = 0xc0000102;

// IA32_MISC_ENABLE bit 0: fast string operations (rep movs/stos).
constexpr uint64_t kMiscEnableFastString = 1;
// IA32_MTRR_DEF_TYPE: MTRRs enabled (bit 11), default type write-back (6).
constexpr uint64_t kMtrrDefTypeEnabledWriteBack = (1u << 11) | 6;

}  // namespace

std::vector<kvm_msr_entry> BootMsrs(std::span<const uint32_t> supported) {
  const struct {
    uint32_t index;
    uint64_t value;
  } wanted[] = {
      {kMsrSysenterCs, 0},
      {kMsrSysenterEsp, 0},
      {kMsrSysenterEip, 0},
      {kMsrStar, 0},
      {kMsrCstar, 0},
      {kMsrKernelGsBase, 0},
      {kMsrSyscallMask, 0},
      {kMsrLstar, 0},
      {kMsrTsc, 0},
      {kMsrMiscEnable, kMiscEnableFastString},
      {kMsrMtrrDefType, kMtrrDefTypeEnabledWriteBack},
  };
  std::vector<kvm_msr_entry> entries;
  for (const auto& msr : wanted) {
    if (std::find(supported.begin(), supported.end(), msr.index) == supported.end()) continue;
    kvm_msr_entry e{};
    e.index = msr.index;
    e.data = msr.value;
    entries.push_back(e);
  }
  return entries;
}

}  // namespace mini_vmm::arch::x86_64
