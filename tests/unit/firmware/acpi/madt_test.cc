#include "firmware/acpi/madt.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/unit/firmware/acpi/acpi_test_util.h"

namespace mini_vmm::firmware::acpi {
namespace {

using testing::Byte;
using testing::ByteSum;
using testing::Le16;
using testing::Le32;
using testing::MadtEntries;
using testing::MadtEntry;
using testing::Text;

constexpr uint8_t kLocalApic = 0;
constexpr uint8_t kIoApic = 1;
constexpr uint8_t kInterruptSourceOverride = 2;
constexpr uint8_t kLocalApicNmi = 4;

AcpiConfig FourCpus() {
  AcpiConfig config;
  config.num_cpus = 4;
  config.ioapic_id = 7;
  config.ioapic_address = 0xfec01000;
  config.lapic_address = 0xfee00000;
  return config;
}

std::vector<MadtEntry> EntriesOfType(const std::vector<uint8_t>& madt, uint8_t type) {
  std::vector<MadtEntry> entries = MadtEntries(madt);
  std::erase_if(entries, [type](const MadtEntry& e) { return e.type != type; });
  return entries;
}

TEST_CASE("MADT header has the LAPIC address, PCAT_COMPAT and a zero-sum checksum") {
  const std::vector<uint8_t> madt = BuildMadt(FourCpus());
  CHECK(Text(madt, 0, 4) == "APIC");
  CHECK(Le32(madt, 4) == madt.size());
  CHECK(Le32(madt, 36) == 0xfee00000);
  CHECK(Le32(madt, 40) == 1);
  CHECK(ByteSum(madt) == 0);
}

TEST_CASE("MADT has one enabled Local APIC per vCPU with IDs 0 to N-1") {
  const std::vector<MadtEntry> lapics = EntriesOfType(BuildMadt(FourCpus()), kLocalApic);
  std::vector<uint8_t> ids;
  std::vector<uint8_t> uids;
  std::vector<uint32_t> flags;
  for (const MadtEntry& e : lapics) {
    uids.push_back(Byte(e.bytes, 2));
    ids.push_back(Byte(e.bytes, 3));
    flags.push_back(Le32(e.bytes, 4));
  }
  CHECK(ids == std::vector<uint8_t>{0, 1, 2, 3});
  CHECK(uids == std::vector<uint8_t>{0, 1, 2, 3});
  CHECK(flags == std::vector<uint32_t>{1, 1, 1, 1});
}

TEST_CASE("MADT for 254 vCPUs has 254 Local APIC entries") {
  AcpiConfig config;
  config.num_cpus = 254;
  CHECK(EntriesOfType(BuildMadt(config), kLocalApic).size() == 254);
}

TEST_CASE("MADT has one IOAPIC with the configured ID and address at GSI base 0") {
  const std::vector<MadtEntry> ioapics = EntriesOfType(BuildMadt(FourCpus()), kIoApic);
  REQUIRE(ioapics.size() == 1);
  CHECK(ioapics[0].bytes.size() == 12);
  CHECK(Byte(ioapics[0].bytes, 2) == 7);
  CHECK(Le32(ioapics[0].bytes, 4) == 0xfec01000);
  CHECK(Le32(ioapics[0].bytes, 8) == 0);
}

TEST_CASE("MADT overrides ISA IRQ0 to GSI 2, edge-triggered and active high") {
  const std::vector<MadtEntry> overrides =
      EntriesOfType(BuildMadt(FourCpus()), kInterruptSourceOverride);
  REQUIRE(overrides.size() == 1);
  CHECK(overrides[0].bytes.size() == 10);
  CHECK(Byte(overrides[0].bytes, 2) == 0);  // ISA bus.
  CHECK(Byte(overrides[0].bytes, 3) == 0);  // IRQ0.
  CHECK(Le32(overrides[0].bytes, 4) == 2);
  CHECK(Le16(overrides[0].bytes, 8) == 0x0005);
}

TEST_CASE("MADT routes NMI to LINT1 of all processors") {
  const std::vector<MadtEntry> nmis = EntriesOfType(BuildMadt(FourCpus()), kLocalApicNmi);
  REQUIRE(nmis.size() == 1);
  CHECK(nmis[0].bytes.size() == 6);
  CHECK(Byte(nmis[0].bytes, 2) == 0xff);
  CHECK(Byte(nmis[0].bytes, 5) == 1);
}

TEST_CASE("MADT entries end exactly at the table length") {
  const std::vector<uint8_t> madt = BuildMadt(FourCpus());
  // 44-byte header + 4 x 8 Local APIC + 12 IOAPIC + 10 override + 6 NMI.
  CHECK(madt.size() == 44 + 32 + 12 + 10 + 6);
  CHECK(MadtEntries(madt).size() == 7);
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
