#include "firmware/linux/elf_kernel.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "tests/support/fake_kernel_images.h"

namespace mini_vmm::firmware::linux_boot {
namespace {

using testing::FakeElf;
using testing::FakeLoadSegment;
using testing::kFakeElfEntry;
using testing::kFakeElfFileSize;
using testing::kFakeElfLoadAddress;
using testing::kFakeElfMemorySize;
using testing::kFakeElfSegmentOffset;
using testing::ValidElfKernel;

// --- Valid files ------------------------------------------------------------

TEST_CASE("A minimal x86_64 ET_EXEC with one PT_LOAD parses") {
  auto elf = ParseElfKernel(ValidElfKernel().Build());

  REQUIRE(elf.ok());
  CHECK(elf->entry == kFakeElfEntry);
  REQUIRE(elf->segments.size() == 1);
  CHECK(elf->segments[0].physical_address == kFakeElfLoadAddress);
  CHECK(elf->segments[0].file_offset == kFakeElfSegmentOffset);
  CHECK(elf->segments[0].file_size == kFakeElfFileSize);
  CHECK(elf->segments[0].memory_size == kFakeElfMemorySize);
  CHECK(elf->end == kFakeElfLoadAddress + kFakeElfMemorySize);
}

TEST_CASE("Program headers other than PT_LOAD are skipped") {
  FakeElf fake = ValidElfKernel();
  Elf64_Phdr note = FakeLoadSegment(0, 0, 0x10, 0x10);
  note.p_type = PT_NOTE;
  fake.phdrs.insert(fake.phdrs.begin(), note);
  fake.ehdr.e_phnum = 2;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE(elf.ok());
  REQUIRE(elf->segments.size() == 1);
  CHECK(elf->segments[0].physical_address == kFakeElfLoadAddress);
}

TEST_CASE("The kernel's end is past the highest segment, whatever their order") {
  FakeElf fake = ValidElfKernel();
  fake.phdrs.insert(fake.phdrs.begin(),
                    FakeLoadSegment(0x200'0000, kFakeElfSegmentOffset, 0x100, 0x3000));
  fake.ehdr.e_phnum = 2;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE(elf.ok());
  CHECK(elf->end == 0x200'3000);
}

TEST_CASE("LooksLikeElf recognizes the ELF magic") {
  CHECK(LooksLikeElf(ValidElfKernel().Build()));
  CHECK_FALSE(LooksLikeElf(std::vector<uint8_t>{0x7f, 'E', 'L'}));
  CHECK_FALSE(LooksLikeElf(std::vector<uint8_t>{'M', 'Z', 0, 0}));
}

// --- Malformed files ----------------------------------------------------------

TEST_CASE("Truncated: a file shorter than the ELF header is rejected") {
  std::vector<uint8_t> file = ValidElfKernel().Build();
  file.resize(32);

  auto elf = ParseElfKernel(file);

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file is truncated");
}

TEST_CASE("BadMagic: a file without the ELF magic is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_ident[EI_MAG1] = 'X';

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "not an ELF file");
}

TEST_CASE("WrongClass: a 32-bit ELF is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_ident[EI_CLASS] = ELFCLASS32;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file is not 64-bit little-endian");
}

TEST_CASE("WrongEndianness: a big-endian ELF is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_ident[EI_DATA] = ELFDATA2MSB;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file is not 64-bit little-endian");
}

TEST_CASE("WrongMachine: an ELF for another machine is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_machine = EM_AARCH64;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file is not for x86_64");
}

TEST_CASE("NotExecutable: an ET_DYN is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_type = ET_DYN;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file is not an executable kernel");
}

TEST_CASE("NoProgramHeaders: phnum 0 is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_phnum = 0;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file has a malformed program header table");
}

TEST_CASE("TooManyProgramHeaders: phnum 65 is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_phnum = 65;
  fake.file_size = sizeof(Elf64_Ehdr) + 65 * sizeof(Elf64_Phdr);

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file has a malformed program header table");
}

TEST_CASE("WrongPhentsize: a program header size other than Elf64_Phdr's is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_phentsize = 32;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file has a malformed program header table");
}

TEST_CASE("ProgramHeadersPastEnd: a program header table past the end of the file is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_phoff = fake.file_size - 8;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() ==
        "the ELF file is truncated: its program headers run past the end");
}

TEST_CASE("SegmentPastEnd: a segment whose file bytes run past the end is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.phdrs[0].p_filesz = kFakeElfFileSize + 1;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file is truncated: a segment runs past the end");
}

TEST_CASE("SegmentOffsetPastEnd: a segment starting past the end is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.phdrs[0].p_offset = ~uint64_t{0};

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file is truncated: a segment runs past the end");
}

TEST_CASE("FileSizeAboveMemorySize: filesz > memsz is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.phdrs[0].p_memsz = kFakeElfFileSize - 1;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "an ELF segment has more file bytes than memory bytes");
}

TEST_CASE("AddressWrap: a segment wrapping past 2^64 is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.phdrs[0].p_paddr = 0xffff'ffff'ffff'f000;
  fake.ehdr.e_entry = 0xffff'ffff'ffff'f000;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "an ELF segment wraps around the address space");
}

TEST_CASE("EntryOutsideSegments: an entry point in no segment is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_entry = 0xffff'ffff'8100'0000;  // A virtual address.

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() ==
        "the ELF entry point 0xffffffff81000000 is not in a loaded segment (not a "
        "physically-addressed vmlinux?)");
}

TEST_CASE("EntryInBss: an entry point past the segment's file bytes is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.ehdr.e_entry = kFakeElfLoadAddress + kFakeElfFileSize;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK_THAT(elf.error().ToString(), Catch::StartsWith("the ELF entry point 0x1000800"));
}

TEST_CASE("NothingToLoad: an ELF without PT_LOAD segments is rejected") {
  FakeElf fake = ValidElfKernel();
  fake.phdrs[0].p_type = PT_NOTE;

  auto elf = ParseElfKernel(fake.Build());

  REQUIRE_FALSE(elf.ok());
  CHECK(elf.error().ToString() == "the ELF file has nothing to load");
}

}  // namespace
}  // namespace mini_vmm::firmware::linux_boot
