#include "firmware/acpi/rsdp.h"

#include <cstddef>
#include <span>

#include "firmware/acpi/sdt.h"

namespace mini_vmm::firmware::acpi {

std::vector<uint8_t> BuildRsdp(GuestAddress xsdt) {
  Rsdp rsdp{};
  CopyFixedString(rsdp.signature, "RSD PTR ");
  CopyFixedString(rsdp.oem_id, kOemId);
  rsdp.revision = kRsdpRevision;
  rsdp.length = sizeof(Rsdp);
  rsdp.xsdt_address = xsdt.value();

  std::vector<uint8_t> bytes;
  AppendObj(bytes, rsdp);
  // 5.2.5.3: the checksum covers the first 20 bytes (ACPI 1.0 fields), the
  // extended checksum the whole structure, both checksum fields included.
  // Linux's acpi_tb_validate_rsdp() checks both for revision >= 2.
  bytes[offsetof(Rsdp, checksum)] = Checksum(std::span<const uint8_t>(bytes).first(kRsdpV1Length));
  bytes[offsetof(Rsdp, extended_checksum)] = Checksum(bytes);
  return bytes;
}

}  // namespace mini_vmm::firmware::acpi
