// XSDT (ACPI 6.5 section 5.2.8): the 64-bit list of every table except the
// DSDT (which the FADT points at) and the FACS.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "firmware/acpi/sdt.h"
#include "vmm/memory/guest_address.h"

namespace mini_vmm::firmware::acpi {

inline constexpr uint8_t kXsdtRevision = 1;

// The size of an XSDT with `entries` 64-bit table addresses.
constexpr size_t XsdtSize(size_t entries) { return sizeof(SdtHeader) + sizeof(uint64_t) * entries; }

// The XSDT listing `tables` in order (an MCFG will be appended here).
std::vector<uint8_t> BuildXsdt(std::span<const GuestAddress> tables);

}  // namespace mini_vmm::firmware::acpi
