// The PCI host bridge's ACPI description: MCFG, PCI0 and its _CRS/_PRT,
// the PNP0C02 reservation of ECAM, and the checks on a bad bridge.
#include <catch2/catch.hpp>
#include <span>
#include <string>

#include "firmware/acpi/dsdt.h"
#include "firmware/acpi/mcfg.h"
#include "firmware/acpi/tables.h"
#include "tests/support/fake_guest_memory.h"
#include "tests/unit/firmware/acpi/acpi_test_util.h"
#include "tests/unit/firmware/acpi/aml_reader.h"

namespace mini_vmm::firmware::acpi {
namespace {

using testing::AmlObject;
using testing::ByteSum;
using testing::Le16;
using testing::Le32;
using testing::Le64;
using testing::NamedValue;
using testing::ResourceDescriptor;
using Kind = AmlObject::Kind;

constexpr uint8_t kLargeDWordAddress = 0x87;
constexpr uint8_t kLargeWordAddress = 0x88;
constexpr uint8_t kLargeQWordAddress = 0x8a;

PciHostBridge Bridge() {
  PciHostBridge bridge;
  bridge.mmio64_base = 4ull << 30;
  bridge.mmio64_size = 64ull << 30;
  return bridge;
}

AcpiConfig WithPci() {
  AcpiConfig config;
  config.pci = Bridge();
  return config;
}

const AmlObject& SystemBusDevice(const std::vector<AmlObject>& terms, std::string_view name) {
  const AmlObject* sb = testing::Find(terms, Kind::kScope, "\\_SB_");
  REQUIRE(sb != nullptr);
  for (const AmlObject* device : testing::Devices(sb->children)) {
    if (device->name == name) return *device;
  }
  FAIL("no device " << name);
  throw std::logic_error("unreachable");
}

std::vector<AmlObject> ParseDsdt(const AcpiConfig& config) {
  const std::vector<uint8_t> dsdt = BuildDsdt(config);
  return testing::ParseTermList(std::span<const uint8_t>(dsdt).subspan(36));
}

std::vector<ResourceDescriptor> Crs(const AmlObject& device) {
  const AmlObject& crs = NamedValue(device, "_CRS");
  REQUIRE(crs.kind == Kind::kBuffer);
  return testing::ParseResources(crs.buffer);
}

std::string ValidationError(const AcpiConfig& config) {
  auto result = ValidateAcpiConfig(config);
  REQUIRE_FALSE(result.ok());
  return result.error().ToString();
}

TEST_CASE("MCFG has one allocation: the ECAM base, segment 0, buses 0-0") {
  const std::vector<uint8_t> mcfg = BuildMcfg(Bridge());
  CHECK(testing::Text(mcfg, 0, 4) == "MCFG");
  CHECK(mcfg.size() == 36 + 8 + 16);
  CHECK(Le32(mcfg, 4) == mcfg.size());
  CHECK(ByteSum(mcfg) == 0);
  CHECK(Le64(mcfg, 44) == 0xe0000000);
  CHECK(Le16(mcfg, 52) == 0);
  CHECK(mcfg[54] == 0);
  CHECK(mcfg[55] == 0);
}

TEST_CASE("Without a PCI host bridge the DSDT has no PCI0 and the XSDT no MCFG") {
  const std::vector<AmlObject> terms = ParseDsdt(AcpiConfig{});
  const AmlObject* sb = testing::Find(terms, Kind::kScope, "\\_SB_");
  REQUIRE(sb != nullptr);
  for (const AmlObject* device : testing::Devices(sb->children)) CHECK(device->name != "PCI0");
}

TEST_CASE("PCI0 is a PNP0A08 host bridge, compatible with PNP0A03, segment 0, bus 0") {
  const std::vector<AmlObject> terms = ParseDsdt(WithPci());
  const AmlObject& pci0 = SystemBusDevice(terms, "PCI0");
  CHECK(NamedValue(pci0, "_HID").integer == 0x080ad041);  // EISAID("PNP0A08")
  CHECK(NamedValue(pci0, "_CID").integer == 0x030ad041);  // EISAID("PNP0A03")
  CHECK(NamedValue(pci0, "_SEG").integer == 0);
  CHECK(NamedValue(pci0, "_BBN").integer == 0);
}

TEST_CASE("PCI0 _CRS produces bus 0, the 32-bit, prefetchable 64-bit and I/O windows") {
  const std::vector<AmlObject> terms = ParseDsdt(WithPci());
  const std::vector<ResourceDescriptor> crs = Crs(SystemBusDevice(terms, "PCI0"));
  REQUIRE(crs.size() == 4);
  CHECK(crs[0].item == kLargeWordAddress);
  CHECK(crs[0].data[0] == 2);     // Bus number range.
  CHECK(crs[0].data[1] == 0x0c);  // Producer, min and max fixed.
  CHECK(Le16(crs[0].data, 5) == 0);
  CHECK(Le16(crs[0].data, 7) == 0);
  CHECK(Le16(crs[0].data, 11) == 1);

  CHECK(crs[1].item == kLargeDWordAddress);
  CHECK(crs[1].data[0] == 0);     // Memory.
  CHECK(crs[1].data[2] == 0x01);  // Read-write, non-cacheable.
  CHECK(Le32(crs[1].data, 7) == 0xc0000000);
  CHECK(Le32(crs[1].data, 11) == 0xcfffffff);
  CHECK(Le32(crs[1].data, 19) == 0x10000000);

  CHECK(crs[2].item == kLargeQWordAddress);
  CHECK(crs[2].data[2] == 0x07);  // Read-write, prefetchable.
  CHECK(Le64(crs[2].data, 11) == 4ull << 30);
  CHECK(Le64(crs[2].data, 19) == (68ull << 30) - 1);
  CHECK(Le64(crs[2].data, 35) == 64ull << 30);

  CHECK(crs[3].item == kLargeWordAddress);
  CHECK(crs[3].data[0] == 1);     // I/O.
  CHECK(crs[3].data[1] == 0x0c);  // Producer, min and max fixed.
  CHECK(crs[3].data[2] == 0x03);  // ISA and non-ISA ports.
  CHECK(Le16(crs[3].data, 5) == 0xc000);
  CHECK(Le16(crs[3].data, 7) == 0xffff);
  CHECK(Le16(crs[3].data, 11) == 0x4000);
}

TEST_CASE("PCI0 _CRS leaves the I/O window out when it is empty") {
  AcpiConfig config = WithPci();
  config.pci->io_size = 0;
  const std::vector<ResourceDescriptor> crs = Crs(SystemBusDevice(ParseDsdt(config), "PCI0"));
  REQUIRE(crs.size() == 3);
  CHECK(crs[2].item == kLargeQWordAddress);
}

TEST_CASE("PCI0 _CRS leaves the 64-bit window out when it is empty") {
  AcpiConfig config;
  config.pci = PciHostBridge{};
  const std::vector<AmlObject> terms = ParseDsdt(config);
  CHECK(Crs(SystemBusDevice(terms, "PCI0")).size() == 3);
}

TEST_CASE("PCI0 _PRT routes every slot's INTA#-INTD# to the four GSIs, swizzled by slot") {
  const std::vector<AmlObject> terms = ParseDsdt(WithPci());
  const AmlObject& prt = NamedValue(SystemBusDevice(terms, "PCI0"), "_PRT");
  REQUIRE(prt.kind == Kind::kPackage);
  REQUIRE(prt.children.size() == 32 * 4);
  for (uint32_t slot = 0; slot < 32; ++slot) {
    for (uint32_t pin = 0; pin < 4; ++pin) {
      const AmlObject& entry = prt.children[slot * 4 + pin];
      REQUIRE(entry.children.size() == 4);
      CHECK(entry.children[0].integer == ((uint64_t{slot} << 16) | 0xffff));
      CHECK(entry.children[1].integer == pin);
      CHECK(entry.children[2].integer == 0);  // No link device: the index is a GSI.
      CHECK(entry.children[3].integer == 20 + (slot + pin) % 4);
    }
  }
}

TEST_CASE("A PNP0C02 device reserves the ECAM window, as Linux wants before using MCFG") {
  const std::vector<AmlObject> terms = ParseDsdt(WithPci());
  const AmlObject& mres = SystemBusDevice(terms, "MRES");
  CHECK(NamedValue(mres, "_HID").integer == 0x020cd041);  // EISAID("PNP0C02")
  const std::vector<ResourceDescriptor> crs = Crs(mres);
  REQUIRE(crs.size() == 1);
  CHECK(crs[0].item == testing::kLargeMemory32Fixed);
  CHECK(Le32(crs[0].data, 1) == 0xe0000000);
  CHECK(Le32(crs[0].data, 5) == 0x100000);
}

TEST_CASE("The XSDT lists the MCFG third when there is a PCI host bridge") {
  constexpr uint64_t kStart = 0xe0000;
  GuestMemory mem = mini_vmm::testing::MakeGuestMemory(0, 1 << 20);
  REQUIRE(WriteAcpiTables(mem, GuestAddress(kStart), 0x10000, WithPci()).ok());
  const testing::TableSet tables = testing::WalkTables(mem, kStart);
  REQUIRE(tables.xsdt_entries.size() == 3);
  CHECK(tables.xsdt_entries[2].signature() == "MCFG");
  CHECK(ByteSum(tables.xsdt_entries[2].bytes) == 0);
}

TEST_CASE("ValidateAcpiConfig: PciEcamNotMiBAligned") {
  AcpiConfig config = WithPci();
  config.pci->ecam_base = 0xe0080000;
  CHECK(ValidationError(config) ==
        "PCI ECAM 0xe0080000+0x100000 must be 1 MiB aligned, 1 MiB per bus, below 4 GiB");
}

TEST_CASE("ValidateAcpiConfig: PciEcamSizeNotOneMiBPerBus") {
  AcpiConfig config = WithPci();
  config.pci->last_bus = 1;
  CHECK(ValidationError(config) ==
        "PCI ECAM 0xe0000000+0x100000 must be 1 MiB aligned, 1 MiB per bus, below 4 GiB");
}

TEST_CASE("ValidateAcpiConfig: PciBusRangeEmpty") {
  AcpiConfig config = WithPci();
  config.pci->first_bus = 1;
  CHECK(ValidationError(config) == "PCI bus range 1-0 is empty");
}

TEST_CASE("ValidateAcpiConfig: Pci32BitWindowAbove4GiB") {
  AcpiConfig config = WithPci();
  config.pci->mmio32_base = 0xf8000000;
  config.pci->mmio32_size = 0x10000000;
  CHECK(ValidationError(config) ==
        "the 32-bit PCI window 0xf8000000+0x10000000 must be non-empty, below 4 GiB");
}

TEST_CASE("ValidateAcpiConfig: PciIoWindowPastPort0xffff") {
  AcpiConfig config = WithPci();
  config.pci->io_base = 0xf000;
  config.pci->io_size = 0x2000;
  CHECK(ValidationError(config) == "the PCI I/O window 0xf000+0x2000 runs past port 0xffff");
}

TEST_CASE("ValidateAcpiConfig: PciIoWindowOf64KiB") {
  AcpiConfig config = WithPci();
  config.pci->io_base = 0;
  config.pci->io_size = 0x10000;
  CHECK(ValidationError(config) ==
        "the PCI I/O window 0x0+0x10000 is longer than the 0xffff ports _CRS can describe");
  config.pci->io_base = 1;
  config.pci->io_size = 0xffff;  // The longest a Word descriptor holds.
  CHECK(ValidateAcpiConfig(config).ok());
}

TEST_CASE("ValidateAcpiConfig: Pci64BitWindowWraps") {
  AcpiConfig config = WithPci();
  config.pci->mmio64_base = ~0ull - 0xfff;
  config.pci->mmio64_size = 0x2000;
  CHECK(ValidationError(config) == "the 64-bit PCI window 0xfffffffffffff000+0x2000 wraps");
}

TEST_CASE("ValidateAcpiConfig: PciTooManySlots") {
  AcpiConfig config = WithPci();
  config.pci->slots = 33;
  CHECK(ValidationError(config) == "a PCI bus has 1 to 32 slots, got 33");
}

TEST_CASE("ValidateAcpiConfig: PciIntxGsiBeyondIoapic") {
  AcpiConfig config = WithPci();
  config.pci->intx_gsis[3] = 24;
  CHECK(ValidationError(config) == "PCI INTx GSI 24 is beyond the IOAPIC's 24 pins");
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
