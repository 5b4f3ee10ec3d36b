#include "firmware/linux/boot_params.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/fake_guest_memory.h"
#include "tests/support/packed.h"

namespace mini_vmm::firmware::linux_boot {

// For comparing and printing memory maps in CHECKs (found by ADL).
bool operator==(const E820Entry& a, const E820Entry& b) {
  return a.address == b.address && a.size == b.size && a.type == b.type;
}

}  // namespace mini_vmm::firmware::linux_boot

namespace Catch {
template <>
struct StringMaker<mini_vmm::firmware::linux_boot::E820Entry> {
  static std::string convert(const mini_vmm::firmware::linux_boot::E820Entry& e) {
    std::ostringstream out;
    out << std::hex << "{0x" << e.address << ", 0x" << e.size << ", " << e.type << "}";
    return out.str();
  }
};
}  // namespace Catch

namespace mini_vmm::firmware::linux_boot {
namespace {

using testing::MakeGuestMemory;

constexpr uint64_t kMiB = uint64_t{1} << 20;

BootParamsConfig TypicalConfig() {
  BootParamsConfig config;
  config.header = SyntheticHeader();
  config.cmdline_address = 0x20000;
  config.initrd_address = 0x7f00000;
  config.initrd_size = 0x123456;
  config.acpi_rsdp_address = 0xe0000;
  config.e820 = {{0, 0x9fc00, kE820Ram}, {0x100000, 0x7f00000, kE820Ram}};
  return config;
}

// --- SyntheticHeader ----------------------------------------------------------

TEST_CASE("The synthetic header says HdrS, protocol 2.12, 64-bit capable, loaded high") {
  setup_header h = SyntheticHeader();

  CHECK(mini_vmm::testing::Value(h.boot_flag) == 0xaa55);
  CHECK(mini_vmm::testing::Value(h.header) == 0x53726448);
  CHECK(mini_vmm::testing::Value(h.version) == 0x020c);
  CHECK((h.xloadflags & XLF_KERNEL_64) != 0);
  CHECK((h.loadflags & LOADED_HIGH) != 0);
  CHECK(mini_vmm::testing::Value(h.cmdline_size) == 2047);
}

// --- BuildBootParams ----------------------------------------------------------

TEST_CASE("BuildBootParams puts the command line address in cmd_line_ptr") {
  auto params = BuildBootParams(TypicalConfig());

  REQUIRE(params.ok());
  CHECK(mini_vmm::testing::Value(params->hdr.cmd_line_ptr) == 0x20000);
  CHECK(mini_vmm::testing::Value(params->ext_cmd_line_ptr) == 0);
}

TEST_CASE("BuildBootParams splits a command line address above 4 GiB into ext_cmd_line_ptr") {
  BootParamsConfig config = TypicalConfig();
  config.cmdline_address = 0x1'2345'6000;

  auto params = BuildBootParams(config);

  REQUIRE(params.ok());
  CHECK(mini_vmm::testing::Value(params->hdr.cmd_line_ptr) == 0x2345'6000);
  CHECK(mini_vmm::testing::Value(params->ext_cmd_line_ptr) == 1);
}

TEST_CASE("BuildBootParams describes the initrd") {
  auto params = BuildBootParams(TypicalConfig());

  REQUIRE(params.ok());
  CHECK(mini_vmm::testing::Value(params->hdr.ramdisk_image) == 0x7f00000);
  CHECK(mini_vmm::testing::Value(params->hdr.ramdisk_size) == 0x123456);
  CHECK(mini_vmm::testing::Value(params->ext_ramdisk_image) == 0);
  CHECK(mini_vmm::testing::Value(params->ext_ramdisk_size) == 0);
}

TEST_CASE("BuildBootParams passes the ACPI RSDP address") {
  auto params = BuildBootParams(TypicalConfig());

  REQUIRE(params.ok());
  CHECK(mini_vmm::testing::Value(params->acpi_rsdp_addr) == 0xe0000);
}

TEST_CASE("BuildBootParams marks the loader as undefined (0xff) and keeps the header") {
  auto params = BuildBootParams(TypicalConfig());

  REQUIRE(params.ok());
  CHECK(mini_vmm::testing::Value(params->hdr.type_of_loader) == 0xff);
  CHECK(mini_vmm::testing::Value(params->hdr.vid_mode) == 0xffff);
  CHECK(mini_vmm::testing::Value(params->hdr.header) == 0x53726448);
  CHECK(mini_vmm::testing::Value(params->hdr.version) == 0x020c);
}

TEST_CASE("BuildBootParams copies the memory map") {
  auto params = BuildBootParams(TypicalConfig());

  REQUIRE(params.ok());
  REQUIRE(mini_vmm::testing::Value(params->e820_entries) == 2);
  CHECK(mini_vmm::testing::Value(params->e820_table[1].addr) == 0x100000);
  CHECK(mini_vmm::testing::Value(params->e820_table[1].size) == 0x7f00000);
  CHECK(mini_vmm::testing::Value(params->e820_table[1].type) == kE820Ram);
}

TEST_CASE("BuildBootParams accepts a memory map of exactly 128 entries") {
  BootParamsConfig config = TypicalConfig();
  config.e820.assign(128, E820Entry{0, 0x1000, kE820Ram});

  auto params = BuildBootParams(config);

  REQUIRE(params.ok());
  CHECK(mini_vmm::testing::Value(params->e820_entries) == 128);
}

TEST_CASE("TooManyE820Entries: a memory map of 129 entries fails naming both counts") {
  BootParamsConfig config = TypicalConfig();
  config.e820.assign(129, E820Entry{0, 0x1000, kE820Ram});

  auto params = BuildBootParams(config);

  REQUIRE_FALSE(params.ok());
  CHECK(params.error().ToString() == "the memory map has 129 entries; the zero page holds 128");
}

// --- BuildE820 ----------------------------------------------------------------

TEST_CASE("BuildE820 lists each RAM region as RAM when nothing is reserved") {
  GuestMemory mem =
      MakeGuestMemory({{GuestAddress(0), 2 * kMiB}, {GuestAddress(1ull << 32), kMiB}});

  auto map = BuildE820(mem.regions(), {});

  CHECK(map == std::vector<E820Entry>{{0, 2 * kMiB, kE820Ram}, {1ull << 32, kMiB, kE820Ram}});
}

TEST_CASE("BuildE820 carves a reserved range out of the middle of RAM") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);
  const std::vector<E820Entry> reserved = {{0x9fc00, 0x100000 - 0x9fc00, kE820Reserved}};

  auto map = BuildE820(mem.regions(), reserved);

  CHECK(map == std::vector<E820Entry>{{0, 0x9fc00, kE820Ram},
                                      {0x9fc00, 0x60400, kE820Reserved},
                                      {0x100000, 0x100000, kE820Ram}});
}

TEST_CASE("BuildE820 carves a reserved range at the start of RAM") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);
  const std::vector<E820Entry> reserved = {{0, 0x1000, kE820Reserved}};

  auto map = BuildE820(mem.regions(), reserved);

  CHECK(map ==
        std::vector<E820Entry>{{0, 0x1000, kE820Reserved}, {0x1000, 2 * kMiB - 0x1000, kE820Ram}});
}

TEST_CASE("BuildE820 lists a reserved range in a hole without touching RAM, sorted") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);
  const std::vector<E820Entry> reserved = {{0xfec0'0000, 0x1000, kE820Reserved},
                                           {0xe000'0000, 0x1000'0000, kE820Reserved}};

  auto map = BuildE820(mem.regions(), reserved);

  CHECK(map == std::vector<E820Entry>{{0, 2 * kMiB, kE820Ram},
                                      {0xe000'0000, 0x1000'0000, kE820Reserved},
                                      {0xfec0'0000, 0x1000, kE820Reserved}});
}

TEST_CASE("BuildE820 carves two reserved ranges out of one region") {
  GuestMemory mem = MakeGuestMemory(0, 2 * kMiB);
  const std::vector<E820Entry> reserved = {{0x100000, 0x1000, kE820Reserved},
                                           {0x9f000, 0x1000, kE820Reserved}};

  auto map = BuildE820(mem.regions(), reserved);

  CHECK(map == std::vector<E820Entry>{{0, 0x9f000, kE820Ram},
                                      {0x9f000, 0x1000, kE820Reserved},
                                      {0xa0000, 0x60000, kE820Ram},
                                      {0x100000, 0x1000, kE820Reserved},
                                      {0x101000, 0xff000, kE820Ram}});
}

// --- WriteCmdline -------------------------------------------------------------

constexpr uint64_t kArea = 0x800;  // Room the tests reserve for the command line.

TEST_CASE("WriteCmdline writes the command line and its NUL") {
  GuestMemory mem = MakeGuestMemory(0, 0x1000);
  REQUIRE(mem.Write(GuestAddress(0x100), std::vector<uint8_t>(16, 0xee)));

  REQUIRE(WriteCmdline(mem, {GuestAddress(0x100), kArea}, "quiet", 255).ok());

  std::vector<uint8_t> bytes(6);
  REQUIRE(mem.Read(GuestAddress(0x100), bytes));
  CHECK(bytes == std::vector<uint8_t>{'q', 'u', 'i', 'e', 't', 0});
}

TEST_CASE("WriteCmdline accepts a command line exactly at the limit") {
  GuestMemory mem = MakeGuestMemory(0, 0x1000);
  const std::string cmdline(10, 'a');

  auto result = WriteCmdline(mem, {GuestAddress(0x100), kArea}, cmdline, 10);

  CHECK(result.ok());
  CHECK(mem.ReadObj<uint8_t>(GuestAddress(0x10a)) == uint8_t{0});
}

TEST_CASE("CmdlineTooLong: one byte over the limit fails naming both numbers") {
  GuestMemory mem = MakeGuestMemory(0, 0x1000);
  const std::string cmdline(11, 'a');

  auto result = WriteCmdline(mem, {GuestAddress(0x100), kArea}, cmdline, 10);

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().ToString() ==
        "the kernel command line is 11 bytes; this kernel accepts at most 10");
}

TEST_CASE("CmdlineWithNul: an embedded NUL fails") {
  GuestMemory mem = MakeGuestMemory(0, 0x1000);
  const std::string cmdline("quiet\0init=/bin/sh", 18);

  auto result = WriteCmdline(mem, {GuestAddress(0x100), kArea}, cmdline, 255);

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().ToString() == "the kernel command line contains a NUL byte");
}

TEST_CASE("CmdlineOutsideRam: a command line that does not fit in guest RAM fails") {
  GuestMemory mem = MakeGuestMemory(0, 0x1000);

  auto result = WriteCmdline(mem, {GuestAddress(0xffc), kArea}, "quiet", 255);

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().ToString() == "the kernel command line does not fit in guest RAM");
}

TEST_CASE("CmdlineLongerThanArea: a kernel claiming a huge cmdline_size is bounded by the area") {
  GuestMemory mem = MakeGuestMemory(0, 0x2000);
  const std::string cmdline(16, 'a');

  auto result = WriteCmdline(mem, {GuestAddress(0x100), 16}, cmdline, 0xffff'ffff);

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().ToString() ==
        "the kernel command line is 16 bytes; mini-vmm reserves room for at most 15");
  CHECK(mem.ReadObj<uint8_t>(GuestAddress(0x100)) == uint8_t{0});  // Nothing written.
}

TEST_CASE("WriteCmdline fills the area exactly: the longest command line and its NUL") {
  GuestMemory mem = MakeGuestMemory(0, 0x2000);
  const std::string cmdline(15, 'a');

  auto result = WriteCmdline(mem, {GuestAddress(0x100), 16}, cmdline, 0xffff'ffff);

  CHECK(result.ok());
  CHECK(mem.ReadObj<uint8_t>(GuestAddress(0x10f)) == uint8_t{0});
}

}  // namespace
}  // namespace mini_vmm::firmware::linux_boot
