#include "arch/x86_64/long_mode.h"

#include <array>

#include "arch/x86_64/platform/layout.h"

namespace mini_vmm::arch::x86_64 {
namespace {

constexpr uint64_t kCr0Pe = 1ull << 0;
constexpr uint64_t kCr0Et = 1ull << 4;
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kEferLme = 1ull << 8;
constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint64_t kRflagsReserved = 1ull << 1;  // Bit 1 always reads as 1.

// Page-table entry bits.
constexpr uint64_t kPtePresent = 1ull << 0;
constexpr uint64_t kPteWritable = 1ull << 1;
constexpr uint64_t kPtePageSize = 1ull << 7;  // 2 MiB page in a PD entry.
constexpr uint64_t kTwoMiB = 2ull << 20;

// A GDT descriptor from flags (bits 8-15 access byte, 12-15 of the upper
// nibble: G, D/B, L, AVL), base and limit, as the SDM lays it out.
constexpr uint64_t GdtEntry(uint16_t flags, uint32_t base, uint32_t limit) {
  return ((uint64_t{base} & 0xff000000u) << 32) | ((uint64_t{flags} & 0xf0ffu) << 40) |
         ((uint64_t{limit} & 0x000f0000u) << 32) | ((uint64_t{base} & 0x00ffffffu) << 16) |
         (uint64_t{limit} & 0x0000ffffu);
}

// Null, 64-bit code (L=1), data, 64-bit TSS: selectors 0x08/0x10/0x18.
constexpr std::array<uint64_t, 4> kGdt = {
    GdtEntry(0, 0, 0),
    GdtEntry(0xa09b, 0, 0xfffff),
    GdtEntry(0xc093, 0, 0xfffff),
    GdtEntry(0x808b, 0, 0xfffff),
};

// The hidden part of a segment register matching a GDT entry.
kvm_segment SegmentFromGdt(uint64_t entry, uint16_t selector) {
  kvm_segment seg{};
  seg.base = static_cast<uint32_t>(((entry >> 16) & 0xffffff) | ((entry >> 32) & 0xff000000));
  const uint32_t limit = static_cast<uint32_t>((entry & 0xffff) | ((entry >> 32) & 0xf0000));
  const bool granularity = (entry >> 55) & 1;
  seg.limit = granularity ? (limit << 12) | 0xfff : limit;
  seg.selector = selector;
  seg.type = static_cast<uint8_t>((entry >> 40) & 0xf);
  seg.s = static_cast<uint8_t>((entry >> 44) & 1);
  seg.dpl = static_cast<uint8_t>((entry >> 45) & 3);
  seg.present = static_cast<uint8_t>((entry >> 47) & 1);
  seg.avl = static_cast<uint8_t>((entry >> 52) & 1);
  seg.l = static_cast<uint8_t>((entry >> 53) & 1);
  seg.db = static_cast<uint8_t>((entry >> 54) & 1);
  seg.g = granularity ? 1 : 0;
  seg.unusable = seg.present ? 0 : 1;
  return seg;
}

template <typename T>
Result<void> WriteChecked(const GuestMemory& mem, uint64_t addr, const T& obj, const char* what) {
  if (!mem.WriteObj(GuestAddress(addr), obj)) {
    return Error::Invalid("guest RAM too small for the boot {} at {:#x}", what, addr);
  }
  return {};
}

}  // namespace

Result<void> WriteBootTables(const GuestMemory& mem) {
  TRY(WriteChecked(mem, kGdtAddress, kGdt, "GDT"));
  TRY(WriteChecked(mem, kIdtAddress, uint64_t{0}, "IDT"));

  // PML4[0] -> PDPT; PDPT[0..3] -> four PDs; each PD maps 1 GiB in 2 MiB pages.
  constexpr size_t kPds = kIdentityMappedBytes >> 30;
  const uint64_t pml4e = kPdptAddress | kPtePresent | kPteWritable;
  TRY(WriteChecked(mem, kPml4Address, pml4e, "page tables"));
  std::array<uint64_t, kPds> pdpt{};
  for (size_t i = 0; i < kPds; ++i) {
    pdpt[i] = (kPdAddress + i * kPageSize) | kPtePresent | kPteWritable;
  }
  TRY(WriteChecked(mem, kPdptAddress, pdpt, "page tables"));
  std::array<uint64_t, 512 * kPds> pd{};
  for (size_t i = 0; i < pd.size(); ++i) {
    pd[i] = (i * kTwoMiB) | kPtePresent | kPteWritable | kPtePageSize;
  }
  TRY(WriteChecked(mem, kPdAddress, pd, "page tables"));
  return {};
}

kvm_regs LongModeRegs(uint64_t entry, uint64_t boot_params) {
  kvm_regs regs{};
  regs.rflags = kRflagsReserved;
  regs.rip = entry;
  regs.rsp = kBootStackPointer;
  regs.rbp = kBootStackPointer;
  regs.rsi = boot_params;  // 64-bit boot protocol: RSI points at boot_params.
  return regs;
}

void SetLongModeSregs(kvm_sregs& sregs) {
  sregs.gdt.base = kGdtAddress;
  sregs.gdt.limit = sizeof(kGdt) - 1;
  sregs.idt.base = kIdtAddress;
  sregs.idt.limit = sizeof(uint64_t) - 1;

  const kvm_segment code = SegmentFromGdt(kGdt[1], kBootCodeSelector);
  const kvm_segment data = SegmentFromGdt(kGdt[2], kBootDataSelector);
  sregs.cs = code;
  sregs.ds = data;
  sregs.es = data;
  sregs.fs = data;
  sregs.gs = data;
  sregs.ss = data;
  sregs.tr = SegmentFromGdt(kGdt[3], kBootTssSelector);

  sregs.cr3 = kPml4Address;
  sregs.cr4 |= kCr4Pae;
  sregs.cr0 |= kCr0Pe | kCr0Pg | kCr0Et;
  sregs.efer |= kEferLme | kEferLma;
}

kvm_fpu BootFpu() {
  kvm_fpu fpu{};
  fpu.fcw = 0x37f;     // x87 default control word: all exceptions masked.
  fpu.mxcsr = 0x1f80;  // SSE default: all exceptions masked, round to nearest.
  return fpu;
}

Result<void> EnterLongMode(kvm::Vcpu& vcpu, uint64_t entry, uint64_t boot_params) {
  kvm_sregs sregs = TRY(vcpu.GetSregs());
  SetLongModeSregs(sregs);
  TRY(vcpu.SetSregs(sregs));
  TRY(vcpu.SetRegs(LongModeRegs(entry, boot_params)));
  TRY(vcpu.SetFpu(BootFpu()));
  return {};
}

}  // namespace mini_vmm::arch::x86_64
