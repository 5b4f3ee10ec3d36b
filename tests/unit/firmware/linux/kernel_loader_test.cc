#include "firmware/linux/kernel_loader.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "tests/support/fake_guest_memory.h"
#include "tests/support/fake_kernel_images.h"

namespace mini_vmm::firmware::linux_boot {
namespace {

using testing::FakeElf;
using testing::FakeLoadSegment;
using testing::kFakeElfFileSize;
using testing::kFakeElfLoadAddress;
using testing::kFakeElfMemorySize;
using testing::kFakeInitSize;
using testing::kFakePrefAddress;
using testing::kFakeProtectedModeSize;
using testing::MakeGuestMemory;
using testing::ValidBzImage;
using testing::ValidElfKernel;

constexpr uint64_t kMiB = uint64_t{1} << 20;

uint8_t ByteAt(const GuestMemory& mem, uint64_t address) {
  std::optional<uint8_t> byte = mem.ReadObj<uint8_t>(GuestAddress(address));
  REQUIRE(byte.has_value());
  return *byte;
}

LoadedKernel KernelEndingAt(uint64_t end, uint32_t initrd_addr_max) {
  LoadedKernel kernel{};
  kernel.format = KernelFormat::kBzImage;
  kernel.end = end;
  kernel.header.initrd_addr_max = initrd_addr_max;
  return kernel;
}

// --- bzImage ------------------------------------------------------------------

TEST_CASE("LoadKernel places a bzImage's protected-mode part at 1 MiB") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ValidBzImage().Build());

  REQUIRE(kernel.ok());
  CHECK(ByteAt(mem, 0x100000) == testing::FakeProtectedModeByte(0));
  CHECK(ByteAt(mem, 0x100000 + kFakeProtectedModeSize - 1) ==
        testing::FakeProtectedModeByte(kFakeProtectedModeSize - 1));
}

TEST_CASE("A loaded bzImage is entered at its 64-bit entry, 0x200 past 1 MiB") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ValidBzImage().Build());

  REQUIRE(kernel.ok());
  CHECK(kernel->format == KernelFormat::kBzImage);
  CHECK(kernel->entry == 0x100200);
}

TEST_CASE("A loaded bzImage ends where its decompression ends, pref_address + init_size") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ValidBzImage().Build());

  REQUIRE(kernel.ok());
  CHECK(kernel->end == kFakePrefAddress + kFakeInitSize);
}

TEST_CASE("A loaded bzImage's header says where the protected-mode part was loaded") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ValidBzImage().Build());

  REQUIRE(kernel.ok());
  const uint32_t code32_start = kernel->header.code32_start;
  const uint16_t version = kernel->header.version;
  CHECK(code32_start == 0x100000);
  CHECK(version == 0x020f);
}

TEST_CASE("BzImageMemoryTooSmall: RAM ending inside the decompression area fails") {
  GuestMemory mem = MakeGuestMemory(0, 16 * kMiB);

  auto kernel = LoadKernel(mem, ValidBzImage().Build());

  REQUIRE_FALSE(kernel.ok());
  CHECK(kernel.error().ToString() ==
        "guest memory is too small for this kernel: it needs RAM up to 17 MiB");
}

TEST_CASE("BzImagePrefAddressWraps: a pref_address + init_size past 2^64 fails") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);
  testing::FakeBzImage fake = ValidBzImage();
  fake.header.pref_address = 0xffff'ffff'ffff'0000;

  auto kernel = LoadKernel(mem, fake.Build());

  REQUIRE_FALSE(kernel.ok());
  CHECK(kernel.error().ToString() ==
        "the kernel's pref_address 0xffffffffffff0000 is not a usable address");
}

TEST_CASE("LoadKernel passes a bzImage's parse error through") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);
  testing::FakeBzImage fake = ValidBzImage();
  fake.header.version = 0x0208;

  auto kernel = LoadKernel(mem, fake.Build());

  REQUIRE_FALSE(kernel.ok());
  CHECK_THAT(kernel.error().ToString(), Catch::StartsWith("boot protocol 2.08 is too old"));
}

// --- ELF ----------------------------------------------------------------------

TEST_CASE("LoadKernel copies an ELF segment's file bytes to its physical address") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ValidElfKernel().Build());

  REQUIRE(kernel.ok());
  CHECK(ByteAt(mem, kFakeElfLoadAddress) == testing::kFakeElfSegmentByte);
  CHECK(ByteAt(mem, kFakeElfLoadAddress + kFakeElfFileSize - 1) == testing::kFakeElfSegmentByte);
}

TEST_CASE("LoadKernel zeroes an ELF segment's bss, whatever was in RAM") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);
  REQUIRE(mem.Write(GuestAddress(kFakeElfLoadAddress),
                    std::vector<uint8_t>(kFakeElfMemorySize + 1, 0xee)));

  auto kernel = LoadKernel(mem, ValidElfKernel().Build());

  REQUIRE(kernel.ok());
  CHECK(ByteAt(mem, kFakeElfLoadAddress + kFakeElfFileSize) == 0);
  CHECK(ByteAt(mem, kFakeElfLoadAddress + kFakeElfMemorySize - 1) == 0);
  CHECK(ByteAt(mem, kFakeElfLoadAddress + kFakeElfMemorySize) == 0xee);
}

TEST_CASE("A loaded ELF kernel is entered at e_entry with a synthetic header") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ValidElfKernel().Build());

  REQUIRE(kernel.ok());
  CHECK(kernel->format == KernelFormat::kElf);
  CHECK(kernel->entry == testing::kFakeElfEntry);
  CHECK(kernel->end == kFakeElfLoadAddress + kFakeElfMemorySize);
  const uint32_t magic = kernel->header.header;
  CHECK(magic == 0x53726448);
}

TEST_CASE("ElfMemoryTooSmall: a segment beyond RAM fails") {
  GuestMemory mem = MakeGuestMemory(0, 16 * kMiB);

  auto kernel = LoadKernel(mem, ValidElfKernel().Build());

  REQUIRE_FALSE(kernel.ok());
  CHECK(kernel.error().ToString() ==
        "guest memory is too small for this kernel: it needs RAM up to 17 MiB");
}

constexpr BootRegion kZeroPage{"zero page", 0x7000, 0x1000};
constexpr BootRegion kAcpiTables{"ACPI tables", 0xe0000, 0x10000};
constexpr std::array<BootRegion, 2> kBootRegions = {kZeroPage, kAcpiTables};

// The valid kernel plus a second PT_LOAD of 0x100 file bytes at `paddr`.
FakeElf ElfWithSegmentAt(uint64_t paddr, uint64_t memory_size) {
  FakeElf elf = ValidElfKernel();
  elf.phdrs.push_back(FakeLoadSegment(paddr, testing::kFakeElfSegmentOffset, 0x100, memory_size));
  elf.ehdr.e_phnum = 2;
  return elf;
}

TEST_CASE("ElfSegmentOverlapsZeroPage: refused before anything is copied") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ElfWithSegmentAt(0x7800, 0x1000).Build(), kBootRegions);

  REQUIRE_FALSE(kernel.ok());
  CHECK(kernel.error().ToString() ==
        "the ELF segment at 0x7800-0x87ff overlaps the zero page at 0x7000-0x7fff, which "
        "mini-vmm writes there");
  CHECK(ByteAt(mem, kFakeElfLoadAddress) == 0);  // Nothing loaded.
}

TEST_CASE("ElfSegmentBssOverlapsAcpiTables: memory size counts, not file size") {
  const std::vector<uint8_t> image = ElfWithSegmentAt(0xd0000, 0x10001).Build();

  auto format = CheckKernelImage(image, kBootRegions);

  REQUIRE_FALSE(format.ok());
  CHECK(format.error().ToString() ==
        "the ELF segment at 0xd0000-0xe0000 overlaps the ACPI tables at 0xe0000-0xeffff, which "
        "mini-vmm writes there");
}

TEST_CASE("An ELF segment ending where a boot region starts is accepted") {
  GuestMemory mem = MakeGuestMemory(0, 32 * kMiB);

  auto kernel = LoadKernel(mem, ElfWithSegmentAt(0x6000, 0x1000).Build(), kBootRegions);

  CHECK(kernel.ok());
}

TEST_CASE("KernelCmdlineLimit is the bzImage header's cmdline_size") {
  testing::FakeBzImage bz = ValidBzImage();
  bz.header.cmdline_size = 0xffff'ffff;  // Untrusted: whatever the image says.

  auto limit = KernelCmdlineLimit(bz.Build());

  REQUIRE(limit.ok());
  CHECK(*limit == 0xffff'ffffu);
}

TEST_CASE("KernelCmdlineLimit of an ELF vmlinux is the synthetic header's") {
  auto limit = KernelCmdlineLimit(ValidElfKernel().Build());

  REQUIRE(limit.ok());
  CHECK(*limit == 2047u);
}

// --- ChooseInitrdAddress ------------------------------------------------------

TEST_CASE("The initrd goes at the top of RAM, page-aligned down") {
  const LoadedKernel kernel = KernelEndingAt(0x110'0000, 0x7fff'ffff);

  auto address = ChooseInitrdAddress(0x12'3456, kernel, 128 * kMiB);

  REQUIRE(address.ok());
  CHECK(*address == 0x7edc000);  // (0x8000000 - 0x123456) & ~0xfff
}

TEST_CASE("The initrd stays below the kernel's initrd_addr_max") {
  const LoadedKernel kernel = KernelEndingAt(0x110'0000, 0x37ff'ffff);

  auto address = ChooseInitrdAddress(0x10'0000, kernel, 0xc000'0000);

  REQUIRE(address.ok());
  CHECK(*address == 0x37f0'0000);
}

TEST_CASE("An initrd that fits exactly between the kernel and the top of RAM is placed") {
  const LoadedKernel kernel = KernelEndingAt(0x110'0000, 0x7fff'ffff);

  auto address = ChooseInitrdAddress(128 * kMiB - 0x110'0000, kernel, 128 * kMiB);

  REQUIRE(address.ok());
  CHECK(*address == 0x110'0000);
}

TEST_CASE("InitrdCollidesWithKernel: an initrd reaching into the kernel fails naming sizes") {
  const LoadedKernel kernel = KernelEndingAt(0x110'0000, 0x7fff'ffff);

  auto address = ChooseInitrdAddress(112 * kMiB, kernel, 128 * kMiB);

  REQUIRE_FALSE(address.ok());
  CHECK(address.error().ToString() ==
        "guest memory is too small: the kernel needs 17 MiB and the initrd 112 MiB below 128 MiB");
}

TEST_CASE("InitrdLargerThanRam: an initrd larger than all of RAM fails") {
  const LoadedKernel kernel = KernelEndingAt(0x110'0000, 0x7fff'ffff);

  auto address = ChooseInitrdAddress(256 * kMiB, kernel, 128 * kMiB);

  REQUIRE_FALSE(address.ok());
  CHECK(address.error().ToString() ==
        "guest memory is too small: the kernel needs 17 MiB and the initrd 256 MiB below 128 MiB");
}

}  // namespace
}  // namespace mini_vmm::firmware::linux_boot
