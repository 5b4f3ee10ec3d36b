#include "firmware/acpi/dsdt.h"

#include <string>

#include "arch/x86_64/platform/layout.h"
#include "firmware/acpi/aml.h"
#include "firmware/acpi/aml_resources.h"
#include "firmware/acpi/pci_host_bridge.h"
#include "firmware/acpi/sdt.h"
#include "vmm/base/check.h"
#include "vmm/base/format.h"

namespace mini_vmm::firmware::acpi {
namespace {

namespace x86 = arch::x86_64;

// 16550 UART. Linux's 8250_pnp driver takes the port over from the legacy
// probe and, more importantly, gets IRQ 4 mapped: on a hardware-reduced
// platform Linux sets up no legacy IRQs by itself (null_legacy_pic).
aml::Bytes SerialDevice() {
  const aml::Bytes crs = ResourceTemplate()
                             .Io(x86::kCom1Port, x86::kCom1Port, 1, x86::kCom1PortCount)
                             .IrqNoFlags(x86::kCom1Irq)
                             .ToAml();
  return aml::Device("COM1", {
                                 aml::Name("_HID", aml::EisaId("PNP0501")),
                                 aml::Name("_UID", aml::Integer(1)),
                                 aml::Name("_CRS", crs),
                             });
}

// MC146818-compatible CMOS RTC, for the rtc_cmos driver.
aml::Bytes RtcDevice() {
  const aml::Bytes crs = ResourceTemplate()
                             .Io(x86::kRtcPort, x86::kRtcPort, 1, x86::kRtcPortCount)
                             .IrqNoFlags(x86::kRtcIrq)
                             .ToAml();
  return aml::Device("RTC", {
                                aml::Name("_HID", aml::EisaId("PNP0B00")),
                                aml::Name("_CRS", crs),
                            });
}

// Linux creates a platform device for it (acpi_create_platform_device),
// whose first memory resource and first IRQ virtio_mmio_probe() uses; the
// Extended Interrupt descriptor's GSI is mapped through the IOAPIC as
// edge/active-high (acpi_dev_resource_interrupt()).
aml::Bytes VirtioDevice(size_t index, const VirtioMmioDevice& device) {
  VMM_CHECK(device.base <= UINT32_MAX && device.size <= UINT32_MAX - device.base);
  const aml::Bytes crs =
      ResourceTemplate()
          .Memory32Fixed(ReadWrite::kReadWrite, static_cast<uint32_t>(device.base),
                         static_cast<uint32_t>(device.size))
          .Interrupt(Trigger::kEdge, Polarity::kActiveHigh, Sharing::kExclusive, device.gsi)
          .ToAml();
  return aml::Device(Format("V{:03X}", index), {
                                                   aml::Name("_HID", aml::String(kVirtioMmioHid)),
                                                   aml::Name("_UID", aml::Integer(index)),
                                                   aml::Name("_CRS", crs),
                                               });
}

// 7.4.2 \_Sx: {SLP_TYPa, SLP_TYPb, reserved, reserved}. A hardware-reduced
// OS uses SLP_TYPa only, writing it into the sleep control register.
aml::Bytes SoftOffState(uint8_t sleep_type) {
  return aml::Name("_S5_", aml::Package({
                               aml::Integer(sleep_type),
                               aml::Integer(0),
                               aml::Integer(0),
                               aml::Integer(0),
                           }));
}

}  // namespace

std::vector<uint8_t> BuildDsdt(const AcpiConfig& config) {
  VMM_CHECK(config.virtio_mmio.size() <= kMaxVirtioMmioDevices);
  std::vector<aml::Bytes> system_bus = {SerialDevice(), RtcDevice()};
  for (size_t i = 0; i < config.virtio_mmio.size(); ++i) {
    system_bus.push_back(VirtioDevice(i, config.virtio_mmio[i]));
  }
  if (config.pci) {
    system_bus.push_back(PciHostBridgeDevice(*config.pci));
    system_bus.push_back(EcamReservationDevice(*config.pci));
  }

  std::vector<uint8_t> table;
  AppendObj(table, MakeSdtHeader("DSDT", kDsdtRevision));
  aml::Append(table, aml::Scope("\\_SB_", system_bus));
  aml::Append(table, SoftOffState(config.s5_sleep_type));
  FinishSdt(table);
  return table;
}

}  // namespace mini_vmm::firmware::acpi
