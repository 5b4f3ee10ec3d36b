// The DSDT's description of the PCI host bridge (PCI Firmware Specification
// 3.3, ACPI 6.5 section 6.2.13): a PNP0A08 device (PCI Express root, with
// PNP0A03 as compatible id) whose _CRS lists the bus numbers and memory
// and I/O windows it forwards, and whose _PRT maps each slot's INTA#-INTD# to an
// IOAPIC GSI; and a PNP0C02 motherboard-resources device that reserves the
// ECAM window, which Linux requires before it trusts the MCFG
// (pci_mmcfg_reserved()).
#pragma once

#include "firmware/acpi/aml.h"
#include "firmware/acpi/tables.h"

namespace mini_vmm::firmware::acpi {

aml::Bytes PciHostBridgeDevice(const PciHostBridge& bridge);
aml::Bytes EcamReservationDevice(const PciHostBridge& bridge);

}  // namespace mini_vmm::firmware::acpi
