// Pieces shared by every ACPI table: the System Description Table header
// (ACPI 6.5 section 5.2.6), the Generic Address Structure (5.2.3.2), the
// checksum rule, and byte-wise appending of packed structures.
//
//   std::vector<uint8_t> table;
//   AppendObj(table, MakeSdtHeader("APIC", kMadtRevision));
//   AppendObj(table, entry);
//   FinishSdt(table);   // sets Length and Checksum
//
// ACPI tables are little-endian and so is the only host this VMM runs on,
// so packed structs are copied out as they are.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mini_vmm::firmware::acpi {

static_assert(std::endian::native == std::endian::little,
              "ACPI tables are little-endian and are written from host structs");

// Identity of the tables mini-vmm writes.
inline constexpr std::string_view kOemId = "MINVMM";         // 6 bytes.
inline constexpr std::string_view kOemTableId = "MINIVMM ";  // 8 bytes.
inline constexpr uint32_t kOemRevision = 1;
inline constexpr std::string_view kCreatorId = "MVMM";  // 4 bytes.
inline constexpr uint32_t kCreatorRevision = 1;

struct [[gnu::packed]] SdtHeader {
  char signature[4];
  uint32_t length;
  uint8_t revision;
  uint8_t checksum;
  char oem_id[6];
  char oem_table_id[8];
  uint32_t oem_revision;
  char creator_id[4];
  uint32_t creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);

// 5.2.3.2 Generic Address Structure.
struct [[gnu::packed]] GenericAddress {
  uint8_t address_space_id;
  uint8_t register_bit_width;
  uint8_t register_bit_offset;
  uint8_t access_size;
  uint64_t address;
};
static_assert(sizeof(GenericAddress) == 12);

inline constexpr uint8_t kAddressSpaceSystemIo = 1;
inline constexpr uint8_t kAccessSizeByte = 1;

// An 8-bit register at an I/O port, accessed with byte-wide IN/OUT.
GenericAddress IoPortRegister8(uint16_t port);

// A header with the signature, revision and our OEM/creator identity; the
// length and checksum are set by FinishSdt once the table is complete.
SdtHeader MakeSdtHeader(std::string_view signature, uint8_t revision);

// The byte that makes `bytes` sum to zero (mod 256) when stored in a
// checksum field that is currently zero.
uint8_t Checksum(std::span<const uint8_t> bytes);

// 5.2.6: Length is the whole table including the header, and all bytes,
// Checksum included, must sum to zero. `table` starts with an SdtHeader.
void FinishSdt(std::vector<uint8_t>& table);

template <typename T>
void AppendObj(std::vector<uint8_t>& out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>, "tables are copied byte-wise");
  const size_t offset = out.size();
  out.resize(offset + sizeof(T));
  std::memcpy(out.data() + offset, &value, sizeof(T));
}

// Copies the characters of `text` into a fixed-size, non-terminated field.
void CopyFixedString(std::span<char> field, std::string_view text);

}  // namespace mini_vmm::firmware::acpi
