// RSDP (ACPI 6.5 section 5.2.5.3): where the OS starts, found through
// boot_params.acpi_rsdp_addr or by scanning 0xe0000-0xfffff on 16-byte
// boundaries. Revision 2 with only the XSDT pointer; the RSDT is optional.
#pragma once

#include <cstdint>
#include <vector>

#include "vmm/memory/guest_address.h"

namespace mini_vmm::firmware::acpi {

inline constexpr uint8_t kRsdpRevision = 2;
// The ACPI 1.0 part that the first checksum covers.
inline constexpr size_t kRsdpV1Length = 20;

struct [[gnu::packed]] Rsdp {
  char signature[8];
  uint8_t checksum;
  char oem_id[6];
  uint8_t revision;
  uint32_t rsdt_address;
  uint32_t length;
  uint64_t xsdt_address;
  uint8_t extended_checksum;
  uint8_t reserved[3];
};
static_assert(sizeof(Rsdp) == 36);

// The RSDP pointing at the XSDT at `xsdt`, both checksums set.
std::vector<uint8_t> BuildRsdp(GuestAddress xsdt);

}  // namespace mini_vmm::firmware::acpi
