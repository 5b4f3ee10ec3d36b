// Test-side readers for ACPI tables. They use the spec's byte offsets, not
// the library's structs, so a struct that drifts from the spec shows up.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace mini_vmm::firmware::acpi::testing {

// Little-endian fields at `offset`; throw if they run past the end.
uint8_t Byte(std::span<const uint8_t> bytes, size_t offset);
uint16_t Le16(std::span<const uint8_t> bytes, size_t offset);
uint32_t Le32(std::span<const uint8_t> bytes, size_t offset);
uint64_t Le64(std::span<const uint8_t> bytes, size_t offset);
std::string Text(std::span<const uint8_t> bytes, size_t offset, size_t length);

// Sum of all bytes mod 256; a valid table sums to 0.
uint8_t ByteSum(std::span<const uint8_t> bytes);

std::vector<uint8_t> ReadGuest(const GuestMemory& mem, uint64_t address, uint64_t length);

// A System Description Table read from guest memory by its header Length.
struct Table {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
  std::string signature() const { return Text(bytes, 0, 4); }
};
Table ReadTable(const GuestMemory& mem, uint64_t address);

// The tables reached the way an OS reaches them: RSDP -> XSDT -> entries,
// FADT -> X_DSDT.
struct TableSet {
  std::vector<uint8_t> rsdp;
  Table xsdt;
  std::vector<Table> xsdt_entries;
  Table fadt;
  Table madt;
  Table dsdt;
};
TableSet WalkTables(const GuestMemory& mem, uint64_t rsdp_address);

// MADT interrupt controller structures: type, length, and all their bytes.
struct MadtEntry {
  uint8_t type = 0;
  std::vector<uint8_t> bytes;
};
std::vector<MadtEntry> MadtEntries(std::span<const uint8_t> madt);

}  // namespace mini_vmm::firmware::acpi::testing
