#include "tests/unit/firmware/acpi/acpi_test_util.h"

#include <fmt/core.h>

#include <stdexcept>

namespace mini_vmm::firmware::acpi::testing {
namespace {

// Spec offsets (ACPI 6.5): RSDP XsdtAddress, SDT Length, FADT X_DSDT, and
// the first MADT interrupt controller structure.
constexpr size_t kRsdpXsdtAddress = 24;
constexpr size_t kRsdpSize = 36;
constexpr size_t kSdtLength = 4;
constexpr size_t kSdtHeaderSize = 36;
constexpr size_t kFadtXDsdt = 140;
constexpr size_t kMadtFirstEntry = 44;

uint64_t Le(std::span<const uint8_t> bytes, size_t offset, size_t size) {
  if (offset > bytes.size() || size > bytes.size() - offset) {
    throw std::out_of_range(
        fmt::format("{}-byte field at {} is past the end ({} bytes)", size, offset, bytes.size()));
  }
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value |= uint64_t{bytes[offset + i]} << (8 * i);
  return value;
}

}  // namespace

uint8_t Byte(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint8_t>(Le(bytes, offset, 1));
}
uint16_t Le16(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>(Le(bytes, offset, 2));
}
uint32_t Le32(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint32_t>(Le(bytes, offset, 4));
}
uint64_t Le64(std::span<const uint8_t> bytes, size_t offset) { return Le(bytes, offset, 8); }

std::string Text(std::span<const uint8_t> bytes, size_t offset, size_t length) {
  Le(bytes, offset, 0);  // Bounds check of the start.
  if (length > bytes.size() - offset) throw std::out_of_range("text runs past the end");
  return std::string(bytes.begin() + static_cast<ptrdiff_t>(offset),
                     bytes.begin() + static_cast<ptrdiff_t>(offset + length));
}

uint8_t ByteSum(std::span<const uint8_t> bytes) {
  uint8_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
  return sum;
}

std::vector<uint8_t> ReadGuest(const GuestMemory& mem, uint64_t address, uint64_t length) {
  std::vector<uint8_t> bytes(length);
  if (!mem.Read(GuestAddress(address), bytes)) {
    throw std::out_of_range(fmt::format("{:#x}+{:#x} is not guest RAM", address, length));
  }
  return bytes;
}

Table ReadTable(const GuestMemory& mem, uint64_t address) {
  const std::vector<uint8_t> header = ReadGuest(mem, address, kSdtHeaderSize);
  return Table{address, ReadGuest(mem, address, Le32(header, kSdtLength))};
}

TableSet WalkTables(const GuestMemory& mem, uint64_t rsdp_address) {
  TableSet set;
  set.rsdp = ReadGuest(mem, rsdp_address, kRsdpSize);
  set.xsdt = ReadTable(mem, Le64(set.rsdp, kRsdpXsdtAddress));
  for (size_t offset = kSdtHeaderSize; offset < set.xsdt.bytes.size(); offset += 8) {
    Table table = ReadTable(mem, Le64(set.xsdt.bytes, offset));
    if (table.signature() == "FACP") set.fadt = table;
    if (table.signature() == "APIC") set.madt = table;
    set.xsdt_entries.push_back(std::move(table));
  }
  if (set.fadt.bytes.empty()) throw std::runtime_error("the XSDT lists no FADT");
  set.dsdt = ReadTable(mem, Le64(set.fadt.bytes, kFadtXDsdt));
  return set;
}

std::vector<MadtEntry> MadtEntries(std::span<const uint8_t> madt) {
  std::vector<MadtEntry> entries;
  size_t offset = kMadtFirstEntry;
  while (offset < madt.size()) {
    const uint8_t length = Byte(madt, offset + 1);
    if (length < 2) throw std::runtime_error("MADT entry shorter than its header");
    if (length > madt.size() - offset) throw std::runtime_error("MADT entry runs past the end");
    const auto entry = madt.subspan(offset, length);
    entries.push_back(MadtEntry{entry[0], std::vector<uint8_t>(entry.begin(), entry.end())});
    offset += length;
  }
  return entries;
}

}  // namespace mini_vmm::firmware::acpi::testing
