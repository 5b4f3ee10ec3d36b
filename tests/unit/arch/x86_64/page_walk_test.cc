#include "arch/x86_64/page_walk.h"

#include <asm/processor-flags.h>

#include <catch2/catch.hpp>

#include "tests/support/fake_guest_memory.h"

namespace mini_vmm::arch::x86_64 {
namespace {

using mini_vmm::testing::MakeGuestMemory;

constexpr uint64_t kP = 1;        // Present.
constexpr uint64_t kRw = 2;       // Writable (ignored by the walker).
constexpr uint64_t kPs = 1 << 7;  // Page size.
constexpr uint64_t kEferLma = 1 << 10;
constexpr uint64_t kEferLme = 1 << 8;

// Table pages in a 2 MiB guest; a data page above them.
constexpr uint64_t kPml5 = 0x1000;
constexpr uint64_t kPml4 = 0x2000;
constexpr uint64_t kPdpt = 0x3000;
constexpr uint64_t kPd = 0x4000;
constexpr uint64_t kPt = 0x5000;
constexpr uint64_t kData = 0x7000;

// __START_KERNEL_map + 0x1234: PML4 511, PDPT 510, PD 0, PT 0.
constexpr uint64_t kKernelText = 0xffffffff80001234;

class PageWalkTest {
 public:
  PageWalkTest() : memory(MakeGuestMemory(0, 2 << 20)) {}

  void Entry(uint64_t table, uint64_t index, uint64_t value) {
    REQUIRE(memory.WriteObj(GuestAddress(table + 8 * index), value));
  }

  PagingState FourLevel() const {
    return {.cr0 = X86_CR0_PG | X86_CR0_PE,
            .cr3 = kPml4,
            .cr4 = X86_CR4_PAE,
            .efer = kEferLma | kEferLme};
  }
  PagingState FiveLevel() const {
    PagingState paging = FourLevel();
    paging.cr3 = kPml5;
    paging.cr4 |= X86_CR4_LA57;
    return paging;
  }

  // The four-level path to kKernelText through 4 KiB pages.
  void MapKernelText4K() {
    Entry(kPml4, 511, kPdpt | kP | kRw);
    Entry(kPdpt, 510, kPd | kP | kRw);
    Entry(kPd, 0, kPt | kP | kRw);
    Entry(kPt, 1, kData | kP);  // 0x...1234 is in the PT's entry 1.
  }

  GuestMemory memory;
};

TEST_CASE_METHOD(PageWalkTest, "A 4 KiB page through four levels") {
  MapKernelText4K();
  PageWalk walk = TranslateVirtual(memory, FourLevel(), kKernelText);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(kData + 0x234));
  CHECK(walk.page_size == 0x1000);
  CHECK(walk.BytesToPageEnd() == 0x1000 - 0x234);
}

TEST_CASE_METHOD(PageWalkTest, "A 2 MiB page ends the walk at the page directory") {
  Entry(kPml4, 511, kPdpt | kP);
  Entry(kPdpt, 510, kPd | kP);
  Entry(kPd, 0, 0x40000000 | kPs | kP);
  PageWalk walk = TranslateVirtual(memory, FourLevel(), kKernelText);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(0x40001234));
  CHECK(walk.page_size == 2 << 20);
}

TEST_CASE_METHOD(PageWalkTest, "A 1 GiB page ends the walk at the PDPT") {
  Entry(kPml4, 0, kPdpt | kP);
  Entry(kPdpt, 1, 0x80000000 | kPs | kP);  // Virtual 1 GiB -> physical 2 GiB.
  PageWalk walk = TranslateVirtual(memory, FourLevel(), 0x40000000 + 0x123456);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(0x80123456));
  CHECK(walk.page_size == 1 << 30);
  CHECK(walk.BytesToPageEnd() == (1 << 30) - 0x123456);
}

TEST_CASE_METHOD(PageWalkTest, "The 1 GiB page's base ignores the PAT and low bits of the entry") {
  Entry(kPml4, 0, kPdpt | kP);
  Entry(kPdpt, 0, 0x40000000 | (1 << 12) | kPs | kP);  // Bit 12 is PAT in a 1 GiB PDPTE.
  PageWalk walk = TranslateVirtual(memory, FourLevel(), 0x10);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(0x40000010));
}

TEST_CASE_METHOD(PageWalkTest, "Five-level paging walks the PML5 first") {
  // 57-bit kernel address: PML5 511, PML4 511, PDPT 510, PD 0, PT 1.
  Entry(kPml5, 511, kPml4 | kP);
  MapKernelText4K();
  PageWalk walk = TranslateVirtual(memory, FiveLevel(), kKernelText);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(kData + 0x234));
}

TEST_CASE_METHOD(PageWalkTest, "Five-level paging takes addresses above 48 bits") {
  const uint64_t address = 0x0100'0000'0000'0000 - 0x1000;  // Below 2^56, above 2^47.
  Entry(kPml5, 255, kPml4 | kP);
  Entry(kPml4, 511, kPdpt | kP);
  Entry(kPdpt, 511, kPd | kP);
  Entry(kPd, 511, kPt | kP);
  Entry(kPt, 511, kData | kP);
  CHECK(TranslateVirtual(memory, FourLevel(), address).fault == WalkFault::kNonCanonical);
  PageWalk walk = TranslateVirtual(memory, FiveLevel(), address);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(kData));
}

TEST_CASE_METHOD(PageWalkTest, "NotPresent: an empty PML4 entry") {
  CHECK(TranslateVirtual(memory, FourLevel(), kKernelText).fault == WalkFault::kNotPresent);
}

TEST_CASE_METHOD(PageWalkTest, "NotPresent: a PTE without P") {
  MapKernelText4K();
  Entry(kPt, 1, kData);  // The address is there, P is not.
  CHECK(TranslateVirtual(memory, FourLevel(), kKernelText).fault == WalkFault::kNotPresent);
}

TEST_CASE_METHOD(PageWalkTest, "NotPresent: a 2 MiB entry without P is not a page") {
  Entry(kPml4, 511, kPdpt | kP);
  Entry(kPdpt, 510, kPd | kP);
  Entry(kPd, 0, 0x40000000 | kPs);
  CHECK(TranslateVirtual(memory, FourLevel(), kKernelText).fault == WalkFault::kNotPresent);
}

TEST_CASE_METHOD(PageWalkTest, "NonCanonical: bit 47 not sign-extended in 4-level mode") {
  CHECK(TranslateVirtual(memory, FourLevel(), 0x0000'8000'0000'0000).fault ==
        WalkFault::kNonCanonical);
  CHECK(TranslateVirtual(memory, FourLevel(), 0xffff'7fff'ffff'ffff).fault ==
        WalkFault::kNonCanonical);
}

TEST_CASE_METHOD(PageWalkTest, "NonCanonical: bit 56 not sign-extended in 5-level mode") {
  CHECK(TranslateVirtual(memory, FiveLevel(), 0x0100'0000'0000'0000).fault ==
        WalkFault::kNonCanonical);
  CHECK(TranslateVirtual(memory, FiveLevel(), 0xfeff'ffff'ffff'ffff).fault ==
        WalkFault::kNonCanonical);
}

TEST_CASE_METHOD(PageWalkTest, "TableNotInRam: CR3 beyond guest RAM") {
  PagingState paging = FourLevel();
  paging.cr3 = 0x7fff'f000'0000;
  CHECK(TranslateVirtual(memory, paging, kKernelText).fault == WalkFault::kTableNotInRam);
}

TEST_CASE_METHOD(PageWalkTest, "TableNotInRam: a PDPT entry pointing beyond guest RAM") {
  Entry(kPml4, 511, kPdpt | kP);
  Entry(kPdpt, 510, 0x000f'ffff'ffff'f000 | kP);
  CHECK(TranslateVirtual(memory, FourLevel(), kKernelText).fault == WalkFault::kTableNotInRam);
}

TEST_CASE_METHOD(PageWalkTest, "A PS bit in a PML4 entry is not a 512 GiB page") {
  Entry(kPml4, 511, kPdpt | kPs | kP);
  Entry(kPdpt, 510, 0x40000000 | kPs | kP);
  PageWalk walk = TranslateVirtual(memory, FourLevel(), kKernelText);
  REQUIRE(walk.ok());
  CHECK(walk.page_size == 1 << 30);
}

TEST_CASE_METHOD(PageWalkTest, "No-execute and high entry bits do not leak into the address") {
  MapKernelText4K();
  Entry(kPt, 1, kData | kP | (1ull << 63) | (0x7full << 52));
  PageWalk walk = TranslateVirtual(memory, FourLevel(), kKernelText);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(kData + 0x234));
}

TEST_CASE_METHOD(PageWalkTest, "Paging off: linear is physical below 4 GiB") {
  PageWalk walk = TranslateVirtual(memory, PagingState{.cr0 = X86_CR0_PE}, 0x7c00);
  REQUIRE(walk.ok());
  CHECK(walk.physical == GuestAddress(0x7c00));
  CHECK(TranslateVirtual(memory, PagingState{}, 1ull << 32).fault == WalkFault::kNonCanonical);
}

TEST_CASE_METHOD(PageWalkTest, "UnsupportedMode: 32-bit paging") {
  PagingState paging{.cr0 = X86_CR0_PG | X86_CR0_PE, .cr3 = kPml4};
  CHECK(TranslateVirtual(memory, paging, 0x1000).fault == WalkFault::kUnsupportedMode);
}

TEST_CASE_METHOD(PageWalkTest, "UnsupportedMode: PAE paging outside long mode") {
  PagingState paging{.cr0 = X86_CR0_PG | X86_CR0_PE, .cr3 = kPml4, .cr4 = X86_CR4_PAE};
  CHECK(TranslateVirtual(memory, paging, 0x1000).fault == WalkFault::kUnsupportedMode);
}

}  // namespace
}  // namespace mini_vmm::arch::x86_64
