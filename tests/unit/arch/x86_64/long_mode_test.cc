#include "arch/x86_64/long_mode.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>

#include "arch/x86_64/platform/layout.h"
#include "tests/support/fake_guest_memory.h"

namespace mini_vmm::arch::x86_64 {
namespace {

using testing::MakeGuestMemory;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kPresentWritable = 0x3;
constexpr uint64_t kPresentWritableHuge = 0x83;  // P | RW | PS (2 MiB page)

uint64_t Read64(const GuestMemory& mem, uint64_t address) {
  std::optional<uint64_t> value = mem.ReadObj<uint64_t>(GuestAddress(address));
  REQUIRE(value.has_value());
  return *value;
}

// Walks the 4-level tables the way the MMU does for a 2 MiB page.
uint64_t Translate(const GuestMemory& mem, uint64_t linear) {
  constexpr uint64_t kAddressMask = 0x000f'ffff'ffff'f000;
  const uint64_t pml4e = Read64(mem, kPml4Address + ((linear >> 39) & 0x1ff) * 8);
  const uint64_t pdpte = Read64(mem, (pml4e & kAddressMask) + ((linear >> 30) & 0x1ff) * 8);
  const uint64_t pde = Read64(mem, (pdpte & kAddressMask) + ((linear >> 21) & 0x1ff) * 8);
  return (pde & 0x000f'ffff'ffe0'0000) | (linear & 0x1f'ffff);
}

// --- WriteBootTables --------------------------------------------------------

TEST_CASE("The boot GDT's code descriptor is 64-bit (L=1, D=0), present and executable") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  const uint64_t code = Read64(mem, kGdtAddress + kBootCodeSelector);
  CHECK(((code >> 53) & 1) == 1);      // L
  CHECK(((code >> 54) & 1) == 0);      // D must be 0 when L is 1
  CHECK(((code >> 47) & 1) == 1);      // P
  CHECK(((code >> 40) & 0xf) == 0xb);  // execute/read, accessed
  CHECK(((code >> 44) & 1) == 1);      // S: code/data
}

TEST_CASE("The boot GDT starts with a null descriptor and has a writable data descriptor") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  CHECK(Read64(mem, kGdtAddress) == 0);
  const uint64_t data = Read64(mem, kGdtAddress + kBootDataSelector);
  CHECK(((data >> 47) & 1) == 1);      // P
  CHECK(((data >> 40) & 0xf) == 0x3);  // read/write, accessed
}

TEST_CASE("PML4 entry 0 points at the PDPT") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  CHECK(Read64(mem, kPml4Address) == (kPdptAddress | kPresentWritable));
}

TEST_CASE("PDPT entries 0-3 point at the four page directories") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  CHECK(Read64(mem, kPdptAddress + 0 * 8) == ((kPdAddress + 0 * kPageSize) | kPresentWritable));
  CHECK(Read64(mem, kPdptAddress + 1 * 8) == ((kPdAddress + 1 * kPageSize) | kPresentWritable));
  CHECK(Read64(mem, kPdptAddress + 2 * 8) == ((kPdAddress + 2 * kPageSize) | kPresentWritable));
  CHECK(Read64(mem, kPdptAddress + 3 * 8) == ((kPdAddress + 3 * kPageSize) | kPresentWritable));
  CHECK(Read64(mem, kPdptAddress + 4 * 8) == 0);
}

TEST_CASE("The first PD entry maps guest-physical 0 as a 2 MiB page") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  CHECK(Read64(mem, kPdAddress) == (0 | kPresentWritableHuge));
}

TEST_CASE("The PD entry for 1 GiB starts the second page directory") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  CHECK(Read64(mem, kPdAddress + kPageSize) == (0x4000'0000 | kPresentWritableHuge));
}

TEST_CASE("The last PD entry maps the 2 MiB just below 4 GiB") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  CHECK(Read64(mem, kPdAddress + 4 * kPageSize - 8) == (0xffe0'0000 | kPresentWritableHuge));
}

TEST_CASE("A page walk through the boot tables is the identity") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);

  REQUIRE(WriteBootTables(mem).ok());

  CHECK(Translate(mem, 0x0) == 0x0);
  CHECK(Translate(mem, 0x0100'0200) == 0x0100'0200);
  CHECK(Translate(mem, 0x4000'0000) == 0x4000'0000);
  CHECK(Translate(mem, 0xffff'fff0) == 0xffff'fff0);
}

TEST_CASE("TooSmallMemory: WriteBootTables fails naming the page tables it could not write") {
  GuestMemory mem = MakeGuestMemory(0, 0x8000);

  auto result = WriteBootTables(mem);

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().ToString() == "guest RAM too small for the boot page tables at 0x9000");
}

TEST_CASE("TooSmallMemoryForPds: WriteBootTables fails when only the PDs do not fit") {
  GuestMemory mem = MakeGuestMemory(0, 0xc000);

  auto result = WriteBootTables(mem);

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().ToString() == "guest RAM too small for the boot page tables at 0xb000");
}

TEST_CASE("NoLowMemory: WriteBootTables fails naming the GDT when RAM starts above it") {
  GuestMemory mem = MakeGuestMemory(0x10'0000, 2 * kMiB);

  auto result = WriteBootTables(mem);

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().ToString() == "guest RAM too small for the boot GDT at 0x500");
}

// --- SetLongModeSregs -------------------------------------------------------

TEST_CASE("SetLongModeSregs turns on protection, paging, PAE and long mode") {
  kvm_sregs sregs{};

  SetLongModeSregs(sregs);

  CHECK((sregs.cr0 & 0x1) != 0);          // PE
  CHECK((sregs.cr0 & 0x8000'0000) != 0);  // PG
  CHECK((sregs.cr4 & 0x20) != 0);         // PAE
  CHECK((sregs.efer & 0x100) != 0);       // LME
  CHECK((sregs.efer & 0x400) != 0);       // LMA
  CHECK(sregs.cr3 == kPml4Address);
}

TEST_CASE("SetLongModeSregs loads a 64-bit code segment and flat data segments") {
  kvm_sregs sregs{};

  SetLongModeSregs(sregs);

  CHECK(sregs.cs.selector == kBootCodeSelector);
  CHECK(sregs.cs.l == 1);
  CHECK(sregs.cs.db == 0);
  CHECK(sregs.cs.present == 1);
  CHECK(sregs.cs.s == 1);
  CHECK(sregs.cs.type == 0xb);
  CHECK(sregs.ds.selector == kBootDataSelector);
  CHECK(sregs.es.selector == kBootDataSelector);
  CHECK(sregs.fs.selector == kBootDataSelector);
  CHECK(sregs.gs.selector == kBootDataSelector);
  CHECK(sregs.ss.selector == kBootDataSelector);
  CHECK(sregs.ds.limit == 0xffff'ffff);
  CHECK(sregs.tr.selector == kBootTssSelector);
  CHECK(sregs.tr.present == 1);
}

TEST_CASE("SetLongModeSregs points GDTR and IDTR at the boot tables") {
  kvm_sregs sregs{};

  SetLongModeSregs(sregs);

  CHECK(sregs.gdt.base == kGdtAddress);
  CHECK(sregs.gdt.limit == 4 * 8 - 1);
  CHECK(sregs.idt.base == kIdtAddress);
  CHECK(sregs.idt.limit == 7);
}

TEST_CASE("SetLongModeSregs keeps the fields KVM owns, such as the APIC base") {
  kvm_sregs sregs{};
  sregs.apic_base = 0xfee0'0900;
  sregs.cr4 = 0x40;  // MCE, set by someone before us.

  SetLongModeSregs(sregs);

  CHECK(sregs.apic_base == 0xfee0'0900);
  CHECK((sregs.cr4 & 0x40) != 0);
}

// --- LongModeRegs and BootFpu -----------------------------------------------

TEST_CASE("LongModeRegs enters at the entry point with RSI pointing at boot_params") {
  kvm_regs regs = LongModeRegs(0x100'0000, kZeroPageAddress);

  CHECK(regs.rip == 0x100'0000);
  CHECK(regs.rsi == kZeroPageAddress);
  CHECK(regs.rflags == 0x2);
  CHECK(regs.rsp == kBootStackPointer);
}

TEST_CASE("BootFpu masks every x87 and SSE exception") {
  kvm_fpu fpu = BootFpu();

  CHECK(fpu.fcw == 0x37f);
  CHECK(fpu.mxcsr == 0x1f80);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
