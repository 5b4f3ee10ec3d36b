#include "firmware/acpi/sdt.h"

#include <cstddef>

#include "vmm/base/check.h"

namespace mini_vmm::firmware::acpi {

GenericAddress IoPortRegister8(uint16_t port) {
  return GenericAddress{
      .address_space_id = kAddressSpaceSystemIo,
      .register_bit_width = 8,
      .register_bit_offset = 0,
      .access_size = kAccessSizeByte,
      .address = port,
  };
}

void CopyFixedString(std::span<char> field, std::string_view text) {
  VMM_CHECK(text.size() == field.size());
  std::memcpy(field.data(), text.data(), text.size());
}

SdtHeader MakeSdtHeader(std::string_view signature, uint8_t revision) {
  SdtHeader header{};
  CopyFixedString(header.signature, signature);
  header.revision = revision;
  CopyFixedString(header.oem_id, kOemId);
  CopyFixedString(header.oem_table_id, kOemTableId);
  header.oem_revision = kOemRevision;
  CopyFixedString(header.creator_id, kCreatorId);
  header.creator_revision = kCreatorRevision;
  return header;
}

uint8_t Checksum(std::span<const uint8_t> bytes) {
  uint8_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
  return static_cast<uint8_t>(-sum);
}

void FinishSdt(std::vector<uint8_t>& table) {
  VMM_CHECK(table.size() >= sizeof(SdtHeader) && table.size() <= UINT32_MAX);
  const auto length = static_cast<uint32_t>(table.size());
  std::memcpy(table.data() + offsetof(SdtHeader, length), &length, sizeof(length));
  table[offsetof(SdtHeader, checksum)] = 0;
  table[offsetof(SdtHeader, checksum)] = Checksum(table);
}

}  // namespace mini_vmm::firmware::acpi
