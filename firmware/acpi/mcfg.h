// MCFG (PCI Firmware Specification 3.3, section 4.1.2): where a PCI segment's
// enhanced configuration space (ECAM) lives, so Linux uses memory-mapped
// configuration access instead of ports 0xcf8/0xcfc.
#pragma once

#include <cstdint>
#include <vector>

#include "firmware/acpi/tables.h"

namespace mini_vmm::firmware::acpi {

inline constexpr uint8_t kMcfgRevision = 1;

// One allocation entry: `bridge`'s ECAM window for its bus range, segment 0.
std::vector<uint8_t> BuildMcfg(const PciHostBridge& bridge);

}  // namespace mini_vmm::firmware::acpi
