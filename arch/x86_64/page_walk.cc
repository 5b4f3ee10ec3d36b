#include "arch/x86_64/page_walk.h"

#include <asm/processor-flags.h>

namespace mini_vmm::arch::x86_64 {
namespace {

// EFER.LMA, long mode active (Intel SDM vol. 3, 2.2.1). Not in a uAPI header.
constexpr uint64_t kEferLma = 1ull << 10;

// Page-table entry bits (Intel SDM vol. 3, 4.5).
constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kPageSize = 1ull << 7;                 // PS: a leaf in a PDPTE or PDE.
constexpr uint64_t kAddressMask = 0x000f'ffff'ffff'f000;  // Bits 51:12.

constexpr uint64_t k4KiB = 1ull << 12;
constexpr unsigned kIndexBits = 9;
constexpr uint64_t kIndexMask = (1u << kIndexBits) - 1;
constexpr uint64_t kFourGiB = 1ull << 32;

// Sign-extension check for a `width`-bit linear address.
bool IsCanonical(uint64_t address, unsigned width) {
  const auto high = static_cast<int64_t>(address) >> (width - 1);
  return high == 0 || high == -1;
}

PageWalk Fault(WalkFault fault) { return PageWalk{fault, GuestAddress(), 0}; }

PageWalk WalkLongMode(const GuestMemory& memory, uint64_t cr3, uint64_t address, unsigned levels) {
  uint64_t table = cr3 & kAddressMask;
  // Level 5 (PML5) or 4 (PML4) down to 1 (PT); the index of level n is
  // address bits [12 + 9n - 1 : 12 + 9(n - 1)].
  for (unsigned level = levels; level >= 1; --level) {
    const unsigned shift = 12 + kIndexBits * (level - 1);
    const uint64_t index = (address >> shift) & kIndexMask;
    std::optional<uint64_t> entry = memory.ReadObj<uint64_t>(GuestAddress(table + index * 8));
    if (!entry) return Fault(WalkFault::kTableNotInRam);
    if ((*entry & kPresent) == 0) return Fault(WalkFault::kNotPresent);
    // PS makes a PDPTE (level 3) a 1 GiB page and a PDE (level 2) a 2 MiB
    // page; in a PML5E/PML4E it is reserved, and in a PTE it is PAT.
    const bool leaf = level == 1 || ((level == 2 || level == 3) && (*entry & kPageSize) != 0);
    if (leaf) {
      const uint64_t page_size = 1ull << shift;
      const uint64_t base = *entry & kAddressMask & ~(page_size - 1);
      return PageWalk{WalkFault::kNone, GuestAddress(base | (address & (page_size - 1))),
                      page_size};
    }
    table = *entry & kAddressMask;
  }
  return Fault(WalkFault::kNotPresent);  // Not reached: level 1 is always a leaf.
}

}  // namespace

PageWalk TranslateVirtual(const GuestMemory& memory, const PagingState& paging,
                          uint64_t linear_address) {
  if ((paging.cr0 & X86_CR0_PG) == 0) {
    if (linear_address >= kFourGiB) return Fault(WalkFault::kNonCanonical);
    return PageWalk{WalkFault::kNone, GuestAddress(linear_address), k4KiB};
  }
  if ((paging.efer & kEferLma) == 0 || (paging.cr4 & X86_CR4_PAE) == 0) {
    return Fault(WalkFault::kUnsupportedMode);
  }
  const bool five_level = (paging.cr4 & X86_CR4_LA57) != 0;
  if (!IsCanonical(linear_address, five_level ? 57 : 48)) {
    return Fault(WalkFault::kNonCanonical);
  }
  return WalkLongMode(memory, paging.cr3, linear_address, five_level ? 5 : 4);
}

}  // namespace mini_vmm::arch::x86_64
