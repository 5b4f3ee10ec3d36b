#include "firmware/acpi/pci_host_bridge.h"

#include <vector>

#include "firmware/acpi/aml_resources.h"
#include "vmm/base/check.h"

namespace mini_vmm::firmware::acpi {
namespace {

// 6.2.13 _PRT entry: {Address, Pin, Source, SourceIndex}. Address is the
// slot in the high word with 0xFFFF for "any function"; a Source of zero
// makes SourceIndex a GSI, which Linux maps level-triggered, active-low
// (acpi_pci_irq_enable()), as PCI INTx is.
aml::Bytes RoutingEntry(uint32_t slot, uint32_t pin, uint32_t gsi) {
  return aml::Package({
      aml::Integer((uint64_t{slot} << 16) | 0xffff),
      aml::Integer(pin),
      aml::Integer(0),
      aml::Integer(gsi),
  });
}

aml::Bytes RoutingTable(const PciHostBridge& bridge) {
  std::vector<aml::Bytes> entries;
  for (uint32_t slot = 0; slot < bridge.slots; ++slot) {
    for (uint32_t pin = 0; pin < bridge.intx_gsis.size(); ++pin) {
      entries.push_back(
          RoutingEntry(slot, pin, bridge.intx_gsis[(slot + pin) % bridge.intx_gsis.size()]));
    }
  }
  return aml::Name("_PRT", aml::Package(entries));
}

aml::Bytes Windows(const PciHostBridge& bridge) {
  VMM_CHECK(bridge.mmio32_base <= UINT32_MAX && bridge.mmio32_size <= UINT32_MAX);
  ResourceTemplate crs;
  crs.WordBusNumber(bridge.first_bus, bridge.last_bus);
  crs.DWordMemory(static_cast<uint32_t>(bridge.mmio32_base),
                  static_cast<uint32_t>(bridge.mmio32_size), /*prefetchable=*/false);
  if (bridge.mmio64_size != 0) {
    crs.QWordMemory(bridge.mmio64_base, bridge.mmio64_size, /*prefetchable=*/true);
  }
  // Without an I/O window in _CRS, Linux refuses to claim (or assign) any
  // I/O BAR below the bridge.
  if (bridge.io_size != 0) {
    VMM_CHECK(bridge.io_base <= 0xffff && bridge.io_size <= 0x10000 - bridge.io_base);
    crs.WordIo(static_cast<uint16_t>(bridge.io_base),
               static_cast<uint16_t>(bridge.io_base + bridge.io_size - 1));
  }
  return crs.ToAml();
}

}  // namespace

aml::Bytes PciHostBridgeDevice(const PciHostBridge& bridge) {
  return aml::Device("PCI0", {
                                 aml::Name("_HID", aml::EisaId("PNP0A08")),
                                 aml::Name("_CID", aml::EisaId("PNP0A03")),
                                 aml::Name("_SEG", aml::Integer(0)),
                                 aml::Name("_BBN", aml::Integer(bridge.first_bus)),
                                 aml::Name("_UID", aml::Integer(0)),
                                 aml::Name("_CRS", Windows(bridge)),
                                 RoutingTable(bridge),
                             });
}

aml::Bytes EcamReservationDevice(const PciHostBridge& bridge) {
  VMM_CHECK(bridge.ecam_base <= UINT32_MAX && bridge.ecam_size <= UINT32_MAX);
  const aml::Bytes crs =
      ResourceTemplate()
          .Memory32Fixed(ReadWrite::kReadWrite, static_cast<uint32_t>(bridge.ecam_base),
                         static_cast<uint32_t>(bridge.ecam_size))
          .ToAml();
  return aml::Device("MRES", {
                                 aml::Name("_HID", aml::EisaId("PNP0C02")),
                                 aml::Name("_UID", aml::Integer(1)),
                                 aml::Name("_CRS", crs),
                             });
}

}  // namespace mini_vmm::firmware::acpi
