#include "firmware/acpi/xsdt.h"

namespace mini_vmm::firmware::acpi {

std::vector<uint8_t> BuildXsdt(std::span<const GuestAddress> tables) {
  std::vector<uint8_t> table;
  AppendObj(table, MakeSdtHeader("XSDT", kXsdtRevision));
  // Entries are 64-bit and follow the 36-byte header, so they are only
  // 4-byte aligned: copied byte-wise, never accessed in place.
  for (GuestAddress address : tables) AppendObj(table, address.value());
  FinishSdt(table);
  return table;
}

}  // namespace mini_vmm::firmware::acpi
