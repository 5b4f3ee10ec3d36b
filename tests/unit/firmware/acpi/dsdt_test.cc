#include "firmware/acpi/dsdt.h"

#include <catch2/catch.hpp>
#include <span>

#include "tests/unit/firmware/acpi/acpi_test_util.h"
#include "tests/unit/firmware/acpi/aml_reader.h"

namespace mini_vmm::firmware::acpi {
namespace {

using testing::AmlObject;
using testing::ByteSum;
using testing::Le16;
using testing::Le32;
using testing::NamedValue;
using testing::ResourceDescriptor;
using Kind = AmlObject::Kind;

constexpr size_t kSdtHeaderSize = 36;

AcpiConfig TwoVirtioDevices() {
  AcpiConfig config;
  config.virtio_mmio = {
      {.base = 0xd0000000, .size = 0x1000, .gsi = 5},
      {.base = 0xd0001000, .size = 0x200, .gsi = 23},
  };
  return config;
}

std::vector<AmlObject> ParseDsdt(const std::vector<uint8_t>& dsdt) {
  return testing::ParseTermList(std::span<const uint8_t>(dsdt).subspan(kSdtHeaderSize));
}

// The devices directly under \_SB_.
std::vector<const AmlObject*> SystemBusDevices(const std::vector<AmlObject>& terms) {
  const AmlObject* sb = testing::Find(terms, Kind::kScope, "\\_SB_");
  REQUIRE(sb != nullptr);
  return testing::Devices(sb->children);
}

const AmlObject& DeviceNamed(const std::vector<const AmlObject*>& devices, std::string_view name) {
  for (const AmlObject* device : devices) {
    if (device->name == name) return *device;
  }
  FAIL("no device " << name);
  throw std::logic_error("unreachable");
}

std::vector<ResourceDescriptor> Crs(const AmlObject& device) {
  const AmlObject& crs = NamedValue(device, "_CRS");
  REQUIRE(crs.kind == Kind::kBuffer);
  return testing::ParseResources(crs.buffer);
}

TEST_CASE("DSDT is a revision 2 table with a zero-sum checksum") {
  const std::vector<uint8_t> dsdt = BuildDsdt(TwoVirtioDevices());
  CHECK(testing::Text(dsdt, 0, 4) == "DSDT");
  CHECK(Le32(dsdt, 4) == dsdt.size());
  CHECK(dsdt[8] == 2);
  CHECK(ByteSum(dsdt) == 0);
}

TEST_CASE("DSDT holds COM1, the RTC and the virtio-mmio devices under \\_SB_") {
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(TwoVirtioDevices()));
  std::vector<std::string> names;
  for (const AmlObject* device : SystemBusDevices(terms)) names.push_back(device->name);
  // No i8042 (PNP0303): it exists only for reset, and describing it would
  // bring back the slow keyboard probe.
  CHECK(names == std::vector<std::string>{"COM1", "RTC_", "V000", "V001"});
}

TEST_CASE("DSDT has one LNRO0005 device per virtio-mmio transport, _UID its index") {
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(TwoVirtioDevices()));
  const std::vector<const AmlObject*> devices = SystemBusDevices(terms);
  CHECK(NamedValue(DeviceNamed(devices, "V000"), "_HID").string == "LNRO0005");
  CHECK(NamedValue(DeviceNamed(devices, "V000"), "_UID").integer == 0);
  CHECK(NamedValue(DeviceNamed(devices, "V001"), "_HID").string == "LNRO0005");
  CHECK(NamedValue(DeviceNamed(devices, "V001"), "_UID").integer == 1);
}

TEST_CASE("virtio-mmio _CRS gives the register window as read-write Memory32Fixed") {
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(TwoVirtioDevices()));
  const std::vector<ResourceDescriptor> crs = Crs(DeviceNamed(SystemBusDevices(terms), "V001"));
  REQUIRE(crs.size() == 2);
  CHECK(crs[0].item == testing::kLargeMemory32Fixed);
  CHECK(crs[0].data[0] == 0x01);
  CHECK(Le32(crs[0].data, 1) == 0xd0001000);
  CHECK(Le32(crs[0].data, 5) == 0x200);
}

TEST_CASE("virtio-mmio _CRS gives the GSI as an edge, active-high, exclusive interrupt") {
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(TwoVirtioDevices()));
  const std::vector<ResourceDescriptor> crs = Crs(DeviceNamed(SystemBusDevices(terms), "V001"));
  REQUIRE(crs.size() == 2);
  CHECK(crs[1].item == testing::kLargeExtendedInterrupt);
  REQUIRE(crs[1].data.size() == 6);
  CHECK(crs[1].data[0] == 0x03);  // Consumer, edge, active high, exclusive.
  CHECK(crs[1].data[1] == 1);
  CHECK(Le32(crs[1].data, 2) == 23);
}

TEST_CASE("DSDT describes COM1 as PNP0501 at I/O 0x3F8-0x3FF with IRQ 4") {
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(AcpiConfig{}));
  const AmlObject& com1 = DeviceNamed(SystemBusDevices(terms), "COM1");
  CHECK(NamedValue(com1, "_HID").integer == 0x0105d041);
  const std::vector<ResourceDescriptor> crs = Crs(com1);
  REQUIRE(crs.size() == 2);
  CHECK(crs[0].item == testing::kSmallIo);
  CHECK(Le16(crs[0].data, 1) == 0x3f8);
  CHECK(Le16(crs[0].data, 3) == 0x3f8);
  CHECK(crs[0].data[6] == 8);
  CHECK(crs[1].item == testing::kSmallIrq);
  CHECK(Le16(crs[1].data, 0) == 1u << 4);
}

TEST_CASE("DSDT describes the RTC as PNP0B00 at I/O 0x70-0x71 with IRQ 8") {
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(AcpiConfig{}));
  const AmlObject& rtc = DeviceNamed(SystemBusDevices(terms), "RTC_");
  CHECK(NamedValue(rtc, "_HID").integer == 0x000bd041);
  const std::vector<ResourceDescriptor> crs = Crs(rtc);
  REQUIRE(crs.size() == 2);
  CHECK(Le16(crs[0].data, 1) == 0x70);
  CHECK(crs[0].data[6] == 2);
  CHECK(Le16(crs[1].data, 0) == 1u << 8);
}

TEST_CASE("DSDT defines \\_S5_ with the configured sleep type first") {
  AcpiConfig config;
  config.s5_sleep_type = 3;
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(config));
  const AmlObject* s5 = testing::Find(terms, Kind::kName, "_S5_");
  REQUIRE(s5 != nullptr);
  const AmlObject& package = s5->children.at(0);
  REQUIRE(package.kind == Kind::kPackage);
  REQUIRE(package.children.size() == 4);
  CHECK(package.children[0].integer == 3);
  CHECK(package.children[1].integer == 0);
}

TEST_CASE("DSDT names the seventeenth virtio-mmio device V010") {
  AcpiConfig config;
  config.virtio_mmio.assign(17, VirtioMmioDevice{.base = 0xd0000000, .size = 0x1000, .gsi = 5});
  const std::vector<AmlObject> terms = ParseDsdt(BuildDsdt(config));
  const AmlObject& last = DeviceNamed(SystemBusDevices(terms), "V010");
  CHECK(NamedValue(last, "_UID").integer == 16);
}

}  // namespace
}  // namespace mini_vmm::firmware::acpi
