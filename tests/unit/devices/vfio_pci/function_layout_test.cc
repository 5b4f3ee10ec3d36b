// ParseFunctionLayout on the fake NVMe's configuration header, and one
// negative case per malformed header a device could present.
#include "devices/vfio_pci/function_layout.h"

#include <catch2/catch.hpp>
#include <cstring>

#include "tests/support/fake_vfio.h"

namespace mini_vmm::vfio_pci {
namespace {

using testing::FakeVfioDevice;
constexpr uint64_t kPage = 0x1000;

Result<FunctionLayout> Parse(FakeVfioDevice& dev) {
  return ParseFunctionLayout(dev.config(), dev, kPage);
}

TEST_CASE("The fake NVMe: identity, one 64-bit BAR, MSI-X, MSI, empty extended space") {
  FakeVfioDevice dev;
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  CHECK(layout->header.vendor_id == 0x1b36);
  CHECK(layout->header.device_id == 0x0010);
  CHECK(layout->header.class_code == 0x010802);
  CHECK(layout->header.interrupt_pin == 1);
  REQUIRE(layout->bars.size() == 1);
  CHECK(layout->bars[0].kind == pci::BarKind::kMemory64);
  CHECK(layout->bars[0].size == 0x4000);
  REQUIRE(layout->msix.has_value());
  CHECK(layout->msix->vectors == 65);
  CHECK(layout->msix->table_offset == 0x2000);
  REQUIRE(layout->capabilities.size() == 3);
  CHECK_FALSE(layout->capabilities[0].hidden);
  CHECK_FALSE(layout->capabilities[1].hidden);  // MSI
  CHECK(layout->capabilities[1].size == 24);
  REQUIRE(layout->msi.has_value());
  CHECK(layout->msi->offset == FakeVfioDevice::kMsiCap);
  CHECK(layout->msi->vectors == 4);
  CHECK(layout->msi->size == 24);
  CHECK(layout->extended.end == 0x1000);
  CHECK(layout->extended.capabilities.empty());
}

TEST_CASE("MsiVfioCountZero: MSI is hidden") {
  FakeVfioDevice dev;
  dev.irqs_.erase(VFIO_PCI_MSI_IRQ_INDEX);
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  CHECK(layout->capabilities[1].hidden);
  CHECK_FALSE(layout->msi.has_value());
}

TEST_CASE("MsiCapabilityRunningPastHeader is hidden, its bytes up to 0x100 with it") {
  FakeVfioDevice dev;
  dev.config()[FakeVfioDevice::kPmCap + 1] = 0xf0;
  dev.config()[0xf0] = PCI_CAP_ID_MSI;
  dev.Put16(0xf0 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);  // 24 bytes.
  dev.config()[FakeVfioDevice::kMsiCap] = PCI_CAP_ID_VNDR;  // Only one MSI.
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  REQUIRE(layout->capabilities.size() == 4);
  CHECK(layout->capabilities[3].hidden);
  CHECK(layout->capabilities[3].size == 0x10);
  CHECK_FALSE(layout->msi.has_value());
}

TEST_CASE("SecondMsiCapability is hidden; the first one stays") {
  FakeVfioDevice dev;
  dev.config()[FakeVfioDevice::kPmCap + 1] = 0xc0;
  dev.config()[0xc0] = PCI_CAP_ID_MSI;
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  REQUIRE(layout->capabilities.size() == 4);
  CHECK(layout->capabilities[3].hidden);
  REQUIRE(layout->msi.has_value());
  CHECK(layout->msi->offset == FakeVfioDevice::kMsiCap);
}

TEST_CASE("MsiMmcReserved is clamped to 32 vectors") {
  FakeVfioDevice dev;
  dev.Put16(FakeVfioDevice::kMsiCap + PCI_MSI_FLAGS, 7 << 1);
  dev.irqs_[VFIO_PCI_MSI_IRQ_INDEX].count = 64;
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  REQUIRE(layout->msi.has_value());
  CHECK(layout->msi->vectors == 32);
  CHECK(((layout->msi->control & PCI_MSI_FLAGS_QMASK) >> 1) == 5);
}

TEST_CASE("ConfigShorterThanHeader is refused") {
  FakeVfioDevice dev;
  std::vector<uint8_t> config(0x80);
  auto layout = ParseFunctionLayout(config, dev, kPage);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("no full header"));
}

TEST_CASE("The MSI-X table and PBA pages are cut out of the mapping, even when MSIX_MAPPABLE") {
  FakeVfioDevice dev;
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  REQUIRE(layout->bars[0].mapped.size() == 1);
  CHECK(layout->bars[0].mapped[0].offset == 0);
  CHECK(layout->bars[0].mapped[0].size == 0x2000);
}

TEST_CASE("A table in the middle of a BAR splits the mapping in two") {
  const vfio::SparseArea area{.offset = 0, .size = 0x10000};
  const vfio::SparseArea table{.offset = 0x4100, .size = 0x100};
  auto pieces = CutHoles(std::span(&area, 1), std::span(&table, 1), kPage);
  REQUIRE(pieces.size() == 2);
  CHECK(pieces[0].size == 0x4000);
  CHECK(pieces[1].offset == 0x5000);
  CHECK(pieces[1].size == 0xb000);
}

TEST_CASE("Sparse areas are honoured and page-aligned inward") {
  const vfio::SparseArea areas[] = {{.offset = 0x800, .size = 0x2000},
                                    {.offset = 0x8000, .size = 0x1000}};
  auto pieces = CutHoles(areas, {}, kPage);
  REQUIRE(pieces.size() == 2);
  CHECK(pieces[0].offset == 0x1000);
  CHECK(pieces[0].size == 0x1000);
  CHECK(pieces[1].offset == 0x8000);
}

TEST_CASE("A BAR smaller than a page is not mapped") {
  const vfio::SparseArea area{.offset = 0, .size = 0x100};
  CHECK(CutHoles(std::span(&area, 1), {}, kPage).empty());
}

TEST_CASE("CapabilityListLoops is refused") {
  FakeVfioDevice dev;
  dev.config()[FakeVfioDevice::kPmCap + 1] = FakeVfioDevice::kMsixCap;
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("loops"));
}

TEST_CASE("CapabilityPointerIntoHeader is refused") {
  FakeVfioDevice dev;
  dev.config()[PCI_CAPABILITY_LIST] = 0x10;
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("outside the capability area"));
}

TEST_CASE("SecondMsixCapability is refused") {
  FakeVfioDevice dev;
  dev.config()[FakeVfioDevice::kPmCap + 1] = 0xfe;  // The low bits are masked: 0xfc.
  dev.config()[0xfc] = PCI_CAP_ID_MSIX;
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("second MSI-X"));
}

TEST_CASE("MsixCapabilityRunningPastHeader is refused") {
  FakeVfioDevice dev;
  dev.config()[FakeVfioDevice::kPmCap + 1] = 0xf8;
  dev.config()[0xf8] = PCI_CAP_ID_MSIX;
  dev.config()[FakeVfioDevice::kMsixCap] = PCI_CAP_ID_VNDR;  // Only one MSI-X.
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("runs past"));
}

TEST_CASE("MsixTableOutsideBar is refused") {
  FakeVfioDevice dev;
  dev.Put32(FakeVfioDevice::kMsixCap + PCI_MSIX_TABLE, 0x3c00);  // 65 * 16 bytes do not fit.
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("MSI-X table"));
}

TEST_CASE("MsixTableInMissingBar is refused") {
  FakeVfioDevice dev;
  dev.Put32(FakeVfioDevice::kMsixCap + PCI_MSIX_TABLE, 0x2000 | 2);
  CHECK_FALSE(Parse(dev).ok());
}

TEST_CASE("MsixPbaOutsideBar is refused") {
  FakeVfioDevice dev;
  dev.Put32(FakeVfioDevice::kMsixCap + PCI_MSIX_PBA, 0x3ffc);
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("PBA"));
}

TEST_CASE("BridgeHeader is refused") {
  FakeVfioDevice dev;
  dev.config()[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_BRIDGE;
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("type-0"));
}

TEST_CASE("IoBarTooLarge is refused") {
  FakeVfioDevice dev;
  dev.Put32(PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_SPACE_IO);
  dev.regions_[VFIO_PCI_BAR2_REGION_INDEX] = FakeVfioDevice::Region(2, 0x1000, false);
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("I/O BAR 2"));
}

TEST_CASE("SixtyFourBitBarInLastSlot is refused") {
  FakeVfioDevice dev;
  dev.Put32(PCI_BASE_ADDRESS_5, PCI_BASE_ADDRESS_MEM_TYPE_64);
  dev.regions_[VFIO_PCI_BAR5_REGION_INDEX] = FakeVfioDevice::Region(5, 0x1000, false);
  auto layout = Parse(dev);
  REQUIRE_FALSE(layout.ok());
  CHECK_THAT(layout.error().ToString(), Catch::Contains("upper half"));
}

TEST_CASE("An I/O BAR is never mapped; odd region sizes round up to a power of two") {
  FakeVfioDevice dev;
  dev.Put32(PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_SPACE_IO);
  dev.regions_[VFIO_PCI_BAR2_REGION_INDEX] = FakeVfioDevice::Region(2, 0x18, true);
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  const BarLayout* io = layout->bar(2);
  REQUIRE(io != nullptr);
  CHECK(io->kind == pci::BarKind::kIo);
  CHECK(io->size == 0x20);
  CHECK(io->mapped.empty());
}

TEST_CASE("An interrupt pin without a VFIO INTx index is reported as none") {
  FakeVfioDevice dev;
  dev.irqs_.erase(VFIO_PCI_INTX_IRQ_INDEX);
  auto layout = Parse(dev);
  REQUIRE(layout.ok());
  CHECK(layout->header.interrupt_pin == 0);
}

}  // namespace
}  // namespace mini_vmm::vfio_pci
