#include "firmware/acpi/tables.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/support/fake_guest_memory.h"
#include "tests/unit/firmware/acpi/acpi_test_util.h"

namespace mini_vmm::firmware::acpi {
namespace {

using mini_vmm::testing::MakeGuestMemory;
using testing::ByteSum;
using testing::Le32;
using testing::Le64;
using testing::ReadGuest;
using testing::TableSet;
using testing::Text;
using testing::WalkTables;

constexpr uint64_t kRamSize = 1 << 20;
constexpr uint64_t kStart = 0xe0000;
constexpr uint64_t kWindow = 0x10000;

AcpiConfig TypicalConfig() {
  AcpiConfig config;
  config.num_cpus = 2;
  config.ioapic_id = 2;
  config.virtio_mmio = {{.base = 0xd0000000, .size = 0x1000, .gsi = 5},
                        {.base = 0xd0001000, .size = 0x1000, .gsi = 6}};
  return config;
}

std::string WriteError(const GuestMemory& mem, GuestAddress start, uint64_t size,
                       const AcpiConfig& config) {
  auto result = WriteAcpiTables(mem, start, size, config);
  REQUIRE_FALSE(result.ok());
  return result.error().ToString();
}

TEST_CASE("WriteAcpiTables puts the RSDP at start and returns its address") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  auto rsdp = WriteAcpiTables(mem, GuestAddress(kStart), kWindow, TypicalConfig());
  REQUIRE(rsdp.ok());
  CHECK(rsdp->value() == kStart);
  const std::vector<uint8_t> bytes = ReadGuest(mem, kStart, 36);
  CHECK(Text(bytes, 0, 8) == "RSD PTR ");
  CHECK(ByteSum(std::span<const uint8_t>(bytes).first(20)) == 0);
  CHECK(ByteSum(bytes) == 0);
}

TEST_CASE("The XSDT the RSDP points at lists the FADT and then the MADT") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  REQUIRE(WriteAcpiTables(mem, GuestAddress(kStart), kWindow, TypicalConfig()).ok());
  const TableSet tables = WalkTables(mem, kStart);
  CHECK(tables.xsdt.signature() == "XSDT");
  REQUIRE(tables.xsdt_entries.size() == 2);
  CHECK(tables.xsdt_entries[0].signature() == "FACP");
  CHECK(tables.xsdt_entries[1].signature() == "APIC");
}

TEST_CASE("The FADT's X_DSDT points at the DSDT") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  REQUIRE(WriteAcpiTables(mem, GuestAddress(kStart), kWindow, TypicalConfig()).ok());
  const TableSet tables = WalkTables(mem, kStart);
  CHECK(tables.dsdt.signature() == "DSDT");
  CHECK(Le64(tables.fadt.bytes, 140) == tables.dsdt.address);
}

TEST_CASE("Every table written sums to zero over its Length") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  REQUIRE(WriteAcpiTables(mem, GuestAddress(kStart), kWindow, TypicalConfig()).ok());
  const TableSet tables = WalkTables(mem, kStart);
  CHECK(ByteSum(tables.xsdt.bytes) == 0);
  CHECK(ByteSum(tables.fadt.bytes) == 0);
  CHECK(ByteSum(tables.madt.bytes) == 0);
  CHECK(ByteSum(tables.dsdt.bytes) == 0);
}

TEST_CASE("Table lengths match their contents") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  REQUIRE(WriteAcpiTables(mem, GuestAddress(kStart), kWindow, TypicalConfig()).ok());
  const TableSet tables = WalkTables(mem, kStart);
  CHECK(Le32(tables.rsdp, 20) == 36);
  CHECK(tables.xsdt.bytes.size() == 36 + 2 * 8);
  CHECK(tables.fadt.bytes.size() == 276);
  CHECK(tables.madt.bytes.size() == 44 + 2 * 8 + 12 + 10 + 6);
}

TEST_CASE("All tables lie inside the window, the DSDT last") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  REQUIRE(WriteAcpiTables(mem, GuestAddress(kStart), kWindow, TypicalConfig()).ok());
  const TableSet tables = WalkTables(mem, kStart);
  CHECK(tables.xsdt.address >= kStart + 36);
  CHECK(tables.fadt.address > tables.xsdt.address);
  CHECK(tables.madt.address > tables.fadt.address);
  CHECK(tables.dsdt.address > tables.madt.address);
  CHECK(tables.dsdt.address + tables.dsdt.bytes.size() <= kStart + kWindow);
}

TEST_CASE("WriteAcpiTables rejects 0 vCPUs") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config;
  config.num_cpus = 0;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "ACPI tables need at least 1 vCPU, got 0");
}

TEST_CASE("WriteAcpiTables rejects 255 vCPUs") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config;
  config.num_cpus = 255;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "ACPI tables describe at most 254 vCPUs (xAPIC IDs 0-253), got 255");
}

TEST_CASE("WriteAcpiTables rejects tables that do not fit in size") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  CHECK_THAT(WriteError(mem, GuestAddress(kStart), 0x100, TypicalConfig()),
             Catch::Matches("ACPI tables need [0-9]+ bytes but only 256 are reserved at 0xe0000"));
}

TEST_CASE("WriteAcpiTables rejects a start outside guest RAM") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  CHECK_THAT(WriteError(mem, GuestAddress(2 * kRamSize), kWindow, TypicalConfig()),
             Catch::Matches("ACPI tables at 0x200000\\+0x[0-9a-f]+ are not inside guest RAM"));
}

TEST_CASE("WriteAcpiTables rejects tables running past the end of RAM and writes nothing") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  const uint64_t start = kRamSize - 0x100;
  CHECK_THAT(WriteError(mem, GuestAddress(start), kWindow, TypicalConfig()),
             Catch::StartsWith("ACPI tables at 0xfff00+"));
  CHECK(ReadGuest(mem, start, 8) == std::vector<uint8_t>(8, 0));
}

TEST_CASE("WriteAcpiTables rejects a start at the top of the address space") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  CHECK_THAT(WriteError(mem, GuestAddress(0xffff'ffff'ffff'fff0), kWindow, TypicalConfig()),
             Catch::EndsWith("are not inside guest RAM"));
}

TEST_CASE("WriteAcpiTables rejects a virtio-mmio GSI of 24") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config = TypicalConfig();
  config.virtio_mmio[1].gsi = 24;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "virtio-mmio device 1 uses GSI 24, beyond the IOAPIC's 24 pins");
}

TEST_CASE("WriteAcpiTables rejects a virtio-mmio window crossing 4 GiB") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config = TypicalConfig();
  config.virtio_mmio[0].base = 0xffff'f000;
  config.virtio_mmio[0].size = 0x2000;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "virtio-mmio device 0 window 0xfffff000+0x2000 is empty or not below 4 GiB");
}

TEST_CASE("WriteAcpiTables rejects an empty virtio-mmio window") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config = TypicalConfig();
  config.virtio_mmio[0].size = 0;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "virtio-mmio device 0 window 0xd0000000+0x0 is empty or not below 4 GiB");
}

TEST_CASE("WriteAcpiTables rejects an unaligned start") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  CHECK(WriteError(mem, GuestAddress(kStart + 8), kWindow, TypicalConfig()) ==
        "ACPI tables start 0xe0008 is not 16-byte aligned, as the RSDP must be");
}

TEST_CASE("WriteAcpiTables rejects an IOAPIC above 4 GiB") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config = TypicalConfig();
  config.ioapic_address = 0x1'0000'0000;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "Local APIC 0xfee00000 and IOAPIC 0x100000000 must be below 4 GiB");
}

TEST_CASE("WriteAcpiTables rejects a sleep control register at port 0") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config = TypicalConfig();
  config.sleep_control_port = 0;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "the ACPI sleep control register cannot be at I/O port 0");
}

TEST_CASE("WriteAcpiTables rejects an S5 sleep type wider than 3 bits") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  AcpiConfig config = TypicalConfig();
  config.s5_sleep_type = 8;
  CHECK(WriteError(mem, GuestAddress(kStart), kWindow, config) ==
        "S5 sleep type 8 does not fit the 3-bit SLP_TYP field");
}

// Not run by default. `unit_acpi "[.iasl]"` writes RSDP.bin, XSDT.dat,
// FACP.dat, APIC.dat and DSDT.dat to $ACPI_DUMP_DIR (default /tmp) so that
// `iasl -d` can check them after a change to the tables.
TEST_CASE("Dump the tables for iasl", "[.iasl]") {
  GuestMemory mem = MakeGuestMemory(0, kRamSize);
  REQUIRE(WriteAcpiTables(mem, GuestAddress(kStart), kWindow, TypicalConfig()).ok());
  const TableSet tables = WalkTables(mem, kStart);
  const char* env = std::getenv("ACPI_DUMP_DIR");
  const std::string dir = env != nullptr ? env : "/tmp";
  const auto dump = [&dir](const std::string& name, const std::vector<uint8_t>& bytes) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
  };
  dump("RSDP.bin", tables.rsdp);
  dump("XSDT.dat", tables.xsdt.bytes);
  dump("FACP.dat", tables.fadt.bytes);
  dump("APIC.dat", tables.madt.bytes);
  dump("DSDT.dat", tables.dsdt.bytes);
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
